"""Helpers for the Slack tests: Slack's request signing, request builders, a running bot.

The signature is computed here from Slack's documented recipe (HMAC-SHA256 of
"v0:{timestamp}:{body}" with the signing secret), independently of the app's code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import build_app
from bot.delivery import DeliveryOptions
from bot.handlers import BotServices
from bot.runtime import BackgroundServer
from bot.settings import SlackSettings
from commands import AnswerContext
from commands.answer import ChartSpec
from commands.blocks import check_limits, check_view_limits
from localslack import payloads
from localslack.payloads import (
    app_mention,
    event_callback,
    interaction_body,
    message_actions_payload,
    message_im,
    pressed,
    signed_headers,
    view_actions_payload,
)
from localslack.server import RESPONSE_URL_MAX_POSTS, LocalSlack, ResponseKind
from localslack.workspaces import BOT_USER_ID
from openmodels.families import load_families
from storage import Store
from tests.fakes import FakeHub

SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
# Production's waits, shortened: the stand-in answers at once, so only the count of
# polls matters. The text still waits for its chart as in production (2 s).
QUICK = DeliveryOptions(
    file_ready_waits=(0.01, 0.02, 0.05),
    share_waits=(0.01, 0.01, 0.02, 0.02, 0.05, 0.05, 0.05),
    image_retry_wait=0.01,
)
BOT_TOKEN = "xoxb-1-test-token"
TEAM, CHANNEL, USER = "T0TEST", "C0TEST", "U0TEST"
DM = "D0TEST"  # the direct message conversation between USER and the app
# A chart of one short line: what the posting tests draw, upload and share.
CHART = ChartSpec(
    title="Qwen vs Llama",
    series={"Qwen": [("2026-01-01T06:00:00Z", 1)]},
    metric="all_time",
    snapshot_date="2026-01-01",
    alt_text="a line",
    filename="chart.png",
)


def run_cli_against(monkeypatch: Any, db: Path | str, hub: FakeHub, slack: LocalSlack) -> None:
    """Point the command line, run in this process, at the store `db`, the fake Hub and
    the Slack stand-in, with the default families."""
    monkeypatch.setenv("OPENMODELS_DB", str(db))
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.delenv("OPENMODELS_FAMILIES", raising=False)


def channel_texts(slack: LocalSlack) -> dict[str, list[str]]:
    """Each channel's messages' texts, in the order they were posted."""
    return {c: [m["text"] for m in ms] for c, ms in slack.channel_messages.items()}


def message_press(
    slack: LocalSlack,
    message: dict[str, Any],
    action_id: str,
    option: str | None,
    response_url: str,
) -> dict[str, Any]:
    """The payload of USER pressing `action_id` in a private `message` in CHANNEL (for a
    menu: choosing the option whose value is `option`)."""
    block, element = find_element(message["blocks"], action_id)
    return message_actions_payload(
        pressed(block, element, option),
        response_url,
        trigger_id=slack.trigger_id(USER),
        channel_id=CHANNEL,
        user_id=USER,
        team_id=TEAM,
    )


def view_press(
    slack: LocalSlack, view: dict[str, Any], action_id: str, option: str | None
) -> dict[str, Any]:
    """The payload of USER pressing `action_id` in a home tab or modal."""
    block, element = find_element(view["blocks"], action_id)
    return view_actions_payload(
        pressed(block, element, option),
        view,
        trigger_id=slack.trigger_id(USER),
        user_id=USER,
        team_id=TEAM,
    )


def tiny_png(spec: ChartSpec | None = None) -> bytes:
    """A valid 1x1 PNG: enough for Slack (and the stand-in) to take as an image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\x00\x72\xb2")  # filter byte, then one blue pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def signature(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed(body: bytes, *, secret: str = SIGNING_SECRET, age: int = 0) -> dict[str, str]:
    """Headers for `body` signed `age` seconds ago (negative: in the future)."""
    return signed_headers(secret, body, int(time.time()) - age)


