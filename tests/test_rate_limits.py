"""Slack's 429s, one workspace at a time: a workspace over its rate limit waits for its
Retry-After on the lanes' timer, holding none of the posting threads every workspace
shares, and its post is made once, after the wait.

Slack applies its limits "per API method per workspace/team per app"
(docs.slack.dev/apis/web-api/rate-limits); the local Slack answers one workspace's calls
with 429 and Retry-After while the others' are answered as usual. The lanes' timer is a
fake the test moves, so a 30 s Retry-After takes no time; events say when posts land.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.conversations import answer_message
from bot.handlers import BotServices
from bot.posting import Lanes
from bot.slack_client import lane_client, make_web_client, paced
from commands import AnswerContext
from localslack.server import LocalSlack
from localslack.workspaces import BOT_USER_ID, CHANNEL_ID, TEAM_ID, USER_ID
from openmodels.families import load_families
from tests.builders import growing_store
from tests.slack_helpers import tiny_png
from tests.timers import FakeTimer

BUSY, QUIET = TEAM_ID, "T0QUIET"  # the busy workspace is the stand-in's own
QUIET_CHANNEL, QUIET_USER = "C0QUIET", "U0QUIET"
SCOPES = frozenset({"chat:write", "app_mentions:read", "channels:read", "users:read"})


@pytest.fixture
def slack():
    with LocalSlack() as server:
        quiet = server.add_workspace(QUIET, "Quiet", members={QUIET_USER}, channels={QUIET_CHANNEL})
        quiet.installed = True  # as if installed through the OAuth flow
        yield server


def mention(team: str, channel: str, user: str, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    event = {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@{BOT_USER_ID}> help",
        "ts": f"170000000{n}.000100",
    }
    return {"event_id": f"Ev{team}{n}", "team_id": team, "event": event}, event


def messages_in(slack: LocalSlack, channel: str) -> list[dict[str, Any]]:
    return [
        c.params
        for c in slack.calls_to("chat.postMessage")
        if c.status == 200 and c.params.get("channel") == channel
    ]


@pytest.fixture
def timer() -> FakeTimer:
    return FakeTimer()


@pytest.fixture
def services(tmp_path, timer):
    # One posting thread: a thread asleep for the busy workspace's Retry-After would hold
    # up every other answer.
    services = BotServices(
        context=AnswerContext(store=growing_store(tmp_path / "s.db"), families=load_families()),
        render=tiny_png,
        posting=Lanes(timer, ThreadPoolExecutor(1)),
    )
    yield services
    services.close()


def test_one_workspaces_429_holds_up_no_other_workspaces_answer(slack, services, timer):
    slack.rate_limit("chat.postMessage", BUSY, retry_after=30)
    # What Bolt hands each listener: a client with the app's retry handlers, which
    # sleep for a 429's Retry-After.
    busy = make_web_client("xoxb-busy", slack.api_url)
    quiet = make_web_client(slack.workspaces.issue(QUIET, SCOPES, None), slack.api_url)

    answer_message(services, *mention(BUSY, CHANNEL_ID, USER_ID, 1), busy, BOT_USER_ID)
    answer_message(services, *mention(QUIET, QUIET_CHANNEL, QUIET_USER, 2), quiet, BOT_USER_ID)

    # The quiet workspace is answered while the busy one waits out its 30 s (not passed).
    assert slack.wait_for(lambda: len(messages_in(slack, QUIET_CHANNEL)) == 1)
    assert messages_in(slack, CHANNEL_ID) == []
    limited = [c for c in slack.calls_to("chat.postMessage") if c.status == 429]
    assert [c.team for c in limited] == [BUSY]
    assert [s.when for s in timer.scheduled] == [30.0]  # a wait on the timer, no sleep

    timer.advance(30)

    assert slack.wait_for(lambda: len(messages_in(slack, CHANNEL_ID)) == 1)
    services.posting.close()  # every post finished
    assert len(messages_in(slack, CHANNEL_ID)) == 1  # made once, after the wait


def test_a_call_rate_limited_again_and_again_gives_up_with_slacks_error(slack):
    slack.rate_limit("chat.postMessage", BUSY, retry_after=7, times=10)
    client = lane_client(make_web_client("xoxb-busy", slack.api_url))
    steps = paced(lambda: client.chat_postMessage(channel=CHANNEL_ID, text="hi"))

    waits = [next(steps) for _ in range(3)]
    with pytest.raises(Exception, match="ratelimited"):
        next(steps)

    assert waits == [7.0, 7.0, 7.0]
    assert len(slack.calls_to("chat.postMessage")) == 4


def test_a_lane_client_is_the_same_client_without_the_sleeping_retry_handler(slack):
    client = make_web_client("xoxb-busy", slack.api_url, timeout=12)

    copy = lane_client(client)

    assert any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers)
    assert not any(isinstance(h, RateLimitErrorRetryHandler) for h in copy.retry_handlers)
    assert (copy.token, copy.base_url, copy.timeout) == ("xoxb-busy", slack.api_url, 12)
    assert lane_client(copy) is copy
