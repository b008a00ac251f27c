"""`/openmodels new [FAMILY] [--days N]`: parsed, answered from the store, and the same
answer in Slack and `openmodels ask`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.parser import New, Subscribe, Unsubscribe, UsageError, parse
from commands.render import render_text
from openmodels.cli import main
from openmodels.families import load_families
from openmodels.locate import sample_store_path
from storage import Store, open_store
from storage.snapshots import ModelRecord, write_snapshot
from tests.slack_helpers import running_bot

DAY0 = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
DEFINITIONS = load_families().definitions()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new", New()),
        ("NEW qwen", New(family="qwen")),
        ("new --days 30", New(days=30)),
        ("new gemma —days=1 --public", New(family="gemma", days=1, public=True)),
        ("new --days 365", New(days=365)),
        ("subscribe launches", Subscribe("launches")),
        ("subscribe Launches qwen gemma", Subscribe("launches", ("qwen", "gemma"))),
        ("unsubscribe launches", Unsubscribe("launches")),
    ],
)
def test_new_and_launch_subscriptions_parse(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("new 30 --days 7", "Give one period: a number of days."),
        ("new qwen llama", "Name at most one family."),
        ("new --days", "The period is a whole number of days from 1 to 365."),
        ("new --days 0", "The period is a whole number of days from 1 to 365."),
        ("new 366", "The period is a whole number of days from 1 to 365."),
        ("new --days week", "The period is a whole number of days from 1 to 365."),
        ("new --30d", "Unknown option --30d."),
        ("subscribe everything", "Subscribe to `digest`, `alerts` or `launches`."),
        ("unsubscribe launch", "Unsubscribe from `digest`, `alerts` or `launches`."),
        (
            "unsubscribe launches qwen",
            "`unsubscribe launches` takes no names: it stops them all in this channel. To "
            "follow fewer families, subscribe again with only those "
            "(`/openmodels subscribe launches FAMILY…`).",
        ),
    ],
)
def test_a_bad_new_gets_a_clear_usage_message(text, message):
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert caught.value.message == message
    assert caught.value.usage is not None


def test_usage_lines_show_the_new_command():
    with pytest.raises(UsageError) as caught:
        parse("new --days 0")
    assert caught.value.usage == (
        "`/openmodels new [FAMILY] [N days]` — models launched in the last N days "
        "(default 7), newest first, and how they started"
    )


# -- answers -----------------------------------------------------------------------------


def day(store: Store, n: int, *records: ModelRecord) -> None:
    write_snapshot(store, DAY0 + timedelta(days=n), "hub", list(records), DEFINITIONS)


def made(n: float) -> str:
    return (DAY0 + timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


OLD = "2025-01-01T00:00:00.000Z"


@pytest.fixture
def store(new_store) -> Store:
    """Day 0: Qwen/Old. Day 1: Qwen/A. Day 2: Qwen/B (faster than A) and google/gemma-4-1b."""
    store = new_store("n")
    old = lambda n: ModelRecord("Qwen/Old", "qwen", 0, 1_000 + n, created_at=OLD)  # noqa: E731
    day(store, 0, old(0))
    day(store, 1, old(1), ModelRecord("Qwen/A", "qwen", 0, 100, created_at=made(0.5)))
    day(
        store,
        2,
        old(2),
        ModelRecord("Qwen/A", "qwen", 0, 1_100),
        ModelRecord("Qwen/B", "qwen", 0, 40, created_at=made(1.75)),
        ModelRecord("google/gemma-4-1b", "gemma", 0, 9, created_at=made(1.9)),
    )
    day(
        store,
        3,
        old(3),
        ModelRecord("Qwen/A", "qwen", 0, 1_500),
        ModelRecord("Qwen/B", "qwen", 0, 2_540),
        ModelRecord("google/gemma-4-1b", "gemma", 0, 59),
    )
    return store


def ask(store: Store, text: str) -> str:
    return render_text(answer_text(text, AnswerContext(store, load_families())))


def test_new_lists_the_weeks_launches_newest_first_with_their_start(store):
    out = ask(store, "new")

    assert "New models: launched in the last 7 days" in out
    # Counts come before names: "Qwen 2" would read as the model generation Qwen2.
    assert "3 launches from 2025-12-28 → 2026-01-04: 2 Qwen, 1 Gemma. Fastest start: Qwen/B." in out
    # B gained 2,500 in its first day (40 -> 2,540); A gained 1,000 in its own (100 -> 1,100).
    # No size was recorded for these models (no collection sized them): no class.
    unsized = " · size unknown: no class to compare with"
    assert (
        "1. google/gemma-4-1b · Gemma · first seen 2026-01-03 (created 2026-01-03) · "
        f"+50 in 1 day (59 all-time){unsized}\n"
        "2. Qwen/B · Qwen · first seen 2026-01-03 (created 2026-01-03) · +2.5K in 1 day "
        f"(2.5K all-time){unsized}\n"
        "      :zap: fastest start: ahead of Qwen/A (+1.0K at 1 day)\n"
        "3. Qwen/A · Qwen · first seen 2026-01-02 (created 2026-01-01) · +1.4K in 2 days "
        f"(1.5K all-time){unsized}"
    ) in out


def test_new_for_one_family_and_a_shorter_period(store):
    out = ask(store, "new alibaba --days 2")

    assert "New Qwen models: launched in the last 2 days" in out
    assert "1. Qwen/B · first seen 2026-01-03" in out
    assert "Qwen/A ·" not in out  # created 2.5 days before the latest snapshot
    assert ":zap: fastest start: ahead of Qwen/A (+1.0K at 1 day)" in out


def test_a_period_reaching_back_before_the_store_says_what_it_cannot_count(store):
    # The store begins 2026-01-01; seven days back from 2026-01-04 is 2025-12-28.
    note = "The store's first snapshot (2026-01-01) counts no launches"

    assert f"Fastest start: Qwen/B. {note}" in ask(store, "new")
    assert note not in ask(store, "new --days 2")


def test_new_says_when_there_is_nothing_and_why(store, new_store):
    one = new_store("one")
    day(one, 0, ModelRecord("Qwen/Old", "qwen", 0, 1, created_at=made(-0.5)))

    assert "No Llama launches in the last 7 days (2025-12-28 → 2026-01-04)." in ask(
        store, "new llama"
    )
    assert "The store's first snapshot (2026-01-01) counts no launches" in ask(store, "new llama")
    assert "The store holds one snapshot" in ask(one, "new")


def test_an_unknown_family_gets_a_suggestion(store):
    answer = answer_text("new qwne", AnswerContext(store, load_families()))

    assert answer.error
    assert "Unknown family 'qwne' — did you mean qwen?" in answer.text


def test_new_answers_within_block_kit_limits_and_can_be_shared(store):
    answer = answer_text("new --days 30", AnswerContext(store, load_families()))

    assert check_limits(answer.blocks) == []
    assert answer.shareable


def test_slack_and_the_terminal_give_the_same_answer(store, capsys):
    with running_bot(store) as bot:
        [message] = bot.command("new qwen").posts

    assert main(["ask", "--db", store.location, "--json", "new", "qwen"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert message["blocks"][:3] == payload["blocks"][:3]
    assert "fastest start" in json.dumps(message["blocks"])


def test_help_lists_new(store):
    out = ask(store, "help")

    assert "/openmodels new [FAMILY] [N days]" in out
    assert "| launches [FAMILY…]" in out and "/openmodels unsubscribe digest|alerts|launches" in out


def test_a_long_list_of_launches_is_spread_over_sections_not_cut_at_the_first():
    # The bundled sample holds 36 launches in the year up to 2026-01-17.
    sample = open_store(sample_store_path(), sample=True)
    result = answer_text("new --days 365", AnswerContext(sample, load_families()))

    out = render_text(result)
    assert "36 launches" in out and "\n36. " in out
    assert "not shown" not in out
    assert check_limits(result.blocks) == []
