"""Launch races: day 0 aligned, judged at the age every runner has reached; in `openmodels
ask`, in Slack with its chart, and refused clearly when a runner cannot race."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.parser import Race, UsageError, parse
from commands.render import render_text
from openmodels.charts import render_chart
from openmodels.families import load_families
from openmodels.launches import Launch
from openmodels.races import age_line, judge_race
from storage import Store
from storage.snapshots import ModelRecord, format_timestamp, write_snapshot
from tests.builders import DAY0
from tests.slack_helpers import QUICK, running_bot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FAMILIES = load_families()
DEFINITIONS = FAMILIES.definitions()


def at(day: float) -> str:
    return format_timestamp(DAY0 + timedelta(days=day))


def launch(repo_id: str, seen: int, first: int, as_of: int) -> Launch:
    return Launch(repo_id, "qwen", None, at(seen), first, None, at(as_of))


# -- the race (pure) --------------------------------------------------------------------------

# A: first seen on day 0 with 10 downloads, then 110, 310, 610 (three days old on day 3).
# B: first seen on day 1 with 5, then 55, 155 (two days old on day 3).
HISTORIES = {
    "Qwen/A": [(at(0), 10), (at(1), 110), (at(2), 310), (at(3), 610)],
    "Qwen/B": [(at(1), 5), (at(2), 55), (at(3), 155)],
}
A, B = launch("Qwen/A", 0, 10, 3), launch("Qwen/B", 1, 5, 3)


def test_a_race_aligns_day_0_and_judges_at_the_youngest_runners_age():
    race = judge_race([A, B], HISTORIES)

    assert race.age == timedelta(days=2)
    # At 2 days A had gained 310 - 10 = 300, B 155 - 5 = 150.
    assert race.standings == [("Qwen/A", 300), ("Qwen/B", 150)]
    assert race.leader == "Qwen/A"
    assert race.lines == {
        "Qwen/A": [(0.0, 0), (1.0, 100), (2.0, 300), (3.0, 600)],
        "Qwen/B": [(0.0, 0), (1.0, 50), (2.0, 150)],
    }


def test_a_race_level_at_the_same_age_has_no_leader():
    level = {**HISTORIES, "Qwen/B": [(at(1), 5), (at(2), 55), (at(3), 305)]}

    assert judge_race([A, B], level).leader is None


def test_a_runner_with_no_snapshot_near_the_age_is_not_measured():
    # C is 2 days old but its store lacks days 1 to 3 of it: nothing within a day of day 2
    # after its sighting (day -1 + 2 = day 1 is missing, so are days 0 and 2).
    c = launch("Qwen/C", -1, 0, 3)
    gappy = {**HISTORIES, "Qwen/C": [(at(-1), 0), (at(3), 50)]}

    race = judge_race([A, B, c], gappy)

    assert race.unmeasured == ["Qwen/C"]
    assert [name for name, _ in race.standings] == ["Qwen/A", "Qwen/B"]


def test_a_line_stops_at_the_launchs_snapshot():
    assert age_line(replace(A, as_of=at(1)), HISTORIES["Qwen/A"]) == [(0.0, 0), (1.0, 100)]


# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("race qwen gemma", Race(("qwen", "gemma"))),
        ("race Qwen/Qwen3-8B google/gemma-3-4b-it/ --public",
         Race(("Qwen/Qwen3-8B", "google/gemma-3-4b-it"), True)),
        ("race a b c d e f", Race(("a", "b", "c", "d", "e", "f"))),
    ],
)  # fmt: skip
def test_race_parses(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize("text", ["race qwen", "race a b c d e f g", "race"])
def test_a_race_needs_two_to_six_runners(text):
    with pytest.raises(UsageError, match="A race needs 2 to 6 models or families"):
        parse(text)


# -- answered from a store ----------------------------------------------------------------------


def created(day: float) -> str:
    return (DAY0 + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def store(new_store) -> Store:
    """Day 0: old models. Qwen launches Qwen/Qwen4-1 on day 1 (+1,000 a day) and
    Qwen/Qwen4-2 on day 3 (+100 a day); Gemma launches google/gemma-9 on day 2 (+400 a
    day). Snapshots daily to day 6. Llama launches nothing."""
    store = new_store("race")
    for day in range(7):
        records = [
            ModelRecord("Qwen/old", "qwen", 0, 5_000 + day),
            ModelRecord("meta-llama/old", "llama", 0, 9_000 + day),
            ModelRecord("google/gemma-old", "gemma", 0, 7_000 + day),
        ]
        for repo_id, family, seen, daily in (
            ("Qwen/Qwen4-1", "qwen", 1, 1_000),
            ("google/gemma-9", "gemma", 2, 400),
            ("Qwen/Qwen4-2", "qwen", 3, 100),
        ):
            if seen <= day:
                records.append(
                    ModelRecord(
                        repo_id,
                        family,
                        0,
                        20 + daily * (day - seen),
                        created_at=created(seen - 0.1),
                    )
                )
        write_snapshot(store, DAY0 + timedelta(days=day), "hub", records, DEFINITIONS)
    return store


def ask(store: Store, text: str) -> str:
    result = answer_text(text, AnswerContext(store, FAMILIES))
    assert check_limits(result.blocks) == []
    return render_text(result)


def test_families_race_their_latest_launches(store):
    out = ask(store, "race qwen gemma")

    # Qwen's latest is Qwen4-2 (3 days old on day 6), Gemma's gemma-9 (4 days old).
    assert "Launch race: Qwen4-2 vs gemma-9" in out
    assert (
        "At day 3, google/gemma-9 is ahead with +1.2K downloads since first seen: "
        "4.0× Qwen/Qwen4-2 (+300)."
    ) in out
    assert "1. Qwen/Qwen4-2 (Qwen) · first seen 2026-01-04 · +300 in 3 days" in out
    assert "2. google/gemma-9 (Gemma) · first seen 2026-01-03 · +1.6K in 4 days" in out


def test_models_race_by_name_and_the_chart_aligns_them(store):
    result = answer_text("race Qwen/Qwen4-1 google/gemma-9", AnswerContext(store, FAMILIES))

    assert result.text == (
        "At day 4, Qwen/Qwen4-1 is ahead with +4.0K downloads since first seen: "
        "2.5× google/gemma-9 (+1.6K)."
    )
    chart = result.chart
    assert chart is not None and chart.series == {}
    assert chart.race == {
        "Qwen/Qwen4-1": [(float(d), 1_000 * d) for d in range(6)],
        "google/gemma-9": [(float(d), 400 * d) for d in range(5)],
    }
    assert chart.race_age == 4.0
    assert chart.filename == "openmodels-race-qwen4-1-gemma-9-2026-01-07.png"
    assert "Qwen/Qwen4-1 +5.0K at day 5; google/gemma-9 +1.6K at day 4." in chart.alt_text
    assert render_chart(chart).startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("race llama qwen", "Llama has no launch in the store to race"),
        ("race Qwen/old qwen", "Qwen/old was already listed by the store's first snapshot"),
        ("race Qwen/nope qwen", "No model 'Qwen/nope' in the store."),
        ("race qwen Qwen/Qwen4-2", "Qwen/Qwen4-2 is in the race twice (as 'Qwen/Qwen4-2')."),
        ("race qwne gemma", "Unknown family 'qwne' — did you mean qwen?"),
    ],
)
def test_a_runner_that_cannot_race_is_refused_with_the_reason(store, text, message):
    result = answer_text(text, AnswerContext(store, FAMILIES))

    assert result.error and message in result.text


def day_seven(store: Store, *records: ModelRecord) -> None:
    """A snapshot on day 7 listing only `records` besides Qwen4-1 and gemma-9."""
    listed = [
        ModelRecord("Qwen/Qwen4-1", "qwen", 0, 6_020),
        ModelRecord("google/gemma-9", "gemma", 0, 2_020),
        *records,
    ]
    write_snapshot(store, DAY0 + timedelta(days=7), "hub", listed, DEFINITIONS)


def test_a_runner_first_seen_in_the_latest_snapshot_is_too_young_to_judge(store):
    day_seven(
        store,
        ModelRecord("Qwen/Qwen4-2", "qwen", 0, 420),
        ModelRecord("google/gemma-10", "gemma", 0, 3, created_at=created(6.9)),
    )

    assert "Too early to tell: a runner was first seen in the latest snapshot" in ask(
        store, "race qwen gemma"
    )


def test_a_launch_no_longer_listed_cannot_race(store):
    day_seven(store)  # Gemma's latest launch is listed, Qwen's latest (Qwen4-2) is not

    result = answer_text("race qwen gemma", AnswerContext(store, FAMILIES))

    assert result.error
    assert "Qwen/Qwen4-2 is not in the latest snapshot: it has no downloads to race." in result.text


def test_race_is_in_the_help(store):
    assert "/openmodels race A B [C…]" in ask(store, "help")
    assert "/openmodels sizes [--30d]" in ask(store, "help")


def test_a_race_in_slack_carries_its_chart(store):
    with running_bot(store, render=render_chart, delivery=replace(QUICK, text_wait=30.0)) as bot:
        exchange = bot.command("race Qwen/Qwen4-1 google/gemma-9")

    [message] = exchange.visible
    assert "At day 4, Qwen/Qwen4-1 is ahead" in message["text"]
    [image] = [b for b in message["blocks"] if b["type"] == "image"]
    [file] = bot.slack.files.values()
    assert image["slack_file"] == {"id": file.id}
    assert file.data is not None and file.data.startswith(PNG_MAGIC)
    assert file.filename == "openmodels-race-qwen4-1-gemma-9-2026-01-07.png"
    assert "day 0 aligned" in image["alt_text"]
