"""Socket Mode that survives the network: the connection `openmodels serve` keeps to Slack.

Why not slack_sdk's built-in client, which Bolt's SocketModeHandler uses? It cannot see
a socket closed under it (a read of b"" counts as "no data yet"), and it declares a
silent connection dead only once four ping intervals have passed without a pong,
checking once an interval: with Bolt's 10 s interval, the better part of a minute in
which every command fails with dispatch_failed (slackapi/bolt-python#675 shows the same
log lines; we measured 56 s).

This client, built on `websockets`:
- reads each connection in a thread of its own, so a connection closed or reset without
  a close frame ends its thread at once, and a new one is opened within a second;
- pings every 5 s, and takes a connection whose pong is more than 20 s late as lost.
  Slack's servers often answer pings late: @slack/socket-mode's 5 s (its default
  clientPingTimeout) fires again and again on links that work (slackapi/bolt-js#2496,
  labelled a server-side issue); Bolt's maintainers merged a way to lengthen it, whose
  example takes 15 s (slackapi/bolt-js#2786), and apps raise it to 20 s
  (mbakgun/n8n-slack-socket-mode#11, citing #2496). So pongs up to 15 s late (and a
  little more) replace nothing, and a connection that is really
  gone (a NAT timeout, a laptop lid) is still replaced within 30 s of its last sign of
  life: at most one ping interval, then 20 s. That is slower than the 10 s of a 5 s
  timeout, and the price of not reconnecting, through apps.connections.open (which is
  rate-limited), every time Slack is slow to pong;
- replaces a connection before letting it go, and reads the old one meanwhile. On
  Slack's `disconnect` message (refresh_requested, warning) it opens the new connection
  first and goes on reading the old one until Slack closes it: Slack may deliver to
  either meanwhile (https://docs.slack.dev/apis/events-api/using-socket-mode#connections).
  A pong 20 s late is not always a dead link either, so there too the old connection is
  still read, and its envelopes acknowledged, until it closes or has been silent (no
  message, no pong) for 30 s: a false alarm costs a reconnection, never a command;
- acknowledges each envelope on the connection it arrived on (on the current one if that
  has closed since);
- closes every connection and joins every thread it started on close().

A standing second connection (Slack allows ten) was weighed and left out: what drops a
connection in practice (a NAT timeout, a laptop lid, a Wi-Fi change) drops every
connection of the host at once, so a spare dies with the first; noticing quickly is what
shortens the outage. And while Slack still believes in a dead connection it delivers
some envelopes to it whatever the client does.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

JsonDict = dict[str, Any]

PING_INTERVAL = 5.0  # slack_sdk's built-in client pings every 5 s by default too
# A pong later than this replaces the connection: Slack's run up to 15 s late (see above).
PONG_TIMEOUT = 20.0
OPEN_TIMEOUT = 10.0  # the WebSocket handshake, and again for Slack's `hello`
CLOSE_TIMEOUT = 1.0  # Slack leaves TCP open after the close handshake (node-slack-sdk#2752)
# A replaced connection is read until it closes or stays silent (no message, no pong)
# this long; Slack may still deliver to it until then.
SILENT_LIMIT = 30.0
RECONNECT_DELAYS = (1.0, 2.0, 4.0, 8.0)  # after failed attempts; then every 10 s
RECONNECT_MAX_DELAY = 10.0
TICK = 0.25  # how often the supervisor looks, unless woken sooner


class SocketModeUnavailable(ConnectionError):
    """No Socket Mode connection could be opened (network, handshake or `hello`)."""


@dataclass(frozen=True)
class Acknowledgement:
    """What to acknowledge an envelope with; `payload` for those that accept one."""

    payload: JsonDict | None = None


# Answers one envelope; None leaves it unacknowledged (Slack then retries or reports it).
Handler = Callable[[SocketModeRequest], Acknowledgement | None]


def bolt_handler(app: App) -> Handler:
    """Run each envelope through `app`, as Bolt's own Socket Mode adapters do.

    Bolt acknowledges only a 200: an envelope no listener took is left unacknowledged, as
    with SocketModeHandler, and Events API retries reach listeners with Bolt's retry
    headers, as in HTTP mode.
    """
    bolt_log = logging.getLogger("bot.socket_mode")

    def handle(request: SocketModeRequest) -> Acknowledgement | None:
        headers: dict[str, str | Sequence[str]] = {}
        if request.retry_attempt is not None:
            headers["x-slack-retry-num"] = str(request.retry_attempt)
        if request.retry_reason:
            headers["x-slack-retry-reason"] = request.retry_reason
        response = app.dispatch(
            BoltRequest(mode="socket_mode", body=request.payload, headers=headers or None)
        )
        if response.status != 200:
            bolt_log.info(
                "envelope %s of type %s not acknowledged: Bolt answered %d",
                request.envelope_id,
                request.type,
                response.status,
            )
            return None
        if not response.body:
            return Acknowledgement()
        content_type = (response.headers.get("content-type") or [""])[0]
        if content_type.startswith("application/json"):
            return Acknowledgement(json.loads(response.body))
        return Acknowledgement({"text": response.body})

    return handle


class SocketModeClient:
    """Keeps one Socket Mode connection to Slack open, and hands each envelope to `handler`.

    `connect()` opens the first connection (SlackApiError if Slack refuses the app
    token, SocketModeUnavailable if no connection opens); from then on a supervisor
    thread keeps one open until `close()`.
    """

    def __init__(
        self,
        app_token: str,
        web_client: WebClient,
        handler: Handler,
        *,
        logger: logging.Logger | None = None,
        ping_interval: float = PING_INTERVAL,
        pong_timeout: float = PONG_TIMEOUT,
        silent_limit: float = SILENT_LIMIT,
        concurrency: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app_token = app_token  # never logged, nor the URLs it opens (their tickets)
        self._web_client = web_client
        self._handler = handler
        self._log = logger or logging.getLogger("bot.socket_mode")
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.silent_limit = silent_limit
        self.opened = 0  # connections opened (apps.connections.open called and said hello)
        self._clock = clock
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._current: _Connection | None = None
        self._draining: set[_Connection] = set()  # replaced, still read until let go
        self._live: set[_Connection] = set()  # every connection whose thread still runs
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._workers = ThreadPoolExecutor(concurrency, thread_name_prefix="socket-mode-envelope")
        self._failures = 0  # attempts to open a connection that failed in a row
        self._next_attempt = 0.0
        self._supervisor = threading.Thread(
            target=self._supervise, name="socket-mode-supervisor", daemon=True
        )

    # -- public ----------------------------------------------------------------------------

    def connect(self, *, supervise: bool = True) -> None:
        """Open the first connection, then keep one open in the background (the tests
        call `tick` themselves instead, with `supervise` off, on a clock of their own)."""
        first = self._open()
        with self._lock:
            self._current = first
        if supervise:
            self._supervisor.start()

    def answered(self) -> bool:
        """Whether the current connection has answered its last ping (or spoken since)."""
        current = self._current
        return current is not None and current.answered()

    def close(self) -> None:
        """Stop reconnecting, close every connection, and join every thread started."""
        self._stopping.set()
        self._wake.set()
        if self._supervisor.is_alive():
            # At most one attempt to open a connection is in flight; its timeouts bound it.
            self._supervisor.join(2 * OPEN_TIMEOUT + 5)
        with self._lock:
            connections = list(self._live)
            self._current = None
            self._draining.clear()
        for connection in connections:
            connection.retire()
        for connection in connections:
            connection.join(OPEN_TIMEOUT + CLOSE_TIMEOUT + 1)
        self._workers.shutdown(wait=True)

    # -- the supervisor --------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # the supervisor must outlive any surprise
                self._log.exception("Socket Mode supervisor: unexpected error")
            self._wake.wait(TICK)
            self._wake.clear()

    def tick(self) -> None:
        """Look once: ping, replace the current connection if it must be, let go of
        replaced ones that closed or fell silent."""
        now = self._clock()
        needed = self._replacement_needed(now)
        if needed is not None and now >= self._next_attempt:
            if self._replace(needed):
                self._failures = 0
            else:
                self._failures += 1
                delay = _reconnect_delay(self._failures)
                self._next_attempt = self._clock() + delay
                self._log.warning(
                    "Socket Mode: trying again in %.0f s (attempt %d)", delay, self._failures + 1
                )
        elif needed is None:
            self._next_attempt = 0.0
        self._let_go_of_drained(now)

    def _replacement_needed(self, now: float) -> str | None:
        """Why the current connection must be replaced now, if it must; else ping it."""
        current = self._current
        if current is None or current.closed.is_set():
            return "connection lost"
        if current.disconnect_reason is not None:
            return f"Slack asked to reconnect ({current.disconnect_reason})"
        if current.pong_late(now, self.pong_timeout):
            return f"no pong for {self.pong_timeout:.0f} s"
        if current.ping_due(now, self.ping_interval):
            current.ping(now)
        return None

    def _replace(self, why: str) -> bool:
        """Open a new connection; the old one is read on until it closes or falls silent."""
        old = self._current
        self._log.info(
            "Socket Mode%s: %s; opening a new connection",
            f" connection {old.number}" if old is not None else "",
            why,
        )
        try:
            new = self._open()
        except (SlackApiError, SocketModeUnavailable) as exc:
            self._log.warning("Socket Mode: could not open a new connection: %s", _reason(exc))
            return False
        with self._lock:
            stopping = self._stopping.is_set()  # close() began while this one opened
            if not stopping:
                self._current = new
                if old is not None and not old.closed.is_set():
                    # Slack may deliver to it until it closes it (a refresh) or gives up on
                    # it (a dead link): read and acknowledge whatever still comes.
                    self._draining.add(old)
        if stopping:
            new.retire()  # and close() joins it with the others
        return True

    def _let_go_of_drained(self, now: float) -> None:
        with self._lock:
            for connection in list(self._draining):
                if connection.closed.is_set():
                    self._draining.discard(connection)
                elif now - connection.last_heard(now) > self.silent_limit:
                    self._log.info(
                        "Socket Mode connection %d: silent for %.0f s since it was replaced; "
                        "closing it",
                        connection.number,
                        self.silent_limit,
                    )
                    self._draining.discard(connection)
                    connection.retire()

    def _open(self) -> _Connection:
        """A new connection that has said hello; raise if none opens."""
        try:
            url = self._web_client.apps_connections_open(app_token=self._app_token)["url"]
        except SlackApiError:
            raise
        except Exception as exc:  # urllib's URLError, timeouts, a malformed answer
            raise SocketModeUnavailable(f"apps.connections.open failed: {_reason(exc)}") from exc
        connection = _Connection(
            next(self._numbers),
            url,
            ssl=self._web_client.ssl,
            on_message=self._on_message,
            on_closed=self._on_closed,
            log=self._log,
            clock=self._clock,
        )
        with self._lock:
            self._live.add(connection)
        connection.start()
        if not connection.ready.wait(2 * OPEN_TIMEOUT + 1) or connection.error is not None:
            connection.retire()
            raise SocketModeUnavailable(_reason(connection.error or TimeoutError("no hello")))
        self.opened += 1
        self._log.info(
            "Socket Mode connection %d open (%s open in all)",
            connection.number,
            connection.hello.get("num_connections", "?"),
        )
        return connection

    def _on_closed(self, connection: _Connection) -> None:
        with self._lock:
            self._live.discard(connection)
        self._wake.set()

    # -- envelopes ---------------------------------------------------------------------------

    def _on_message(self, connection: _Connection, message: JsonDict) -> None:
        kind = message.get("type")
        if kind == "disconnect":
            connection.disconnect_reason = str(message.get("reason") or "unknown")
            self._log.info(
                "Socket Mode connection %d: Slack sent disconnect (%s)",
                connection.number,
                connection.disconnect_reason,
            )
            self._wake.set()
            return
        request = SocketModeRequest.from_dict(message)
        if request is None:
            self._log.debug("Socket Mode: ignored a message of type %s", kind)
            return
        try:
            self._workers.submit(self._dispatch, connection, request)
        except RuntimeError:  # closing: Slack retries or reports what we drop now
            self._log.info("Socket Mode: closing, envelope %s left", request.envelope_id)

    def _dispatch(self, connection: _Connection, request: SocketModeRequest) -> None:
        try:
            ack = self._handler(request)
        except Exception:
            self._log.exception("Socket Mode: envelope %s failed", request.envelope_id)
            return
        if ack is None:
            return
        response: JsonDict = {"envelope_id": request.envelope_id}
        if ack.payload is not None:
            response["payload"] = ack.payload
        text = json.dumps(response)
        for target in (connection, self._current):
            if target is not None and target.send(text):
                return
        self._log.warning(
            "Socket Mode: no open connection to acknowledge envelope %s", request.envelope_id
        )


class _Connection:
    """One WebSocket to Slack, alive for exactly as long as its thread."""

    def __init__(
        self,
        number: int,
        url: str,
        *,
        ssl: Any,
        on_message: Callable[[_Connection, JsonDict], None],
        on_closed: Callable[[_Connection], None],
        log: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.number = number
        self._clock = clock
        self._url = url
        self._ssl = ssl if urlsplit(url).scheme == "wss" else None
        self._on_message = on_message
        self._on_closed = on_closed
        self._log = log
        self.ready = threading.Event()  # set once `hello` arrived, or opening failed
        self.closed = threading.Event()
        self.error: BaseException | None = None
        self.hello: JsonDict = {}
        self.disconnect_reason: str | None = None
        self._retire = threading.Event()
        self._ws: ClientConnection | None = None
        self._pong: threading.Event | None = None
        self._pong_at: float | None = None  # when the last ping's pong was first seen
        self._ping_sent_at = clock()
        self._last_message_at = self._ping_sent_at
        self._thread = threading.Thread(
            target=self._run, name=f"socket-mode-connection-{number}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def retire(self) -> None:
        """Close it (close handshake, bounded by CLOSE_TIMEOUT) from its own thread."""
        self._retire.set()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def send(self, text: str) -> bool:
        ws = self._ws
        if ws is None or self.closed.is_set():
            return False
        try:
            ws.send(text)
        except ConnectionClosed:
            return False
        return True

    def ping(self, now: float) -> None:
        ws = self._ws
        if ws is None:
            return
        try:
            self._pong = ws.ping()
        except ConnectionClosed:
            return  # the reader sees it too
        self._ping_sent_at, self._pong_at = now, None

    def ping_due(self, now: float, interval: float) -> bool:
        return self.answered() and now - self._ping_sent_at >= interval

    def pong_late(self, now: float, timeout: float) -> bool:
        """Nothing, not even a pong, for `timeout` seconds since the last ping."""
        return not self.answered() and now - self._ping_sent_at > timeout

    def last_heard(self, now: float) -> float:
        """When it last gave a sign of life: a message, or the pong of its last ping (seen
        at `now` if it had not been seen before)."""
        pong = self._pong
        if pong is not None and pong.is_set() and self._pong_at is None:
            self._pong_at = now
        return max(self._last_message_at, self._pong_at or 0.0)

    def answered(self) -> bool:
        """A sign of life since the last ping: its pong, or any message (hello included)."""
        pong = self._pong
        return (pong is not None and pong.is_set()) or self._last_message_at >= self._ping_sent_at

    def _run(self) -> None:
        try:
            with connect(
                self._url,
                ssl=self._ssl,
                open_timeout=OPEN_TIMEOUT,
                ping_interval=None,  # our own pings: see pong_late()
                close_timeout=CLOSE_TIMEOUT,
                max_size=None,  # Slack's payloads are bounded by Slack
            ) as ws:
                self._ws = ws
                self._read_hello(ws)
                self._read(ws)
        except ConnectionClosed as exc:
            if not self.ready.is_set():
                self.error = exc
            elif not self._retire.is_set():
                self._log.info(
                    "Socket Mode connection %d closed (%s)", self.number, _closed_how(exc)
                )
        except Exception as exc:  # OSError, handshake errors, timeouts
            self.error = exc
            if self.ready.is_set():
                self._log.warning("Socket Mode connection %d failed: %s", self.number, _reason(exc))
        finally:
            self.closed.set()
            self.ready.set()
            self._on_closed(self)

    def _read_hello(self, ws: ClientConnection) -> None:
        first = json.loads(ws.recv(timeout=OPEN_TIMEOUT))
        if first.get("type") != "hello":
            # Slack turns an 11th connection away with disconnect/too_many_websockets.
            raise SocketModeUnavailable(
                f"Slack answered {first.get('type')} ({first.get('reason', 'no reason')})"
                " instead of hello"
            )
        self.hello = first
        self._ping_sent_at = self._last_message_at = self._clock()  # pings start from here
        self.ready.set()

    def _read(self, ws: ClientConnection) -> None:
        while not self._retire.is_set():
            try:
                raw = ws.recv(timeout=TICK)
            except TimeoutError:
                continue
            self._last_message_at = self._clock()
            try:
                message = json.loads(raw)
            except ValueError:
                self._log.warning("Socket Mode connection %d: a message not JSON", self.number)
                continue
            if isinstance(message, dict):
                self._on_message(self, message)


def _reconnect_delay(failures: int) -> float:
    if failures <= len(RECONNECT_DELAYS):
        return RECONNECT_DELAYS[failures - 1]
    return RECONNECT_MAX_DELAY


def _closed_how(exc: ConnectionClosed) -> str:
    if exc.rcvd is None:
        return "no close frame"
    return f"close code {exc.rcvd.code}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
