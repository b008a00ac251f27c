"""The stand-in's Socket Mode endpoint (localslack.socket_mode) behaves as Slack documents.

A plain `websockets` client plays the app here, so each test sees exactly what Slack
writes on the socket. Where a test waits on Slack's side of the clock (an ack deadline,
Slack's pings) it shortens that clock; the app-facing tests use Slack's own timing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from localslack.payloads import app_home_opened, app_mention, block_actions_payload, message_im
from localslack.server import LocalSlack
from localslack.socket_mode import MAX_CONNECTIONS, LocalSocketMode

APP_TOKEN = "xapp-1-A0LOCAL-1-test"
WAIT = 10.0


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as running:
        yield running


@contextmanager
def app_connection(slack: LocalSlack) -> Iterator[ClientConnection]:
    """A connection as an app opens one: apps.connections.open, then the WebSocket."""
    url = WebClient(base_url=slack.api_url).apps_connections_open(app_token=APP_TOKEN)["url"]
    # Slack leaves TCP open after the close handshake: a short wait for it on the way out.
    with connect(url, ping_interval=None, close_timeout=0.1, open_timeout=WAIT) as ws:
        yield ws


def receive(ws: ClientConnection, timeout: float = WAIT) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def ack(ws: ClientConnection, message: dict, **payload: object) -> None:
    ws.send(
        json.dumps(
            {"envelope_id": message["envelope_id"], **({"payload": payload} if payload else {})}
        )
    )


# -- apps.connections.open and hello --------------------------------------------------------


def test_apps_connections_open_gives_a_websocket_url_on_loopback_for_an_app_token(slack):
    url = WebClient(base_url=slack.api_url).apps_connections_open(app_token=APP_TOKEN)["url"]

    assert url.startswith("ws://127.0.0.1:") and "/link/?ticket=" in url


@pytest.mark.parametrize(
    ("method", "token"),
    [("apps.connections.open", "xoxb-1-bot"), ("chat.postMessage", APP_TOKEN)],
)
def test_each_token_kind_opens_only_its_own_methods(slack, method, token):
    client = WebClient(token=token, base_url=slack.api_url)

    with pytest.raises(SlackApiError) as refused:
        client.api_call(method, params={"channel": "C1", "text": "hi"})

    assert refused.value.response["error"] == "not_allowed_token_type"


def test_slack_says_hello_first_and_counts_the_connections(slack):
    with app_connection(slack) as first, app_connection(slack) as second:
        hello, second_hello = receive(first), receive(second)

    assert hello["type"] == "hello"
    assert hello["connection_info"] == {"app_id": "A0LOCAL"}
    assert "approximate_connection_time" in hello["debug_info"]
    assert (hello["num_connections"], second_hello["num_connections"]) == (1, 2)


def test_an_eleventh_connection_is_turned_away_with_too_many_websockets(slack):
    opened = [app_connection(slack) for _ in range(MAX_CONNECTIONS + 1)]
    sockets = [c.__enter__() for c in opened]
    try:
        messages = [receive(ws) for ws in sockets]
    finally:
        for c in reversed(opened):
            c.__exit__(None, None, None)

    assert [m["type"] for m in messages] == ["hello"] * MAX_CONNECTIONS + ["disconnect"]
    assert messages[-1]["reason"] == "too_many_websockets"


def test_a_url_slack_did_not_hand_out_is_refused(slack):
    issued = urlsplit(slack.socket_mode.open_url())
    forged = issued._replace(query="ticket=forged&app_id=A0LOCAL").geturl()

    with pytest.raises(InvalidStatus) as refused:
        connect(forged, open_timeout=WAIT).close()

    assert refused.value.response.status_code == 401


# -- envelopes ------------------------------------------------------------------------------


def test_a_slash_command_envelope_has_slacks_shape_and_is_acknowledged(slack):
    socket = slack.socket_mode
    with app_connection(slack) as ws:
        receive(ws)  # hello
        envelope = socket.slash_command("top", "http://127.0.0.1:9/r")
        message = receive(ws)
        ack(ws, message, text="Working on it")

        assert socket.wait_acked(envelope, WAIT)

    assert sorted(message) == ["accepts_response_payload", "envelope_id", "payload", "type"]
    assert (message["type"], message["accepts_response_payload"]) == ("slash_commands", True)
    assert message["payload"]["command"] == "/openmodels" and message["payload"]["text"] == "top"
    [received] = socket.acks
    assert received.payload == {"text": "Working on it"}
    assert received.connection == socket.connections[0].id


def test_a_button_click_arrives_as_an_interactive_block_actions_envelope(slack):
    socket = slack.socket_mode
    with app_connection(slack) as ws:
        receive(ws)
        socket.interactive(block_actions_payload("share_in_channel", "top 2", "http://x/r"))
        message = receive(ws)

    assert message["type"] == "interactive"
    assert message["payload"]["type"] == "block_actions"
    assert message["payload"]["actions"][0]["value"] == "top 2"


@pytest.mark.parametrize(
    "event", [app_home_opened(), app_mention("<@U0BOT> top"), message_im("top")]
)
def test_events_arrive_in_an_event_callback_with_retry_fields(slack, event):
    socket = slack.socket_mode
    with app_connection(slack) as ws:
        receive(ws)
        socket.event(event)
        message = receive(ws)

    assert message["type"] == "events_api" and message["accepts_response_payload"] is False
    assert (message["retry_attempt"], message["retry_reason"]) == (0, "")
    assert message["payload"]["type"] == "event_callback"
    assert message["payload"]["event"] == event
    assert message["payload"]["event_id"].startswith("Ev")


def test_a_retry_sent_on_demand_has_the_shape_of_slacks_own(slack):
    socket = slack.socket_mode
    with app_connection(slack) as ws:
        receive(ws)
        socket.event(message_im("top"), event_id="Ev1", retry_attempt=2)
        message = receive(ws)

    assert (message["retry_attempt"], message["retry_reason"]) == (2, "timeout")
    assert message["payload"]["event_id"] == "Ev1"


def test_each_envelope_goes_to_one_of_the_open_connections(slack):
    socket = slack.socket_mode
    with app_connection(slack) as first, app_connection(slack) as second:
        receive(first), receive(second)

        sent = [socket.slash_command(f"top {i}", "http://x/r") for i in range(20)]
        got: dict[str, list[str]] = {"first": [], "second": []}
        for name, ws in (("first", first), ("second", second)):
            while len(got["first"]) + len(got["second"]) < 20:
                try:
                    got[name].append(receive(ws, timeout=0.5)["envelope_id"])
                except TimeoutError:
                    break

    assert sorted(got["first"] + got["second"]) == sorted(e.envelope_id for e in sent)
    assert got["first"] and got["second"]  # both used; neither got an envelope twice


def test_an_acknowledgement_counts_whichever_connection_it_comes_on(slack):
    socket = slack.socket_mode
    with app_connection(slack) as first, app_connection(slack) as second:
        receive(first), receive(second)
        envelope = socket.slash_command("top", "http://x/r", to=socket.connections[0])
        ack(second, receive(first))

        assert socket.wait_acked(envelope, WAIT)


# -- what Slack does with an envelope nobody acknowledges ----------------------------------


def quick_socket(slack: LocalSlack, **timing: float) -> LocalSocketMode:
    """The endpoint with Slack's side of the clock shortened (this test waits on it)."""
    socket = slack.socket_mode
    for name, value in timing.items():
        setattr(socket, name, value)
    return socket


