"""Block Kit builders stay within Slack's limits, and say what they cut."""

from commands import blocks as bk


def test_builders_cut_text_to_the_limits():
    message = [
        bk.header("h" * 500),
        bk.section("s" * 10_000, fields=["f" * 5_000] * 15),
        bk.fields_section(["x" * 3_000] * 12),
    ]
    assert bk.check_limits(message) == []
    assert len(message[0]["text"]["text"]) == bk.MAX_HEADER_TEXT


def test_check_limits_reports_each_violation():
    message = [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}] * 51
    problems = bk.check_limits(message)
    assert "51 blocks > 50" in problems
    assert any("header longer than 150" in p for p in problems)


def test_fit_keeps_fifty_blocks_and_says_how_many_were_dropped():
    message = [bk.section(str(i)) for i in range(80)]
    fitted = bk.fit(message)
    assert len(fitted) == 50
    assert "31 more blocks not shown" in fitted[-1]["elements"][0]["text"]


def test_bulleted_cuts_long_lists_with_a_count():
    lines = [f"line {i} " + "x" * 90 for i in range(100)]
    text = bk.bulleted(lines, noun="models")
    assert len(text) <= bk.MAX_SECTION_TEXT
    shown = text.count("line ")
    assert f"…and {100 - shown} models not shown" in text
