"""The store on both engines (a real SQLite file, a real PostgreSQL database): schema,
atomic snapshots, queries, refusals; and ranking."""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from openmodels.errors import StoreError
from openmodels.ranking import Lead, lead, rank_families
from storage import Store, open_store
from storage.port import applied_migrations, table_names
from storage.queries import (
    ModelPoint,
    ModelRow,
    family_series,
    latest_snapshot,
    list_snapshots,
    model_history,
    previous_snapshot,
    snapshot_near,
    store_stats,
    top_models,
    totals_at,
)
from storage.schema import known_migration_names
from storage.snapshots import (
    FamilyTotal,
    ModelRecord,
    family_totals,
    format_timestamp,
    insert_snapshot,
    write_snapshot,
)
from tests.builders import DAY0, INTEGRITY_ERRORS, dump, record, store_with

D0, D1, D2 = (format_timestamp(DAY0 + timedelta(days=d)) for d in range(3))

# Three daily snapshots; every figure below is summed by hand from these.
THREE_DAYS = [
    [
        record("Qwen/A", "qwen", 100, d30=10, likes=1),
        record("meta-llama/L", "llama", 300, d30=30, likes=3),
    ],
    [
        record("Qwen/A", "qwen", 150, d30=15, likes=1),
        record("Qwen/B", "qwen", 60, d30=40, likes=2),
        record("meta-llama/L", "llama", 320, d30=20, likes=3),
    ],
    [
        record("Qwen/A", "qwen", 200, d30=20, likes=2),
        record("Qwen/B", "qwen", 100, d30=50, likes=2),
        record("meta-llama/L", "llama", 330, d30=10, likes=4),
        record("deepseek-ai/R", "deepseek", 50, d30=5),
    ],
]


@pytest.fixture
def three_days(new_store) -> Store:
    return store_with(new_store("three"), THREE_DAYS)


def tables(store: Store) -> set[str]:
    with store.reading() as db:
        return set(table_names(db))


# -- schema and opening -------------------------------------------------------------


def test_migrations_create_every_table(tmp_store):
    assert tables(tmp_store) >= {
        "snapshots",
        "models",
        "model_counts",
        "family_totals",
        "subscriptions",
        "outbox",
        "job_runs",
        "alert_checks",
        "anomalies",
        "family_definitions",
        "snapshot_definitions",
        "pair_orders",
        "mutes",
        "announcements",
        "home_visits",
    }
    with tmp_store.reading() as db:
        assert {name for name, _ in applied_migrations(db)} == known_migration_names()


def test_opening_again_applies_nothing_and_keeps_the_data(three_days):
    before = dump(three_days)

    again = open_store(three_days.location)

    assert dump(again) == before


def test_a_sqlite_store_is_in_wal_mode(tmp_path):
    store = open_store(tmp_path / "s.db")
    with store.reading() as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_opening_a_new_store_waits_while_another_process_creates_it(tmp_path):
    # Another process has just created the file and holds its write lock (it is not in
    # WAL mode yet): SQLite refuses the switch to WAL at once, not after its busy timeout.
    path = tmp_path / "new.db"
    creator = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    creator.execute("BEGIN IMMEDIATE")
    threading.Timer(0.2, lambda: creator.execute("COMMIT")).start()

    store = open_store(path)

    creator.close()
    assert tables(store) >= {"snapshots", "outbox", "job_runs"}


def test_a_store_from_a_newer_openmodels_is_refused(tmp_store):
    with tmp_store.writing() as db:
        if db.engine == "sqlite":
            db.execute(
                "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
                ["openmodels", "m999_future", "2030-01-01 00:00:00+00:00"],
            )
        else:
            db.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                ["m999_future", "2030-01-01 00:00:00+00:00"],
            )

    with pytest.raises(StoreError, match=r"written by a newer openmodels \(schema m999_future\)"):
        open_store(tmp_store.location)


