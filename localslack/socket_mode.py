"""Slack's Socket Mode endpoint on 127.0.0.1: the WebSocket half of localslack.server.

`apps.connections.open` on the stand-in's Web API hands out a ws:// URL of this server
(LocalSlack.socket_mode). Over each connection it sends Slack's `hello`, then envelopes
(slash commands, interactions, events), which the app must acknowledge on the socket.
Tests and benchmarks send envelopes through it and break connections the ways Slack
and networks do.

What it mimics, each with its source beside the code:
- the URL, `hello`, envelope and acknowledgement shapes;
- up to 10 connections per app, each envelope delivered to any one of them;
- an envelope not acknowledged within 3 s: an Events API envelope is retried (new
  envelope, same event, `retry_attempt` and `retry_reason`); a slash command fails for
  the user with dispatch_failed, as it does when no connection is open at all;
- `disconnect` messages (refresh_requested, warning, link_disabled), after which Slack
  drops the old connection;
- Slack answers a close frame but leaves the TCP connection open;
- Slack pings each connection and stops delivering to one that no longer answers;
- Slack's servers often answer the app's pings late (`pong_delay`: seconds, at random
  if a function of a random.Random; or until an Event is set).
The faults a network brings are one call each: `black_hole` (the connection stays open
but nothing passes any more: a NAT timeout, a laptop lid) and `cut` (the TCP connection
closes with no close frame).

`websockets` is imported only here, and LocalSlack imports this module only when Socket
Mode is first used, so the console and the demo never load it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import random
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from localslack.payloads import event_callback, slash_command_fields
from localslack.workspaces import APP_ID, TEAM_ID

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
# "Socket Mode allows your app to maintain up to 10 open WebSocket connections at the same
# time" (https://docs.slack.dev/apis/events-api/using-socket-mode#connections).
MAX_CONNECTIONS = 10
# Slack waits 3 s for an acknowledgement
# (https://docs.slack.dev/interactivity/handling-user-interaction#acknowledgment_response).
ACK_TIMEOUT = 3.0
# Failed Events API deliveries are retried "nearly immediately, then after 1 minute, then
# after 5 minutes" (https://docs.slack.dev/apis/events-api/#retries); in Socket Mode too:
# "Slack's API server delivers to any of the active connections and does retries for
# Events API messages" (slackapi/bolt-python#1071).
EVENT_RETRY_DELAYS = (0.0, 60.0, 300.0)
# How often Slack pings, and when it gives up on a silent connection, is not published.
# @slack/socket-mode declares a link dead after 30 s without a ping from Slack
# (serverPingTimeout; slackapi/bolt-js#2496 shows it firing), so Slack pings well within
# that; we ping every 10 s and give up on a connection that has not answered for 10 s.
SERVER_PING_INTERVAL = 10.0
SERVER_PONG_TIMEOUT = 10.0
# After refresh_requested Slack drops the old connection "shortly"; no delay is published,
# so the stand-in takes the pessimistic reading: 2 s. The warning comes "about 10 seconds
# before the disconnect" (https://docs.slack.dev/apis/events-api/using-socket-mode#disconnect).
REFRESH_CLOSE_AFTER = 2.0
WARNING_CLOSE_AFTER = 10.0
DEBUG_INFO = {"host": "applink-local"}
# How late Slack answers an app's ping: seconds, or an Event it waits for. Slack's servers
# often take more than 5 s ("A pong wasn't received from the server before the timeout of
# 5000ms!", again and again: slackapi/bolt-js#2496, labelled a server-side issue; Bolt's
# own example of a longer timeout takes 15 s, slackapi/bolt-js#2786); the benchmark draws
# each delay at random between 0 and 15 s.
PongDelay = Callable[[], "float | threading.Event"]


class _SlackProtocol(ServerProtocol):
    """The server side of the WebSocket protocol, with the app's pings handed to
    `on_ping` instead of answered at once (None: answered at once, as websockets does)."""

    on_ping: Callable[[bytes], None] | None = None

    def recv_frame(self, frame: Frame) -> None:
        if frame.opcode is Opcode.PING and self.on_ping is not None:
            self.on_ping(bytes(frame.data))
            return
        super().recv_frame(frame)


@dataclass(frozen=True)
class Ack:
    """An acknowledgement the app sent: `{"envelope_id": ..., "payload": ...}`."""

    envelope_id: str
    connection: int  # the connection it arrived on
    payload: JsonDict | None
    at: float  # time.monotonic()


@dataclass
class Envelope:
    """One envelope as sent, where it went and what became of it.

    `failure` is what the user sees when it was not acknowledged in time: a slash command
    says dispatch_failed; an Events API envelope is retried instead, as `retry`.
    """

    envelope_id: str
    type: str  # "slash_commands" | "interactive" | "events_api"
    payload: JsonDict
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""
    connection: int | None = None  # None: no open connection took it
    sent_at: float = 0.0
    deadline: float = 0.0  # an acknowledgement after this is too late
    ack: Ack | None = None
    failure: str | None = None
    retry: Envelope | None = None

    def message(self) -> JsonDict:
        """The JSON Slack writes on the socket."""
        message: JsonDict = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api":
            # Only Events API envelopes carry these (slack_sdk SocketModeRequest; the
            # python-slack-sdk test server sends "retry_attempt":1,"retry_reason":"timeout").
            message["retry_attempt"] = self.retry_attempt
            message["retry_reason"] = self.retry_reason
        return message

    @property
    def acked(self) -> bool:
        """Acknowledged within Slack's 3 s."""
        return self.ack is not None and self.ack.at <= self.deadline

    @property
    def last(self) -> Envelope:
        """The latest attempt: this envelope, or its last retry."""
        envelope = self
        while envelope.retry is not None:
            envelope = envelope.retry
        return envelope


