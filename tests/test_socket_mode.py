"""The Slack app in Socket Mode, end to end: envelopes from the stand-in's WebSocket
(localslack.socket_mode) through the real Socket Mode client (bot.socket_mode) into the
real Bolt app, answers checked where they land.

The network tests wait up to a minute for a new connection, and normally take far less;
how long is the benchmark's business (benchmarks/bench_socket.py), never asserted here.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from bot.delivery import SHARE_ACTION
from localslack.payloads import block_actions_payload
from localslack.server import LocalSlack
from localslack.socket_mode import LocalSocketMode, SocketConnection
from tests.builders import growing_store
from tests.slack_helpers import BOT_TOKEN
from tests.socket_helpers import APP_TOKEN, WAIT, RunningSocketBot, running_socket_bot


@pytest.fixture
def store(tmp_path):
    return growing_store(tmp_path / "s.db")


@pytest.fixture
def bot(store):
    # A silent connection given up after 5 s, not 20: these tests are about what comes
    # after (test_socket_liveness holds the client to the real timing, on its own clock).
    with running_socket_bot(store, pong_timeout=5.0) as running:
        yield running


def answer_text(exchange) -> str:
    [message] = exchange.posts
    return message["text"]


# -- answering ----------------------------------------------------------------------------


def test_top_is_acknowledged_on_the_socket_it_came_on_then_answered(bot: RunningSocketBot):
    exchange = bot.command("top")

    envelope = exchange.envelope
    assert exchange.acked
    assert envelope.ack is not None and envelope.ack.connection == envelope.connection
    assert envelope.ack.payload is None  # an empty ack shows nothing; the answer follows
    [message] = exchange.posts
    assert message["response_type"] == "ephemeral"
    assert message["text"].startswith("Top 3 model families by all-time downloads (2026-01-10)")


def test_a_button_click_is_acknowledged_on_the_socket_then_answered(bot: RunningSocketBot):
    response_url = bot.slack.response_url()
    payload = block_actions_payload(SHARE_ACTION, "top 2", response_url)

    envelope = bot.socket.interactive(payload)

    assert bot.socket.wait_acked(envelope, WAIT)
    assert "Top 2 model families" in str(bot.wait_done(response_url))


# -- surviving the network ------------------------------------------------------------


def refresh(socket: LocalSocketMode, connection: SocketConnection) -> None:
    socket.disconnect(connection, "refresh_requested")


def black_hole(socket: LocalSocketMode, connection: SocketConnection) -> None:
    socket.black_hole(connection)


def close_abruptly(socket: LocalSocketMode, connection: SocketConnection) -> None:
    socket.cut(connection)


def reset(socket: LocalSocketMode, connection: SocketConnection) -> None:
    socket.cut(connection, reset=True)


@pytest.mark.parametrize("fault", [refresh, black_hole, close_abruptly, reset])
def test_after_the_connection_is_lost_a_new_one_answers_the_next_command(bot, fault):
    first = bot.connection

    fault(bot.socket, first)
    new = bot.socket.wait_for_connection(newer_than=first, timeout=WAIT)
    exchange = bot.command("top", to=new)

    assert exchange.acked and exchange.envelope.ack.connection == new.id
    assert "Top 3 model families" in answer_text(exchange)


def test_after_refresh_requested_the_old_connection_is_read_until_slack_drops_it(bot):
    # Slack may go on delivering to the old connection until it drops it.
    first = bot.connection
    bot.socket.disconnect(first, "refresh_requested", close_after=WAIT)
    new = bot.socket.wait_for_connection(newer_than=first, timeout=WAIT)

    late = bot.command("top", to=first)

    assert late.acked and late.envelope.ack.connection == first.id
    assert first.open, "the app let go of the old connection before Slack did"
    assert bot.command("top", to=new).acked


def test_no_command_is_lost_while_slack_refreshes_the_connection(bot):
    first = bot.connection

    bot.socket.disconnect(first, "refresh_requested")  # Slack drops it 2 s later
    sent = []
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline or first.open:  # before, during and after the drop
        sent.append(bot.command("top", wait=False))
        time.sleep(0.1)  # pacing the commands, not timing anything

    assert bot.socket.wait_for(lambda: all(e.envelope.last.acked for e in sent), WAIT)
    assert {e.envelope.connection for e in sent} > {first.id}  # both connections served
    assert [e.envelope.failure for e in sent] == [None] * len(sent)


def test_a_command_lost_in_a_black_hole_fails_but_the_next_is_answered(bot):
    first = bot.connection
    bot.socket.black_hole(first)

    lost = bot.command("top", to=first, wait=False)
    new = bot.socket.wait_for_connection(newer_than=first, timeout=WAIT)
    answered = bot.command("top", to=new)

    assert bot.socket.wait_for(lambda: lost.envelope.failure is not None, WAIT)
    assert lost.envelope.failure == "dispatch_failed"  # what Slack tells the user
    assert answered.acked


# -- stopping -------------------------------------------------------------------------------


def socket_threads() -> list[str]:
    """Threads of the Socket Mode client, of websockets' connections and of the stand-in."""
    names = [t.name for t in threading.enumerate()]
    return [n for n in names if "socket-mode" in n or "recv_events" in n]


def test_close_closes_every_connection_and_leaves_no_thread_behind(store):
    with running_socket_bot(store) as bot:
        bot.command("top")
        first = bot.connection
        bot.socket.disconnect(first, close_after=WAIT)  # two connections open at the end
        second = bot.socket.wait_for_connection(newer_than=first, timeout=WAIT)

        bot.client.close()

        assert (first.closed_by, second.closed_by) == ("app", "app")  # close frames sent
    assert socket_threads() == []


def test_logs_never_show_the_app_token(store, caplog):
    caplog.set_level(logging.DEBUG)
    with running_socket_bot(store) as bot:
        bot.command("top")
        bot.socket.cut(bot.connection)
        bot.command("top", to=bot.socket.wait_for_connection(timeout=WAIT))

    assert "Socket Mode connection 2 open" in caplog.text
    assert APP_TOKEN not in caplog.text and BOT_TOKEN not in caplog.text


def test_serve_answers_over_socket_mode_and_stops_cleanly_on_sigterm(store):
    """`openmodels serve`, as a real process, against the stand-in's Socket Mode."""
    with LocalSlack() as slack:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "OPENMODELS_DB": store.location,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "openmodels.cli", "serve", "--no-scheduler"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            socket = slack.socket_mode
            connection = socket.wait_for_connection(timeout=WAIT)
            response_url = slack.response_url()

            envelope = socket.slash_command("top", response_url)

            assert socket.wait_acked(envelope, WAIT)
            assert slack.wait_for(lambda: len(slack.posts(response_url)) == 1, WAIT)
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=WAIT)
        finally:
            if process.poll() is None:
                process.kill()
        stderr = process.stderr.read() if process.stderr else ""
        assert socket.wait_for(lambda: not connection.open, WAIT)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert connection.closed_by == "app"