def test_a_file_of_random_bytes_is_refused(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(random.Random(5).randbytes(8192))

    with pytest.raises(StoreError, match="is not a readable openmodels SQLite store"):
        open_store(path)


def test_a_directory_or_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        open_store(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "missing" / "s.db")


def test_the_sample_store_is_read_only(tmp_path):
    sample = open_store(store_with(tmp_path / "s.db", THREE_DAYS).path, sample=True)

    with pytest.raises(StoreError, match="read-only"), sample.writing():
        pass


# -- writing snapshots --------------------------------------------------------------


def test_a_snapshot_stores_models_counts_and_totals(tmp_store):
    snapshot_id = write_snapshot(tmp_store, DAY0, "hub", THREE_DAYS[0])

    with tmp_store.reading() as db:
        assert [(s.id, s.taken_at, s.source, s.model_count) for s in list_snapshots(db)] == [
            (snapshot_id, D0, "hub", 2)
        ]
        assert totals_at(db, snapshot_id) == {
            "llama": FamilyTotal("llama", 30, 300, 3, 1),
            "qwen": FamilyTotal("qwen", 10, 100, 1, 1),
        }


def test_write_snapshot_is_all_or_nothing(three_days):
    before = dump(three_days)
    broken = ModelRecord("Qwen/C", "qwen", None, 10)  # type: ignore[arg-type]  # NOT NULL

    with pytest.raises(INTEGRITY_ERRORS):
        write_snapshot(three_days, DAY0 + timedelta(days=3), "hub", [*THREE_DAYS[2], broken])

    assert dump(three_days) == before


def test_a_repo_listed_twice_keeps_its_first_record(tmp_store):
    snapshot_id = write_snapshot(
        tmp_store,
        DAY0,
        "hub",
        [record("Qwen/A", "qwen", 100, d30=10), record("Qwen/A", "qwen", 999, d30=99)],
    )

    with tmp_store.reading() as db:
        assert totals_at(db, snapshot_id)["qwen"] == FamilyTotal("qwen", 10, 100, 0, 1)
        assert latest_snapshot(db).model_count == 1  # type: ignore[union-attr]


def test_model_metadata_survives_a_snapshot_that_lacks_it(tmp_store):
    write_snapshot(
        tmp_store,
        DAY0,
        "hub",
        [record("Qwen/A", "qwen", 1, created_at="2025-01-01T00:00:00.000Z", pipeline_tag="tg")],
    )
    latest = write_snapshot(
        tmp_store, DAY0 + timedelta(days=1), "hub", [record("Qwen/A", "qwen", 2)]
    )

    with tmp_store.reading() as db:
        [row] = top_models(db, latest, "qwen")
    assert (row.created_at, row.pipeline_tag) == ("2025-01-01T00:00:00.000Z", "tg")


def test_family_totals_sums_per_family_in_name_order():
    records = [
        record("Qwen/A", "qwen", 100, d30=10, likes=1),
        record("meta-llama/L", "llama", 300, d30=30, likes=3),
        record("Qwen/B", "qwen", 60, d30=40, likes=2),
    ]

    assert family_totals(records) == [
        FamilyTotal("llama", 30, 300, 3, 1),
        FamilyTotal("qwen", 50, 160, 3, 2),
    ]
    assert family_totals([]) == []


def test_timestamps_are_utc_with_a_z_and_must_be_aware():
    cet = timezone(timedelta(hours=1))

    assert format_timestamp(datetime(2026, 1, 1, 7, 0, 30, 999, tzinfo=cet)) == (
        "2026-01-01T06:00:30Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2026, 1, 1))


# -- queries ------------------------------------------------------------------------


def test_latest_and_previous_snapshot(three_days, tmp_store):
    with three_days.reading() as db:
        latest = latest_snapshot(db)
        assert latest is not None and (latest.id, latest.taken_at) == (3, D2)
        previous = previous_snapshot(db, latest)
        assert previous is not None and previous.taken_at == D1
    with tmp_store.reading() as db:
        assert latest_snapshot(db) is None


def test_totals_at_a_snapshot(three_days):
    with three_days.reading() as db:
        assert totals_at(db, 3) == {
            "qwen": FamilyTotal("qwen", 70, 300, 4, 2),
            "llama": FamilyTotal("llama", 10, 330, 4, 1),
            "deepseek": FamilyTotal("deepseek", 5, 50, 0, 1),
        }
        assert totals_at(db, 99) == {}


@pytest.mark.parametrize(
    ("metric", "qwen", "llama"),
    [
        ("all_time", [(D0, 100), (D1, 210), (D2, 300)], [(D0, 300), (D1, 320), (D2, 330)]),
        ("30d", [(D0, 10), (D1, 55), (D2, 70)], [(D0, 30), (D1, 20), (D2, 10)]),
    ],
)
def test_family_series(three_days, metric, qwen, llama):
    with three_days.reading() as db:
        series = family_series(db, ["qwen", "llama", "phi"], metric)

    assert series == {"qwen": qwen, "llama": llama, "phi": []}


def test_family_series_of_no_families_is_empty(three_days):
    with three_days.reading() as db:
        assert family_series(db, []) == {}


@pytest.mark.parametrize(
    ("metric", "limit", "expected"),
    [
        ("all_time", 10, ["Qwen/A", "Qwen/B"]),
        ("30d", 10, ["Qwen/B", "Qwen/A"]),
        ("all_time", 1, ["Qwen/A"]),
    ],
)
def test_top_models(three_days, metric, limit, expected):
    with three_days.reading() as db:
        rows = top_models(db, 3, "qwen", metric, limit)

    assert [r.repo_id for r in rows] == expected
    assert rows[0] in (
        ModelRow("Qwen/A", "qwen", 20, 200, 2, None, None),
        ModelRow("Qwen/B", "qwen", 50, 100, 2, None, None),
    )


def test_model_history(three_days):
    with three_days.reading() as db:
        assert model_history(db, "Qwen/B") == [
            ModelPoint(D1, 40, 60, 2),
            ModelPoint(D2, 50, 100, 2),
        ]
        assert model_history(db, "nobody/none") == []


def test_store_stats(three_days, tmp_store):
    with three_days.reading() as db:
        stats = store_stats(db)
    assert (stats.snapshot_count, stats.family_count, stats.model_count) == (3, 3, 4)
    assert stats.first is not None and stats.first.taken_at == D0
    assert stats.latest is not None and stats.latest.taken_at == D2

    with tmp_store.reading() as db:
        empty = store_stats(db)
    assert (empty.snapshot_count, empty.first, empty.latest, empty.model_count) == (
        0,
        None,
        None,
        0,
    )


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (list(range(11)), 3),  # exactly 7 days before day 10
        ([0, 5, 9, 10], 5),  # 2 days from the target beats 3
        ([1, 5, 10], 1),  # equally close: the earlier one
        ([8, 10], 8),  # nothing that old: the earliest
        ([10], None),  # only the latest itself
    ],
)
def test_snapshot_near_a_week_earlier(new_store, days, expected):
    store = new_store("near")
    for day in days:
        write_snapshot(store, DAY0 + timedelta(days=day), "hub", [record("Qwen/A", "qwen", day)])

    with store.reading() as db:
        latest = latest_snapshot(db)
        assert latest is not None
        near = snapshot_near(db, latest, days=7)

    want = None if expected is None else format_timestamp(DAY0 + timedelta(days=expected))
    assert (near.taken_at if near else None) == want


