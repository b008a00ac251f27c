"""User text echoed back in Slack can never ping anyone or forge a link.

Each command goes through the real app; every text Slack would render in what reached
the response URL must contain `<` only as the start of one of our own Hub links, and
`&` only as an entity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from commands.format import echo, escape
from tests.builders import growing_store
from tests.slack_helpers import running_bot

HOSTILE = [
    "compare <!channel> qwen",
    "family <@U123>",
    "family <@U123|bob>",
    "<!here>",
    "<!everyone> top",
    "model <!channel>/x",
    "compare qwen <#C123|general>",
    "family <https://evil.example|click me>",
    "top --<!subteam^S123>",
    "compare qwen <!date^1392734382^{date}|x>",
    "family a&b<c>d",
]

# The only markup allowed in an answer: links to the Hub that the answer itself made.
UNSAFE_ANGLE = re.compile(r"<(?!https://huggingface\.co/[^<>|]*\|[^<>]*>)")
BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")
NOT_RENDERED = {"value", "action_id", "response_type", "type", "block_id", "id"}


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    store = growing_store(tmp_path_factory.mktemp("escaping") / "s.db")
    with running_bot(store) as running:
        yield running


def rendered_strings(value: Any, key: str = "") -> Iterator[str]:
    """Every string Slack renders in a message; a button's value is never shown."""
    if isinstance(value, str):
        if key not in NOT_RENDERED:
            yield value
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from rendered_strings(item, k)
    elif isinstance(value, list):
        for item in value:
            yield from rendered_strings(item, key)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_echoed_escaped(bot, text):
    exchange = bot.command(text)

    assert exchange.posts, "no answer arrived"
    for message in exchange.posts:
        for shown in rendered_strings({"text": message["text"], "blocks": message["blocks"]}):
            assert not UNSAFE_ANGLE.search(shown), shown
            assert not BARE_AMPERSAND.search(shown), shown
            assert "<!" not in shown and "<@" not in shown and "<#" not in shown


def test_the_refusal_still_names_what_was_typed(bot):
    [message] = bot.command("family <@U123>").posts

    assert "U123" in message["text"]
    assert "<@U123>" not in message["text"]


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("a & b", "a &amp; b"),
        ("&lt;", "&amp;lt;"),  # already-escaped text is escaped again, never unescaped
    ],
)
def test_escape(raw, safe):
    assert escape(raw) == safe


def test_echo_drops_control_characters_and_caps_the_length():
    assert echo("ab\x00\x07c") == "abc"
    # Format characters too: a right-to-left override would flip the rest of the line.
    assert echo("compare \u202eqwen\u200b llama\ufeff\u2060") == "compare qwen llama"
    assert echo("a\tb\nc") == "a b c"  # whitespace stays a separator
    assert echo("<" * 100, limit=10) == "&lt;" * 9 + "…"