def slash_form(
    text: str,
    response_url: str,
    channel_id: str = CHANNEL,
    user_id: str = USER,
    team_id: str = TEAM,
    enterprise_id: str | None = None,
) -> bytes:
    """The form Slack POSTs for `/openmodels text` in the tests' workspace (from an
    Enterprise Grid workspace, it names the organisation too)."""
    return payloads.slash_command_body(
        text,
        response_url,
        channel_id=channel_id,
        user_id=user_id,
        team_id=team_id,
        enterprise_id=enterprise_id,
    )


def share_click_form(value: str, response_url: str, channel_id: str = CHANNEL) -> bytes:
    """The form Slack POSTs when "Share in channel" is clicked on an ephemeral answer."""
    return click_form("share_in_channel", value, response_url, channel_id=channel_id)


def new_event_id() -> str:
    return f"Ev{uuid.uuid4().hex[:10].upper()}"


def event_body(event: dict[str, Any], event_id: str) -> bytes:
    """The JSON Slack POSTs for an Events API event: `event` in its event_callback."""
    return json.dumps(event_callback(event, team_id=TEAM, event_id=event_id)).encode()


def signed_event(body: bytes, *, retry: int | None = None, age: int = 0) -> dict[str, str]:
    """Headers for an event request; with `retry`, Slack's redelivery after a timeout
    (X-Slack-Retry-Num and X-Slack-Retry-Reason, https://docs.slack.dev/apis/events-api/#retries)."""
    headers = signed(body, age=age) | {"Content-Type": "application/json"}
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return headers


def mention_event(message: dict[str, Any], channel_id: str = CHANNEL) -> dict[str, Any]:
    """The app_mention event for `message`, a person's message already in the channel."""
    event = app_mention(message["text"], channel_id=channel_id, user_id=message["user"])
    event |= {"ts": message["ts"], "event_ts": message["ts"], "team": TEAM}
    if message.get("thread_ts"):
        event["thread_ts"] = message["thread_ts"]
    return event


def dm_event(message: dict[str, Any], channel_id: str = DM) -> dict[str, Any]:
    """The message.im event for `message`, a person's message already in the DM."""
    event = message_im(message["text"], user_id=message["user"], channel_id=channel_id)
    event |= {"ts": message["ts"], "event_ts": message["ts"], "team": TEAM}
    if message.get("thread_ts"):
        event["thread_ts"] = message["thread_ts"]
    return event


def from_the_app(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The app's own messages among `messages` (posted with its bot token)."""
    return [m for m in messages if m.get("user") == BOT_USER_ID]


def click_form(
    action_id: str,
    value: str,
    response_url: str,
    *,
    channel_id: str = CHANNEL,
    user_id: str = USER,
    message_ts: str | None = None,
) -> bytes:
    """The form Slack POSTs when a button is clicked: on a message in the channel (give its
    `message_ts`) or on an ephemeral answer (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload)."""
    action = {
        "type": "button",
        "action_id": action_id,
        "block_id": "b1",
        "text": {"type": "plain_text", "text": "button"},
        "value": value,
        "action_ts": f"{time.time():.6f}",
    }
    payload = message_actions_payload(
        action,
        response_url,
        trigger_id="1.2.5",
        channel_id=channel_id,
        user_id=user_id,
        team_id=TEAM,
        is_ephemeral=message_ts is None,
    )
    if message_ts:
        payload["container"]["message_ts"] = message_ts
    return interaction_body(payload)


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float


def post(url: str, body: bytes, headers: dict[str, str]) -> Reply:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.read(), time.perf_counter() - started)
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read(), time.perf_counter() - started)


@dataclass
class Exchange:
    """One slash command or click: the ack, and what reached its response URL."""

    reply: Reply
    response_url: str
    posts: list[dict[str, Any]]
    visible: list[dict[str, Any]]


