"""When the Socket Mode client replaces a connection, on a clock the test moves.

Slack's servers often answer pings late (slackapi/bolt-js#2496). The promises:
- a pong up to 15 s late replaces nothing;
- a pong later than 20 s opens a new connection, and the old one is still read, and
  its envelopes acknowledged, until it closes or has been silent for 30 s;
- a connection that is really gone is replaced within 30 s of its last sign of life.

The client runs against the stand-in's real WebSocket, with its supervisor stepped by
hand (`tick`) on a fake clock; the stand-in holds each pong until the test releases it.
Nothing waits on wall-clock time but the network itself, and nothing times it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from bot.slack_client import make_web_client
from bot.socket_mode import (
    PING_INTERVAL,
    PONG_TIMEOUT,
    SILENT_LIMIT,
    Acknowledgement,
    SocketModeClient,
)
from localslack.server import LocalSlack
from localslack.socket_mode import LocalSocketMode
from tests.socket_helpers import APP_TOKEN, WAIT


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def until(condition: Callable[[], bool]) -> None:
    """Wait for something the network does (a frame to arrive), never for a duration."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "it never happened"
        time.sleep(0.01)


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as server:
        yield server


@pytest.fixture
def pongs_held(slack) -> threading.Event:
    """Slack answers every ping only once the test sets this."""
    gate = threading.Event()
    slack.socket_mode.pong_delay = lambda: gate
    return gate


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(slack, clock) -> Iterator[SocketModeClient]:
    client = SocketModeClient(
        APP_TOKEN,
        make_web_client(None, slack.api_url, timeout=10),
        lambda _request: Acknowledgement(),
        clock=clock,
    )
    client.connect(supervise=False)
    yield client
    client.close()


def step(client: SocketModeClient, clock: Clock, to: float) -> None:
    """Move the clock to `to` seconds after the start, looking as the supervisor does."""
    clock.now = 1000.0 + to
    client.tick()


def test_a_pong_15_seconds_late_replaces_nothing(slack, pongs_held, client, clock):
    socket: LocalSocketMode = slack.socket_mode
    [first] = socket.connections

    step(client, clock, PING_INTERVAL)  # the first ping
    until(lambda: first.app_pings == 1)
    step(client, clock, PING_INTERVAL + 15.0)
    pongs_held.set()  # the pong, 15 s late
    until(lambda: client.answered())
    step(client, clock, PING_INTERVAL + 15.25)

    assert client.opened == 1 and socket.connections == [first] and first.open
    until(lambda: first.app_pings == 2)  # and the pings go on


def test_a_pong_20_seconds_late_opens_a_new_connection_and_the_old_is_still_read(
    slack, pongs_held, client, clock
):
    socket: LocalSocketMode = slack.socket_mode
    [first] = socket.connections
    step(client, clock, PING_INTERVAL)
    until(lambda: first.app_pings == 1)

    step(client, clock, PING_INTERVAL + PONG_TIMEOUT)
    assert client.opened == 1  # 20 s: not yet
    step(client, clock, PING_INTERVAL + PONG_TIMEOUT + 0.25)
    second = socket.wait_for_connection(newer_than=first)
    late = socket.slash_command("top", "http://127.0.0.1:9/response", to=first)

    assert client.opened == 2
    assert socket.wait_acked(late) and late.ack is not None and late.ack.connection == first.id
    assert first.open and second.open


def test_a_replaced_connection_is_let_go_once_silent_for_30_seconds(
    slack, pongs_held, client, clock
):
    socket: LocalSocketMode = slack.socket_mode
    [first] = socket.connections
    step(client, clock, PING_INTERVAL)
    replaced_at = PING_INTERVAL + PONG_TIMEOUT + 0.25
    step(client, clock, replaced_at)
    socket.wait_for_connection(newer_than=first)
    spoke = socket.slash_command("top", "http://127.0.0.1:9/response", to=first)
    assert socket.wait_acked(spoke)  # it spoke at `replaced_at`, on the test's clock

    step(client, clock, replaced_at + SILENT_LIMIT)
    assert first.open
    step(client, clock, replaced_at + SILENT_LIMIT + 0.25)

    assert socket.wait_for(lambda: not first.open, WAIT) and first.closed_by == "app"


def test_a_connection_gone_silent_is_replaced_within_30_seconds_of_its_last_sign_of_life(
    slack, client, clock
):
    socket: LocalSocketMode = slack.socket_mode
    [first] = socket.connections
    step(client, clock, PING_INTERVAL)  # answered at once: its last sign of life
    until(lambda: client.answered())
    socket.black_hole(first)

    at = PING_INTERVAL
    while client.opened == 1:
        at += 0.25  # the supervisor's pace
        step(client, clock, at)
        assert at - PING_INTERVAL <= 30.0, "not replaced within 30 s"

    assert socket.wait_for_connection(newer_than=first)