# -- ranking (pure) -----------------------------------------------------------------

CURRENT = {"qwen": 500, "llama": 300, "deepseek": 200}
BASELINE = {"llama": 400, "qwen": 350, "deepseek": 200, "gone": 50}


def test_rank_families_orders_shares_and_compares_with_the_baseline():
    ranking = rank_families(CURRENT, BASELINE)

    assert [(r.family, r.rank, r.share, r.rank_change, r.value_change) for r in ranking] == [
        ("qwen", 1, 0.5, 1, 150),
        ("llama", 2, 0.3, -1, -100),
        ("deepseek", 3, 0.2, 0, 0),
    ]


def test_only_families_compared_over_the_period_move_in_the_ranking():
    # Gemma's definition changed: its value since then is given, and it passes no one.
    ranking = rank_families(
        {"gemma": 600, "llama": 310, "qwen": 320}, {"llama": 300, "qwen": 290}, {"gemma": 590}
    )

    assert [(r.family, r.rank, r.rank_change, r.value_change) for r in ranking] == [
        ("gemma", 1, None, 10),
        ("qwen", 2, 1, 30),
        ("llama", 3, -1, 10),
    ]


def test_a_family_new_since_the_baseline_has_no_change():
    [newcomer] = [r for r in rank_families({"kimi": 5, "qwen": 10}, {"qwen": 8}) if r.rank == 2]

    assert (newcomer.family, newcomer.rank_change, newcomer.value_change) == ("kimi", None, None)


