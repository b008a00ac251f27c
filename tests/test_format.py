"""Human numbers and escaping of user text."""

import pytest

from commands.format import arrow, echo, escape, human, link, percent, signed


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0"),
        (950, "950"),
        (1_234, "1.2K"),
        (385_400_000, "385.4M"),
        (1_200_000_000, "1.2B"),
        (999_960_000, "1.0B"),  # never "1000.0M"
        (701_234_567, "701.2M"),
        (-350_000, "-350.0K"),
    ],
)
def test_human_units(n, text):
    assert human(n) == text


def test_signed_changes_and_percentages():
    assert signed(12_300_000) == "+12.3M"
    assert signed(-5_000) == "-5.0K"
    assert signed(0) == "0"
    assert percent(0.3821) == "38.2%"


@pytest.mark.parametrize(("change", "text"), [(2, "▲2"), (-1, "▼1"), (0, "="), (None, "new")])
def test_rank_arrows(change, text):
    assert arrow(change) == text


@pytest.mark.parametrize("markup", ["<!channel>", "<!here>", "<@U123>", "<#C1|general>", "a&b"])
def test_escape_neutralises_slack_markup(markup):
    escaped = escape(markup)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == markup


def test_echo_drops_control_characters_and_cuts_long_text():
    assert echo("qw\x00en\x1b") == "qwen"
    assert len(echo("x" * 500)) == 60
    assert echo("<!channel>") == "&lt;!channel&gt;"


def test_link_labels_cannot_break_out_of_the_link():
    assert link("https://huggingface.co/x", "a|b>c") == "<https://huggingface.co/x|a¦b&gt;c>"
