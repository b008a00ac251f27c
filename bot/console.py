"""Console and demo modes: the real Slack app, run locally without a workspace.

Each line goes the way a slash command comes from Slack: a signed
application/x-www-form-urlencoded POST to the real Bolt app behind waitress. The
app answers a local stand-in for Slack (`localslack.server`) exactly as it would
answer Slack: the response URL gets the Block Kit answer, the Web API gets the
chart upload. What arrived is printed, and each uploaded chart is written as PNG.

The demo also opens the App Home tab (an app_home_opened event, signed JSON, as the
Events API sends it) and chooses an item of its "Compare…" menu (a signed
block_actions payload): the tab the app publishes and the modal it opens, then fills,
are printed as a terminal shows them.

The demo runs the app as a server that any workspace installs (OAuth): each of its two
workspaces installs it the way people do, through the app's /slack/install page,
"Add to Slack", Slack's consent page (the stand-in's) and back to /slack/oauth_redirect,
and is answered with its own bot token. (The console serves one workspace, as with
SLACK_BOT_TOKEN.)
"""

from __future__ import annotations

import json
import secrets
import tempfile
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
from bot.oauth import INSTALL_PATH, REDIRECT_PATH
from bot.runtime import BackgroundServer
from bot.settings import OAuthCredentials, SlackSettings
from commands import AnswerContext
from commands.answer import Answer, ChartSpec
from commands.home_view import COMPARE_ACTION
from commands.render import render_text
from localslack.browser import Visit
from localslack.oauth import OAuthApp
from localslack.payloads import (
    app_home_opened,
    event_callback,
    find_element,
    interaction_body,
    pressed,
    signed_headers,
    slash_command_body,
    view_actions_payload,
)
from localslack.server import LocalSlack
from localslack.workspaces import CHANNEL_ID, TEAM_ID, TEAM_NAME, USER_ID
from storage import open_store

