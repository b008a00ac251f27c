"""A local stand-in for Slack on 127.0.0.1: the Web API, file uploads and response URLs,
and Socket Mode (localslack.socket_mode, started on the first apps.connections.open).

It answers the way Slack documents (`{"ok": true, ...}` or `{"ok": false, "error": ...}`),
records every call, and can be told to fail a method (`not_in_channel`,
`invalid_blocks`, `ratelimited` with Retry-After, …), or to rate-limit one workspace's
calls of a method as Slack does (`rate_limit`). The tests drive the real Bolt app
against it through `SLACK_API_URL`; `openmodels console` and `demo` use it so the
real app runs without a workspace.

It behaves as Slack really does, including the quirks that public reports describe,
each marked where it is modelled with its source. By default:
- uploads take two steps (files.getUploadURLExternal, a POST of the bytes to the
  returned URL, files.completeUploadExternal), and a file is private unless
  completed with a channel;
- Slack processes an upload asynchronously: until that is done (here: until
  files.info has been asked `processing_polls` times, and `processing_seconds` have
  passed since the upload completed) an image block that refers to the file is
  refused with invalid_blocks;
- a channel share is processed asynchronously too: completeUploadExternal answers
  before it exists, and it shows in files.info (`shares`, `channels`/`groups`) and in
  the channel only after processing (here: after `share_polls` files.info calls, and
  `share_seconds` after the upload); a share can also be dropped for good
  (`drop_next_shares`) or land late (`land_late`); a share in a direct message shows
  under `ims` (and `shares.private`), not `channels`;
- an upload whose files.getUploadURLExternal carried `alt_txt` is never shared,
  though every call answers ok;
- a slash command's response URL never replaces or deletes a message: every post
  adds one; an interaction's response URL may replace the message it came from;
- a message posted with `thread_ts` is a reply in that thread: it is kept apart from the
  channel's messages (`replies`, conversations.replies), and the thread's parent counts
  it; a file shared with `thread_ts` lands in the thread; conversations.history lists
  no replies unless they were also sent to the channel (`reply_broadcast`);
  conversations.replies starts with the thread's first message whatever `oldest` says;
  a `thread_ts` naming no message of the channel, or naming a reply, is accepted and
  the message shows nowhere;
- message metadata comes back from history and replies only with
  `include_all_metadata`;
- a response URL takes at most five posts;
- any request can be made to take its time before Slack answers (`delay`: a slow
  response URL, a slow chat.postMessage), or to be acted on with its answer lost
  (`lose_answers`: the client's read times out);
- messages are checked against Block Kit's limits (invalid_blocks otherwise);
- apps.connections.open takes only an app-level token (xapp-) and every other method
  refuses one, with not_allowed_token_type;
- a workspace of channels and their members: users.conversations lists the channels a
  user is in, a private one only when the bot is in it too, in cursor pages that may
  come back shorter than asked (even empty) before the end, and refuses a type whose
  scope the token lacks with missing_scope;
- views: views.publish (a user's home tab), views.open (a modal, on a trigger that can
  be used once, within 3 s) and views.update (by view id, refused with hash_conflict
  when the view changed since the hash was read); each view is checked against a
  view's limits (100 blocks), and refused with invalid_arguments as Slack does.
A test that needs a kinder Slack says so with the constructor's flags.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlsplit

from commands.blocks import MAX_VIEW_BLOCKS, check_limits, check_view_limits
from localslack.browser import Browser
from localslack.oauth import SESSION_COOKIE, OAuth, OAuthApp, Page
from localslack.payloads import public_view, signed_headers
from localslack.workspaces import (
    APP_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_ID,
    USER_ID,
    Grant,
    Workspace,
    Workspaces,
)

if TYPE_CHECKING:
    from localslack.socket_mode import LocalSocketMode

log = logging.getLogger(__name__)

RESPONSE_URL_MAX_POSTS = 5
# Web API methods called without a token: oauth.v2.access authenticates the app by its
# client id and secret (https://docs.slack.dev/reference/methods/oauth.v2.access).
NO_TOKEN_METHODS = frozenset({"oauth.v2.access"})
# "Triggers expire in three seconds ... may only be used once"
# (https://api.slack.com/docs/triggers); views.open answers expired_trigger_id,
# exchanged_trigger_id or invalid_trigger_id (https://docs.slack.dev/reference/methods/views.open).
TRIGGER_TTL = 3.0
# "view_too_large: the provided view is greater than 250kb" (views.open/publish/update).
MAX_VIEW_BYTES = 250_000
# The scope each conversation type needs in users.conversations and the other
# Conversations API methods (https://docs.slack.dev/reference/methods/users.conversations).
TYPE_SCOPES = {
    "public_channel": "channels:read",
    "private_channel": "groups:read",
    "mpim": "mpim:read",
    "im": "im:read",
}
JsonDict = dict[str, Any]
ResponseKind = Literal["command", "action"]


@dataclass(frozen=True)
class Call:
    """One request received: `method` is a Web API method, 'upload' or 'response_url'."""

    method: str
    params: JsonDict
    path: str
    status: int
    at: float  # time.monotonic() when it was answered
    size: int = 0  # bytes received (uploads)
    # Whose token the call came with: its workspace, and which of the workspace's
    # tokens (1, 2, … as rotation issues them; 0 for one the stand-in did not issue).
    team: str | None = None
    token_serial: int | None = None


@dataclass
class Share:
    """One request to share a file into a channel, as Slack processes it."""

    channel: str
    polls_left: int  # files.info calls that still show no share
    due: float = 0.0  # time.monotonic() before which it shows nowhere (processing)
    dropped: bool = False  # Slack answered ok but will never complete it
    ts: str | None = None  # the file message's ts, once the share has landed
    thread_ts: str | None = None  # shared as a reply in this thread

    @property
    def landed(self) -> bool:
        return self.ts is not None


@dataclass
class StoredFile:
    id: str
    filename: str
    length: int
    team_id: str = TEAM_ID  # the workspace of the token that uploaded it
    alt_txt: str | None = None
    title: str | None = None
    data: bytes | None = None
    completed: bool = False
    completed_at: float = 0.0  # time.monotonic()
    shares: list[Share] = field(default_factory=list)
    info_polls: int = 0

    @property
    def channels(self) -> list[str]:
        """Channels the file really shows in: landed shares only."""
        return [share.channel for share in self.shares if share.landed]

    @property
    def requested_channels(self) -> list[str]:
        """Channels the uploader asked to share it in, landed or not."""
        return [share.channel for share in self.shares]


@dataclass
class _Delay:
    method: str
    seconds: float | threading.Event  # an Event: until the test sets it
    times: int | None  # None: every matching call
    when: Callable[[JsonDict], bool] | None = None


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None
    times: int
    when: Callable[[JsonDict], bool] | None = None


class LocalSlack:
    """The stand-in server. Use as a context manager, or call start() and close()."""

    def __init__(
        self,
        *,
        processing_polls: int = 0,
        members: set[str] | None = None,
        private_channels: frozenset[str] | set[str] = frozenset(),
        share_polls: int = 1,
        alt_txt_blocks_share: bool = True,
        channel_members: dict[str, set[str]] | None = None,
        archived_channels: frozenset[str] | set[str] = frozenset(),
        scopes: frozenset[str] | set[str] | None = None,
        home_tab_enabled: bool = True,
        processing_seconds: float = 0.0,
        share_seconds: float = 0.0,
        strict_tokens: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # The workspaces and the tokens Slack issued (`strict_tokens`: refuse a bot token
        # the stand-in did not issue), and the app's OAuth side; `clock` (wall-clock
        # seconds) decides when OAuth codes and rotating tokens expire.
        self.workspaces = Workspaces(strict=strict_tokens, clock=clock)
        self.oauth = OAuth(self.workspaces)
        self.events_sent: list[JsonDict] = []  # event callbacks sent to the app, in order
        self.processing_polls = processing_polls  # files.info calls before a file is ready
        # Slack processes uploads and shares in the background, and takes its time: "It
        # takes a few moments for all file properties to become available", so its staff
        # advise polling files.info with waits doubling up to 16 s
        # (slackapi/slack-github-action#413); shares show in a channel only once done
        # (slackapi/node-slack-sdk#2260). Seconds after the upload before each is done.
        self.processing_seconds = processing_seconds
        self.share_seconds = share_seconds
        self.members = members  # channels the bot is in; None: every channel
        self.private_channels = frozenset(private_channels)  # shares show as `groups`
        # The people in each channel (the bot's own membership is `members`).
        self.channel_members: dict[str, set[str]] = (
            {CHANNEL_ID: {USER_ID}} if channel_members is None else channel_members
        )
        self.archived_channels = frozenset(archived_channels)
        # The bot token's scopes, for the methods that check them; None: every scope.
        self.scopes = None if scopes is None else frozenset(scopes)
        self.home_tab_enabled = home_tab_enabled  # the manifest's app_home.home_tab_enabled
        self.home_views: dict[str, JsonDict] = {}  # user id -> their published home view
        self.views: dict[str, JsonDict] = {}  # view id -> every view, home tabs and modals
        self._triggers: dict[str, list[Any]] = {}  # trigger id -> [issued at, used]
        # files.info calls that still show no share after files.completeUploadExternal;
        # 0 lands a share at once (kinder than Slack: say so where a test needs it).
        self.share_polls = share_polls
        self.alt_txt_blocks_share = alt_txt_blocks_share
        self.files: dict[str, StoredFile] = {}
        # A channel's own messages (what conversations.history lists), and apart from
        # them each thread's replies, keyed by channel and the parent's ts.
        self.channel_messages: dict[str, list[JsonDict]] = {}
        self.replies: dict[tuple[str, str], list[JsonDict]] = {}
        self._calls: list[Call] = []
        self._responses: dict[str, list[JsonDict]] = {}
        self._response_kinds: dict[str, ResponseKind] = {}
        self._drop_shares = 0
        self._comments: dict[str, str] = {}  # file id -> initial_comment
        self._failures: dict[str, list[_Failure]] = {}
        self._rate_limits: dict[tuple[str, str], list[_Failure]] = {}  # (method, team)
        self._delays: list[_Delay] = []
        self._held: dict[str, int] = {}  # calls of each method `delay` holds right now
        self._lost: list[_Delay] = []
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._socket_mode: LocalSocketMode | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> LocalSlack:
        slack = self

        class Handler(_Handler):
            pass

        Handler.slack = slack
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval so close() returns at once (the default waits 0.5 s).
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="local-slack", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._socket_mode is not None:
            self._socket_mode.close()
            self._socket_mode = None

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The value for SLACK_API_URL."""
        return self.base_url + "/api/"

    @property
    def socket_mode(self) -> LocalSocketMode:
        """The app's Socket Mode endpoint, started on first use (it needs `websockets`)."""
        with self._changed:
            if self._socket_mode is None:
                from localslack.socket_mode import LocalSocketMode

                self._socket_mode = LocalSocketMode().start()
            return self._socket_mode

    def response_url(self, kind: ResponseKind = "command") -> str:
        """A fresh response URL, as Slack puts in each slash command ("command") and each
        interaction such as a button click ("action"). The two behave differently: see
        `visible`. A URL this stand-in did not hand out counts as a command's."""
        key = str(next(self._ids))
        with self._changed:
            self._response_kinds[key] = kind
        return f"{self.base_url}/response/{key}"

    def trigger_id(self, user_id: str = USER_ID) -> str:
        """A fresh trigger, as Slack puts in each interaction payload of `user_id`: usable
        once, for TRIGGER_TTL seconds, in the documented "132456.7890123.abcdef" shape."""
        trigger = f"{next(self._ids)}.{int(time.time())}.{secrets.token_hex(8)}"
        with self._changed:
            self._triggers[trigger] = [time.monotonic(), False, user_id]
        return trigger

    def age_triggers(self, seconds: float) -> None:
        """Make every trigger handed out `seconds` older: a slow app, without a test
        having to sleep."""
        with self._changed:
            for state in self._triggers.values():
                state[0] -= seconds

    def modal(self, view_id: str) -> JsonDict:
        """The modal with id `view_id` as it stands."""
        with self._changed:
            return self.views[view_id]

    # -- workspaces and installing the app ---------------------------------------------------

    def add_workspace(
        self,
        team_id: str,
        name: str,
        *,
        members: set[str] | frozenset[str] = frozenset(),
        admins: set[str] | frozenset[str] = frozenset(),
        owners: tuple[str, ...] = (),
        channels: set[str] | frozenset[str] = frozenset(),
        enterprise_id: str | None = None,
    ) -> Workspace:
        """Another workspace, with its people and channels; the app is not installed in
        it until someone allows it through the OAuth flow (`register_app`, `sign_in`)."""
        workspace = self.workspaces.add(
            team_id,
            name,
            members=members,
            admins=admins,
            owners=owners,
            channels=channels,
            enterprise_id=enterprise_id,
        )
        with self._changed:
            for channel in channels:
                self.channel_members.setdefault(channel, set(workspace.members))
        return workspace

    def register_app(self, app: OAuthApp) -> None:
        """The app's settings at api.slack.com: client id and secret, redirect URLs, token
        rotation, and the Request URL and signing secret its events go with."""
        self.oauth.register(app)

    def sign_in(self, team_id: str, user_id: str, *, org_wide: bool = False) -> Browser:
        """`user_id` of `team_id` signs in to Slack: their browser, holding the session
        cookie (SESSION_COOKIE) the consent page knows them by. With `org_wide`, they
        install for their whole Enterprise Grid organisation."""
        browser = Browser()
        session = self.oauth.sign_in(team_id, user_id, org_wide=org_wide)
        browser.set_cookie(self.base_url, SESSION_COOKIE, session)
        return browser

    @property
    def authorize_url(self) -> str:
        """Slack's consent page: https://slack.com/oauth/v2/authorize, here."""
        return self.base_url + "/oauth/v2/authorize"

    def uninstall(self, team_id: str) -> list[int]:
        """A workspace admin removes the app from `team_id`: its tokens stop working, and
        Slack sends the app app_uninstalled and tokens_revoked. The app's answers."""
        return self._send_events(self.oauth.uninstall(team_id))

    def revoke_bot_token(self, team_id: str) -> list[int]:
        """The bot token of the app in `team_id` is revoked; Slack sends tokens_revoked."""
        return self._send_events(self.oauth.revoke_bot(team_id))

    def _send_events(self, callbacks: list[JsonDict]) -> list[int]:
        """POST each event callback to the app's Request URL, signed as Slack signs them
        (kept in `events_sent`, in order)."""
        app = self.oauth.app
        assert app is not None and app.events_url and app.signing_secret, "register_app first"
        answers = []
        for callback in callbacks:
            with self._changed:
                self.events_sent.append(callback)
            body = json.dumps(callback).encode()
            headers = signed_headers(app.signing_secret, body, content_type="application/json")
            request = urllib.request.Request(app.events_url, data=body, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    answers.append(int(reply.status))
            except urllib.error.HTTPError as exc:
                answers.append(exc.code)
        return answers

    # -- configuring shares ---------------------------------------------------------------

    def drop_next_shares(self, n: int = 1) -> None:
        """The next `n` channel shares are accepted (ok: true) and never land.

        Reported: files.completeUploadExternal answers ok and the file never appears
        in the channel (paradigmxyz/centaur#311; slackapi/bolt-js#2326).
        """
        with self._changed:
            self._drop_shares += n

    def land_late(self, file_id: str) -> None:
        """A dropped or pending share of `file_id` lands now, as a late share would."""
        with self._changed:
            stored = self.files[file_id]
            for share in stored.shares:
                if not share.landed:
                    self._land(stored, share)
            self._changed.notify_all()

    # -- configuring failures -------------------------------------------------------------

    def fail(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        when: Callable[[JsonDict], bool] | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with `error` (Slack's error codes).

        With `when`, only calls whose parameters (for `response_url`, the posted body)
        satisfy it are failed; the others are answered as usual.
        """
        if status is None:
            status = {"ratelimited": 429}.get(error) or {"response_url": 404, "upload": 500}.get(
                method, 200
            )
        with self._changed:
            self._failures.setdefault(method, []).append(
                _Failure(error, status, retry_after, times, when)
            )

    def rate_limit(
        self, method: str, team_id: str, *, retry_after: int = 30, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` made with a token of `team_id` as
        Slack answers a call over its rate limit: HTTP 429, `Retry-After` (seconds) and
        `{"ok": false, "error": "ratelimited"}`. Another workspace's calls, and this
        workspace's calls of other methods, are answered as usual: Slack applies its
        limits "per API method per workspace/team per app"
        (https://docs.slack.dev/apis/web-api/rate-limits).
        """
        with self._changed:
            self._rate_limits.setdefault((method, team_id), []).append(
                _Failure("ratelimited", 429, retry_after, times)
            )

    def delay(
        self,
        method: str,
        seconds: float | threading.Event,
        *,
        times: int | None = None,
        when: Callable[[JsonDict], bool] | None = None,
    ) -> None:
        """Take `seconds` (or, given an Event, until it is set) before answering calls of
        `method` (a Web API method, `response_url` or `upload`): the next `times`, or
        all; with `when`, only those whose parameters (for `response_url`, the posted
        body, and `_key`, the URL's key) satisfy it.

        Slack's servers sometimes answer posts slowly, past a client's timeout: "The read
        operation timed out (occasionally)" on chat.postMessage (slackapi/bolt-python#1370),
        ETIMEDOUT on Web API calls, labelled a server-side issue (slackapi/bolt-js#2185).
        Each request has its own thread here, as at Slack: a slow one delays no other.
        """
        with self._changed:
            self._delays.append(_Delay(method, seconds, times, when))

    def slow_response_url(self, response_url: str, seconds: float | threading.Event) -> None:
        """Every post to `response_url` takes `seconds` (or until the Event is set)
        before Slack answers it."""
        key = _key(response_url)
        self.delay("response_url", seconds, when=lambda body: body.get("_key") == key)

    def lose_answers(
        self, method: str, *, times: int = 1, when: Callable[[JsonDict], bool] | None = None
    ) -> None:
        """Take the next `times` calls of `method` as usual (a message is posted), then
        drop the connection before answering: the client never learns that it worked.

        What a client's read timeout looks like from Slack's side: the request was
        received and acted on, its answer never read ("The read operation timed out
        (occasionally)" on chat.postMessage, slackapi/bolt-python#1370).
        """
        with self._changed:
            self._lost.append(_Delay(method, 0.0, times, when))

    # -- what was received --------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._changed:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts(self, response_url: str) -> list[JsonDict]:
        """Every message accepted at `response_url`, in order."""
        with self._changed:
            return list(self._responses.get(_key(response_url), []))

    def response_kind(self, response_url: str) -> ResponseKind:
        """Whether `response_url` came with a slash command or with an interaction."""
        with self._changed:
            return self._response_kinds.get(_key(response_url), "command")

    def visible(self, response_url: str) -> list[JsonDict]:
        """What the user sees from `response_url`, in order.

        A slash command's response URL cannot update the message it created: Slack
        ignores `replace_original` (and `delete_original`) there and every post adds a
        message (slackapi/bolt-python#1268, where the Bolt maintainers say so;
        slackapi/bolt-js#2287). An interaction's response URL may replace or delete
        the message it came from (Slack's "Handling user interaction" docs): here, the
        message before it from the same URL.
        """
        posts = self.posts(response_url)
        if self.response_kind(response_url) == "command":
            return posts
        shown: list[JsonDict] = []
        for message in posts:
            if message.get("delete_original"):
                if shown:
                    shown.pop()
                continue
            if message.get("replace_original") and shown:
                shown[-1] = message
            else:
                shown.append(message)
        return shown

    def thread(self, channel: str, ts: str) -> list[JsonDict]:
        """The replies in the thread under message `ts` of `channel`, in order."""
        with self._changed:
            return list(self.replies.get((channel, ts), []))

    def user_message(
        self, channel: str, text: str, *, user: str = USER_ID, thread_ts: str | None = None
    ) -> JsonDict:
        """A message a person posts (say, one mentioning the app): it is in the channel,
        or the thread, before Slack sends the app its event. Returns the message."""
        message: JsonDict = {"type": "message", "user": user, "text": text, "ts": _ts()}
        with self._changed:
            self._add_message(channel, message, thread_ts)
            self._changed.notify_all()
        return message

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until `predicate()` holds (checked after every request), at most `timeout` s."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    # -- answering (called from the server threads) ----------------------------------------

    def _record(self, call: Call) -> None:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()

    def _wait_before_answering(self, method: str, params: JsonDict) -> None:
        """Wait as `delay` asked for this call, if it did."""
        found = _take(self._delays, method, params, self._changed)
        if found is None:
            return
        with self._changed:
            self._held[method] = self._held.get(method, 0) + 1
            self._changed.notify_all()
        try:
            if isinstance(found.seconds, threading.Event):
                found.seconds.wait(60)
            else:
                time.sleep(found.seconds)
        finally:
            with self._changed:
                self._held[method] -= 1

    def holding(self, method: str) -> int:
        """How many calls of `method` wait right now before their answer (`delay`)."""
        with self._changed:
            return self._held.get(method, 0)

    def _answer_lost(self, method: str, params: JsonDict) -> bool:
        """Whether this call's answer is to be dropped (see `lose_answers`)."""
        return _take(self._lost, method, params, self._changed) is not None

    def _injected(self, method: str, params: JsonDict) -> _Failure | None:
        with self._changed:
            queue = self._failures.get(method) or []
            for failure in queue:
                if failure.when is None or failure.when(params):
                    failure.times -= 1
                    if failure.times <= 0:
                        queue.remove(failure)
                    return failure
            return None

    def _rate_limited(self, method: str, token: str) -> tuple[str, _Failure] | None:
        """The team and its 429, if `rate_limit` asked for one for this call's workspace."""
        grant = self.workspaces.grant(token) if token else None
        if not isinstance(grant, Grant):
            return None
        with self._changed:
            queue = self._rate_limits.get((method, grant.team_id)) or []
            if not queue:
                return None
            limit = queue[0]
            limit.times -= 1
            if limit.times <= 0:
                queue.pop(0)
            return grant.team_id, limit

    def _web_api(
        self, method: str, params: JsonDict, token: str, authorization: str
    ) -> tuple[int, JsonDict, Grant | None]:
        """Answer a Web API call made with `token` (never kept); the grant it came with."""
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if method in NO_TOKEN_METHODS:
            return 200, self.oauth.access(params, authorization), None
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, None
        # An app-level token opens Socket Mode connections and nothing else; a bot token
        # cannot open them (https://docs.slack.dev/reference/methods/apps.connections.open).
        if token.startswith("xapp-") != (method == "apps.connections.open"):
            return 200, {"ok": False, "error": "not_allowed_token_type"}, None
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, None
        if method == "apps.connections.open":
            return 200, handler(params), None
        grant = self.workspaces.grant(token)
        if isinstance(grant, str):
            return 200, {"ok": False, "error": grant}, None
        refused = self.workspaces.refused(grant, params)
        if refused is not None:
            return 200, {"ok": False, "error": refused}, grant
        result: JsonDict = handler({**params, "_grant": grant})
        return 200, result, grant

    def _workspace(self, params: JsonDict) -> Workspace:
        """The workspace of the token a call came with."""
        grant: Grant = params["_grant"]
        found = self.workspaces.get(grant.team_id)
        assert found is not None
        return found

    def _api_auth_test(self, params: JsonDict) -> JsonDict:
        """https://docs.slack.dev/reference/methods/auth.test: who the token is."""
        workspace = self._workspace(params)
        grant: Grant = params["_grant"]
        return {
            "ok": True,
            "url": f"https://{workspace.id.lower()}.slack.invalid/",
            "team": workspace.name,
            "user": "openmodels",
            "team_id": workspace.id,
            "user_id": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "enterprise_id": workspace.enterprise_id,
            "is_enterprise_install": grant.org_wide,
        }

    def _api_users_info(self, params: JsonDict) -> JsonDict:
        """https://docs.slack.dev/reference/methods/users.info: a person and their role in
        the workspace (`is_admin`, `is_owner`, `is_primary_owner`, the fields of
        java-slack-sdk's json-logs/samples/api/users.info.json). Needs users:read."""
        refused = self._missing_scope(["users:read"], params)
        if refused:
            return refused
        workspace = self._workspace(params)
        user = str(params.get("user") or "")
        known = workspace.members if workspace.id != TEAM_ID else self._known_users()
        if user not in known:
            return {"ok": False, "error": "user_not_found"}
        owner = user in workspace.owners
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": workspace.id,
                "name": user.lower(),
                "deleted": False,
                "is_admin": user in workspace.admins or owner,
                "is_owner": owner,
                "is_primary_owner": user == workspace.primary_owner,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": user == workspace.bot_user_id,
                "is_app_user": False,
                "enterprise_id": workspace.enterprise_id,
            },
        }

    def _api_apps_connections_open(self, params: JsonDict) -> JsonDict:
        return {"ok": True, "url": self.socket_mode.open_url()}

    def _api_files_getUploadURLExternal(self, params: JsonDict) -> JsonDict:
        filename, length = params.get("filename"), str(params.get("length") or "")
        if not filename or not length.isdecimal():
            return {"ok": False, "error": "invalid_arguments"}
        if len(params.get("alt_txt") or "") > 1000:
            return {"ok": False, "error": "alt_txt_too_large"}  # Slack's documented limit
        file_id = f"F{next(self._ids):09d}"
        with self._changed:
            self.files[file_id] = StoredFile(
                id=file_id,
                filename=filename,
                length=int(length),
                team_id=params["_grant"].team_id,
                alt_txt=params.get("alt_txt"),
            )
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, params: JsonDict) -> JsonDict:
        try:
            entries = _json_param(params.get("files"))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(entries, list) or not entries:
            return {"ok": False, "error": "invalid_arguments"}
        channels = [params["channel_id"]] if params.get("channel_id") else []
        channels += [c for c in str(params.get("channels") or "").split(",") if c]
        for channel in channels:
            if not self._is_member(channel):
                return {"ok": False, "error": "not_in_channel"}
        done = []
        with self._changed:
            for entry in entries:
                stored = self._own_file(str(entry.get("id")), params)
                if stored is None or stored.data is None:
                    return {"ok": False, "error": "file_not_found"}
                stored.completed = True
                stored.completed_at = time.monotonic()
                stored.title = entry.get("title") or stored.filename
                for channel in channels:
                    self._request_share(
                        stored, channel, params.get("initial_comment"), params.get("thread_ts")
                    )
            # Slack answers before the shares exist: the files come back with empty
            # `shares` and `channels` (slackapi/bolt-js#2115, #2326).
            done = [self._file_object(self.files[str(entry.get("id"))]) for entry in entries]
        return {"ok": True, "files": done}

    def _request_share(
        self, stored: StoredFile, channel: str, comment: Any, thread_ts: Any = None
    ) -> None:
        share = Share(
            channel=channel,
            polls_left=self.share_polls,
            due=time.monotonic() + self.share_seconds,
            thread_ts=thread_ts or None,
        )
        if self.alt_txt_blocks_share and stored.alt_txt:
            # Reported: with alt_txt the upload succeeds, ok is true, and the file is
            # never shared to the channel (slackapi/python-slack-sdk#1818; the same
            # cause in paradigmxyz/centaur#311 and python-slack-sdk#1575).
            share.dropped = True
        elif self._drop_shares:
            self._drop_shares -= 1
            share.dropped = True
        stored.shares.append(share)
        if comment:
            self._comments[stored.id] = str(comment)
        if share.polls_left <= 0 and share.due <= time.monotonic() and not share.dropped:
            self._land(stored, share)

    def _land(self, stored: StoredFile, share: Share) -> None:
        """The share is processed: the file message appears in the channel."""
        share.dropped = False
        share.ts = _ts()
        message: JsonDict = {
            "type": "message",
            "user": BOT_USER_ID,  # the uploader shares it: here, always the app
            "ts": share.ts,
            "text": self._comments.get(stored.id, ""),
            "files": [{"id": stored.id, "title": stored.title}],
        }
        self._add_message(share.channel, message, share.thread_ts)

    def _add_message(
        self, channel: str, message: JsonDict, thread_ts: str | None, broadcast: bool = False
    ) -> None:
        """Put `message` in the channel, or as a reply in the thread `thread_ts` (caller
        holds the lock). The parent learns of its replies as Slack's message object says
        (reply_count, reply_users, latest_reply; its thread_ts is its own ts). A reply
        to a ts the channel never had is accepted and shows under no message: posting
        with a thread_ts that names no message answers ok while the reply appears nowhere
        (slackapi/python-slack-sdk#840; slackapi/node-slack-sdk#780, a float ts that lost
        digits). Slack's chat.postMessage docs say to give a parent's ts, never a
        reply's: a reply's ts is treated the same, as naming no thread. A reply also
        sent to the channel (`broadcast`) is in the channel's history too, as subtype
        thread_broadcast (Slack's chat.postMessage `reply_broadcast`)."""
        if not thread_ts:
            self.channel_messages.setdefault(channel, []).append(message)
            return
        message["thread_ts"] = thread_ts
        self.replies.setdefault((channel, thread_ts), []).append(message)
        parent = self._find(channel, thread_ts)
        if parent is not None:
            message["parent_user_id"] = parent.get("user") or BOT_USER_ID
            if broadcast:
                message["subtype"] = "thread_broadcast"
                self.channel_messages[channel].append(message)
            users = parent.setdefault("reply_users", [])
            who = message.get("user") or BOT_USER_ID
            if who not in users:
                users.append(who)
            parent.update(
                thread_ts=thread_ts,
                reply_count=len(self.replies[(channel, thread_ts)]),
                reply_users_count=len(users),
                latest_reply=message["ts"],
            )

    def _find(self, channel: str, ts: str) -> JsonDict | None:
        """The channel's message `ts`, not a reply (one also sent to the channel is still
        a reply: its thread_ts is its parent's)."""
        return next(
            (
                m
                for m in self.channel_messages.get(channel, [])
                if m["ts"] == ts and m.get("thread_ts", ts) == ts
            ),
            None,
        )

    def _own_file(self, file_id: str, params: JsonDict) -> StoredFile | None:
        """The file `file_id`, if it is the calling workspace's: another workspace's file
        does not exist for its token (the stand-in's rule for any resource, see
        localslack.workspaces)."""
        stored = self.files.get(file_id)
        if stored is None or stored.team_id != params["_grant"].team_id:
            return None
        return stored

    def _api_files_info(self, params: JsonDict) -> JsonDict:
        with self._changed:
            stored = self._own_file(str(params.get("file")), params)
            if stored is None or not stored.completed:
                return {"ok": False, "error": "file_not_found"}
            stored.info_polls += 1
            # Shares are processed in the background; files.info is where they show
            # once done, so the SDK maintainers advise polling it (slackapi/bolt-js#2115).
            for share in stored.shares:
                if share.landed or share.dropped:
                    continue
                if share.polls_left <= 0 and share.due <= time.monotonic():
                    self._land(stored, share)
                else:
                    share.polls_left -= 1
            return {"ok": True, "file": self._file_object(stored)}

    def _file_object(self, stored: StoredFile) -> JsonDict:
        ready = self._ready(stored)
        # The shape of Slack's file object (docs: "File object"): `shares` holds the
        # landed shares keyed "public"/"private", then by channel id, each with the ts
        # of the message; `channels` lists public channels, `groups` private ones.
        public: dict[str, list[JsonDict]] = {}
        private: dict[str, list[JsonDict]] = {}
        ims: list[str] = []
        for share in stored.shares:
            if not share.landed:
                continue
            if _is_dm(share.channel):
                # A direct message is no channel: its share is listed under `ims` ("the IDs
                # of any direct message channels with which the file is currently shared",
                # docs.slack.dev's File object) and with the private shares, never under
                # `channels` (slackapi/java-slack-sdk json-logs/samples/api/files.info.json
                # has all three lists).
                ims.append(share.channel)
            where = (
                private
                if share.channel in self.private_channels or _is_dm(share.channel)
                else public
            )
            entry: JsonDict = {
                "reply_users": [],
                "reply_users_count": 0,
                "reply_count": 0,
                "ts": share.ts,
                "channel_name": share.channel.lower(),
                "team_id": TEAM_ID,
                "share_user_id": BOT_USER_ID,
            }
            if share.thread_ts:
                entry["thread_ts"] = share.thread_ts  # a share into a thread says which
            where.setdefault(share.channel, []).append(entry)
        shares: JsonDict = {}
        if public:
            shares["public"] = public
        if private:
            shares["private"] = private
        # Slack fills mimetype and thumbnails only once processing has finished.
        return {
            "id": stored.id,
            "name": stored.filename,
            "title": stored.title,
            "mimetype": "image/png" if ready else "",
            "filetype": "png" if ready else "",
            "size": stored.length,
            "alt_txt": stored.alt_txt,
            "user": BOT_USER_ID,
            "url_private": f"{self.base_url}/files/{stored.id}",
            "shares": shares,
            "channels": list(public),
            "groups": [c for c in private if not _is_dm(c)],
            "ims": ims,
            "is_public": bool(public),
        }

    def _ready(self, stored: StoredFile) -> bool:
        return (
            stored.completed
            and stored.info_polls > self.processing_polls
            and time.monotonic() - stored.completed_at >= self.processing_seconds
        )

    def _api_chat_postMessage(self, params: JsonDict) -> JsonDict:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not self._is_member(channel):
            return {"ok": False, "error": "not_in_channel"}
        message, error = self._message(params)
        if error:
            return {"ok": False, "error": error}
        message["ts"] = _ts()
        workspace = self._workspace(params)
        message.update(type="message", user=workspace.bot_user_id, bot_id=workspace.bot_id)
        with self._changed:
            self._add_message(
                channel,
                message,
                params.get("thread_ts") or None,
                broadcast=_truthy(params.get("reply_broadcast")),
            )
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _api_chat_postEphemeral(self, params: JsonDict) -> JsonDict:
        if not params.get("channel") or not params.get("user"):
            return {"ok": False, "error": "channel_not_found"}
        _, error = self._message(params)
        if error:
            return {"ok": False, "error": error}
        return {"ok": True, "message_ts": _ts()}

    def _api_conversations_info(self, params: JsonDict) -> JsonDict:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": channel, "is_member": self._is_member(channel)}}

    def _api_conversations_history(self, params: JsonDict) -> JsonDict:
        """A channel's messages, newest first, in pages of `limit` (Slack: default 100).

        Only the channel's own messages: "conversations.history returns only parent
        messages", a thread's replies come from conversations.replies (Slack's
        conversations.replies docs; the SDK maintainers confirm there is no other way,
        slackapi/python-slack-sdk#1306), except a reply also sent to the channel
        (`reply_broadcast`, subtype thread_broadcast).
        """
        channel = str(params.get("channel"))
        if not self._is_member(channel):
            return {"ok": False, "error": "not_in_channel"}
        with self._changed:
            shown = [
                _listed(m, params)
                for m in reversed(self.channel_messages.get(channel, []))
                if _in_range(m, params)
            ]
        return _page(shown, params, default_limit=100)

    def _api_conversations_replies(self, params: JsonDict) -> JsonDict:
        """A thread: its parent, then its replies oldest first (Slack's docs).

        `ts` may name the parent or any reply in the thread ("Unique identifier of either
        a thread's parent message or a message in the thread"); a message without
        replies comes back alone; a ts naming no message is thread_not_found. The first
        page starts with the parent whatever `oldest` and `latest` say, and later pages
        (by cursor) hold replies only (simstudioai/sim#4934: a client that took a later
        page's first message for the parent got a reply). Pages hold `limit` replies
        (Slack: default 1000).
        """
        channel, ts = str(params.get("channel")), str(params.get("ts") or "")
        if not self._is_member(channel):
            return {"ok": False, "error": "not_in_channel"}
        with self._changed:
            parent = self._find(channel, ts) or self._parent_of_reply(channel, ts)
            if parent is None:
                return {"ok": False, "error": "thread_not_found"}
            replies = [
                _listed(m, params)
                for m in self.replies.get((channel, parent["ts"]), [])
                if _in_range(m, params)
            ]
            answer = _page(replies, params, default_limit=1000)
            if not params.get("cursor"):
                answer["messages"] = [_listed(parent, params), *answer["messages"]]
        return answer

    def _parent_of_reply(self, channel: str, ts: str) -> JsonDict | None:
        """The parent of the thread holding reply `ts`, if the channel has one."""
        for (where, parent_ts), replies in self.replies.items():
            if where == channel and any(m["ts"] == ts for m in replies):
                return self._find(channel, parent_ts)
        return None

    def _is_member(self, channel: str) -> bool:
        return self.members is None or channel in self.members

    # -- the workspace's conversations ------------------------------------------------------

    def _missing_scope(self, needed: list[str], params: JsonDict) -> JsonDict | None:
        """missing_scope when the call's token lacks one of `needed`: a token Slack issued
        has the scopes it was granted; any other, the stand-in's `scopes`."""
        grant: Grant | None = params.get("_grant")
        granted = grant.scopes if grant is not None and grant.scopes is not None else self.scopes
        if granted is None:
            return None
        missing = [scope for scope in needed if scope not in granted]
        if not missing:
            return None
        # Slack names what was needed and what the token has (docs: "Scopes and
        # permissions"; slack_sdk's SlackApiError shows `needed` and `provided`).
        return {
            "ok": False,
            "error": "missing_scope",
            "needed": ",".join(missing),
            "provided": ",".join(sorted(granted)),
        }

    def _conversation_ids(self) -> list[str]:
        ids = set(self.channel_members) | set(self.private_channels) | set(self.archived_channels)
        if self.members is not None:
            ids |= self.members
        return sorted(ids)

    def _known_users(self) -> set[str]:
        users = {USER_ID, BOT_USER_ID}
        for people in self.channel_members.values():
            users |= people
        return users

    def _in_channel(self, user: str, channel: str) -> bool:
        if user == BOT_USER_ID:
            return self._is_member(channel)
        return user in self.channel_members.get(channel, set())

    def _channel_object(self, channel: str) -> JsonDict:
        """A limited conversation object, as users.conversations returns: "We omit the
        is_member and num_members fields" (its reference page)."""
        private = channel in self.private_channels
        return {
            "id": channel,
            "name": channel.lower(),
            "name_normalized": channel.lower(),
            "is_channel": not private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": private,
            "is_archived": channel in self.archived_channels,
            "is_general": False,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "context_team_id": TEAM_ID,
            "created": 1_700_000_000,
            "updated": 1_700_000_000_000,
            "creator": USER_ID,
            "unlinked": 0,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }

    def _api_users_conversations(self, params: JsonDict) -> JsonDict:
        """https://docs.slack.dev/reference/methods/users.conversations"""
        types = [t for t in str(params.get("types") or "public_channel").split(",") if t]
        if any(t not in TYPE_SCOPES for t in types):
            return {"ok": False, "error": "invalid_types"}
        refused = self._missing_scope([TYPE_SCOPES[t] for t in types], params)
        if refused:
            return refused
        user = str(params.get("user") or BOT_USER_ID)
        if user not in self._known_users():
            return {"ok": False, "error": "user_not_found"}
        try:
            offset = _offset(params.get("cursor"))
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        # "Must be an integer with a max value of 999"; the default is 100.
        limit = max(1, min(int(params.get("limit") or 100), 999))
        exclude_archived = str(params.get("exclude_archived") or "").lower() in {"true", "1"}
        everything = self._conversation_ids()
        page = everything[offset : offset + limit]
        # The page is cut before it is filtered, so it holds fewer than `limit` even
        # when more follow: "Fewer than the requested number of items may be returned,
        # even if the end of the list hasn't been reached" (the `limit` argument).
        listed = []
        for channel in page:
            private = channel in self.private_channels
            if ("private_channel" if private else "public_channel") not in types:
                continue
            if exclude_archived and channel in self.archived_channels:
                continue
            if not self._in_channel(user, channel):
                continue
            # "Private channel membership is only listed when the calling user, bot user,
            # or app shares membership" in it (the method's reference).
            if private and not self._is_member(channel):
                continue
            listed.append(self._channel_object(channel))
        more = offset + limit < len(everything)
        return {
            "ok": True,
            "channels": listed,
            "response_metadata": {"next_cursor": _cursor(offset + limit) if more else ""},
        }

    # -- views: the home tab and modals ------------------------------------------------------

    def _view_param(self, params: JsonDict, kinds: set[str]) -> tuple[JsonDict | None, JsonDict]:
        """The `view` argument, checked as Slack checks it; (view, {}) or (None, error)."""
        try:
            view = _json_param(params.get("view"))
        except ValueError:
            return None, _invalid_arguments("invalid `view`: not JSON")
        if not isinstance(view, dict):
            return None, _invalid_arguments("missing required field: view")
        if len(json.dumps(view)) > MAX_VIEW_BYTES:
            return None, {"ok": False, "error": "view_too_large"}
        if view.get("type") not in kinds:
            return None, _invalid_arguments(
                f"[ERROR] view type must be one of {sorted(kinds)} [json-pointer:/view/type]"
            )
        problems = check_view_limits(view)
        if problems:
            # Reported: "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
            # (grafana/oncall#210); every view validation error is invalid_arguments.
            too_many = f"{len(view.get('blocks') or [])} blocks > {MAX_VIEW_BLOCKS}"
            messages = [
                f"[ERROR] no more than {MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]"
                if problem == too_many
                else f"[ERROR] {problem} [json-pointer:/view]"
                for problem in problems
            ]
            return None, _invalid_arguments(*messages)
        return view, {}

    def _store_view(self, view: JsonDict, *, view_id: str | None, user: str) -> JsonDict:
        """Keep `view` as Slack would: its id, a new hash, a block_id on every block."""
        view_id = view_id or f"V{next(self._ids):09d}"
        blocks = []
        for block in view.get("blocks") or []:
            block = dict(block)
            block.setdefault("block_id", uuid.uuid4().hex[:5])  # Slack names unnamed blocks
            blocks.append(block)
        stored = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view["type"],
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "blocks": blocks,
            "private_metadata": view.get("private_metadata") or "",
            "callback_id": view.get("callback_id") or "",
            "external_id": view.get("external_id") or "",
            "state": {"values": {}},
            # A new hash with every change, which views.update's `hash` is checked against.
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close")),
            "notify_on_close": bool(view.get("notify_on_close")),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": "B0LOCAL",
            "user": user,  # not in Slack's object: whose view it is, for the tests
        }
        self.views[view_id] = stored
        return stored

    def _api_views_publish(self, params: JsonDict) -> JsonDict:
        """https://docs.slack.dev/reference/methods/views.publish"""
        user = str(params.get("user_id") or "")
        if user not in self._known_users():
            return _invalid_arguments("invalid `user_id`")
        view, error = self._view_param(params, {"home"})
        if view is None:
            return error
        if not self.home_tab_enabled:
            # "not_enabled: a home view is published but the Home tab isn't enabled".
            return {"ok": False, "error": "not_enabled"}
        with self._changed:
            current = self.home_views.get(user)
            if params.get("hash") and (current is None or current["hash"] != params["hash"]):
                return {"ok": False, "error": "hash_conflict"}
            view_id = current["id"] if current is not None else None
            stored = self._store_view(view, view_id=view_id, user=user)
            self.home_views[user] = stored
        return {"ok": True, "view": public_view(stored)}

    def _api_views_open(self, params: JsonDict) -> JsonDict:
        """https://docs.slack.dev/reference/methods/views.open"""
        trigger = str(params.get("trigger_id") or "")
        with self._changed:
            state = self._triggers.get(trigger)
            if state is None:
                return {"ok": False, "error": "invalid_trigger_id"}
            if state[1]:
                return {"ok": False, "error": "exchanged_trigger_id"}
            if time.monotonic() - state[0] > TRIGGER_TTL:
                return {"ok": False, "error": "expired_trigger_id"}
        view, error = self._view_param(params, {"modal"})
        if view is None:
            return error
        with self._changed:
            state[1] = True  # a trigger is spent by the call that uses it
            stored = self._store_view(view, view_id=None, user=state[2])
        return {"ok": True, "view": public_view(stored)}

    def _find_view(self, view_id: Any, external_id: Any) -> JsonDict | None:
        if view_id:
            return self.views.get(str(view_id))
        return next((v for v in self.views.values() if v["external_id"] == external_id), None)

    def _api_views_update(self, params: JsonDict) -> JsonDict:
        """https://docs.slack.dev/reference/methods/views.update"""
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if bool(view_id) == bool(external_id):
            return _invalid_arguments("exactly one of view_id or external_id is required")
        view, error = self._view_param(params, {"home", "modal"})
        if view is None:
            return error
        with self._changed:
            current = self._find_view(view_id, external_id)
            if current is None:
                return {"ok": False, "error": "not_found"}
            # "hash_conflict: the provided hash doesn't match the current stored value":
            # the view changed since the caller read it.
            if params.get("hash") and params["hash"] != current["hash"]:
                return {"ok": False, "error": "hash_conflict"}
            stored = self._store_view(view, view_id=current["id"], user=current["user"])
            if stored["type"] == "home":
                self.home_views[current["user"]] = stored
        return {"ok": True, "view": public_view(stored)}

    def _message(self, params: JsonDict) -> tuple[JsonDict, str | None]:
        try:
            blocks = _json_param(params.get("blocks")) if params.get("blocks") else None
        except ValueError:
            return {}, "invalid_blocks_format"
        text = params.get("text")
        if not text and not blocks:
            return {}, "no_text"
        if blocks is not None and not self._blocks_ok(blocks):
            return {}, "invalid_blocks"
        message: JsonDict = {"text": text or "", "blocks": blocks}
        if params.get("metadata"):
            message["metadata"] = _json_param(params.get("metadata"))
        return message, None

    def _blocks_ok(self, blocks: Any) -> bool:
        if not isinstance(blocks, list) or check_limits(blocks):
            return False
        for block in blocks:
            slack_file = block.get("slack_file") if isinstance(block, dict) else None
            if slack_file is not None:
                with self._changed:
                    stored = self.files.get(str(slack_file.get("id")))
                    if stored is None or not self._ready(stored):
                        return False  # Slack: "invalid slack file"
        return True

    def _response(self, key: str, body: JsonDict) -> tuple[int, JsonDict]:
        with self._changed:
            used = len(self._responses.get(key, []))
        if used >= RESPONSE_URL_MAX_POSTS:
            return 404, {"ok": False, "error": "used_url"}
        message, error = self._message(body)
        if error:
            return 404, {"ok": False, "error": error}
        message.update({k: v for k, v in body.items() if k not in {"text", "blocks"}})
        with self._changed:
            self._responses.setdefault(key, []).append(message)
        return 200, {"ok": True}

    def _upload(self, file_id: str, data: bytes) -> int:
        with self._changed:
            stored = self.files.get(file_id)
            if stored is None:
                return 404
            stored.data = data
        return 200