class SocketConnection:
    """One WebSocket connection of the app, as Slack sees it."""

    def __init__(self, number: int, sock: socket.socket) -> None:
        self.id = number
        self.opened_at = time.monotonic()
        self.hello_at: float | None = None  # when `hello` was sent: envelopes may follow
        self.closed_at: float | None = None
        self.closed_by: str | None = None  # "app", "slack" or "cut"
        self.black_holed = False
        self.disconnect_reason: str | None = None
        self.close_at: float | None = None  # Slack drops it then, after a disconnect
        self.pings = 0
        self.pongs = 0
        self._sock = sock
        self._protocol = _SlackProtocol(max_size=None)
        self._lock = threading.Lock()  # the protocol and the socket's writes
        # The app's pings not answered yet: (due time or Event, ping data); see pong_delay.
        self._late_pongs: list[tuple[float | threading.Event, bytes]] = []
        self.app_pings = 0
        self._ping_sent_at: float | None = None
        self._awaiting_pong = False
        self._partial: list[bytes] = []
        self._thread: threading.Thread | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def accepting(self) -> bool:
        """Whether Slack would deliver envelopes to it: said hello and, to Slack, still open.

        A black-holed connection looks open to Slack until its pings go unanswered.
        """
        return self.hello_at is not None and self.closed_at is None

    def __repr__(self) -> str:
        state = "open" if self.open else f"closed by {self.closed_by}"
        return f"<SocketConnection {self.id} {state}{' black-holed' if self.black_holed else ''}>"

    # -- writing (callers hold the server's lock; the reader never takes it under ours) --

    def _send_text(self, message: JsonDict) -> None:
        with self._lock:
            self._protocol.send_text(json.dumps(message).encode())
            self._flush()

    def _send_ping(self, data: bytes) -> None:
        with self._lock:
            self._protocol.send_ping(data)
            self._flush()

    def _send_due_pongs(self, now: float) -> None:
        """Answer the app's pings whose time has come (the server's lock is held)."""
        with self._lock:
            due = [
                (when, data)
                for when, data in self._late_pongs
                if (when.is_set() if isinstance(when, threading.Event) else when <= now)
            ]
            if not due:
                return
            self._late_pongs = [p for p in self._late_pongs if p not in due]
            for _, data in due:
                self._protocol.send_pong(data)
            self._flush()

    def _flush(self) -> None:
        for data in self._protocol.data_to_send():
            if self.black_holed:
                continue  # nothing passes a black hole
            if data:
                # A failed write means a closed socket, which the reader records.
                with contextlib.suppress(OSError):
                    self._sock.sendall(data)
            elif self._protocol.close_rcvd is not None:
                # Slack answers the app's close frame but leaves the TCP connection open:
                # the client has to close it (slackapi/node-slack-sdk#2752).
                pass
            else:
                self._close_socket()  # a refused handshake

    def _close_socket(self, *, reset: bool = False) -> None:
        try:
            if reset:  # RST instead of FIN: linger 0, and no shutdown of the writing side
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self._sock.shutdown(socket.SHUT_RD)  # wakes our reader, sends nothing
            else:
                self._sock.shutdown(socket.SHUT_RDWR)  # FIN, and wakes our reader
        except OSError:
            pass
        # Closed for good once our reader's recv() has returned: until then the kernel
        # keeps the socket, so the RST leaves only then.
        self._sock.close()


