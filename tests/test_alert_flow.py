"""Alerts that don't flood: all the overtakes of one snapshot reach a channel as one
message; a pair announced there in the last 30 days is followed up in that thread; a
subscription follows the metrics it chose; a muted pair gives no alert.

Planning runs on real SQLite stores; delivery runs the outbox sender against the local
Slack, whose channel history (as Slack's) lists no thread replies.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from bot.outbox_sender import deliver
from bot.slack_client import make_web_client
from commands.alert_message import MUTE_ACTION, alert_message
from openmodels.alerts import check_overtakes
from openmodels.families import load_families
from openmodels.threads import reply_thread
from storage import announcements as an
from storage import mutes as mu
from storage import open_store
from storage import outbox as ob
from storage import subscriptions as subs
from storage.schema import migrations
from storage.snapshots import write_snapshot
from tests.builders import DAY0, record
from tests.slack_helpers import tiny_png

FAMILIES = load_families()
ORGS = {"qwen": "Qwen", "llama": "meta-llama", "deepseek": "deepseek-ai", "gemma": "google"}
BOTH = ("all_time", "30d")


def day(store, n: int, d30: dict[str, int] | None = None, **all_time: int) -> None:
    """Snapshot `n` days after DAY0: one model a family, all-time figures as given and
    30-day figures a tenth of them unless `d30` says otherwise."""
    d30 = d30 or {}
    write_snapshot(
        store,
        DAY0 + timedelta(days=n),
        "hub",
        [
            record(f"{ORGS[f]}/m", f, total, d30=d30.get(f, total // 10))
            for f, total in all_time.items()
        ],
    )


def check(store, n: int):
    return check_overtakes(
        store, FAMILIES, message=alert_message, now=DAY0 + timedelta(days=n, hours=1)
    )


def messages(store):
    """(channel, text, overtakes) of every queued alert."""
    with store.reading() as db:
        return [
            (i.channel_id, i.payload["text"], [tuple(o) for o in i.payload["overtakes"]])
            for i in ob.all_items(db)
        ]


@pytest.fixture
def store(new_store):
    store = new_store("s")
    with store.writing() as db:
        subs.subscribe(db, "T1", "C1", "alerts", (), "2026-01-01T00:00:00Z")
        subs.subscribe(db, "T1", "C2", "alerts", ("gemma",), "2026-01-01T00:00:00Z")
    return store


START = {"llama": 100, "qwen": 90, "deepseek": 80, "gemma": 70}


# -- one message per snapshot ------------------------------------------------------------


def test_three_overtakes_in_one_snapshot_make_one_message_per_channel(store):
    day(store, 0, **START)
    check(store, 0)
    day(store, 1, llama=105, qwen=120, deepseek=85, gemma=110)

    result = check(store, 1)

    assert len([o for o in result.overtakes if o.metric == "all_time"]) == 3
    assert messages(store) == [
        (
            "C1",
            "3 overtakes in the snapshot of 2026-01-02: "
            "Qwen passed Llama in all-time downloads: 120 vs 105; "
            "Gemma passed DeepSeek in all-time downloads: 110 vs 85; "
            "Gemma passed Llama in all-time downloads: 110 vs 105",
            [
                ("all_time", "qwen", "llama"),
                ("all_time", "gemma", "deepseek"),
                ("all_time", "gemma", "llama"),
            ],
        ),
        (
            "C2",  # only the overtakes involving Gemma
            "2 overtakes in the snapshot of 2026-01-02: "
            "Gemma passed DeepSeek in all-time downloads: 110 vs 85; "
            "Gemma passed Llama in all-time downloads: 110 vs 105",
            [("all_time", "gemma", "deepseek"), ("all_time", "gemma", "llama")],
        ),
    ]


def test_each_pair_in_a_message_has_its_own_mute_button(store):
    day(store, 0, **START)
    check(store, 0)
    day(store, 1, llama=105, qwen=120, deepseek=85, gemma=110)
    check(store, 1)

    with store.reading() as db:
        [item, _] = ob.all_items(db)
    buttons = [b["accessory"] for b in item.payload["blocks"] if "accessory" in b]

    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (MUTE_ACTION, "llama|qwen"),
        (MUTE_ACTION, "deepseek|gemma"),
        (MUTE_ACTION, "gemma|llama"),
    ]
    assert {b["text"]["text"] for b in buttons} == {"Mute this pair here"}


# -- which metrics -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        (("all_time",), [("all_time", "qwen", "llama")]),
        (("30d",), [("30d", "deepseek", "qwen")]),
        (BOTH, [("all_time", "qwen", "llama"), ("30d", "deepseek", "qwen")]),
    ],
)
def test_a_subscription_gets_the_metrics_it_chose(new_store, metrics, expected):
    store = new_store("s")
    with store.writing() as db:
        subs.subscribe(db, "T1", "C1", "alerts", (), "2026-01-01T00:00:00Z", metrics=metrics)
    day(store, 0, d30={"qwen": 50, "deepseek": 40}, llama=100, qwen=90, deepseek=80)
    check(store, 0)
    # Qwen passes Llama all-time; DeepSeek passes Qwen in 30-day downloads only.
    day(store, 1, d30={"qwen": 50, "deepseek": 60}, llama=105, qwen=120, deepseek=85)

    check(store, 1)

    assert [found for _, _, found in messages(store)] == [expected]


def test_subscriptions_from_before_the_choice_keep_both_metrics(tmp_path):
    db = Database(tmp_path / "old.db")
    migrations.apply(db, stop_before="m009_alert_flow")
    db.execute(
        "INSERT INTO subscriptions (team_id, channel_id, kind, families, created_at) "
        "VALUES ('T1', 'C1', 'alerts', '[]', '2025-12-01T00:00:00Z')"
    )
    db.conn.commit()
    db.close()

    store = open_store(tmp_path / "old.db")  # applies m009_alert_flow
    with store.writing() as conn:
        subs.subscribe(conn, "T1", "C2", "alerts", (), "2026-01-01T00:00:00Z")
        kept, new = subs.get(conn, "T1", "C1", "alerts"), subs.get(conn, "T1", "C2", "alerts")

    assert kept is not None and kept.metrics == BOTH
    assert new is not None and new.metrics == ("all_time",)


# -- muted pairs -------------------------------------------------------------------------


def test_a_muted_pair_gives_no_alert_in_that_channel_either_way_round(store):
    with store.writing() as db:
        mu.mute(db, "T1", "C1", ("qwen", "llama"), "2026-01-01T00:00:00Z", "U1")
    day(store, 0, **START)
    check(store, 0)
    day(store, 1, llama=105, qwen=120, deepseek=85, gemma=80)  # Qwen passes Llama
    check(store, 1)
    day(store, 2, llama=130, qwen=125, deepseek=90, gemma=95)  # Llama back; Gemma passes DeepSeek

    check(store, 2)

    assert [(c, found) for c, _, found in messages(store)] == [
        ("C1", [("all_time", "gemma", "deepseek")]),
        ("C2", [("all_time", "gemma", "deepseek")]),
    ]


def test_a_channel_that_muted_every_pair_gets_nothing(store):
    with store.writing() as db:
        mu.mute(db, "T1", "C2", ("gemma", "deepseek"), "2026-01-01T00:00:00Z", "U1")
        mu.mute(db, "T1", "C2", ("llama", "gemma"), "2026-01-01T00:00:00Z", "U1")
    day(store, 0, **START)
    check(store, 0)
    day(store, 1, llama=105, qwen=120, deepseek=85, gemma=110)

    check(store, 1)

    assert [c for c, _, _ in messages(store)] == ["C1"]


# -- threads -----------------------------------------------------------------------------

T0 = datetime(2026, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("announced", "expected"),
    [
        ({}, None),  # never announced here
        ({("llama", "qwen"): (T0 - timedelta(days=3), "1.1")}, "1.1"),
        ({("llama", "qwen"): (T0 - timedelta(days=30), "1.1")}, "1.1"),  # 30 days: still
        ({("llama", "qwen"): (T0 - timedelta(days=31), "1.1")}, None),  # too long ago
    ],
)
def test_a_single_pair_is_threaded_only_if_announced_within_30_days(announced, expected):
    assert reply_thread([("qwen", "llama")], announced, T0) == expected


def test_several_pairs_go_in_the_thread_of_the_latest_announcement_only_if_all_were_announced():
    announced = {
        ("llama", "qwen"): (T0 - timedelta(days=9), "1.1"),
        ("deepseek", "gemma"): (T0 - timedelta(days=2), "2.2"),
    }

    both = reply_thread([("qwen", "llama"), ("gemma", "deepseek")], announced, T0)
    with_a_new_pair = reply_thread([("qwen", "llama"), ("gemma", "llama")], announced, T0)

    assert (both, with_a_new_pair) == ("2.2", None)


def delivered(store, slack, at: datetime):
    return deliver(
        store,
        make_web_client("xoxb-test", slack.api_url),
        render=tiny_png,
        clock=lambda: at,
        pause=lambda _s: None,
    )


def channel_view(slack, channel="C1"):
    """(text, thread_ts) of the channel's messages, as Slack's history lists them."""
    history = make_web_client("xoxb-test", slack.api_url).conversations_history(channel=channel)
    return [(m["text"], m.get("thread_ts")) for m in reversed(history["messages"])]


def thread_view(slack, ts, channel="C1"):
    replies = make_web_client("xoxb-test", slack.api_url).conversations_replies(
        channel=channel, ts=ts
    )
    return [m["text"] for m in replies["messages"]]


def test_a_pair_announced_again_goes_in_the_thread_of_its_first_announcement(store, slack):
    day(store, 0, **START)
    check(store, 0)
    day(store, 1, llama=105, qwen=120, deepseek=85, gemma=80)  # Qwen passes Llama
    check(store, 1)
    delivered(store, slack, DAY0 + timedelta(days=1, hours=1))
    day(store, 2, llama=130, qwen=125, deepseek=90, gemma=85)  # Llama passes back
    check(store, 2)
    delivered(store, slack, DAY0 + timedelta(days=2, hours=1))
    day(store, 3, llama=131, qwen=140, deepseek=91, gemma=86)  # and Qwen again
    check(store, 3)

    delivered(store, slack, DAY0 + timedelta(days=3, hours=1))

    first = "Qwen passed Llama in all-time downloads: 120 vs 105"
    [root] = slack.channel_messages["C1"]  # the channel holds the first message alone
    assert channel_view(slack) == [(first, root["ts"])]  # with its thread
    assert thread_view(slack, root["ts"]) == [
        first,
        "Llama passed Qwen in all-time downloads: 130 vs 125",
        "Qwen passed Llama in all-time downloads: 140 vs 131",
    ]
    assert root["reply_count"] == 2  # each reply named the thread's first message


def test_a_message_with_a_pair_new_to_the_channel_starts_afresh(store, slack):
    day(store, 0, **START)
    check(store, 0)
    day(store, 1, llama=105, qwen=120, deepseek=85, gemma=80)  # Qwen passes Llama
    check(store, 1)
    delivered(store, slack, DAY0 + timedelta(days=1, hours=1))
    day(store, 2, llama=130, qwen=125, deepseek=90, gemma=95)  # Llama back; Gemma new pair

    check(store, 2)
    delivered(store, slack, DAY0 + timedelta(days=2, hours=1))

    assert [text for text, _ in channel_view(slack)] == [
        "Qwen passed Llama in all-time downloads: 120 vs 105",
        "2 overtakes in the snapshot of 2026-01-03: "
        "Llama passed Qwen in all-time downloads: 130 vs 125; "
        "Gemma passed DeepSeek in all-time downloads: 95 vs 90",
    ]


def test_a_pair_last_announced_over_30_days_ago_starts_afresh(store, slack):
    day(store, 0, **START)
    check(store, 0)
    day(store, 1, llama=105, qwen=120, deepseek=85, gemma=80)
    check(store, 1)
    delivered(store, slack, DAY0 + timedelta(days=1, hours=1))
    day(store, 40, llama=130, qwen=125, deepseek=90, gemma=85)

    check(store, 40)
    delivered(store, slack, DAY0 + timedelta(days=40, hours=1))

    assert len(channel_view(slack)) == 2
    with store.reading() as db:
        [(at, thread)] = an.latest(db, "T1", "C1", [("llama", "qwen")]).values()
    assert thread == slack.channel_messages["C1"][1]["ts"]  # the new message starts a thread
    assert slack.replies == {}
    assert at == "2026-02-10T07:00:00Z"