def test_without_a_baseline_nothing_has_changed():
    assert all(r.rank_change is None and r.value_change is None for r in rank_families(CURRENT))


def test_ties_are_broken_by_name():
    assert [r.family for r in rank_families({"b": 10, "c": 5, "a": 10})] == ["a", "b", "c"]


def test_all_zero_values_have_zero_share():
    assert [r.share for r in rank_families({"a": 0, "b": 0})] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("values", "expected", "ratio"),
    [
        (CURRENT, Lead("qwen", 500, 500, 2), 1.0),
        ({"a": 30, "b": 10}, Lead("a", 30, 10, 1), 3.0),
        ({"a": 10, "b": 0}, Lead("a", 10, 0, 1), None),
    ],
)
def test_lead_compares_the_leader_with_the_rest(values, expected, ratio):
    result = lead(rank_families(values))

    assert result == expected
    assert result is not None and result.ratio == ratio


def test_no_lead_with_fewer_than_two_families():
    assert lead(rank_families({"qwen": 1})) is None
    assert lead([]) is None


def test_timestamps_sort_as_text():
    moments = [DAY0 + timedelta(hours=h) for h in (30, 2, 17)]

    assert sorted(format_timestamp(m) for m in moments) == [
        format_timestamp(m) for m in sorted(moments)
    ]
    assert format_timestamp(DAY0).endswith("Z") and DAY0.tzinfo is UTC


def test_a_snapshot_with_models_new_changed_and_seen_earlier_keeps_every_count(tmp_store):
    # The write matches the incoming models with the stored ones once; those new (here
    # sharing the stored ones' block of ids), changed (another family) or seen earlier
    # than recorded (imported history) take a second step. Every count lands once.
    store_with(tmp_store, [[record("Qwen/A", "qwen", 100), record("Qwen/B", "qwen", 50)]])
    later = write_snapshot(
        tmp_store,
        DAY0 + timedelta(days=1),
        "hub",
        [
            record("Qwen/A", "qwen", 110),
            record("Qwen/B", "qwen-coder", 60),  # a family of its own now
            record("Qwen/C", "qwen", 5),  # new
        ],
    )
    earlier = write_snapshot(
        tmp_store,
        DAY0 - timedelta(days=1),
        "import",
        [record("Qwen/A", "qwen", 90), record("Qwen/D", "qwen", 1)],
    )

    with tmp_store.reading() as db:

        def counts(snapshot: int) -> dict[str, int]:
            rows = db.execute(
                """SELECT m.repo_id, c.downloads_all_time FROM model_counts c
                   JOIN models m ON m.id = c.model_id WHERE c.snapshot_id = ?""",
                [snapshot],
            )
            return dict(rows.fetchall())

        models = db.execute(
            "SELECT repo_id, family, first_seen_at FROM models ORDER BY repo_id"
        ).fetchall()
        totals = totals_at(db, later)
    assert counts(later) == {"Qwen/A": 110, "Qwen/B": 60, "Qwen/C": 5}
    assert counts(earlier) == {"Qwen/A": 90, "Qwen/D": 1}
    assert [tuple(m) for m in models] == [
        ("Qwen/A", "qwen", format_timestamp(DAY0 - timedelta(days=1))),
        ("Qwen/B", "qwen-coder", D0),
        ("Qwen/C", "qwen", D1),
        ("Qwen/D", "qwen", format_timestamp(DAY0 - timedelta(days=1))),
    ]
    assert totals["qwen-coder"] == FamilyTotal("qwen-coder", 0, 60, 0, 1)
    assert totals["qwen"] == FamilyTotal("qwen", 0, 115, 0, 2)


def test_snapshots_written_in_one_transaction_keep_their_own_counts(tmp_store):
    # As an import writes them (and a collection with its day-one estimate).
    with tmp_store.writing() as db:
        first = insert_snapshot(db, DAY0, "import", THREE_DAYS[0])
        second = insert_snapshot(db, DAY0 + timedelta(days=1), "import", THREE_DAYS[1])

    with tmp_store.reading() as db:
        sizes = [
            db.execute("SELECT count(*) FROM model_counts WHERE snapshot_id = ?", [s]).fetchone()[0]
            for s in (first, second)
        ]
        totals = totals_at(db, second)
    assert sizes == [2, 3]
    assert totals["qwen"] == FamilyTotal("qwen", 55, 210, 3, 2)