@dataclass
class RunningBot:
    """The real Bolt app behind waitress on 127.0.0.1, answering a LocalSlack."""

    slack: LocalSlack
    server: BackgroundServer
    _done: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def finished(self, response_url: str) -> None:
        self._event(response_url).set()

    def _event(self, response_url: str) -> threading.Event:
        with self._lock:
            return self._done.setdefault(response_url, threading.Event())

    def send(
        self,
        body_for: Callable[[str], bytes],
        wait: bool = True,
        kind: ResponseKind = "command",
        response_url: str | None = None,
    ) -> Exchange:
        response_url = response_url or self.slack.response_url(kind)
        body = body_for(response_url)
        reply = post(self.server.url, body, signed(body))
        if wait and reply.status == 200:
            assert self._event(response_url).wait(10), "the answer never finished"
        return self.exchange(reply, response_url)

    def exchange(self, reply: Reply, response_url: str) -> Exchange:
        posts = self.slack.posts(response_url)
        assert len(posts) <= RESPONSE_URL_MAX_POSTS
        for message in posts:
            assert check_limits(message.get("blocks") or []) == []
        return Exchange(reply, response_url, posts, self.slack.visible(response_url))

    def command(
        self,
        text: str,
        channel_id: str = CHANNEL,
        wait: bool = True,
        user_id: str = USER,
        response_url: str | None = None,
        team_id: str = TEAM,
        enterprise_id: str | None = None,
    ) -> Exchange:
        """Send `/openmodels text` (to `response_url`, if the test made it already)."""
        form = lambda url: slash_form(text, url, channel_id, user_id, team_id, enterprise_id)  # noqa: E731
        return self.send(form, wait, response_url=response_url)

    def click_share(self, value: str) -> Exchange:
        return self.send(lambda url: share_click_form(value, url), kind="action")

    def click(self, action_id: str, value: str, **where: Any) -> Exchange:
        """Click a button (`click_form`'s channel_id, user_id, message_ts) and wait."""
        return self.send(lambda url: click_form(action_id, value, url, **where), kind="action")

    def wait_done(self, response_url: str) -> None:
        assert self._event(response_url).wait(10), "the answer never finished"

    # -- mentions and direct messages: Events API requests ---------------------------------

    def post_event(
        self, event: dict[str, Any], event_id: str, *, retry: int | None = None
    ) -> Reply:
        """POST one signed event (a retry if `retry`), as Slack does; returns the ack."""
        body = event_body(event, event_id)
        return post(self.server.url, body, signed_event(body, retry=retry))

    def mention(
        self, text: str, *, channel_id: str = CHANNEL, thread_ts: str | None = None
    ) -> Conversation:
        """A person posts `@openmodels text` in the channel (in the thread `thread_ts` if
        given); Slack sends app_mention. Waits for the answer, in the mention's thread."""
        message = self.slack.user_message(
            channel_id, f"<@{BOT_USER_ID}> {text}", user=USER, thread_ts=thread_ts
        )
        event_id = new_event_id()
        reply = self.post_event(mention_event(message, channel_id), event_id)
        self.wait_done(event_id)
        thread = thread_ts or message["ts"]
        return Conversation(reply, event_id, message, self.slack.thread(channel_id, thread))

    def direct_message(self, text: str, *, channel_id: str = DM) -> Conversation:
        """A person sends the app `text` in their DM; waits for the answer there."""
        message = self.slack.user_message(channel_id, text, user=USER)
        event_id = new_event_id()
        reply = self.post_event(dm_event(message, channel_id), event_id)
        self.wait_done(event_id)
        after = self.slack.channel_messages.get(channel_id, [])
        return Conversation(reply, event_id, message, from_the_app(after))

    def event(self, event: dict[str, Any], team_id: str = TEAM) -> Reply:
        """Send an Events API event (e.g. app_home_opened), signed, as JSON."""
        body = json.dumps(event_callback(event, team_id=team_id)).encode()
        return post(self.server.url, body, signed_json(body))

    def press(self, message: dict[str, Any], action_id: str, option: str | None = None) -> Exchange:
        """Press the element `action_id` of a private message (for a menu: choose the
        option whose value is `option`) and wait for the answer at its response URL."""
        return self.send(
            lambda url: interaction_body(
                message_press(self.slack, message, action_id, option, url)
            ),
            kind="action",
        )

    def press_in_view(
        self, view: dict[str, Any], action_id: str, option: str | None = None
    ) -> Reply:
        """Press the element `action_id` of a home tab or modal (no response URL)."""
        body = interaction_body(view_press(self.slack, view, action_id, option))
        return post(self.server.url, body, signed(body))

    def wait_for_view(self, predicate: Callable[[], bool]) -> None:
        """Wait until the stand-in's views satisfy `predicate`; each view is then valid."""
        assert self.slack.wait_for(predicate), "the view never came"
        for view in self.slack.views.values():
            assert check_view_limits(view) == []


