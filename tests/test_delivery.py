"""Delivering the outbox to a local Slack: once each, a failing channel apart."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from bot.outbox_sender import deliver, item_key
from bot.slack_client import make_web_client
from openmodels.charts import render_chart
from storage import outbox as ob
from storage import subscriptions as subs
from storage.outbox import MAX_ATTEMPTS
from tests.conftest import record_sleeps

NOW = "2026-01-05T06:00:00Z"


@pytest.fixture
def no_retry_wait(monkeypatch):
    """slack_sdk's 429 handler sleeps Retry-After (+ up to 1 s); record instead."""
    from slack_sdk.http_retry import builtin_handlers

    return record_sleeps(monkeypatch, builtin_handlers)


@pytest.fixture
def store(new_store):
    store = new_store("s")
    with store.writing() as db:
        for channel in ("C1", "C2"):
            subs.subscribe(db, "T1", channel, "alerts", (), NOW)
    return store


def alert(store, channel: str, event: str, text: str = "Qwen passed Llama") -> None:
    with store.writing() as db:
        ob.enqueue(db, "T1", channel, "alert", event, {"text": text, "blocks": []}, NOW)


LATER = datetime(2026, 1, 5, 6, 1, tzinfo=UTC)


def no_pause(_seconds: float) -> None:
    pass


def run(store, slack, pauses=None):
    return deliver(
        store,
        make_web_client("xoxb-test", slack.api_url),
        render=render_chart,
        clock=lambda: LATER,
        pause=(pauses.append if pauses is not None else no_pause),
    )


def posted(slack, channel):
    return [m["text"] for m in slack.channel_messages.get(channel, []) if "text" in m]


def statuses(store):
    with store.reading() as db:
        return {(i.channel_id, i.event): i.status for i in ob.all_items(db)}


def test_each_item_is_posted_once_and_recorded(store, slack):
    alert(store, "C1", "e1")
    alert(store, "C2", "e1")
    report = run(store, slack)
    assert len(report.sent) == 2
    assert posted(slack, "C1") == posted(slack, "C2") == ["Qwen passed Llama"]
    assert set(statuses(store).values()) == {"sent"}
    run(store, slack)
    assert posted(slack, "C1") == ["Qwen passed Llama"]  # nothing twice


def test_posts_to_one_channel_are_spaced_a_second_apart(store, slack):
    for event in ("e1", "e2", "e3"):
        alert(store, "C1", event)
    pauses: list[float] = []
    run(store, slack, pauses)
    assert pauses == [1.0, 1.0]


def test_a_rate_limited_post_is_retried_after_retry_after_and_posted_once(
    store, slack, no_retry_wait
):
    slack.fail("chat.postMessage", "ratelimited", retry_after=2)
    alert(store, "C1", "e1")
    report = run(store, slack)
    assert report.sent and posted(slack, "C1") == ["Qwen passed Llama"]
    assert [round(s) for s in no_retry_wait] in ([2], [3])  # Retry-After plus jitter
    assert len(slack.calls_to("chat.postMessage")) == 2


@pytest.mark.parametrize("error", ["is_archived", "channel_not_found", "not_in_channel"])
def test_a_refused_channel_is_marked_failing_and_not_retried(store, slack, error):
    slack.fail("chat.postMessage", error)
    alert(store, "C1", "e1")
    alert(store, "C1", "e2")
    alert(store, "C2", "e1")
    report = run(store, slack)
    assert report.failing_channels == ["C1"]
    assert posted(slack, "C2") == ["Qwen passed Llama"]  # the other channel is not held up
    assert statuses(store)[("C1", "e1")] == statuses(store)[("C1", "e2")] == "failed"
    with store.reading() as db:
        assert subs.get(db, "T1", "C1", "alerts").failure == error
        assert subs.of_kind(db, "alerts") == [subs.get(db, "T1", "C2", "alerts")]
    calls = len(slack.calls_to("chat.postMessage"))
    run(store, slack)
    assert len(slack.calls_to("chat.postMessage")) == calls


def test_a_transient_error_leaves_the_item_pending_for_the_next_run(store, slack):
    slack.fail("chat.postMessage", "internal_error", status=500)
    alert(store, "C1", "e1")
    assert run(store, slack).retry
    assert statuses(store)[("C1", "e1")] == "pending"
    assert run(store, slack).sent
    assert posted(slack, "C1") == ["Qwen passed Llama"]


def test_a_post_whose_answer_never_came_is_looked_for_before_it_is_posted_again(store, slack):
    # Slack takes the message but its answer comes after the client has given up (a read
    # timeout): the deliverer cannot know whether the post went through.
    answered = threading.Event()
    slack.fail("chat.postMessage", "unused", when=lambda _params: answered.wait(10) and False)
    alert(store, "C1", "e1")
    impatient = WebClient(token="xoxb-test", base_url=slack.api_url, timeout=1)

    first = deliver(store, impatient, render=render_chart, clock=lambda: LATER, pause=no_pause)
    answered.set()
    assert slack.wait_for(lambda: posted(slack, "C1") == ["Qwen passed Llama"])
    second = run(store, slack)

    assert first.retry == [1]
    assert posted(slack, "C1") == ["Qwen passed Llama"]  # posted once
    assert second.recovered == [1]
    assert statuses(store)[("C1", "e1")] == "sent"


