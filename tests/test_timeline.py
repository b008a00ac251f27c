"""The store's snapshots as the comparability rule sees them: read from a real store,
kept while no snapshot is added, and cut to what a trend may use."""

from __future__ import annotations

from datetime import timedelta

from openmodels.comparability import Fall, Why
from openmodels.timeline import TimelineCache, family_runs, read_timeline
from storage import queries as q
from storage.snapshots import write_snapshot
from tests.builders import AURORA_START, aurora_families, aurora_store, family_day, record


def test_a_store_reads_as_snapshots_with_definitions_families_and_anomalies(tmp_path):
    store = aurora_store(tmp_path / "a.db", last_day=15)
    write_snapshot(  # Dawn's only model missing from the listing on 17 Feb
        store,
        AURORA_START + timedelta(days=16),
        "hub",
        [record("borealis/borealis-8b", "borealis", 116_000_000)],
        aurora_families().definitions(),
    )

    with store.reading() as db:
        timeline = read_timeline(db)
        latest = q.latest_snapshot(db)
    assert latest is not None

    last = timeline.at(latest)
    assert (last.source, last.present) == ("hub", frozenset({"borealis"}))
    assert last.definitions == aurora_families().definitions()
    assert timeline.falls[latest.id] == [
        Fall("aurora", 95_000_000, None),
        Fall("cirrus", 80_400_000, None),
        Fall("dawn", 21_500_000, None),
    ]
    [change] = timeline.breaks("aurora")
    assert (change.at.date, change.why) == ("2026-02-15", Why.REDEFINED)


def test_the_cache_reads_again_only_when_a_snapshot_was_added(tmp_path):
    store = aurora_store(tmp_path / "a.db", last_day=3)
    cache = TimelineCache()

    with store.reading() as db:
        first = cache.read(db)
    with store.reading() as db:
        again = cache.read(db)
    family_day(store, 30, qwen=1, llama=2)
    with store.reading() as db:
        after = cache.read(db)

    assert again is first
    assert after is not first and len(after.snapshots) == len(first.snapshots) + 1


def test_a_trend_keeps_the_window_since_the_last_change(tmp_path):
    store = aurora_store(tmp_path / "a.db")
    with store.reading() as db:
        timeline = read_timeline(db)
        latest = q.latest_snapshot(db)
        series = q.family_series(db, ["aurora", "borealis"], "all_time")
    assert latest is not None

    runs = family_runs(timeline, series, latest)

    # Aurora: 15 to 21 Feb, since its change; Borealis: the 14 days' window, 7 to 21 Feb.
    assert [t[:10] for t, _ in runs.series["aurora"]] == [f"2026-02-{d}" for d in range(15, 22)]
    assert len(runs.series["borealis"]) == 15
    assert runs.changed["aurora"].at == "2026-02-15T06:00:00Z"
    assert "borealis" not in runs.changed and runs.fell == frozenset()
