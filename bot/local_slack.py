"""A local stand-in for Slack on 127.0.0.1: the Web API, file uploads and response URLs,
and Socket Mode (bot.local_socket_mode, started on the first apps.connections.open).

It answers the way Slack documents (`{"ok": true, ...}` or `{"ok": false, "error": ...}`),
records every call, and can be told to fail a method (`not_in_channel`,
`invalid_blocks`, `ratelimited` with Retry-After, …). The tests drive the real Bolt
app against it through `SLACK_API_URL`; `openmodels console` and `demo` use it so
the real app runs without a workspace.

It behaves as Slack really does, including the quirks that public reports describe,
each marked where it is modelled with its source. By default:
- uploads take two steps (files.getUploadURLExternal, a POST of the bytes to the
  returned URL, files.completeUploadExternal), and a file is private unless
  completed with a channel;
- Slack processes an upload asynchronously: until that is done (here: until
  files.info has been asked `processing_polls` times) an image block that refers
  to the file is refused with invalid_blocks;
- a channel share is processed asynchronously too: completeUploadExternal answers
  before it exists, and it shows in files.info (`shares`, `channels`/`groups`) and in
  the channel only after processing (here: after `share_polls` files.info calls); a
  share can also be dropped for good (`drop_next_shares`) or land late (`land_late`);
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
- messages are checked against Block Kit's limits (invalid_blocks otherwise);
- apps.connections.open takes only an app-level token (xapp-) and every other method
  refuses one, with not_allowed_token_type.
A test that needs a kinder Slack says so with the constructor's flags.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from commands.blocks import check_limits

if TYPE_CHECKING:
    from bot.local_socket_mode import LocalSocketMode

log = logging.getLogger(__name__)

RESPONSE_URL_MAX_POSTS = 5
TEAM_ID, CHANNEL_ID, USER_ID, BOT_USER_ID = "T0LOCAL", "C0LOCAL", "U0LOCAL", "U0BOT"
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


@dataclass
class Share:
    """One request to share a file into a channel, as Slack processes it."""

    channel: str
    polls_left: int  # files.info calls that still show no share
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
    alt_txt: str | None = None
    title: str | None = None
    data: bytes | None = None
    completed: bool = False
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
    ) -> None:
        self.processing_polls = processing_polls  # files.info calls before a file is ready
        self.members = members  # channels the bot is in; None: every channel
        self.private_channels = frozenset(private_channels)  # shares show as `groups`
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
                from bot.local_socket_mode import LocalSocketMode

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

    def _web_api(self, method: str, params: JsonDict) -> tuple[int, JsonDict]:
        app_token = params.pop("_app_token", False)
        if not params.pop("_authed", False):
            return 200, {"ok": False, "error": "not_authed"}
        # An app-level token opens Socket Mode connections and nothing else; a bot token
        # cannot open them (https://docs.slack.dev/reference/methods/apps.connections.open).
        if app_token != (method == "apps.connections.open"):
            return 200, {"ok": False, "error": "not_allowed_token_type"}
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}
        result: JsonDict = handler(params)
        return 200, result

    def _api_auth_test(self, params: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": "https://local.slack.invalid/",
            "team": "Local workspace",
            "user": "openmodels",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": "B0LOCAL",
            "is_enterprise_install": False,
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
                id=file_id, filename=filename, length=int(length), alt_txt=params.get("alt_txt")
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
                stored = self.files.get(str(entry.get("id")))
                if stored is None or stored.data is None:
                    return {"ok": False, "error": "file_not_found"}
                stored.completed = True
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
        share = Share(channel=channel, polls_left=self.share_polls, thread_ts=thread_ts or None)
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
        if share.polls_left <= 0 and not share.dropped:
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

    def _api_files_info(self, params: JsonDict) -> JsonDict:
        with self._changed:
            stored = self.files.get(str(params.get("file")))
            if stored is None or not stored.completed:
                return {"ok": False, "error": "file_not_found"}
            stored.info_polls += 1
            # Shares are processed in the background; files.info is where they show
            # once done, so the SDK maintainers advise polling it (slackapi/bolt-js#2115).
            for share in stored.shares:
                if share.landed or share.dropped:
                    continue
                if share.polls_left <= 0:
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
        for share in stored.shares:
            if not share.landed:
                continue
            where = private if share.channel in self.private_channels else public
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
            "groups": list(private),
            "ims": [],
            "is_public": bool(public),
        }

    def _ready(self, stored: StoredFile) -> bool:
        return stored.completed and stored.info_polls > self.processing_polls

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
        message.update(type="message", user=BOT_USER_ID, bot_id="B0LOCAL")
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
            token_param = params.pop("token", "")  # never kept: it is a credential
            bearer = self.headers.get("Authorization", "")
            token = bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else token_param
            params["_authed"] = bool(token)
            params["_app_token"] = token.startswith("xapp-")
            public = {k: v for k, v in params.items() if not k.startswith("_")}
            failure = slack._injected(method, public)
            if failure:
                self._send_failure(method, public, failure)
                return
            status, body = slack._web_api(method, params)
            # Recorded before answering: once the client has its answer, the call is on record.
            slack._record(Call(method, public, parts.path, status, time.monotonic()))
            self._send_json(status, body)
            return
        if len(segments) == 2 and segments[0] == "upload" and self.command == "POST":
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
            failure = slack._injected("response_url", body)
            if failure:
                self._send_failure("response_url", body, failure)
                return
            status, answer = slack._response(segments[1], body)
            slack._record(Call("response_url", body, parts.path, status, time.monotonic()))
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
        self, method: str, params: JsonDict, failure: _Failure, size: int = 0
    ) -> None:
        headers = (
            {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        )
        self.slack._record(Call(method, params, self.path, failure.status, time.monotonic(), size))
        if method == "upload":
            self._send(failure.status, failure.error.encode(), "text/plain", headers)
        else:
            self._send_json(failure.status, {"ok": False, "error": failure.error}, headers)

    def _send_json(
        self, status: int, body: JsonDict, headers: dict[str, str] | None = None
    ) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

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


def _key(response_url: str) -> str:
    return urlsplit(response_url).path.rstrip("/").rsplit("/", 1)[-1]


def _ts() -> str:
    return f"{time.time():.6f}"


# -- what Slack sends to the app ---------------------------------------------------------


def slash_command_body(
    text: str,
    response_url: str,
    *,
    channel_id: str = CHANNEL_ID,
    user_id: str = USER_ID,
    team_id: str = TEAM_ID,
    command: str = "/openmodels",
) -> bytes:
    """The form body Slack POSTs for a slash command."""
    return urlencode(
        {
            "token": "local-verification-token",
            "team_id": team_id,
            "team_domain": "local",
            "channel_id": channel_id,
            "channel_name": "local",
            "user_id": user_id,
            "user_name": "you",
            "command": command,
            "text": text,
            "api_app_id": "A0LOCAL",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "0.0.local",
        }
    ).encode()


def signed_headers(
    signing_secret: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack signs a request with (v0: HMAC-SHA256 of 'v0:ts:body')."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(
        signing_secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