@dataclass
class Conversation:
    """A mention or a DM: the ack, the person's message, and the app's messages in
    answer (the thread's replies, or the app's messages in the DM)."""

    reply: Reply
    event_id: str
    message: dict[str, Any]
    answers: list[dict[str, Any]]


@contextmanager
def running_bot(
    store: Store,
    *,
    slack: LocalSlack | None = None,
    render: Callable[[ChartSpec], bytes] | None = None,
    delivery: DeliveryOptions | None = None,
    admins: frozenset[str] | None = None,
) -> Iterator[RunningBot]:
    """Start `slack` (a configured, unstarted LocalSlack) and the real app against it.

    Charts are drawn by `render`; by default a tiny stand-in PNG, since the real
    renderer has its own tests and costs a few hundred milliseconds a chart. `admins`
    is OPENMODELS_ADMINS (None: anyone may change a channel's settings).
    """
    with slack or LocalSlack() as fake:
        settings = SlackSettings(
            bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.api_url
        )
        holder: list[RunningBot] = []
        services = BotServices(
            context=AnswerContext(store=store, families=load_families(), admins=admins),
            render=render or tiny_png,
            delivery=delivery or QUICK,
            on_done=lambda url: holder[0].finished(url),
        )
        try:
            with BackgroundServer(build_app(settings, services)) as server:
                bot = RunningBot(fake, server)
                holder.append(bot)
                yield bot
        finally:
            services.close()


def signed_json(body: bytes) -> dict[str, str]:
    """Headers for an Events API callback: signed like a form, sent as JSON."""
    return signed_headers(SIGNING_SECRET, body, int(time.time()), "application/json")


def find_element(
    blocks: list[dict[str, Any]], action_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The actions block holding the element `action_id`, and the element."""
    found = payloads.find_element(blocks, action_id)
    assert found is not None, f"no element {action_id} in {[b.get('type') for b in blocks]}"
    return found


def all_strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value (texts, fields, alt texts, button values…)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)


@contextmanager
def serving_over_http(env: dict[str, str]) -> Iterator[str]:
    """`openmodels serve --http` as a real process with `env`; yields the URL it listens
    on (…/slack/events). On leaving, SIGTERM, and it must stop cleanly."""
    import subprocess
    import sys

    serve = ["serve", "--http", "--port", "0", "--host", "127.0.0.1", "--no-scheduler"]
    process = subprocess.Popen(
        [sys.executable, "-m", "openmodels.cli", *serve], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        yield listening_url(process)
    finally:
        process.terminate()  # SIGTERM: waitress stops cleanly
        code = process.wait(timeout=20)
    assert code == 0


def listening_url(process: Any) -> str:
    """The URL a starting `serve` process says it listens on (read from its stderr)."""
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stderr:
            if "listening on " in line and not found:
                found.append(line.split("listening on ", 1)[1].strip())
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(30) and found, "the server never said where it listens"
    return found[0]
