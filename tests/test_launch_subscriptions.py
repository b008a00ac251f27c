"""Launch subscriptions: the schema change that allows them, the commands that manage
them, and the message each subscribed channel gets after a collection finds launches."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from bot.jobs import Services, launches_job
from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.launches_answer import launch_message
from commands.subscriptions import Channel
from openmodels.cli import main
from openmodels.config import Config
from openmodels.families import load_families
from openmodels.hub import HubClient
from openmodels.launch_finder import launch_notices, launches_between
from openmodels.launches import Launch
from storage import open_store
from storage import outbox as ob
from storage import queries as q
from storage import subscriptions as subs
from storage.schema import migrations
from storage.snapshots import ModelRecord, write_snapshot
from tests.fakes import hub_model
from tests.slack_helpers import channel_texts, run_cli_against, tiny_png

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HERE = Channel("T1", "C1", "U42")


# -- the migration ---------------------------------------------------------------------


SUBSCRIPTIONS = [
    (
        "T1",
        "C1",
        "digest",
        "[]",
        "2026-01-01T00:00:00Z",
        "U1",
        None,
        None,
        '{"all_time": ["qwen"]}',
    ),
    ("T1", "C1", "alerts", '["qwen", "llama"]', "2026-01-02T00:00:00Z", "U2", None, None, None),
    ("T1", "C2", "alerts", "[]", "2026-01-03T00:00:00Z", None, "2026-01-04T06:00:00Z", "x", None),
]


@pytest.fixture
def old_store(tmp_path):
    """A store written by the openmodels before launches: subscriptions, and history
    imported after two live snapshots (so the newest-written snapshot is the oldest)."""
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m008_launches")
    db.conn.executemany(
        "INSERT INTO subscriptions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", SUBSCRIPTIONS
    )
    db.conn.executemany(
        "INSERT INTO snapshots (id, taken_at, source, model_count) VALUES (?, ?, ?, ?)",
        [
            (1, "2026-01-02T06:00:00Z", "hub", 1),
            (2, "2026-01-03T06:00:00Z", "hub", 2),
            (3, "2026-01-01T00:00:00Z", "import", 1),
        ],
    )
    db.conn.executemany(
        "INSERT INTO models (id, repo_id, family) VALUES (?, ?, 'qwen')",
        [(1, "Qwen/A"), (2, "Qwen/B")],
    )
    db.conn.executemany(
        "INSERT INTO model_counts VALUES (?, ?, 1, 1, 0, NULL)", [(1, 1), (2, 1), (2, 2), (3, 1)]
    )
    db.conn.commit()
    db.close()
    return path


def test_an_old_store_keeps_every_subscription_and_allows_launches(old_store):
    store = open_store(old_store)  # applies m008_launches

    with store.reading() as db:
        rows = db.execute("SELECT * FROM subscriptions ORDER BY created_at").fetchall()
        columns = [r[1] for r in db.execute("PRAGMA table_info(subscriptions)")]
    with store.writing() as db:
        subs.subscribe(db, "T1", "C1", "launches", ("qwen",), "2026-01-05T00:00:00Z")

    # Later migrations add columns after these; the rebuild keeps every one it found.
    assert [row[: len(SUBSCRIPTIONS[0])] for row in rows] == SUBSCRIPTIONS
    assert columns[: len(SUBSCRIPTIONS[0])] == [
        "team_id",
        "channel_id",
        "kind",
        "families",
        "created_at",
        "created_by",
        "failing_since",
        "failure",
        "last_digest",
    ]
    with store.reading() as db:
        assert [s.kind for s in subs.for_channel(db, "T1", "C1")] == [
            "alerts",
            "digest",
            "launches",
        ]


def test_after_the_migration_an_unknown_kind_is_still_refused(old_store):
    store = open_store(old_store)

    with pytest.raises(sqlite3.IntegrityError, match="CHECK"), store.writing() as db:
        subs.subscribe(db, "T1", "C9", "everything", (), "2026-01-05T00:00:00Z")


def test_columns_and_indexes_added_to_subscriptions_before_the_rebuild_are_kept(tmp_path):
    path = tmp_path / "extended.db"
    db = Database(path)
    migrations.apply(db, stop_before="m008_launches")
    db.execute("ALTER TABLE subscriptions ADD COLUMN muted_until TEXT")
    db.execute("CREATE INDEX subscriptions_muted ON subscriptions (muted_until)")
    db.execute(
        """INSERT INTO subscriptions (team_id, channel_id, kind, created_at, muted_until)
           VALUES ('T1', 'C1', 'alerts', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')"""
    )
    db.conn.commit()
    db.close()

    store = open_store(path)

    with store.reading() as db:
        row = db.execute("SELECT kind, muted_until FROM subscriptions").fetchone()
        indexes = {r[1] for r in db.execute("PRAGMA index_list(subscriptions)")}
    assert row == ("alerts", "2026-02-01T00:00:00Z")
    assert "subscriptions_muted" in indexes