def test_a_slash_command_nobody_acknowledges_fails_with_dispatch_failed(slack):
    socket = quick_socket(slack, ack_timeout=0.3)
    with app_connection(slack) as ws:
        receive(ws)
        envelope = socket.slash_command("top", "http://x/r")
        receive(ws)  # read, never acknowledged

        assert not socket.wait_acked(envelope, WAIT)

    assert envelope.failure == "dispatch_failed"
    assert envelope.retry is None  # slash commands are not retried


def test_a_slash_command_with_no_connection_open_fails_at_once(slack):
    envelope = slack.socket_mode.slash_command("top", "http://x/r")

    assert (envelope.connection, envelope.failure) == (None, "dispatch_failed")


def test_an_event_nobody_acknowledges_is_retried_as_a_new_envelope(slack):
    socket = quick_socket(slack, ack_timeout=0.3)
    with app_connection(slack) as ws:
        receive(ws)
        envelope = socket.event(app_mention("<@U0BOT> top"))
        first = receive(ws)  # not acknowledged
        retried = receive(ws)
        ack(ws, retried)

        assert socket.wait_acked(envelope, WAIT)

    assert retried["envelope_id"] != first["envelope_id"]
    assert (retried["retry_attempt"], retried["retry_reason"]) == (1, "timeout")
    assert retried["payload"]["event_id"] == first["payload"]["event_id"]
    assert envelope.retry is not None and envelope.retry.acked


