"""App Home tabs refreshed within Slack's limits, on a clock the test moves.

users.conversations is Tier 3 (about 50 calls a minute): the refresh after a snapshot
asks at most 40 a minute, keeps what Slack said for a while, and lets a visitor who
opens their tab go first. The refresh's waits are steps; the test moves the clock by
each, so a minute of pacing takes no time at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.home import publish_home, refresh_home_tabs
from bot.home_pace import CallPace, HomePace
from bot.posting import Lanes
from bot.slack_client import make_web_client
from commands import AnswerContext
from localslack.server import LocalSlack
from openmodels.families import load_families
from storage import home_visits
from storage import subscriptions as subs
from tests.builders import growing_store
from tests.slack_helpers import CHANNEL, TEAM
from tests.timers import FakeTimer, Inline

NOW = datetime(2026, 1, 10, 7, 0, tzinfo=UTC)
VISITORS = [f"U{n:04d}" for n in range(100)]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Recorded:
    """A WebClient that notes, on the test's clock, when it asked users.conversations."""

    def __init__(self, client: Any, clock: Clock) -> None:
        self._client, self._clock = client, clock
        self.asked: list[tuple[float, str]] = []

    def users_conversations(self, **kwargs: Any) -> Any:
        self.asked.append((self._clock.now, kwargs["user"]))
        return self._client.users_conversations(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def run(steps: Any, clock: Clock) -> Any:
    """Run the refresh's steps, moving the clock by each wait instead of waiting."""
    while True:
        try:
            clock.now += next(steps)
        except StopIteration as done:
            return done.value


@pytest.fixture
def store(tmp_path):
    store = growing_store(tmp_path / "home.db")
    with store.writing() as db:
        subs.subscribe(db, TEAM, CHANNEL, "digest", (), "2026-01-05T00:00:00Z")
        for user in VISITORS:
            home_visits.record(db, TEAM, user, None, "2026-01-09T07:00:00Z")
    return store


@pytest.fixture
def slack():
    with LocalSlack(channel_members={CHANNEL: set(VISITORS)}) as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(slack, clock) -> Recorded:
    return Recorded(make_web_client("xoxb-1-test", slack.api_url, wait_out_429=False), clock)


def context(store) -> AnswerContext:
    return AnswerContext(store=store, families=load_families(), now=lambda: NOW)


def most_in_a_minute(moments: list[float]) -> int:
    return max(sum(1 for m in moments if start <= m < start + 60) for start in moments)


def test_a_hundred_tabs_are_refreshed_at_most_40_calls_a_minute(store, slack, client, clock):
    pace = HomePace(clock=clock)

    refreshed = run(refresh_home_tabs(client, context(store), NOW, pace), clock)

    assert refreshed == 100 and len(slack.home_views) == 100
    moments = [at for at, _ in client.asked]
    assert len(moments) == 100 and most_in_a_minute(moments) <= 40
    assert clock.now == pytest.approx(99 * 1.5)  # evenly: one call every 1.5 s


def test_membership_is_kept_for_a_while_and_asked_again_after(store, client, clock):
    pace = HomePace(clock=clock)
    run(refresh_home_tabs(client, context(store), NOW, pace), clock)
    asked = len(client.asked)

    run(refresh_home_tabs(client, context(store), NOW, pace), clock)  # minutes later
    assert len(client.asked) == asked  # nothing asked: Slack said so lately
    clock.now += 601
    run(refresh_home_tabs(client, context(store), NOW, pace), clock)

    assert len(client.asked) == 2 * asked


def test_a_visitor_who_opens_the_tab_during_a_refresh_goes_first_and_once(
    store, slack, client, clock
):
    pace = HomePace(clock=clock)
    steps = refresh_home_tabs(client, context(store), NOW, pace)
    for _ in range(10):  # ten visitors into the refresh
        clock.now += next(steps)
    late, opened_at = VISITORS[-1], clock.now

    published = publish_home(client, context(store), TEAM, late, None, NOW, pace=pace)  # type: ignore[arg-type]
    pace.memberships.opened(TEAM, late)
    run(steps, clock)

    assert published and (opened_at, late) in client.asked  # asked at once, no wait
    assert [user for _, user in client.asked].count(late) == 1
    publishes = [c.params["user_id"] for c in slack.calls_to("views.publish")]
    assert publishes.count(late) == 1 and len(publishes) == 100


def test_a_call_a_person_waits_for_is_made_at_once_and_the_pace_goes_on_behind_it():
    clock = Clock()
    pace = CallPace(per_minute=40, clock=clock)

    assert pace.wait() == 0.0
    assert pace.now() == 0.0  # a person opened their tab: no wait for them
    assert pace.wait() == pytest.approx(3.0)  # the refresh's next call waits its turn


def test_a_refresh_under_way_when_the_bot_stops_makes_no_more_calls(store, client, clock):
    timer = FakeTimer()
    lanes = Lanes(timer, Inline())
    pace = HomePace(clock=lambda: timer.clock)
    lanes.lane().run(lambda: refresh_home_tabs(client, context(store), NOW, pace))
    for _ in range(9):  # ten visitors into the refresh
        timer.advance(1.5)
    asked = len(client.asked)

    lanes.close()

    assert asked == 10 and len(client.asked) == asked  # the other 90 not asked at once


OTHER, OTHER_CHANNEL = "T0OTHER", "C0OTHER"
OTHERS = [f"W{n:04d}" for n in range(40)]


class Teams:
    """TeamClients as InstalledWorkspaces is: each workspace's client, asked for by
    team; notes every call on the test's clock."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients
        self.asked_for: list[str] = []

    def client_for(self, team_id: str) -> Any:
        self.asked_for.append(team_id)
        return self.clients.get(team_id)


def test_each_workspace_keeps_its_own_pace(store, slack, client, clock):
    other = slack.add_workspace(OTHER, "Other", members=set(OTHERS), channels={OTHER_CHANNEL})
    other.installed = True
    token = slack.workspaces.issue(OTHER, frozenset({"channels:read", "groups:read"}), None)
    with store.writing() as db:
        subs.subscribe(db, OTHER, OTHER_CHANNEL, "digest", (), "2026-01-05T00:00:00Z")
        for user in OTHERS:
            home_visits.record(db, OTHER, user, None, "2026-01-09T07:00:00Z")
    others = Recorded(make_web_client(token, slack.api_url, wait_out_429=False), clock)
    teams = Teams({TEAM: client, OTHER: others})

    refreshed = run(refresh_home_tabs(teams, context(store), NOW, HomePace(clock=clock)), clock)

    assert refreshed == 140
    for asked in (client.asked, others.asked):
        assert most_in_a_minute([at for at, _ in asked]) <= 40  # Tier 3 is per workspace
    assert [at for at, _ in others.asked][:3] == [0.0, 1.5, 3.0]  # not behind the other's
    assert clock.now == pytest.approx(99 * 1.5)  # the longer of the two, not their sum


def test_a_refresh_longer_than_a_tokens_life_uses_each_new_token(store, tmp_path):
    # Token rotation: a token lives 12 hours and is refreshed once it expires within two
    # (Bolt's window). A refresh of 100 visitors at one call every two minutes takes over
    # three hours: the token the refresh began with expires under it.
    clock = Clock()
    with LocalSlack(channel_members={CHANNEL: set(VISITORS)}, clock=clock) as slack:
        workspace = slack.add_workspace(TEAM, "Test", members=set(VISITORS), channels={CHANNEL})
        workspace.installed = True
        tokens: list[str] = []

        class Rotating:
            def client_for(self, team_id: str) -> Any:
                expires = 0.0 if not tokens else float(tokens[-1].split("|")[1])
                if clock.now >= expires - 120 * 60:
                    lifetime = 121 * 60 if not tokens else 12 * 3600
                    new = slack.workspaces.issue(
                        TEAM, frozenset({"channels:read", "groups:read"}), lifetime
                    )
                    tokens.append(f"{new}|{clock.now + lifetime}")
                token = tokens[-1].split("|")[0]
                return make_web_client(token, slack.api_url, wait_out_429=False)

        pace = HomePace(per_minute=0.5, clock=clock)
        refreshed = run(refresh_home_tabs(Rotating(), context(store), NOW, pace), clock)

        assert clock.now > 121 * 60  # outlived the first token
        assert refreshed == 100
        serials = {c.token_serial for c in slack.calls_to("views.publish")}
        assert serials == {1, 2}