def test_the_migration_records_each_models_first_sighting(old_store):
    store = open_store(old_store)

    with store.reading() as db:
        rows = db.execute("SELECT repo_id, first_snapshot_id, first_seen_at FROM models").fetchall()
        indexes = {r[1] for r in db.execute("PRAGMA index_list(models)")}

    # Qwen/A was written first by a live snapshot, but the imported one is older.
    assert sorted(rows) == [
        ("Qwen/A", 3, "2026-01-01T00:00:00Z"),
        ("Qwen/B", 2, "2026-01-03T06:00:00Z"),
    ]
    assert "models_first_seen" in indexes


def test_a_new_store_and_a_migrated_one_have_the_same_subscriptions_table(old_store, tmp_path):
    def definition(path) -> str:
        conn = sqlite3.connect(path)
        try:
            row = conn.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'subscriptions'"
            ).fetchone()
            return " ".join(row[0].replace('"', "").split())
        finally:
            conn.close()

    open_store(old_store)
    open_store(tmp_path / "new.db")

    assert definition(old_store) == definition(tmp_path / "new.db")
    assert "CHECK (kind IN ('digest', 'alerts', 'launches'))" in definition(old_store)


# -- the commands ----------------------------------------------------------------------


@pytest.fixture
def store(new_store):
    return new_store("s")


def ask(store, text, channel=HERE):
    ctx = AnswerContext(store=store, families=load_families(), channel=channel, now=lambda: NOW)
    return answer_text(text, ctx)


def test_subscribing_to_launches_of_some_families(store):
    result = ask(store, "subscribe launches qwen google")

    assert result.extra["confirmation"] == (
        "<@U42> subscribed this channel to new-model launches of Qwen, Gemma (a message "
        "after each collection that finds any, daily at 06:00 UTC)."
    )
    with store.reading() as db:
        [sub] = subs.for_channel(db, "T1", "C1")
    assert (sub.kind, sub.families, sub.created_at) == (
        "launches",
        ("qwen", "gemma"),
        "2026-01-05T12:00:00Z",
    )


def test_subscriptions_lists_launches_and_unsubscribing_stops_them(store):
    ask(store, "subscribe launches")
    ask(store, "subscribe alerts qwen")
    with store.writing() as db:
        ob.enqueue(db, "T1", "C1", "launch", "launches:s9", {"text": "x"}, "2026-01-05T12:00:00Z")

    listing = ask(store, "subscriptions").text
    stopped = ask(store, "unsubscribe launches")
    again = ask(store, "unsubscribe launches")

    assert "• *Launches* of every tracked family, after each collection that finds any" in listing
    assert "• *Overtake alerts* for Qwen" in listing
    assert stopped.extra["confirmation"] == "<@U42> unsubscribed this channel from launch messages."
    assert again.text == "This channel was not subscribed to launch messages."
    with store.reading() as db:
        [item] = ob.all_items(db)
        assert [s.kind for s in subs.for_channel(db, "T1", "C1")] == ["alerts"]
    assert (item.status, item.last_error) == ("failed", "unsubscribed")  # never posted


# -- the message -------------------------------------------------------------------------


def test_the_launch_message_lists_each_launch_within_block_kit_limits():
    launches = [
        Launch(
            f"Qwen/Qwen4-{i}B",
            "qwen",
            "2026-01-04T20:00:00.000Z",
            "2026-01-05T06:00:00Z",
            1_200 * i,
            1_200 * i,
            "2026-01-05T06:00:00Z",
        )
        for i in range(1, 80)
    ]
    snapshot = q.Snapshot(7, "2026-01-05T06:00:00Z", "hub", 500)

    message = launch_message(launches[:2], load_families(), snapshot)
    crowded = launch_message(launches, load_families(), snapshot)

    assert (
        message["text"]
        == "2 new models first seen on 2026-01-05: Qwen/Qwen4-1B (Qwen), Qwen/Qwen4-2B (Qwen)"
    )
    body = message["blocks"][0]["text"]["text"]
    assert body.startswith(":rocket: *2 new models* first seen in the snapshot of 2026-01-05:\n")
    assert (
        "• <https://huggingface.co/Qwen/Qwen4-1B|Qwen/Qwen4-1B> · Qwen · first seen 2026-01-05 "
        "(created 2026-01-04) · 1.2K downloads so far"
    ) in body
    assert check_limits(crowded["blocks"]) == []
    assert "launches not shown" in crowded["blocks"][0]["text"]["text"]


