"""Promise: no command text, however hostile, raises, pings anyone or breaks Block Kit.

Hypothesis generates texts (unicode, control characters, Slack markup, SQL, very long
strings, many arguments); OPENMODELS_FULL=1 runs 10,000 of them.
"""

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.parser import parse
from commands.subscriptions import Channel
from openmodels.families import load_families
from tests.builders import growing_store
from tests.reliability.conftest import scale

EXAMPLES = scale(600, 10_000)
MARKUP = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<@W1|bob>",
    "<#C1|general>",
    "<!subteam^S1>",
    "<https://evil.example|click>",
    "&lt;!channel&gt;",
    "<",
    ">",
    "&",
]
SQL = ["'; DROP TABLE snapshots; --", '" OR 1=1 --', "%", "_", "\\", "qwen' --"]
VERBS = [
    "top",
    "compare",
    "family",
    "model",
    "status",
    "help",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "TOP",
    "—30d",
    "--30d",
    "--public",
    "qwen",
    "llama",
    "Qwen/Qwen3-8B",
]

word = st.one_of(
    st.sampled_from(VERBS + MARKUP + SQL),
    st.text(min_size=1, max_size=30),
    st.text(alphabet=st.characters(max_codepoint=0x1F), min_size=1, max_size=5),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
texts = st.one_of(
    st.lists(word, max_size=40).map(" ".join),
    st.text(max_size=200),
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["x", "<!channel> ", "é", "\x00"]),
        st.integers(min_value=1, max_value=10_000),
    ),
)
# Live Slack markup: a special mention, a user or channel mention, or a link.
LIVE = re.compile(r"<[!@#]|<https?:")
# The one live mention openmodels writes on purpose: the Slack user who subscribed.
OWN_MENTION = "<@U42>"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    store = growing_store(tmp_path_factory.mktemp("hostile") / "s.db")
    return AnswerContext(store=store, families=load_families(), channel=Channel("T1", "C1", "U42"))


def live_markup(payload: dict) -> list[str]:
    """Live markup in an answer that did not come from openmodels itself."""
    found = []
    for m in LIVE.finditer(json.dumps(payload, ensure_ascii=False).replace(OWN_MENTION, "")):
        found.append(m.group())
    return found


def links_are_ours(payload: dict) -> bool:
    """Every link in an answer points at the Hugging Face Hub."""
    text = json.dumps(payload, ensure_ascii=False)
    return all(
        url.startswith("https://huggingface.co/") for url in re.findall(r"<(https?://[^|>]*)", text)
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(text=texts)
def test_any_text_gets_a_safe_answer_within_limits(ctx, text):
    result = answer_text(text, ctx)
    payload = result.payload()
    assert result.blocks
    assert check_limits(result.blocks) == []
    assert [m for m in live_markup(payload) if not m.startswith("<https:")] == []
    assert links_are_ours(payload)
    assert len(payload["text"]) <= 3000


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(text=texts)
def test_the_parser_never_raises_anything_but_a_usage_error(text):
    from commands.parser import UsageError

    try:
        parse(text)
    except UsageError as exc:
        assert exc.message