class _Server(ThreadingHTTPServer):
    # Slack takes many connections at once; Python's default listen backlog of 5 would
    # reset connections under a burst of posts, which Slack does not do.
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    slack: LocalSlack
    server_version = "LocalSlack/1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("local slack: " + format, *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        slack = self.slack
        segments = parts.path.strip("/").split("/")
        if len(segments) == 2 and segments[0] == "api":
            method = segments[1]
            params = _params(raw, self.headers.get("Content-Type", ""), parts.query)
            # Neither the token nor the client secret is ever kept: they are credentials.
            token_param = params.pop("token", "")
            params.pop("client_secret", None)
            authorization = self.headers.get("Authorization", "")
            token = (
                authorization.removeprefix("Bearer ")
                if authorization.startswith("Bearer ")
                else token_param
            )
            public = {k: v for k, v in params.items() if not k.startswith("_")}
            for secret in ("code", "refresh_token"):  # kept out of the record too
                public.pop(secret, None)
            slack._wait_before_answering(method, public)
            failure = slack._injected(method, public)
            if failure:
                self._send_failure(method, public, failure)
                return
            limited = slack._rate_limited(method, token)
            if limited:
                team, failure = limited
                self._send_failure(method, public, failure, team=team)
                return
            status, body, grant = slack._web_api(method, params, token, authorization)
            # Recorded before answering: once the client has its answer, the call is on record.
            call = Call(method, public, parts.path, status, time.monotonic())
            if grant is not None:
                call = replace(call, team=grant.team_id, token_serial=grant.serial)
            slack._record(call)
            if slack._answer_lost(method, public):
                self.close_connection = True  # done, and the answer never leaves
                return
            self._send_json(status, body)
            return
        if parts.path == "/oauth/v2/authorize" and self.command == "GET":
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            cookies = SimpleCookie(self.headers.get("Cookie", ""))
            session = cookies[SESSION_COOKIE].value if SESSION_COOKIE in cookies else None
            page = slack.oauth.consent(query, session)
            call = Call("oauth/v2/authorize", query, parts.path, page.status, time.monotonic())
            slack._record(call)
            self._send_page(page)
            return
        if len(segments) == 2 and segments[0] == "upload" and self.command == "POST":
            slack._wait_before_answering("upload", {"file_id": segments[1]})
            failure = slack._injected("upload", {"file_id": segments[1]})
            if failure:
                self._send_failure("upload", {"file_id": segments[1]}, failure, len(raw))
                return
            status = slack._upload(segments[1], raw)
            call = Call("upload", {"file_id": segments[1]}, parts.path, status, time.monotonic())
            slack._record(replace(call, size=len(raw)))
            self._send_text(status, f"OK - {len(raw)}" if status == 200 else "Not Found")
            return
        if len(segments) == 2 and segments[0] == "response" and self.command == "POST":
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send_json(400, {"ok": False, "error": "invalid_payload"})
                return
            slack._wait_before_answering("response_url", {**body, "_key": segments[1]})
            failure = slack._injected("response_url", body)
            if failure:
                self._send_failure("response_url", body, failure)
                return
            status, answer = slack._response(segments[1], body)
            slack._record(Call("response_url", body, parts.path, status, time.monotonic()))
            if slack._answer_lost("response_url", {**body, "_key": segments[1]}):
                self.close_connection = True  # posted, and the answer never leaves
                return
            self._send_json(status, answer)
            return
        if len(segments) == 2 and segments[0] == "files" and self.command == "GET":
            stored = slack.files.get(segments[1])
            if stored is None or stored.data is None:
                self._send_text(404, "Not Found")
                return
            self._send(200, stored.data, "image/png")
            return
        self._send_text(404, "Not Found")

    def _send_failure(
        self,
        method: str,
        params: JsonDict,
        failure: _Failure,
        size: int = 0,
        team: str | None = None,
    ) -> None:
        headers = (
            {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        )
        call = Call(method, params, self.path, failure.status, time.monotonic(), size, team)
        self.slack._record(call)
        if method == "upload":
            self._send(failure.status, failure.error.encode(), "text/plain", headers)
        else:
            self._send_json(failure.status, {"ok": False, "error": failure.error}, headers)

    def _send_json(
        self, status: int, body: JsonDict, headers: dict[str, str] | None = None
    ) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def _send_page(self, page: Page) -> None:
        self._send(page.status, page.body.encode(), "text/html; charset=utf-8", page.headers)

    def _send_text(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    def _send(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _params(raw: bytes, content_type: str, query: str) -> JsonDict:
    params: JsonDict = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if "json" in content_type:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        if isinstance(body, dict):
            params.update(body)
    elif raw:
        text = raw.decode("utf-8", "replace")
        params.update({k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()})
    return params


def _listed(message: JsonDict, params: JsonDict) -> JsonDict:
    """`message` as history and replies show it: metadata only when asked for
    (`include_all_metadata`: "Return all metadata associated with this message")."""
    if _truthy(params.get("include_all_metadata")) or "metadata" not in message:
        return dict(message)
    return {k: v for k, v in message.items() if k != "metadata"}


def _truthy(value: Any) -> bool:
    """Slack's boolean arguments: true, 1 (slack_sdk sends bools as "1"/"0")."""
    return str(value).lower() in {"1", "true"}


def _in_range(message: JsonDict, params: JsonDict) -> bool:
    """Whether `message` lies between `oldest` and `latest` (exclusive unless `inclusive`)."""
    ts = float(message["ts"])
    oldest = float(params.get("oldest") or 0)
    latest = float(params["latest"]) if params.get("latest") else float("inf")
    if _truthy(params.get("inclusive")):
        return oldest <= ts <= latest
    return oldest < ts < latest


def _page(messages: list[JsonDict], params: JsonDict, default_limit: int) -> JsonDict:
    """One page of `messages` by `limit` and `cursor`, with has_more and the next cursor."""
    cursor = str(params.get("cursor") or "0")
    start = int(cursor) if cursor.isdigit() else 0
    limit = int(params.get("limit") or default_limit)
    page = messages[start : start + limit]
    more = start + limit < len(messages)
    return {
        "ok": True,
        "messages": page,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def _json_param(value: Any) -> Any:
    """Slack accepts structured arguments as JSON or as JSON-encoded strings."""
    return json.loads(value) if isinstance(value, str) else value


def _take(
    found: list[_Delay], method: str, params: JsonDict, lock: threading.Condition
) -> _Delay | None:
    """The first of `found` that applies to this call, counted down (removed when spent)."""
    with lock:
        for delay in found:
            if delay.method == method and (delay.when is None or delay.when(params)):
                if delay.times is not None:
                    delay.times -= 1
                    if delay.times <= 0:
                        found.remove(delay)
                return delay
    return None


def _is_dm(channel: str) -> bool:
    """Whether `channel` is a direct message: Slack's DM ids start with D
    (https://docs.slack.dev/reference/objects/conversation-object)."""
    return channel.startswith("D")


def _key(response_url: str) -> str:
    return urlsplit(response_url).path.rstrip("/").rsplit("/", 1)[-1]


def _ts() -> str:
    return f"{time.time():.6f}"


def _cursor(offset: int) -> str:
    """An opaque cursor, base64 as Slack's are ("dXNlcjpVMDYxTkZUVDI=")."""
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: Any) -> int:
    if not cursor:
        return 0
    text = base64.b64decode(str(cursor), validate=True).decode()
    if not text.startswith("offset:"):
        raise ValueError(cursor)
    return int(text.removeprefix("offset:"))


def _invalid_arguments(*messages: str) -> JsonDict:
    return {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": list(messages)},
    }