# -- after a collection, end to end ------------------------------------------------------


@pytest.fixture
def env(fake_hub, slack, tmp_path, monkeypatch):
    db = tmp_path / "openmodels.db"
    store = open_store(db)
    with store.writing() as conn:
        subs.subscribe(conn, "T1", "C_ALL", "launches", (), "2026-01-01T00:00:00Z")
        subs.subscribe(conn, "T1", "C_QWEN", "launches", ("qwen",), "2026-01-01T00:00:00Z")
        subs.subscribe(conn, "T1", "C_LLAMA", "launches", ("llama",), "2026-01-01T00:00:00Z")
        subs.subscribe(conn, "T1", "C_ALERTS", "alerts", (), "2026-01-01T00:00:00Z")
    run_cli_against(monkeypatch, db, fake_hub, slack)
    return store


def test_a_launch_reaches_each_interested_channel_once(fake_hub, slack, env):
    created = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    old = hub_model("Qwen/Qwen3-8B", downloads=10, all_time=5_000)
    llama = hub_model("meta-llama/Llama-3.1-8B", downloads=50, all_time=9_000)
    fake_hub.replace("Qwen", old)
    fake_hub.replace("meta-llama", llama)
    assert main(["collect"]) == 0  # the store's first snapshot: no launches
    assert channel_texts(slack) == {}

    fake_hub.replace(
        "Qwen", old, hub_model("Qwen/Qwen4-9B", downloads=1, all_time=2_700, created_at=created)
    )
    assert main(["collect"]) == 0
    assert main(["collect"]) == 0  # a rerun posts nothing twice

    expected = [
        "1 new model first seen on "
        + datetime.now(UTC).date().isoformat()
        + ": Qwen/Qwen4-9B (Qwen)"
    ]
    assert channel_texts(slack) == {"C_ALL": expected, "C_QWEN": expected}


def test_imported_history_never_posts_launches(env, tmp_path, capsys):
    history = tmp_path / "history.csv"
    history.write_text(
        "date,repo_id,downloads,downloads_all_time\n"
        "2026-01-01,Qwen/Qwen3-8B,10,100\n"
        "2026-01-02,Qwen/Qwen3-8B,10,110\n"
        "2026-01-02,Qwen/Qwen4-9B,5,5\n"
    )

    assert main(["import", str(history)]) == 0

    with env.reading() as db:
        end = datetime(2026, 1, 2, tzinfo=UTC)
        assert [x.repo_id for x in launches_between(db, end - timedelta(days=7), end)] == [
            "Qwen/Qwen4-9B"
        ]
        assert launch_notices(db, load_families().keys) == []


def test_a_launch_seen_in_a_live_snapshot_is_queued_with_its_key(env):
    write_snapshot(
        env, NOW, "hub", [ModelRecord("Qwen/Old", "qwen", 0, 10)], load_families().definitions()
    )
    write_snapshot(
        env,
        NOW + timedelta(days=1),
        "hub",
        [
            ModelRecord("Qwen/Old", "qwen", 0, 20),
            ModelRecord("Qwen/New", "qwen", 0, 3, created_at="2026-01-06T01:00:00.000Z"),
        ],
        load_families().definitions(),
    )
    services = Services(
        config=Config(db=env.location),
        families=load_families(),
        store=env,
        hub=HubClient("http://127.0.0.1:9"),  # never asked
        slack=None,
        render=tiny_png,
    )

    queued = launches_job(services, NOW + timedelta(days=1))
    again = launches_job(services, NOW + timedelta(days=1, hours=1))

    with env.reading() as db:
        items = [(i.channel_id, i.kind, i.event) for i in ob.all_items(db)]
    assert (queued, again) == (2, 0)
    assert items == [("C_ALL", "launch", "launches:s2"), ("C_QWEN", "launch", "launches:s2")]