class LocalSocketMode:
    """The Socket Mode endpoint of one app. LocalSlack starts one on first use.

    Timing follows Slack (module constants); tests may shorten it where they wait on
    Slack's side, never where they check the app.
    """

    def __init__(
        self,
        *,
        app_id: str = APP_ID,
        ack_timeout: float = ACK_TIMEOUT,
        event_retry_delays: tuple[float, ...] = EVENT_RETRY_DELAYS,
        ping_interval: float = SERVER_PING_INTERVAL,
        pong_timeout: float = SERVER_PONG_TIMEOUT,
        seed: int = 0,
        pong_delay: PongDelay | None = None,
    ) -> None:
        self.app_id = app_id
        self.pong_delay = pong_delay  # None: pongs at once
        self.ack_timeout = ack_timeout
        self.event_retry_delays = event_retry_delays
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self._random = random.Random(seed)  # which connection takes each envelope
        self._changed = threading.Condition()
        self._connections: list[SocketConnection] = []
        self._envelopes: dict[str, Envelope] = {}
        self._acks: list[Ack] = []
        self._retries: list[tuple[float, Envelope]] = []  # (due, the attempt that failed)
        self._tickets: set[str] = set()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> LocalSocketMode:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so the accept loop sees close() at once
        for name, target in (("accept", self._accept), ("clock", self._clock)):
            thread = threading.Thread(target=target, name=f"local-socket-mode-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        """Drop every connection (no close frame) and stop the server's threads."""
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
        with self._changed:
            connections = list(self._connections)
            for connection in connections:
                if connection.open:
                    self._drop(connection, "slack")
                else:
                    connection._close_socket()
        for thread in self._threads + [c._thread for c in connections if c._thread]:
            thread.join(5)

    def __enter__(self) -> LocalSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open_url(self) -> str:
        """A fresh WebSocket URL, as apps.connections.open returns.

        Slack's looks like wss://wss-primary.slack.com/link/?ticket=…&app_id=…
        (https://docs.slack.dev/apis/events-api/using-socket-mode#call).
        """
        assert self._listener is not None, "start() the server first"
        ticket = str(uuid.uuid4())
        with self._changed:
            self._tickets.add(ticket)
        port = self._listener.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- what happened -------------------------------------------------------------------

    @property
    def connections(self) -> list[SocketConnection]:
        """Every connection ever opened, oldest first."""
        with self._changed:
            return list(self._connections)

    @property
    def accepting(self) -> list[SocketConnection]:
        """The connections Slack would deliver to now."""
        with self._changed:
            return [c for c in self._connections if c.accepting]

    @property
    def envelopes(self) -> list[Envelope]:
        """Every envelope sent, retries included, in order."""
        with self._changed:
            return list(self._envelopes.values())

    @property
    def acks(self) -> list[Ack]:
        with self._changed:
            return list(self._acks)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until `predicate()` holds (checked whenever something changes)."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def wait_for_connection(
        self, *, newer_than: SocketConnection | None = None, timeout: float = 10.0
    ) -> SocketConnection:
        """The newest connection Slack delivers to, opened after `newer_than`; waits for one."""
        after = newer_than.id if newer_than is not None else 0

        def newest() -> SocketConnection | None:
            fresh = [c for c in self._connections if c.accepting and c.id > after]
            return fresh[-1] if fresh else None

        with self._changed:
            assert self._changed.wait_for(lambda: newest() is not None, timeout), (
                "the app opened no new Socket Mode connection"
            )
            found = newest()
            assert found is not None
            return found

    def wait_acked(self, envelope: Envelope, timeout: float = 10.0) -> bool:
        """Wait until `envelope` (or one of its retries) is acknowledged in time."""

        def settled() -> bool:
            last = envelope.last
            return last.acked or last.failure is not None

        return self.wait_for(settled, timeout) and envelope.last.acked

    # -- sending -------------------------------------------------------------------------

    def send(
        self,
        type: str,
        payload: JsonDict,
        *,
        accepts_response_payload: bool = False,
        to: SocketConnection | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> Envelope:
        """Deliver one envelope to `to`, or, like Slack, to any connection it delivers to.

        "Each payload may be sent to any of the connections"
        (https://docs.slack.dev/apis/events-api/using-socket-mode#connections): which one is
        drawn at random (seeded).
        """
        envelope = Envelope(
            str(uuid.uuid4()),
            type,
            payload,
            accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )
        with self._changed:
            self._deliver(envelope, to)
        return envelope

    def slash_command(
        self, text: str, response_url: str, *, to: SocketConnection | None = None, **fields: str
    ) -> Envelope:
        """`/openmodels text`, as Slack sends it over Socket Mode."""
        payload = slash_command_fields(text, response_url, app_id=self.app_id, **fields)
        # A slash command's acknowledgement may carry the answer
        # (https://docs.slack.dev/apis/events-api/using-socket-mode#command).
        return self.send("slash_commands", payload, accepts_response_payload=True, to=to)

    def interactive(self, payload: JsonDict, *, to: SocketConnection | None = None) -> Envelope:
        """A button click, menu or modal payload (see `block_actions_payload`)."""
        # block_actions, view_submission and block_suggestion envelopes say true
        # (https://docs.slack.dev/apis/events-api/using-socket-mode#button).
        return self.send("interactive", payload, accepts_response_payload=True, to=to)

    def event(
        self,
        event: JsonDict,
        *,
        event_id: str | None = None,
        to: SocketConnection | None = None,
        retry_attempt: int = 0,
        team_id: str = TEAM_ID,
    ) -> Envelope:
        """An Events API event (app_home_opened, app_mention, message …) in its callback.

        With `retry_attempt`, Slack's redelivery of an event whose first delivery was not
        acknowledged in time: a new envelope, the same event_id, retry_reason "timeout"
        (what the stand-in sends by itself after ACK_TIMEOUT, here on demand).
        """
        payload = event_callback(event, app_id=self.app_id, team_id=team_id, event_id=event_id)
        reason = "timeout" if retry_attempt else ""
        return self.send(
            "events_api", payload, to=to, retry_attempt=retry_attempt, retry_reason=reason
        )

    # -- Slack's own disconnects and the network's faults ----------------------------------

    def disconnect(
        self,
        connection: SocketConnection,
        reason: str = "refresh_requested",
        *,
        close_after: float | None = None,
    ) -> None:
        """Send a `disconnect` message, then drop the connection `close_after` seconds later.

        Until then Slack may still deliver to it; afterwards it drops the TCP connection
        without a close frame, as @slack/socket-mode 3.1.1's notes describe
        (slackapi/node-slack-sdk#2771).
        """
        if close_after is None:
            close_after = WARNING_CLOSE_AFTER if reason == "warning" else REFRESH_CLOSE_AFTER
        with self._changed:
            if not connection.open:
                return
            connection.disconnect_reason = reason
            connection._send_text(
                {"type": "disconnect", "reason": reason, "debug_info": DEBUG_INFO}
            )
            connection.close_at = time.monotonic() + close_after
            self._changed.notify_all()

    def black_hole(self, connection: SocketConnection) -> None:
        """From now on nothing passes, either way, and no side is told: not a frame, not a
        pong, not a FIN. Slack keeps delivering to it until its pings go unanswered."""
        with self._changed:
            connection.black_holed = True
            self._changed.notify_all()

    def cut(self, connection: SocketConnection, *, reset: bool = False) -> None:
        """Close the TCP connection with no close frame (`reset`: with an RST, not a FIN)."""
        with self._changed:
            if connection.open:
                self._drop(connection, "cut", reset=reset)

    # -- inside (the server's threads) --------------------------------------------------

    def _deliver(self, envelope: Envelope, to: SocketConnection | None) -> None:
        """Send `envelope` (caller holds the lock); no connection: it fails, or is retried."""
        if to is not None:
            target = to if to.accepting else None
        else:
            candidates = [c for c in self._connections if c.accepting]
            target = self._random.choice(candidates) if candidates else None
        envelope.sent_at = time.monotonic()
        envelope.deadline = envelope.sent_at + self.ack_timeout
        self._envelopes[envelope.envelope_id] = envelope
        if target is None:
            self._unacknowledged(envelope, envelope.sent_at)
        else:
            envelope.connection = target.id
            target._send_text(envelope.message())
        self._changed.notify_all()

    def _unacknowledged(self, envelope: Envelope, now: float) -> None:
        if envelope.type == "events_api":
            if envelope.retry_attempt < len(self.event_retry_delays):
                due = now + self.event_retry_delays[envelope.retry_attempt]
                self._retries.append((due, envelope))
                envelope.failure = "retried"
            else:
                envelope.failure = "not_acknowledged"
        elif envelope.type == "slash_commands":
            # What the user sees when the app does not answer in Socket Mode: "/openmodels
            # failed with the error "dispatch_failed"" (slackapi/bolt-python#951, #952).
            envelope.failure = "dispatch_failed"
        else:
            envelope.failure = "not_acknowledged"  # Slack shows a warning sign; no error code

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            # Bounded, so a client that stops reading cannot stall the whole server.
            sock.settimeout(5.0)
            with self._changed:
                connection = SocketConnection(next(self._ids), sock)
                connection._protocol.on_ping = self._ping_handler(connection)
                self._connections.append(connection)
                thread = threading.Thread(
                    target=self._read,
                    args=(connection,),
                    name=f"local-socket-mode-{connection.id}",
                    daemon=True,
                )
                connection._thread = thread
            thread.start()

    def _ping_handler(self, connection: SocketConnection) -> Callable[[bytes], None]:
        """Answer the app's pings on `connection` as late as `pong_delay` says (its reader
        thread calls this, holding the connection's lock)."""

        def on_ping(data: bytes) -> None:
            connection.app_pings += 1
            delay = self.pong_delay() if self.pong_delay is not None else 0.0
            if isinstance(delay, threading.Event) or delay > 0:
                due = delay if isinstance(delay, threading.Event) else time.monotonic() + delay
                connection._late_pongs.append((due, data))
            else:
                connection._protocol.send_pong(data)  # flushed by the reader, as it would be

        return on_ping

    def _read(self, connection: SocketConnection) -> None:
        while True:
            try:
                data = connection._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                data = b""  # reset by the app, or closed by us
            if connection.black_holed:
                if not data:
                    return  # the app gave up; in a black hole Slack never hears of it
                continue
            if not data:
                with self._changed:
                    if connection.open:
                        self._closed(connection, "app")
                    connection._close_socket()
                return
            with connection._lock:
                connection._protocol.receive_data(data)
                events = connection._protocol.events_received()
                connection._flush()
            for event in events:
                if isinstance(event, Request):
                    self._handshake(connection, event)
                elif isinstance(event, Frame):
                    self._frame(connection, event)

    def _handshake(self, connection: SocketConnection, request: Request) -> None:
        parts = urlsplit(request.path)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        with self._changed:
            known = parts.path.rstrip("/") == "/link" and ticket in self._tickets
        with connection._lock:
            protocol = connection._protocol
            response = protocol.accept(request) if known else protocol.reject(401, "invalid ticket")
            protocol.send_response(response)
            connection._flush()
        if response.status_code != 101:
            with self._changed:
                self._closed(connection, "slack")
            return
        with self._changed:
            open_now = [c for c in self._connections if c.accepting]
            if len(open_now) >= MAX_CONNECTIONS:
                # An 11th connection is told too_many_websockets
                # (slackapi/node-slack-sdk#1654).
                connection._send_text(
                    {
                        "type": "disconnect",
                        "reason": "too_many_websockets",
                        "debug_info": DEBUG_INFO,
                    }
                )
                self._drop(connection, "slack")
                return
            # https://docs.slack.dev/apis/events-api/using-socket-mode#connect
            connection._send_text(
                {
                    "type": "hello",
                    "num_connections": len(open_now) + 1,
                    "debug_info": {
                        **DEBUG_INFO,
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
            connection.hello_at = time.monotonic()
            connection._ping_sent_at = connection.hello_at  # first ping one interval later
            self._changed.notify_all()

    def _frame(self, connection: SocketConnection, frame: Frame) -> None:
        if frame.opcode is Opcode.PONG:
            with self._changed:
                connection.pongs += 1
                connection._awaiting_pong = False
                self._changed.notify_all()
            return
        if frame.opcode is Opcode.CLOSE:
            with self._changed:
                if connection.open:
                    self._closed(connection, "app")
            return
        if frame.opcode in (Opcode.TEXT, Opcode.CONT):
            connection._partial.append(bytes(frame.data))
            if not frame.fin:
                return
            raw, connection._partial = b"".join(connection._partial), []
            self._app_message(connection, raw)

    def _app_message(self, connection: SocketConnection, raw: bytes) -> None:
        """The app writes one thing on the socket: acknowledgements."""
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("local socket mode: connection %d sent non-JSON text", connection.id)
            return
        if not isinstance(message, dict) or "envelope_id" not in message:
            log.warning("local socket mode: connection %d sent %r", connection.id, message)
            return
        now = time.monotonic()
        ack = Ack(str(message["envelope_id"]), connection.id, message.get("payload"), now)
        with self._changed:
            self._acks.append(ack)
            # Slack matches an acknowledgement by its envelope_id, whatever the connection
            # (https://docs.slack.dev/apis/events-api/using-socket-mode#acknowledge).
            envelope = self._envelopes.get(ack.envelope_id)
            if envelope is not None and envelope.ack is None:
                envelope.ack = ack
            self._changed.notify_all()

    def _clock(self) -> None:
        """Slack's side of time: pings, given-up connections, refreshes, ack deadlines."""
        while not self._stopping.wait(0.02):
            now = time.monotonic()
            with self._changed:
                for connection in self._connections:
                    if connection.accepting:
                        self._keep_alive(connection, now)
                        if connection._late_pongs and not connection.black_holed:
                            connection._send_due_pongs(now)
                for envelope in list(self._envelopes.values()):
                    overdue = envelope.failure is None and now > envelope.deadline
                    if overdue and not envelope.acked:
                        self._unacknowledged(envelope, now)
                        self._changed.notify_all()
                due = [(at, e) for at, e in self._retries if at <= now]
                self._retries = [(at, e) for at, e in self._retries if at > now]
                for _, failed in due:
                    failed.retry = Envelope(
                        str(uuid.uuid4()),
                        failed.type,
                        failed.payload,
                        failed.accepts_response_payload,
                        retry_attempt=failed.retry_attempt + 1,
                        retry_reason="timeout",
                    )
                    self._deliver(failed.retry, None)

    def _keep_alive(self, connection: SocketConnection, now: float) -> None:
        if connection.close_at is not None and now >= connection.close_at:
            self._drop(connection, "slack")
        elif connection._awaiting_pong:
            assert connection._ping_sent_at is not None
            if now - connection._ping_sent_at > self.pong_timeout:
                self._drop(connection, "slack")  # Slack gives up on a silent connection
        elif (
            connection._ping_sent_at is None or now - connection._ping_sent_at >= self.ping_interval
        ):
            connection.pings += 1
            connection._ping_sent_at = now
            connection._awaiting_pong = True
            connection._send_ping(str(connection.pings).encode())

    def _drop(self, connection: SocketConnection, by: str, *, reset: bool = False) -> None:
        """Slack (or the network) drops the TCP connection: no close frame."""
        self._closed(connection, by)
        connection._close_socket(reset=reset)

    def _closed(self, connection: SocketConnection, by: str) -> None:
        connection.closed_at = time.monotonic()
        connection.closed_by = by
        self._changed.notify_all()
