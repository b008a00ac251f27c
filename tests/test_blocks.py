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


def test_a_view_takes_100_blocks_where_a_message_takes_50():
    blocks = [bk.section(str(i)) for i in range(100)]

    assert bk.check_view_limits({"type": "home", "blocks": blocks}) == []
    assert "100 blocks > 50" in bk.check_limits(blocks)
    assert "101 blocks > 100" in bk.check_view_limits(
        {"type": "home", "blocks": [*blocks, bk.divider()]}
    )


def test_fit_keeps_a_views_hundred_blocks_when_asked():
    fitted = bk.fit([bk.section(str(i)) for i in range(150)], bk.MAX_VIEW_BLOCKS)

    assert len(fitted) == 100
    assert "51 more blocks not shown" in fitted[-1]["elements"][0]["text"]


def test_check_view_limits_knows_a_modals_own_limits():
    modal = {"type": "modal", "title": bk.plain_text("x" * 30, 100), "blocks": []}

    assert "modal title longer than 24" in bk.check_view_limits(modal)
    assert bk.check_view_limits({"type": "modal", "blocks": []}) == ["modal without a title"]
    assert bk.check_view_limits({"type": "message", "blocks": []})


def test_check_limits_checks_buttons_and_menus():
    select = bk.static_select("Pick…", "pick", [(f"option {i}", str(i)) for i in range(150)])
    twice = bk.actions(bk.button("a", "same", "1"), bk.button("b", "same", "2"))
    long_value = bk.actions(bk.button("a", "go", "v" * 2001))

    assert len(select["options"]) == 100  # the builder keeps Slack's maximum
    assert bk.check_limits([bk.actions(select)]) == []
    assert any("same action_id" in p for p in bk.check_limits([twice]))
    assert any("button value longer" in p for p in bk.check_limits([long_value]))


def test_a_menu_leaves_out_an_option_whose_value_would_have_to_be_cut():
    select = bk.static_select("Pick…", "pick", [("ok", "short"), ("too long", "x" * 151)])

    assert [o["value"] for o in select["options"]] == ["short"]


def test_packed_spreads_a_long_list_over_sections_before_cutting_it():
    lines = [f"{i}. " + "x" * 95 for i in range(100)]  # about 100 characters each

    texts = bk.packed(lines, noun="launches", limit=1000, sections=3)

    assert len(texts) == 3 and all(len(t) <= 1000 for t in texts)
    shown = "\n".join(texts).splitlines()
    assert shown[:3] == lines[:3] and lines[20] in shown  # in order, beyond one section
    assert shown[-1] == f"_…and {100 - (len(shown) - 1)} launches not shown_"


def test_packed_keeps_a_short_list_in_one_section():
    assert bk.packed(["a", "b"]) == ["a\nb"]


def test_packed_counts_what_the_caller_left_out_with_what_it_cuts():
    noun = ("family", "families")

    assert bk.packed(["a", "b"], noun, hidden=1) == ["a\nb\n_…and 1 family not shown_"]
    texts = bk.packed([f"{i}" + "x" * 95 for i in range(100)], noun, limit=1000, hidden=7)
    shown = "\n".join(texts).count("x" * 95)
    assert texts[-1].endswith(f"_…and {100 - shown + 7} families not shown_")


def test_a_list_spread_over_sections_marks_each_continuation():
    blocks = bk.list_sections([f"{i}. " + "x" * 95 for i in range(70)], "rows", "rows")

    assert len(blocks) == 3 and "block_id" not in blocks[0]
    assert [b["block_id"] for b in blocks[1:]] == ["continued:rows:1", "continued:rows:2"]
