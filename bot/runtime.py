"""Running the Bolt app: Socket Mode (bot.socket_mode), or HTTP on waitress through Bolt's
WSGI adapter.

waitress is a production WSGI server (pure Python, no C build, on every OS, with a
thread pool and request-size limits), unlike Bolt's built-in development server.
Bolt's listeners run in their own pool after ack(), so waitress threads only
verify, acknowledge and return.
"""

from __future__ import annotations

import io
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.errors import SlackApiError
from waitress.server import create_server

from bot.settings import SlackSettings
from bot.slack_client import make_web_client
from openmodels.errors import ConfigError

if TYPE_CHECKING:
    from bot.socket_mode import SocketModeClient

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_REQUEST_BYTES = 1024 * 1024  # Slack's payloads are a few KB; refuse anything huge
HTTP_THREADS = 8


def wsgi_app(app: App) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """The WSGI application: Bolt at POST /slack/events, 404 elsewhere.

    A request Bolt's signature check would crash on (a timestamp that is not a whole
    number, a body that is not UTF-8) is refused here with 401. Otherwise Bolt turns
    the crash into a 500 and a call of our error handler, which would post an apology
    to the response_url of a request nobody signed.
    """
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)

    def refuse_unverifiable(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == EVENTS_PATH:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            try:
                int(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "0"))
                body.decode("utf-8")
            except ValueError:  # UnicodeDecodeError is a ValueError too
                start_response("401 Unauthorized", [("Content-Type", "application/json")])
                return [b'{"error": "invalid request"}']
        return bolt(environ, start_response)

    return refuse_unverifiable


def _make_server(app: App, host: str, port: int, threads: int) -> Any:
    # waitress warns "Task queue depth is N" on every request that waits for one of its
    # threads: under a burst of commands, every request, and the log line took a larger
    # share of the interpreter than the acknowledgement itself (py-spy under
    # benchmarks/bench_load.py). A queue this short is no news; the acks are measured.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    return create_server(
        wsgi_app(app),
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=MAX_REQUEST_BYTES,
        ident="openmodels",
    )


class BackgroundServer:
    """waitress serving `app` on a thread: for the tests, the console and the benchmark."""

    def __init__(
        self, app: App, host: str = "127.0.0.1", port: int = 0, threads: int = HTTP_THREADS
    ) -> None:
        self._server = _make_server(app, host, port, threads)
        self.host: str = host
        self.port: int = int(self._server.effective_port)
        self._thread = threading.Thread(target=self._server.run, name="waitress", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        """http://host:port: where the install pages are (OAuth)."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Where Slack would POST: http://host:port/slack/events."""
        return self.base_url + EVENTS_PATH

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every connection from the server's own loop, then join."""
        from waitress import wasyncore

        server = self._server
        trigger = server.trigger

        def stop_loop() -> None:
            # Runs inside the loop. The trigger leaves the map but stays open: the loop
            # may run this thunk, woken by a task thread's pull, before our own write to
            # the trigger below, and closing the pipe here made that write fail (EBADF)
            # or, had the number been reused, land in some other file. So the listening
            # socket is closed as a plain dispatcher: waitress's server.close() closes
            # the trigger too.
            trigger.del_channel()
            wasyncore.dispatcher.close(server)
            wasyncore.close_all(server._map)  # the connections; an empty map ends the loop

        # Closing sockets from another thread races the loop, so the loop does it.
        trigger.pull_trigger(stop_loop)
        self._thread.join(timeout)
        server.task_dispatcher.shutdown()
        trigger.close()  # no thread writes to it any more

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_http(
    app: App,
    host: str,
    port: int,
    *,
    threads: int = HTTP_THREADS,
    on_listening: Callable[[str], None] | None = None,
) -> None:
    """Serve `app` over HTTP until SIGTERM or Ctrl-C; `on_listening` gets the URL."""
    server = _make_server(app, host, port, threads)
    url = f"http://{host}:{server.effective_port}{EVENTS_PATH}"
    log.info("serving the Slack app on %s (waitress, %d threads)", url, threads)
    if on_listening is not None:
        on_listening(url)
    with _stop_on_sigterm():
        server.run()  # returns after SIGTERM/Ctrl-C, once waitress has stopped its threads
    log.info("HTTP server stopped")


def serve_socket(
    app: App, settings: SlackSettings, *, on_connected: Callable[[], None] | None = None
) -> None:
    """Connect over Socket Mode with SLACK_APP_TOKEN and serve until SIGTERM or Ctrl-C.

    The connection is bot.socket_mode's: it notices a dropped connection within seconds,
    where slack_sdk's built-in client takes about a minute.
    """
    from bot.socket_mode import SocketModeUnavailable

    assert settings.app_token is not None, "Socket Mode needs SLACK_APP_TOKEN"
    socket_mode = socket_mode_client(app, settings)
    try:
        socket_mode.connect()
    except SlackApiError as exc:
        socket_mode.close()
        raise ConfigError(
            f"SLACK_APP_TOKEN was refused by Slack ({exc.response.get('error')}): create an "
            "app-level token with the connections:write scope under Basic Information"
        ) from None
    except SocketModeUnavailable as exc:
        socket_mode.close()
        raise ConfigError(
            f"cannot open a Socket Mode connection to Slack ({exc}); check that the network "
            "allows WebSocket connections to Slack, or use --http"
        ) from None
    log.info("connected to Slack over Socket Mode; waiting for /openmodels")
    stopping = threading.Event()
    try:
        with _stop_on_sigterm():
            if on_connected is not None:
                on_connected()
            stopping.wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        socket_mode.close()
        log.info("Socket Mode connection closed")


def socket_mode_client(
    app: App, settings: SlackSettings, *, pong_timeout: float | None = None
) -> SocketModeClient:
    """The Socket Mode client `serve` runs for `app`: the tests and the benchmark run it too
    (a test that only needs a lost connection noticed may shorten `pong_timeout`)."""
    # Imported here: the console and the demo, which use this module too, never need it.
    from bot.socket_mode import PONG_TIMEOUT, SocketModeClient, bolt_handler

    assert settings.app_token is not None, "Socket Mode needs SLACK_APP_TOKEN"
    return SocketModeClient(
        settings.app_token,
        # apps.connections.open goes to SLACK_API_URL too; a short timeout, so that a
        # reconnection attempt into a dead network gives way to the next one soon.
        make_web_client(None, settings.api_url, timeout=10),
        bolt_handler(app),
        logger=logging.getLogger("bot.socket_mode"),
        pong_timeout=PONG_TIMEOUT if pong_timeout is None else pong_timeout,
    )


class _stop_on_sigterm:
    """Turn SIGTERM (docker stop, systemd) into the same clean stop as Ctrl-C."""

    def __enter__(self) -> None:
        self._previous: Any = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._raise)

    @staticmethod
    def _raise(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