DEMO_TOUR = (
    "top",
    "families",
    "regions",
    "sizes",
    "movers",
    "new",
    "race deepseek glm mistral",
    "compare qwen llama",
    "compare qwen llama --weekly",
    "compare gemma deepseek",
    "forecast",
    "family qwen",
    "model Qwen2.5-7B-Instruct",
    "help",
)
# These change what a real channel receives; a console has no channel to subscribe.
CHANNEL_VERBS = frozenset({"subscribe", "unsubscribe", "subscriptions"})
LOCAL_BOT_TOKEN = "xoxb-0-local-console"  # the stand-in accepts any bot token
# The demo's app credentials (the stand-in's app), and its second workspace.
DEMO_CLIENT = OAuthCredentials("1000.2000", secrets.token_hex(16))
SECOND = {"team": "T0SECOND", "name": "Second workspace", "user": "U0SECOND", "channel": "C0SECOND"}


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
        *,
        oauth: bool = False,
    ) -> None:
        self.context = context
        self.render = render
        self.out_dir = out_dir
        self.timeout = timeout
        self.oauth = oauth  # installs through OAuth (the demo), else one workspace's token
        self.signing_secret = secrets.token_hex(16)
        # With OAuth, Slack refuses a token it did not issue, as it does.
        self.slack = LocalSlack(strict_tokens=oauth)
        self._installs: tempfile.TemporaryDirectory[str] | None = None
        self._done: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._server: BackgroundServer | None = None
        self._services: BotServices | None = None

    def __enter__(self) -> LocalBot:
        self.slack.start()
        try:
            self._services = BotServices(
                context=self.context, render=self.render, on_done=self._finished
            )
            if self.oauth:
                self._serve_installs()
            else:
                settings = SlackSettings(
                    bot_token=LOCAL_BOT_TOKEN,
                    signing_secret=self.signing_secret,
                    api_url=self.slack.api_url,
                )
                self._server = BackgroundServer(build_app(settings, self._services))
        except BaseException:
            self.__exit__()
            raise
        return self

    def _serve_installs(self) -> None:
        """The app any workspace installs, its installations kept in a file of their own
        (the bundled sample store is read-only)."""
        assert self._services is not None
        self._installs = tempfile.TemporaryDirectory(prefix="openmodels-demo-")
        settings = SlackSettings(
            signing_secret=self.signing_secret, api_url=self.slack.api_url, oauth=DEMO_CLIENT
        )
        # A store of its own, for slack_sdk's tables (its migrations make them).
        installs = open_store(Path(self._installs.name) / "installations.db")
        app = build_app(settings, self._services, oauth_store=installs)
        self._server = BackgroundServer(app)
        self.slack.add_workspace(
            SECOND["team"],
            SECOND["name"],
            members={SECOND["user"]},
            channels={SECOND["channel"]},
        )
        self.slack.register_app(
            OAuthApp(
                DEMO_CLIENT.client_id,
                DEMO_CLIENT.client_secret,
                (self._server.base_url + REDIRECT_PATH,),
                events_url=self._server.url,
                signing_secret=self.signing_secret,
            )
        )

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        if self._services is not None:
            self._services.close()  # also stops the renderer, if it is a ChartPool
        self.slack.close()
        if self._installs is not None:
            self._installs.cleanup()

    def install(self, team_id: str, user_id: str) -> Visit:
        """`user_id` of `team_id` installs the app as people do: the install page, "Add to
        Slack", Slack's consent page, and back. The page the app shows at the end."""
        assert self._server is not None, "use LocalBot as a context manager"
        browser = self.slack.sign_in(team_id, user_id)
        return browser.add_to_slack(self._server.base_url + INSTALL_PATH)

    def _finished(self, response_url: str) -> None:
        with self._lock:
            event = self._done.setdefault(response_url, threading.Event())
        event.set()

    def ask(
        self,
        text: str,
        *,
        team_id: str = TEAM_ID,
        channel_id: str = CHANNEL_ID,
        user_id: str = USER_ID,
    ) -> Exchange:
        """Send `/openmodels text` as Slack would (from `channel_id` of `team_id`) and wait
        for the whole answer."""
        assert self._server is not None, "use LocalBot as a context manager"
        response_url = self.slack.response_url()
        with self._lock:
            done = self._done.setdefault(response_url, threading.Event())
        known_files = set(self.slack.files)
        body = slash_command_body(
            text, response_url, team_id=team_id, channel_id=channel_id, user_id=user_id
        )
        started = time.perf_counter()
        status = self._post(body, signed_headers(self.signing_secret, body))
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

    # -- the App Home ----------------------------------------------------------------------

    def open_home(self) -> dict[str, Any] | None:
        """Open the App Home tab as Slack would (app_home_opened); the view published."""
        published = len(self.slack.calls_to("views.publish"))
        body = json.dumps(event_callback(app_home_opened(USER_ID))).encode()
        headers = signed_headers(self.signing_secret, body, content_type="application/json")
        if self._post(body, headers) != 200:
            return None
        self.slack.wait_for(
            lambda: len(self.slack.calls_to("views.publish")) > published, self.timeout
        )
        return self.slack.home_views.get(USER_ID)

    def choose_in_home(self, action_id: str, option: str) -> dict[str, Any] | None:
        """Choose `option` in the home tab's menu `action_id`; the modal it fills."""
        home = self.slack.home_views[USER_ID]
        found = find_element(home["blocks"], action_id)
        if found is None:
            return None
        block, element = found
        updated = len(self.slack.calls_to("views.update"))
        payload = view_actions_payload(
            pressed(block, element, option), home, trigger_id=self.slack.trigger_id()
        )
        body = interaction_body(payload)
        if self._post(body, signed_headers(self.signing_secret, body)) != 200:
            return None
        if not self.slack.wait_for(
            lambda: len(self.slack.calls_to("views.update")) > updated, self.timeout
        ):
            return None
        return self.slack.modal(str(self.slack.calls_to("views.update")[-1].params["view_id"]))

    def _post(self, body: bytes, headers: dict[str, str]) -> int:
        assert self._server is not None, "use LocalBot as a context manager"
        request = urllib.request.Request(self._server.url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                return int(reply.status)
        except urllib.error.HTTPError as exc:
            return exc.code


def controls(blocks: list[dict[str, Any]]) -> str:
    """The buttons and menus of `blocks`, one line: '[All-time] [Compare with… ▾]'."""
    shown = []
    for block in blocks:
        if block.get("type") != "actions":
            continue
        for element in block.get("elements", []):
            if element.get("type") == "button":
                shown.append(f"[{element['text']['text']}]")
            elif element.get("type") == "static_select":
                shown.append(f"[{element['placeholder']['text']} ▾]")
    return " ".join(shown)


def render_view(view: dict[str, Any]) -> str:
    """A home tab or modal as a terminal shows it: its blocks, each row of controls
    where it stands."""
    out: list[str] = []
    pending: list[dict[str, Any]] = []
    for block in [*(view.get("blocks") or []), {"type": "end"}]:
        if block["type"] in {"actions", "end"}:
            if pending:
                out.append(render_text(Answer(text="", blocks=pending)).rstrip("\n"))
                pending = []
            if block["type"] == "actions":
                out.append(controls([block]) + "\n")
        else:
            pending.append(block)
    return "\n".join(out).rstrip("\n") + "\n"


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
        line = controls(blocks)
        if line:
            out.append(line)
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
    """The scripted tour, then the App Home tab and one of its menus; with OAuth, each
    workspace installs the app first, and a second workspace is answered too. Returns
    how many steps failed."""
    failures = 0
    if bot.oauth:
        failures += run_install(bot, out, TEAM_ID, TEAM_NAME, USER_ID)
    for text in tour:
        out.write(f"\n$ /openmodels {text}\n")
        exchange = bot.ask(text)
        if exchange.status != 200 or not exchange.messages:
            failures += 1
        out.write(render_exchange(exchange))
        out.flush()
    failures += run_home_demo(bot, out)
    if bot.oauth:
        failures += run_second_workspace(bot, out)
    return failures


def run_install(bot: LocalBot, out: IO[str], team_id: str, name: str, user_id: str) -> int:
    """Install the app in `team_id` through the OAuth flow; 1 if that failed."""
    out.write(
        f'\n$ (install openmodels in "{name}": open {INSTALL_PATH}, click Add to Slack, '
        "Allow on Slack's page)\n"
    )
    page = bot.install(team_id, user_id)
    out.write(f"{_page_text(page.text)}\n")
    out.flush()
    return 0 if page.status == 200 else 1


def run_second_workspace(bot: LocalBot, out: IO[str]) -> int:
    """Install the app in a second workspace and answer a command there, with that
    workspace's own token. Returns how many of the two failed."""
    team, name, user, channel = SECOND["team"], SECOND["name"], SECOND["user"], SECOND["channel"]
    if run_install(bot, out, team, name, user):
        return 1
    text = "compare qwen llama --public"
    out.write(f"\n$ /openmodels {text}    (in {name})\n")
    before = len(bot.slack.calls)
    exchange = bot.ask(text, team_id=team, channel_id=channel, user_id=user)
    out.write(render_exchange(exchange))
    calls = [c for c in bot.slack.calls[before:] if c.team is not None]
    own = [c for c in calls if c.team == team]
    if len(own) == len(calls):
        out.write(f"(the {len(calls)} calls to Slack for {name} all went with its own bot token)\n")
    else:
        out.write(f"(only {len(own)} of the {len(calls)} calls for {name} had its own token)\n")
    out.flush()
    answered = exchange.status == 200 and bool(exchange.messages) and len(own) == len(calls)
    return 0 if answered else 1


def _page_text(html_text: str) -> str:
    """A web page's heading and text, as a person reads them: "Heading: text"."""
    import html
    import re

    def text_of(tag: str) -> str:
        found = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", html_text, flags=re.S)
        return (
            " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split()) if found else ""
        )

    return ": ".join(part for part in (text_of("h1"), text_of("p")) if part)


def run_home_demo(bot: LocalBot, out: IO[str]) -> int:
    """Open the App Home tab, then choose the first pair of its "Compare…" menu (the
    nearest overtake's, when there is one). Returns how many of the two failed."""
    out.write("\n$ (open the openmodels App Home tab)\n")
    home = bot.open_home()
    if home is None:
        out.write("(no home tab was published)\n")
        return 2
    out.write(render_view(home))
    found = find_element(home["blocks"], COMPARE_ACTION)
    if found is None:
        return 0  # no snapshot yet: nothing to compare
    menu = found[1]
    option = menu["options"][0]
    out.write(f'\n$ (choose "{option["text"]["text"]}" in the home tab\'s Compare… menu)\n')
    modal = bot.choose_in_home(COMPARE_ACTION, option["value"])
    if modal is None:
        out.write("(the modal was not filled)\n")
        return 1
    out.write('[a modal opens, "Working on it…", then shows:]\n')
    out.write(render_view(modal))
    out.flush()
    return 0
