"""Console and demo modes: the real Slack app, run locally without a workspace.

Each line goes the way a slash command comes from Slack: a signed
application/x-www-form-urlencoded POST to the real Bolt app behind waitress. The
app answers a local stand-in for Slack (`bot.local_slack`) exactly as it would
answer Slack: the response URL gets the Block Kit answer, the Web API gets the
chart upload. What arrived is printed, and each uploaded chart is written as PNG.
"""

from __future__ import annotations

import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bot.app import build_app
from bot.handlers import BotServices
from bot.local_slack import LocalSlack, signed_headers, slash_command_body
from bot.runtime import BackgroundServer
from bot.settings import SlackSettings
from commands import AnswerContext
from commands.answer import Answer, ChartSpec
from commands.render import render_text

DEMO_TOUR = (
    "top",
    "regions",
    "movers",
    "compare qwen llama",
    "compare gemma deepseek",
    "forecast",
    "family qwen",
    "model Qwen/Qwen2.5-7B-Instruct",
    "help",
)
# These change what a real channel receives; a console has no channel to subscribe.
CHANNEL_VERBS = frozenset({"subscribe", "unsubscribe", "subscriptions"})
LOCAL_BOT_TOKEN = "xoxb-0-local-console"  # the stand-in accepts any bot token


@dataclass
class Exchange:
    """One command sent to the app and what came back."""

    text: str
    status: int  # the HTTP status of Slack's request (the ack)
    ack_seconds: float
    answer_seconds: float
    messages: list[dict[str, Any]] = field(default_factory=list)  # as the user sees them
    charts: list[Path] = field(default_factory=list)  # PNGs written
    shared_in_channel: bool = False


class LocalBot:
    """The real Bolt app behind waitress, answering into a local stand-in for Slack."""

    def __init__(
        self,
        context: AnswerContext,
        render: Callable[[ChartSpec], bytes],
        out_dir: Path | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.context = context
        self.render = render
        self.out_dir = out_dir
        self.timeout = timeout
        self.signing_secret = secrets.token_hex(16)
        self.slack = LocalSlack()
        self._done: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._server: BackgroundServer | None = None
        self._services: BotServices | None = None

    def __enter__(self) -> LocalBot:
        self.slack.start()
        try:
            settings = SlackSettings(
                bot_token=LOCAL_BOT_TOKEN,
                signing_secret=self.signing_secret,
                api_url=self.slack.api_url,
            )
            self._services = BotServices(
                context=self.context, render=self.render, on_done=self._finished
            )
            self._server = BackgroundServer(build_app(settings, self._services))
        except BaseException:
            self.slack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        if self._services is not None:
            self._services.close()  # also stops the renderer, if it is a ChartPool
        self.slack.close()

    def _finished(self, response_url: str) -> None:
        with self._lock:
            event = self._done.setdefault(response_url, threading.Event())
        event.set()

    def ask(self, text: str) -> Exchange:
        """Send `/openmodels text` as Slack would and wait for the whole answer."""
        assert self._server is not None, "use LocalBot as a context manager"
        response_url = self.slack.response_url()
        with self._lock:
            done = self._done.setdefault(response_url, threading.Event())
        known_files = set(self.slack.files)
        body = slash_command_body(text, response_url)
        request = urllib.request.Request(
            self._server.url, data=body, headers=signed_headers(self.signing_secret, body)
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                status = reply.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        acked = time.perf_counter()
        if status == 200:
            done.wait(self.timeout)
        finished = time.perf_counter()
        with self._lock:
            self._done.pop(response_url, None)
        exchange = Exchange(
            text=text,
            status=status,
            ack_seconds=acked - started,
            answer_seconds=finished - started,
            messages=self.slack.visible(response_url),
        )
        for file_id in sorted(set(self.slack.files) - known_files):
            stored = self.slack.files[file_id]
            if stored.data is None or not stored.completed:
                continue
            exchange.shared_in_channel |= bool(stored.channels)
            if self.out_dir is not None:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                path = self.out_dir / Path(stored.filename).name
                path.write_bytes(stored.data)
                exchange.charts.append(path)
        return exchange


def render_exchange(exchange: Exchange) -> str:
    """The answer as a terminal shows it: each visible message, then where the charts went."""
    if exchange.status != 200:
        return f"(the app refused the request: HTTP {exchange.status})\n"
    out: list[str] = []
    for message in exchange.messages:
        who = "everyone in the channel" if message.get("response_type") == "in_channel" else "you"
        out.append(f"[visible to {who}]")
        blocks = message.get("blocks") or []
        text = str(message.get("text") or "")
        shown = render_text(Answer(text=text, blocks=blocks)) if blocks else text + "\n"
        out.append(shown.rstrip("\n"))
        buttons = [
            element["text"]["text"]
            for block in blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("type") == "button"
        ]
        if buttons:
            out.append(" ".join(f"[{label}]" for label in buttons))
        out.append("")
    for path in exchange.charts:
        out.append(f"chart ({_where_shown(exchange)}) written to {path}")
    out.append(
        f"(acknowledged in {exchange.ack_seconds * 1000:.0f} ms, "
        f"answered in {exchange.answer_seconds * 1000:.0f} ms)"
    )
    return "\n".join(out) + "\n"


def _where_shown(exchange: Exchange) -> str:
    if exchange.shared_in_channel:
        return "shared in the channel"
    for message in exchange.messages:
        kinds = [b.get("type") for b in message.get("blocks") or []]
        if "image" in kinds:
            return "shown in the answer" if len(kinds) > 1 else "shown after the answer"
    return "not shown"


def command_text(line: str) -> str:
    """'/openmodels compare a b' or 'compare a b' -> 'compare a b'."""
    text = line.strip()
    if text.lower().startswith("/openmodels"):
        text = text[len("/openmodels") :].strip()
    return text


def run_console(bot: LocalBot, lines: Iterable[str], out: IO[str], prompt: str = "") -> None:
    """Answer each typed line until end of input (or `quit`)."""
    if prompt:
        out.write(prompt)
        out.flush()
    for line in lines:
        text = command_text(line)
        if text.lower() in {"quit", "exit"}:
            break
        if not line.strip():
            pass
        elif text.split()[:1] and text.split()[0].lower() in CHANNEL_VERBS:
            out.write(
                "Subscriptions belong to a real Slack channel; the console leaves them alone.\n"
            )
        else:
            out.write(render_exchange(bot.ask(text)))
        if prompt:
            out.write(prompt)
            out.flush()
    if prompt:
        out.write("\n")


def run_demo(bot: LocalBot, out: IO[str], tour: Iterable[str] = DEMO_TOUR) -> int:
    """The scripted tour; returns how many commands failed to get an answer."""
    failures = 0
    for text in tour:
        out.write(f"\n$ /openmodels {text}\n")
        exchange = bot.ask(text)
        if exchange.status != 200 or not exchange.messages:
            failures += 1
        out.write(render_exchange(exchange))
        out.flush()
    return failures
