"""The HTTP server the tests, the console and the benchmark run on a thread: closing it
stops its loop and frees its port, whatever else wakes the loop meanwhile."""

from __future__ import annotations

import os
import socket
import time

import pytest
from slack_bolt import App

from bot.runtime import BackgroundServer


@pytest.fixture
def app() -> App:
    return App(token="xoxb-test", signing_secret="secret", token_verification_enabled=False)


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_closing_stops_the_loop_and_frees_the_port(app):
    server = BackgroundServer(app)
    assert not refuses_connections(server.port)

    server.close()

    assert not server._thread.is_alive()
    assert refuses_connections(server.port)


def test_the_loop_may_run_the_close_before_closes_own_wake_up_write(app):
    # A task thread's wake-up (a response written) can make the loop run the queued
    # close before close() writes its own: that write must still find the pipe open.
    server = BackgroundServer(app)
    trigger = server._server.trigger
    own_write = trigger._physical_pull

    def woken_first_by_another_thread() -> None:
        os.write(trigger.trigger, b"x")  # another thread's pull
        deadline = time.monotonic() + 5
        while trigger.thunks and time.monotonic() < deadline:
            time.sleep(0.001)
        assert not trigger.thunks, "the loop never ran the close"
        own_write()

    trigger._physical_pull = woken_first_by_another_thread

    server.close()

    assert not server._thread.is_alive()
    assert refuses_connections(server.port)