def crashed_claim(store, item_id: int = 1, until: str = NOW):
    """A claim by a deliverer that died right after committing it (expired at `until`)."""
    with store.writing() as db:
        ob.claim(db, item_id, "host:999:dead", NOW, until)
        return ob.get(db, item_id)


def test_an_item_interrupted_before_its_post_is_posted_once(store, slack):
    alert(store, "C1", "e1")
    crashed_claim(store)  # the crash came right after this commit
    run(store, slack)
    assert posted(slack, "C1") == ["Qwen passed Llama"]


def test_an_item_interrupted_after_slack_accepted_it_is_not_posted_again(store, slack):
    alert(store, "C1", "e1")
    item = crashed_claim(store)
    # The post reached Slack, then the process died before recording it.
    make_web_client("xoxb-test", slack.api_url).chat_postMessage(
        channel="C1",
        text="Qwen passed Llama",
        metadata={"event_type": "openmodels_delivery", "event_payload": {"key": item_key(item)}},
    )
    report = run(store, slack)
    assert report.recovered == [1]
    assert posted(slack, "C1") == ["Qwen passed Llama"]
    assert statuses(store)[("C1", "e1")] == "sent"


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_slack_refusing_the_app_stops_the_run_and_spends_no_item_attempt(store, slack, error):
    # A revoked token is the app's problem, not the item's: every run until it is fixed
    # must not count against the item's attempts, or its alerts would fail for good.
    alert(store, "C1", "e1")
    for _ in range(MAX_ATTEMPTS + 2):
        slack.fail("chat.postMessage", error)
        report = run(store, slack)
        assert report.stopped == error
    with store.reading() as db:
        [item] = ob.all_items(db)
    assert item.status == "pending" and item.attempts == 0 and item.last_error == error

    assert run(store, slack).sent == [1]  # the token fixed: delivered
    assert posted(slack, "C1") == ["Qwen passed Llama"]


def test_slack_unreachable_for_many_runs_loses_nothing(store, slack):
    # Hourly runs through a long outage (here: nothing listens at Slack's address) must
    # not use up the items' attempts, or they would fail for good before Slack is back.
    alert(store, "C1", "e1")
    alert(store, "C2", "e1")
    down = make_web_client("xoxb-test", "http://127.0.0.1:9/api/")
    for _ in range(MAX_ATTEMPTS + 2):
        report = deliver(store, down, render=render_chart, clock=lambda: LATER, pause=no_pause)
        assert report.unreachable and report.retry == [1]  # the run stops at the first
    with store.reading() as db:
        assert [(i.status, i.attempts) for i in ob.all_items(db)] == [
            ("sending", 0),  # looked for before it is posted: a timeout may have posted it
            ("pending", 0),
        ]

    assert sorted(run(store, slack).sent) == [1, 2]
    assert posted(slack, "C1") == posted(slack, "C2") == ["Qwen passed Llama"]


class PerWorkspace:
    """A client per workspace, as installs through OAuth give them (None: no token left)."""

    def __init__(self, clients: dict[str, WebClient | None]) -> None:
        self.clients = clients
        self.asked: list[str] = []

    def client_for(self, team_id: str) -> WebClient | None:
        self.asked.append(team_id)
        return self.clients.get(team_id)


def test_a_workspace_whose_token_slack_refuses_stops_alone(store):
    from localslack.server import LocalSlack

    for team in ("T1", "T2", "T3"):
        with store.writing() as db:
            ob.enqueue(db, team, f"C{team}", "alert", "e1", {"text": team, "blocks": []}, NOW)
    # A strict stand-in refuses a token it never issued, as Slack does (invalid_auth).
    with LocalSlack(strict_tokens=True) as slack:
        clients = PerWorkspace(
            {
                "T1": make_web_client("xoxb-never-issued", slack.api_url),
                "T2": make_web_client(
                    slack.workspaces.issue("T0LOCAL", frozenset(), None), slack.api_url
                ),
                "T3": None,  # uninstalled
            }
        )

        report = deliver(store, clients, render=render_chart, clock=lambda: LATER, pause=no_pause)

        assert report.stopped_teams == {"T1": "invalid_auth"} and report.skipped_teams == ["T3"]
        assert report.sent == [2]
        assert [m["text"] for m in slack.channel_messages["CT2"]] == ["T2"]
    with store.reading() as db:
        left = {i.team_id: (i.status, i.attempts) for i in ob.all_items(db) if i.team_id != "T2"}
    # Refused for now: kept for the next run. No token left at all: dropped, no attempt spent.
    assert left == {"T1": ("pending", 0), "T3": ("failed", 0)}
