"""The App Home tab as built from the store: the leaderboard and its period, the nearest
overtake, collection health, and only the subscriptions of the user's own channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commands import blocks as bk
from commands.home_view import COMPARE_ACTION, FAMILY_ACTION, Membership, home_view, read_home
from openmodels.families import load_families
from openmodels.health import CollectionState, collection_health
from storage import home_visits
from storage import subscriptions as subs
from storage.jobs import JobRun
from storage.queries import Snapshot
from tests.builders import DAY0, growing_store, record, store_with

FAMILIES = load_families()
TEAM = "T0TEST"
NOW = DAY0 + timedelta(days=9, hours=2)  # two hours after the last snapshot
LAST = "2026-01-10T06:00:00Z"


@pytest.fixture
def store(new_store):
    return growing_store(new_store("home"))


def text_of(view: dict) -> str:
    parts = []
    for block in view["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e, dict)]
    return "\n".join(str(p) for p in parts)


NOBODYS = Membership()


def view_for(store, membership=NOBODYS, now=NOW) -> dict:
    return home_view(read_home(store, TEAM, now), FAMILIES, membership, now)


def subscribe(store, channel: str, kind: str = "digest", team: str = TEAM) -> None:
    with store.writing() as db:
        subs.subscribe(db, team, channel, kind, (), "2026-01-05T00:00:00Z")


def test_the_leaderboard_says_the_exact_period_of_its_change(store):
    view = view_for(store)

    text = text_of(view)
    assert "*Leaderboard* — all-time downloads, change this week" in text
    assert "1. *<https://huggingface.co/Qwen|Qwen>*" in text  # Qwen passed Llama on day 3
    assert bk.check_view_limits(view) == []


def test_a_change_over_another_span_names_it(new_store):
    short = growing_store(new_store("short"), days=4)

    text = text_of(view_for(short, now=DAY0 + timedelta(days=3)))

    assert "change since 1 Jan" in text and "this week" not in text


def test_the_nearest_overtake_is_the_soonest_projected_pass_and_its_pair_comes_first(new_store):
    # Day d: Llama 1,000,000 + 1,000d; Qwen 800,000 + 11,000d closes 10,000 a day and
    # passes in 11 days; DeepSeek 100,000 + 2,000d closes on Qwen far too slowly.
    store = store_with(
        new_store("closing"),
        [
            [
                record("meta-llama/a", "llama", 1_000_000 + 1_000 * d),
                record("Qwen/b", "qwen", 800_000 + 11_000 * d),
                record("deepseek-ai/c", "deepseek", 100_000 + 2_000 * d),
            ]
            for d in range(10)
        ],
    )

    view = view_for(store)

    assert "*Nearest overtake:* *Qwen* is on course to pass *Llama* around 2026-01-21" in (
        text_of(view)
    )
    [actions] = [b for b in view["blocks"] if b["type"] == "actions"]
    assert actions["elements"][1]["options"][0]["value"] == "compare llama qwen"


def test_no_projected_pass_says_why_as_the_forecast_does(new_store):
    text = text_of(view_for(growing_store(new_store("two"), days=2), now=DAY0))

    assert (
        "*Nearest overtake:* No family is on course to pass the one ahead of it within 180 "
        "days. Of the 2 neighbouring pairs, 2 lack the history. With a snapshot a day, the "
        "first forecast can come on 2026-01-05."
    ) in text


def test_the_menus_open_a_family_or_a_neighbouring_pair(store):
    view = view_for(store)

    [actions] = [b for b in view["blocks"] if b["type"] == "actions"]
    family, compare = actions["elements"]
    assert family["action_id"] == FAMILY_ACTION
    assert [o["value"] for o in family["options"]] == [
        "family qwen",
        "family llama",
        "family deepseek",
    ]
    assert compare["action_id"] == COMPARE_ACTION
    assert {o["value"] for o in compare["options"]} == {
        "compare qwen llama",
        "compare llama deepseek",
    }


def test_only_the_subscriptions_of_channels_the_user_is_in_are_listed(store):
    subscribe(store, "C0MINE")
    subscribe(store, "G0SECRET", "alerts")
    subscribe(store, "C0THEIRS", team="T0OTHER")

    mine = text_of(view_for(store, Membership(frozenset({"C0MINE"}))))
    member = text_of(view_for(store, Membership(frozenset({"C0MINE", "G0SECRET"}))))

    assert "<#C0MINE>: weekly digest" in mine
    assert "G0SECRET" not in mine  # a private channel, never shown to someone outside it
    assert "<#G0SECRET>: overtake alerts for every family" in member
    assert "C0THEIRS" not in member  # another workspace's


def test_when_slack_cannot_say_no_channel_is_listed(store):
    subscribe(store, "G0SECRET")

    text = text_of(view_for(store, Membership(error="missing_scope")))

    assert "G0SECRET" not in text
    assert "could not check which channels you are in (`missing_scope`)" in text


def test_a_failing_subscription_says_so(store):
    subscribe(store, "C0MINE", "alerts")
    with store.writing() as db:
        subs.mark_failing(db, TEAM, "C0MINE", "not_in_channel", "2026-01-08T06:00:00Z")

    text = text_of(view_for(store, Membership(frozenset({"C0MINE"}))))

    assert "delivery failing since 2026-01-08T06:00:00Z (`not_in_channel`)" in text


def test_a_user_in_150_subscribed_channels_gets_a_home_within_100_blocks(store):
    channels = [f"C{i:04d}" for i in range(150)]
    for channel in channels:
        subscribe(store, channel)

    view = view_for(store, Membership(frozenset(channels)))

    assert len(view["blocks"]) == bk.MAX_VIEW_BLOCKS
    assert bk.check_view_limits(view) == []
    assert "more blocks not shown" in text_of(view)
    assert view["blocks"][-1]["type"] == "context"  # the footer stays


def test_an_empty_store_says_the_leaderboard_comes_after_the_first_collection(new_store):

    view = view_for(new_store("empty"))

    assert "No snapshots yet" in text_of(view)
    assert bk.check_view_limits(view) == []


# -- collection health ---------------------------------------------------------------------


def snapshot(taken_at: str = LAST, source: str = "hub") -> Snapshot:
    return Snapshot(1, taken_at, source, 10)


def run(**fields: object) -> JobRun:
    values: dict = {"job": "collect", "last_started": LAST, "last_finished": LAST}
    values.update(last_ok=LAST, last_error=None)
    values.update(fields)
    return JobRun(**values)


NOW_UTC = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("latest", "job", "now", "state"),
    [
        (None, None, NOW_UTC, CollectionState.NEVER),
        (snapshot(source="sample"), None, NOW_UTC, CollectionState.SAMPLE),
        (snapshot(), run(), NOW_UTC, CollectionState.HEALTHY),
        (snapshot(), None, NOW_UTC, CollectionState.HEALTHY),  # collected by cron
        (
            snapshot(),
            run(lease_owner="host:1", lease_expires="2026-01-10T08:05:00Z"),
            NOW_UTC,
            CollectionState.RUNNING,
        ),
        (
            snapshot(),
            run(last_error="HubError: 503", failures=2, retry_at="2026-01-10T08:15:00Z"),
            NOW_UTC,
            CollectionState.RETRYING,
        ),
        (snapshot(), run(last_error="HubError: 503"), NOW_UTC, CollectionState.FAILING),
        (snapshot(), run(), NOW_UTC + timedelta(days=2), CollectionState.STALE),
    ],
)
def test_collection_health(latest, job, now, state):
    assert collection_health(latest, job, now).state is state


def test_the_tab_says_when_collection_is_retrying_without_server_paths(store):
    with store.writing() as db:
        db.execute(
            """INSERT INTO job_runs (job, last_started, last_error, slot, failures, retry_at)
               VALUES ('collect', ?, ?, ?, 2, ?)""",
            [LAST, "StoreError: cannot write /srv/openmodels.db", LAST, "2026-01-10T08:15:00Z"],
        )

    text = text_of(view_for(store))

    assert "Last snapshot: 2026-01-10 06:00:00 UTC (2 hours ago)" in text
    assert "The last collection failed (2 failed attempts" in text
    assert "next try 2026-01-10 08:15:00 UTC" in text
    assert "/srv" not in text


# -- who opened the tab ---------------------------------------------------------------------


def test_visits_keep_each_users_latest_and_are_forgotten_after_a_week(store):
    with store.writing() as db:
        home_visits.record(db, TEAM, "U0A", "D0A", "2026-01-01T00:00:00Z")
        home_visits.record(db, TEAM, "U0B", None, "2026-01-09T00:00:00Z")
        home_visits.record(db, TEAM, "U0A", None, "2026-01-08T00:00:00Z")
        forgotten = home_visits.forget_before(db, "2026-01-03T00:00:00Z")
        recent = home_visits.since(db, "2026-01-03T00:00:00Z")

    assert forgotten == 0  # U0A's visit moved to the 8th
    assert [(v.user_id, v.channel_id, v.opened_at) for v in recent] == [
        ("U0A", "D0A", "2026-01-08T00:00:00Z"),
        ("U0B", None, "2026-01-09T00:00:00Z"),
    ]