def test_an_acknowledgement_after_three_seconds_is_too_late(slack):
    socket = quick_socket(slack, ack_timeout=0.3)
    with app_connection(slack) as ws:
        receive(ws)
        envelope = socket.slash_command("top", "http://x/r")
        message = receive(ws)
        socket.wait_for(lambda: envelope.failure is not None, WAIT)
        ack(ws, message)
        socket.wait_for(lambda: envelope.ack is not None, WAIT)

    assert envelope.failure == "dispatch_failed" and not envelope.acked


# -- Slack's disconnects, and the network's faults ---------------------------------------------


def test_refresh_requested_is_sent_then_the_connection_dropped_without_a_close_frame(slack):
    socket = slack.socket_mode
    with app_connection(slack) as ws:
        receive(ws)
        socket.disconnect(socket.connections[0], "refresh_requested", close_after=0.2)
        message = receive(ws)

        with pytest.raises(ConnectionClosedError) as closed:
            receive(ws)

    assert message == {
        "type": "disconnect",
        "reason": "refresh_requested",
        "debug_info": {"host": "applink-local"},
    }
    assert closed.value.rcvd is None  # no close frame
    assert socket.connections[0].closed_by == "slack"


def test_until_slack_drops_a_refreshed_connection_it_may_still_deliver_to_it(slack):
    socket = slack.socket_mode
    with app_connection(slack) as ws:
        receive(ws)
        connection = socket.connections[0]
        socket.disconnect(connection, close_after=WAIT)
        receive(ws)  # the disconnect message

        socket.slash_command("top", "http://x/r")

        assert receive(ws)["type"] == "slash_commands"


@pytest.mark.parametrize("reset", [False, True])
def test_a_cut_connection_closes_with_no_close_frame(slack, reset):
    socket = slack.socket_mode
    with app_connection(slack) as ws:
        receive(ws)
        socket.cut(socket.connections[0], reset=reset)

        with pytest.raises(ConnectionClosedError) as closed:
            receive(ws)

    assert closed.value.rcvd is None
    assert socket.accepting == []


def test_nothing_passes_a_black_hole_yet_slack_still_delivers_into_it(slack):
    socket = quick_socket(slack, ack_timeout=0.3)
    with app_connection(slack) as ws:
        receive(ws)
        connection = socket.connections[0]
        socket.black_hole(connection)
        pong = ws.ping()

        envelope = socket.slash_command("top", "http://x/r")

        assert envelope.connection == connection.id  # Slack believes the connection open
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)
        assert not pong.wait(0.5)
        assert socket.wait_for(lambda: envelope.failure == "dispatch_failed", WAIT)


def test_slack_stops_delivering_to_a_connection_that_no_longer_answers_its_pings(slack):
    socket = quick_socket(slack, ping_interval=0.1, pong_timeout=0.2)
    with app_connection(slack) as ws:
        receive(ws)
        connection = socket.connections[0]
        assert socket.wait_for(lambda: connection.pongs >= 2, WAIT)  # answered while alive

        socket.black_hole(connection)

        assert socket.wait_for(lambda: not connection.open, WAIT)
        assert connection.closed_by == "slack" and socket.accepting == []


def test_slack_may_answer_the_apps_ping_late(slack):
    gate = threading.Event()
    slack.socket_mode.pong_delay = lambda: gate
    with app_connection(slack) as ws:
        receive(ws)  # hello
        pong = ws.ping()

        held = not pong.wait(0.2)  # a moment's look: still no pong
        gate.set()

        assert held and pong.wait(WAIT)


def test_slack_answers_the_apps_ping_at_once_by_default(slack):
    with app_connection(slack) as ws:
        receive(ws)

        assert ws.ping().wait(WAIT)


def test_slack_answers_the_apps_close_frame(slack):
    socket = slack.socket_mode
    with app_connection(slack) as ws:
        receive(ws)
        ws.close(code=1000)

        assert ws.close_code == 1000 and ws.protocol.close_rcvd is not None
    assert socket.wait_for(lambda: socket.connections[0].closed_by == "app", WAIT)


def test_closing_the_stand_in_drops_every_connection(slack):
    with app_connection(slack) as ws:
        receive(ws)
        slack.close()

        with pytest.raises(ConnectionClosed):
            receive(ws)
