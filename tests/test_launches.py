"""Launch rules as pure functions: what counts as a launch, in which period, and the
fastest start. Small hand-made data, exact figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from openmodels.launches import (
    FastestStart,
    Launch,
    Sighting,
    baselines,
    fastest_start,
    in_period,
    is_launch,
    newest_first,
    start_at_age,
)

DAY = timedelta(days=1)
JAN_10 = datetime(2026, 1, 10, 6, 0, tzinfo=UTC)


def rules(*globs: str) -> str:
    return json.dumps({"orgs": ["google"], "match": list(globs), "yields_to": []})


NARROW = {"gemma": rules("gemma*")}
WIDE = {"gemma": rules("*gemma*")}


def sighting(
    repo_id: str = "google/gemma-4-9b",
    created: str | None = "2026-01-09T15:00:00.000Z",
    seen: str = "2026-01-10T06:00:00Z",
    downloads: int = 100,
) -> Sighting:
    return Sighting(repo_id, "gemma", created, seen, downloads)


# -- baselines ------------------------------------------------------------------------


def test_each_snapshot_is_judged_against_the_last_one_of_its_own_source():
    snapshots = [(1, "import"), (2, "import"), (3, "hub"), (4, "import"), (5, "hub"), (6, "hub")]

    assert baselines(snapshots) == {1: None, 2: 1, 3: None, 4: 2, 5: 3, 6: 5}


# -- what counts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "before", "at", "expected"),
    [
        (sighting(), NARROW, NARROW, True),  # created 15 h before it was first seen
        (sighting(), None, NARROW, False),  # the first snapshot of its source
        (sighting(created="2026-01-03T06:00:00Z"), NARROW, NARROW, True),  # 7 days: still
        (sighting(created="2026-01-03T05:59:59Z"), NARROW, NARROW, False),  # a second more
        (sighting(created="2024-05-01T00:00:00.000Z"), NARROW, NARROW, False),  # made public?
        (sighting(created=None), {}, {}, True),  # imported history: first seen decides
        (sighting(repo_id="google/codegemma-7b"), NARROW, WIDE, False),  # a wider glob
        (sighting(), NARROW, WIDE, True),  # the old glob counted it too
        (sighting(), {}, NARROW, False),  # definitions not recorded before: no evidence
        (sighting(created="not a date"), NARROW, NARROW, True),  # unreadable: unknown
    ],
    ids=[
        "created-the-day-before",
        "no-baseline",
        "created-seven-days-before",
        "created-just-over-seven-days-before",
        "created-long-before",
        "creation-unknown",
        "counted-because-redefined",
        "redefined-but-counted-before",
        "definitions-first-recorded",
        "unreadable-creation-date",
    ],
)
def test_a_model_first_seen_is_a_launch_only_when_new_on_the_hub(found, before, at, expected):
    assert is_launch(found, before, at) is expected


def test_the_creation_window_follows_the_period_asked_for():
    created_20_days_before = sighting(created="2025-12-21T06:00:00Z")

    assert not is_launch(created_20_days_before, NARROW, NARROW)
    assert is_launch(created_20_days_before, NARROW, NARROW, within=30 * DAY)


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (sighting(created="2026-01-09T15:00:00Z", seen="2026-01-10T06:00:00Z"), True),
        (sighting(created="2026-01-03T06:00:00Z", seen="2026-01-03T06:00:00Z"), False),
        (sighting(created="2026-01-03T06:00:01Z", seen="2026-01-04T06:00:00Z"), True),
        (sighting(created=None, seen="2026-01-03T06:00:00Z"), False),
        (sighting(created=None, seen="2026-01-04T06:00:00Z"), True),
        (sighting(created="2026-01-10T05:00:00Z", seen="2026-01-11T06:00:00Z"), False),
    ],
    ids=[
        "created-and-seen-inside",
        "created-at-the-start-excluded",
        "created-just-after-the-start",
        "unknown-creation-seen-at-the-start",
        "unknown-creation-seen-inside",
        "seen-after-the-end",
    ],
)
def test_a_launch_belongs_to_the_period_its_creation_date_falls_in(found, expected):
    assert in_period(found, JAN_10 - 7 * DAY, JAN_10) is expected


def test_newest_first_orders_by_sighting_then_creation_then_name():
    a = sighting("google/a", created="2026-01-08T00:00:00Z", seen="2026-01-09T06:00:00Z")
    b = sighting("google/b", created="2026-01-09T01:00:00Z", seen="2026-01-10T06:00:00Z")
    c = sighting("google/c", created="2026-01-09T02:00:00Z", seen="2026-01-10T06:00:00Z")
    d = sighting("google/D", created="2026-01-09T02:00:00Z", seen="2026-01-10T06:00:00Z")

    assert [s.repo_id for s in newest_first([a, b, d, c])] == [
        "google/c",
        "google/D",
        "google/b",
        "google/a",
    ]


# -- fastest start --------------------------------------------------------------------


def test_a_start_is_read_at_the_snapshot_nearest_the_age():
    found = sighting(seen="2026-01-01T06:00:00Z", downloads=100)
    points = [
        ("2026-01-03T06:00:00Z", 900),
        ("2026-01-04T05:00:00Z", 1_500),  # 3 days minus an hour: the nearest
        ("2026-01-05T06:00:00Z", 2_000),
    ]

    assert start_at_age(found, points, 3 * DAY) == 1_400


def test_between_two_equally_near_snapshots_the_earlier_one_counts():
    found = sighting(seen="2026-01-01T06:00:00Z", downloads=0)
    points = [("2026-01-04T18:00:00Z", 800), ("2026-01-03T18:00:00Z", 500)]

    assert start_at_age(found, points, 3 * DAY) == 500


def test_a_start_is_unknown_without_a_snapshot_within_a_day_of_the_age():
    found = sighting(seen="2026-01-01T06:00:00Z", downloads=0)

    assert start_at_age(found, [("2026-01-02T06:00:00Z", 50)], 3 * DAY) is None
    assert start_at_age(found, [], 3 * DAY) is None


def test_the_fastest_start_beats_every_earlier_launch_measured_at_that_age():
    earlier = {"google/a": 300, "google/b": 450, "google/c": None}

    assert fastest_start(451, 2 * DAY, earlier) == FastestStart(2 * DAY, 451, 2, "google/b", 450)


@pytest.mark.parametrize(
    ("gained", "age", "earlier"),
    [
        (450, 2 * DAY, {"google/a": 300, "google/b": 450}),  # a tie does not beat
        (10, 2 * DAY, {"google/a": 300}),
        (500, 2 * DAY, {}),  # the family's first launch: nothing to beat
        (500, 2 * DAY, {"google/a": None}),  # nothing known at that age
        (500, timedelta(0), {"google/a": 0}),  # first seen in the latest snapshot
    ],
    ids=["tie", "slower", "first-launch", "none-measured", "too-young"],
)
def test_no_fastest_start(gained, age, earlier):
    assert fastest_start(gained, age, earlier) is None


def test_a_launch_reports_its_downloads_since_first_seen_and_its_age():
    launch = Launch(
        "google/a", "gemma", None, "2026-01-08T06:00:00Z", 120, 2_120, "2026-01-10T06:00:00Z"
    )
    gone = Launch("google/b", "gemma", None, "2026-01-08T06:00:00Z", 120, None, launch.as_of)

    assert (launch.gained, launch.age) == (2_000, 2 * DAY)
    assert gone.gained is None
