"""Finding launches in real stores: live, imported and sample snapshots, changed family
definitions, downloads since first seen, the fastest start, and what a launch message
covers. Every figure is worked out by hand from the snapshots written here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openmodels.families import load_families, parse_families
from openmodels.launch_finder import (
    launch_notices,
    launches_between,
    snapshot_launches,
    week_launches,
)
from openmodels.launches import FastestStart
from storage import Store
from storage import queries as q
from storage import subscriptions as subs
from storage.snapshots import ModelRecord, write_snapshot

DAY = timedelta(days=1)
DAY0 = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
DEFINITIONS = load_families().definitions()


def at(day: float) -> datetime:
    return DAY0 + day * DAY


def created(day: float) -> str:
    return at(day).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def model(repo_id: str, all_time: int, made: float | str | None = None) -> ModelRecord:
    family = load_families().family_of(repo_id)
    assert family is not None
    made_at = created(made) if isinstance(made, float | int) else made
    return ModelRecord(repo_id, family.key, 0, all_time, created_at=made_at)


def snap(store: Store, day: float, source: str, *records: ModelRecord, defs=DEFINITIONS) -> None:
    write_snapshot(store, at(day), source, list(records), defs if source == "hub" else None)


OLD = "2025-01-01T00:00:00.000Z"


@pytest.fixture
def live(new_store) -> Store:
    """Qwen/Old is in the first snapshot; Qwen/A appears on day 1, Qwen/B on day 2, both
    created the evening before; Qwen/Renamed, created in 2024, is first listed on day 2;
    Qwen/C appears on day 3 (created that morning) and Qwen/D on day 4."""
    store = new_store("live")
    snap(store, 0, "hub", model("Qwen/Old", 1_000, OLD))
    snap(store, 1, "hub", model("Qwen/Old", 1_100, OLD), model("Qwen/A", 50, 0.6))
    snap(
        store,
        2,
        "hub",
        model("Qwen/Old", 1_200, OLD),
        model("Qwen/A", 250, 0.6),
        model("Qwen/B", 10, 1.6),
        model("Qwen/Renamed", 5_000, "2024-05-01T00:00:00.000Z"),
    )
    snap(
        store,
        3,
        "hub",
        model("Qwen/Old", 1_300, OLD),
        model("Qwen/A", 600, 0.6),
        model("Qwen/B", 400, 1.6),
        model("Qwen/Renamed", 5_100, "2024-05-01T00:00:00.000Z"),
        model("Qwen/C", 7, 2.9),
    )
    snap(
        store,
        4,
        "hub",
        model("Qwen/Old", 1_400, OLD),
        model("Qwen/A", 900, 0.6),
        model("Qwen/B", 700, 1.6),
        model("Qwen/Renamed", 5_200, "2024-05-01T00:00:00.000Z"),
        model("Qwen/C", 200, 2.9),
        model("Qwen/D", 30, 3.5),
    )
    return store


def names(launches) -> list[str]:
    return [launch.repo_id for launch in launches]


def test_launches_are_models_new_on_the_hub_newest_first(live):
    with live.reading() as db:
        found = launches_between(db, at(4) - 7 * DAY, at(4))

    # Old is in the first snapshot, Renamed was created long before it was first listed.
    assert names(found) == ["Qwen/D", "Qwen/C", "Qwen/B", "Qwen/A"]
    assert [(x.downloads_at_first, x.downloads_now, x.gained) for x in found] == [
        (30, 30, 0),
        (7, 200, 193),
        (10, 700, 690),
        (50, 900, 850),
    ]
    assert found[1].first_seen == "2026-01-04T06:00:00Z"
    assert found[1].created_at == "2026-01-04T03:36:00.000Z"
    assert {x.as_of for x in found} == {"2026-01-05T06:00:00Z"}


def test_a_launch_has_the_fastest_start_when_it_beats_every_earlier_one_at_its_age(live):
    with live.reading() as db:
        found = {x.repo_id: x for x in launches_between(db, at(4) - 7 * DAY, at(4))}

    # C is one day old and gained 193: A gained 200 in its first day (50 -> 250) and
    # B 390 (10 -> 400). B is two days old and gained 690; A gained 550 in its first
    # two days (50 -> 600): B beats the only launch before it. A is the first launch.
    assert found["Qwen/C"].fastest is None
    assert found["Qwen/B"].fastest == FastestStart(2 * DAY, 690, 1, "Qwen/A", 550)
    assert found["Qwen/A"].fastest is None
    assert found["Qwen/D"].fastest is None  # first seen in the latest snapshot


def test_the_period_is_judged_by_creation_date(live):
    with live.reading() as db:
        last_two_days = launches_between(db, at(2), at(4))
        as_of_day_2 = launches_between(db, at(2) - 7 * DAY, at(2))

    assert names(last_two_days) == ["Qwen/D", "Qwen/C"]  # B was created on day 1.6
    assert names(as_of_day_2) == ["Qwen/B", "Qwen/A"]
    assert [x.downloads_now for x in as_of_day_2] == [10, 250]  # figures as of day 2


def test_a_family_filter_and_an_empty_one(live):
    with live.reading() as db:
        assert launches_between(db, at(-3), at(4), ["llama"]) == []
        assert launches_between(db, at(-3), at(4), []) == []
        assert len(week_launches(db, at(-3), at(4), ["qwen", "llama"])) == 4


def test_a_model_gone_from_the_latest_snapshot_is_still_a_launch_without_figures(live):
    snap(live, 5, "hub", model("Qwen/Old", 1_500, OLD), model("Qwen/A", 1_000, 0.6))

    with live.reading() as db:
        found = {x.repo_id: x for x in launches_between(db, at(5) - 7 * DAY, at(5))}

    assert found["Qwen/B"].downloads_now is None
    assert found["Qwen/B"].gained is None
    assert found["Qwen/A"].gained == 950


def test_models_counted_because_the_families_file_changed_are_not_launches(new_store):
    narrow = parse_families('[families.gemma]\norgs = ["google"]\nmatch = ["gemma*"]\n', "narrow")
    wide = parse_families('[families.gemma]\norgs = ["google"]\nmatch = ["*gemma*"]\n', "wide")
    store = new_store("g")
    gemma = ModelRecord("google/gemma-3-1b", "gemma", 0, 500, created_at=OLD)
    snap(store, 0, "hub", gemma, defs=narrow.definitions())
    snap(
        store,
        1,
        "hub",
        gemma,
        ModelRecord("google/codegemma-2b", "gemma", 0, 40, created_at=created(0.5)),
        ModelRecord("google/gemma-4-2b", "gemma", 0, 30, created_at=created(0.5)),
        defs=wide.definitions(),
    )

    with store.reading() as db:
        found = launches_between(db, at(-6), at(1))

    # codegemma-2b is new on the Hub too, but only the wider glob counts it.
    assert names(found) == ["google/gemma-4-2b"]


def test_imported_history_counts_by_first_sighting_and_never_across_sources(new_store):
    store = new_store("i")
    snap(store, 0, "import", model("Qwen/Old", 100))
    snap(store, 1, "import", model("Qwen/Old", 110), model("Qwen/H", 5))
    snap(store, 2, "import", model("Qwen/Old", 120), model("Qwen/H", 9))
    # The first live snapshot lists what the history did not cover: nothing says it is new.
    snap(store, 3, "hub", model("Qwen/Old", 130, OLD), model("Qwen/H", 15), model("Qwen/L", 3, 2.9))
    snap(
        store,
        4,
        "hub",
        model("Qwen/Old", 140, OLD),
        model("Qwen/H", 20),
        model("Qwen/L", 30, 2.9),
        model("Qwen/M", 4, 3.5),
    )

    with store.reading() as db:
        found = launches_between(db, at(-3), at(4))

    assert names(found) == ["Qwen/M", "Qwen/H"]
    assert found[1].created_at is None
    assert found[1].gained == 15  # 5 when first seen, 20 now


def test_the_first_import_after_live_snapshots_finds_no_launch(new_store):
    store = new_store("j")
    snap(store, 0, "hub", model("Qwen/Old", 100, OLD))
    snap(store, 1, "hub", model("Qwen/Old", 110, OLD))
    snap(store, 2, "import", model("Qwen/Old", 120), model("Qwen/X", 50))
    snap(store, 3, "import", model("Qwen/Old", 130), model("Qwen/X", 60), model("Qwen/Y", 8))

    with store.reading() as db:
        found = launches_between(db, at(-3), at(3))

    # X is newly seen in the first import, against live snapshots: no evidence it is new.
    assert names(found) == ["Qwen/Y"]


def test_history_imported_after_live_snapshots_moves_first_sightings_back(new_store):
    store = new_store("k")
    snap(store, 2, "hub", model("Qwen/Old", 100, OLD), model("Qwen/A", 20, 1.5))
    snap(store, 3, "hub", model("Qwen/Old", 110, OLD), model("Qwen/A", 30, 1.5))
    snap(store, 0, "import", model("Qwen/Old", 80))
    snap(store, 1, "import", model("Qwen/Old", 90))

    with store.reading() as db:
        first_seen = dict(db.execute("SELECT repo_id, first_seen_at FROM models").fetchall())
        found = launches_between(db, at(-4), at(3))

    assert first_seen == {"Qwen/Old": "2026-01-01T06:00:00Z", "Qwen/A": "2026-01-03T06:00:00Z"}
    # A is first seen in the first live snapshot: the imports do not make it a launch.
    assert found == []


def test_the_sample_is_judged_against_itself(new_store):
    store = new_store("s")
    snap(store, 0, "sample", model("Qwen/Old", 100, OLD))
    snap(store, 1, "sample", model("Qwen/Old", 110, OLD), model("Qwen/S", 9, 0.5))

    with store.reading() as db:
        assert names(launches_between(db, at(-6), at(1))) == ["Qwen/S"]


def test_a_snapshot_finds_the_launches_it_first_listed(live):
    with live.reading() as db:
        snapshots = {s.date: s for s in q.list_snapshots(db)}
        by_day = {date: names(snapshot_launches(db, s)) for date, s in snapshots.items()}
        [c] = snapshot_launches(db, snapshots["2026-01-04"])

    assert by_day == {
        "2026-01-01": [],
        "2026-01-02": ["Qwen/A"],
        "2026-01-03": ["Qwen/B"],
        "2026-01-04": ["Qwen/C"],
        "2026-01-05": ["Qwen/D"],
    }
    assert (c.downloads_at_first, c.downloads_now, c.fastest) == (7, 7, None)


# -- launch messages ------------------------------------------------------------------


def subscribe(store: Store, channel: str, when: datetime, *families: str) -> None:
    with store.writing() as db:
        subs.subscribe(db, "T1", channel, "launches", families, when.strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_each_channel_hears_of_the_launches_found_since_it_subscribed(live):
    subscribe(live, "C_ALL", at(2.5))  # after day 2's snapshot
    subscribe(live, "C_QWEN", at(0), "qwen")
    subscribe(live, "C_LLAMA", at(0), "llama")
    subscribe(live, "C_LATE", at(4.5))

    with live.reading() as db:
        notices = launch_notices(db, load_families().keys)

    assert [(n.channel_id, n.snapshot.date, names(n.launches)) for n in notices] == [
        ("C_QWEN", "2026-01-02", ["Qwen/A"]),
        ("C_QWEN", "2026-01-03", ["Qwen/B"]),
        ("C_ALL", "2026-01-04", ["Qwen/C"]),
        ("C_QWEN", "2026-01-04", ["Qwen/C"]),
        ("C_ALL", "2026-01-05", ["Qwen/D"]),
        ("C_QWEN", "2026-01-05", ["Qwen/D"]),
    ]
    assert notices[0].event == "launches:s2"


def test_only_live_snapshots_of_the_last_week_post_launches(new_store):
    store = new_store("n")
    snap(store, 0, "import", model("Qwen/Old", 100))
    snap(store, 1, "import", model("Qwen/Old", 110), model("Qwen/H", 5))
    snap(store, 10, "hub", model("Qwen/Old", 200, OLD))
    snap(store, 11, "hub", model("Qwen/Old", 210, OLD), model("Qwen/N", 3, 10.5))
    snap(store, 19, "hub", model("Qwen/Old", 290, OLD), model("Qwen/N", 90, 10.5))
    subscribe(store, "C1", at(0))

    with store.reading() as db:
        notices = launch_notices(db, ["qwen"])
        found = names(launches_between(db, at(-30), at(19), ["qwen"]))

    # Both are launches to `new --days 49`, but H is imported history, which never posts,
    # and N was found on day 11, more than a week before the newest live snapshot (19).
    assert found == ["Qwen/N", "Qwen/H"]
    assert notices == []
