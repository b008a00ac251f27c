"""A running bot in Socket Mode: the real Bolt app and the real Socket Mode client
(bot.socket_mode, as `openmodels serve` runs it) connected to the stand-in's WebSocket
(localslack.socket_mode) on 127.0.0.1.

    with running_socket_bot(store) as bot:
        exchange = bot.command("top")          # an envelope; waits for ack and answer
        bot.socket.black_hole(bot.connection)  # then break things; see LocalSocketMode
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bot.app import build_app
from bot.delivery import DeliveryOptions
from bot.handlers import BotServices
from bot.runtime import socket_mode_client
from bot.settings import SlackSettings
from bot.socket_mode import SocketModeClient
from commands import AnswerContext
from commands.answer import ChartSpec
from localslack.payloads import block_actions_payload
from localslack.server import LocalSlack
from localslack.socket_mode import Envelope, LocalSocketMode, SocketConnection
from openmodels.families import load_families
from storage import Store
from tests.slack_helpers import (
    BOT_TOKEN,
    CHANNEL,
    TEAM,
    message_press,
    new_event_id,
    tiny_png,
    view_press,
)

APP_TOKEN = "xapp-1-A0LOCAL-1-test"
# Generous: a test waits this long for what normally takes milliseconds, and for what
# the network-failure tests wait on (a new connection), never asserting how long it took.
WAIT = 60.0


@dataclass
class SocketExchange:
    """One envelope and what reached its response URL."""

    envelope: Envelope
    response_url: str
    posts: list[dict[str, Any]]

    @property
    def acked(self) -> bool:
        return self.envelope.last.acked


@dataclass
class RunningSocketBot:
    slack: LocalSlack
    client: SocketModeClient
    _done: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def socket(self) -> LocalSocketMode:
        return self.slack.socket_mode

    @property
    def connection(self) -> SocketConnection:
        """The newest connection Slack delivers to."""
        return self.socket.wait_for_connection(timeout=WAIT)

    def finished(self, response_url: str) -> None:
        self._event(response_url).set()

    def _event(self, response_url: str) -> threading.Event:
        with self._lock:
            return self._done.setdefault(response_url, threading.Event())

    def wait_done(self, response_url: str) -> list[dict[str, Any]]:
        """Wait until the answer at `response_url` has finished; what was posted there."""
        assert self._event(response_url).wait(WAIT), "the answer never finished"
        return self.slack.posts(response_url)

    def command(
        self,
        text: str,
        *,
        to: SocketConnection | None = None,
        channel_id: str = CHANNEL,
        wait: bool = True,
    ) -> SocketExchange:
        """Send `/openmodels text` as an envelope; with `wait`, until acked and answered."""
        response_url = self.slack.response_url()
        envelope = self.socket.slash_command(text, response_url, to=to, channel_id=channel_id)
        if wait:
            assert self.socket.wait_acked(envelope, WAIT), f"not acknowledged: {envelope}"
            self.wait_done(response_url)
        return SocketExchange(envelope, response_url, self.slack.posts(response_url))

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        answered: bool = True,
        team_id: str = TEAM,
    ) -> Envelope:
        """Send an Events API envelope (a retry if `retry_attempt`); waits until it is
        acknowledged and, if it is to be `answered` (mentions and DMs), until the answer
        has finished. Events answered with no message, such as app_home_opened, pass
        answered=False."""
        event_id = event_id or new_event_id()
        envelope = self.socket.event(
            event, event_id=event_id, retry_attempt=retry_attempt, team_id=team_id
        )
        assert self.socket.wait_acked(envelope, WAIT), f"not acknowledged: {envelope}"
        if answered:
            self.wait_done(event_id)
        return envelope

    def click(self, action_id: str, value: str, **fields: Any) -> SocketExchange:
        """Click a button (`block_actions_payload`'s fields) as an envelope; wait until
        acked and answered."""
        response_url = self.slack.response_url("action")
        payload = block_actions_payload(action_id, value, response_url, **fields)
        envelope = self.socket.interactive(payload)
        assert self.socket.wait_acked(envelope, WAIT), f"not acknowledged: {envelope}"
        self.wait_done(response_url)
        return SocketExchange(envelope, response_url, self.slack.posts(response_url))

    def press(
        self, message: dict[str, Any], action_id: str, option: str | None = None
    ) -> SocketExchange:
        """Press an element of a private message; waits until acked and answered."""
        response_url = self.slack.response_url("action")
        payload = message_press(self.slack, message, action_id, option, response_url)
        envelope = self.socket.interactive(payload)
        assert self.socket.wait_acked(envelope, WAIT), f"not acknowledged: {envelope}"
        self.wait_done(response_url)
        return SocketExchange(envelope, response_url, self.slack.posts(response_url))

    def press_in_view(
        self, view: dict[str, Any], action_id: str, option: str | None = None
    ) -> Envelope:
        """Press an element of a home tab or modal; waits for the ack."""
        payload = view_press(self.slack, view, action_id, option)
        envelope = self.socket.interactive(payload)
        assert self.socket.wait_acked(envelope, WAIT), f"not acknowledged: {envelope}"
        return envelope


@contextmanager
def running_socket_bot(
    store: Store,
    *,
    slack: LocalSlack | None = None,
    render: Callable[[ChartSpec], bytes] | None = None,
    delivery: DeliveryOptions | None = None,
    admins: frozenset[str] | None = None,
    pong_timeout: float | None = None,
) -> Iterator[RunningSocketBot]:
    """Start `slack` (a LocalSlack, unstarted), the real app, and its Socket Mode client.

    Yields once the first connection is open; closes the client (every connection and
    thread) on exit. `pong_timeout` shortens how long a silent connection is waited for
    (tests of what comes after; test_socket_liveness checks the real one).
    """
    with slack or LocalSlack() as fake:
        settings = SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake.api_url)
        holder: list[RunningSocketBot] = []
        services = BotServices(
            context=AnswerContext(store=store, families=load_families(), admins=admins),
            render=render or tiny_png,
            delivery=delivery or DeliveryOptions(),
            on_done=lambda url: holder[0].finished(url),
        )
        app = build_app(settings, services)
        client = socket_mode_client(app, settings, pong_timeout=pong_timeout)
        try:
            client.connect()
            bot = RunningSocketBot(fake, client)
            holder.append(bot)
            yield bot
        finally:
            client.close()
            services.close()
