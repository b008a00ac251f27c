"""Mentions and direct messages: `@openmodels top` in a channel, and whatever is said to
the app in a DM, answered with the same parser and answers as `/openmodels`.

What Slack sends, and what is answered (sources beside each rule):
- `app_mention` for a message that mentions the app in a conversation it is in
  (https://docs.slack.dev/reference/events/app_mention). It is answered in a thread under
  the mention (or in the thread the mention was made in), for the channel to see.
- A direct message comes as a `message` event with `channel_type` "im" (message.im,
  https://docs.slack.dev/reference/events/message.im); DMs never come as app_mention
  ("Messages sent to your app in direct message conversations are not dispatched via
  app_mention", same page). It is answered in the DM, in its thread if it had one.
- Not answered: messages with a subtype (`message_changed` for an edit,
  `message_deleted`, `bot_message`, joins and the rest: only a person's new message has
  none, https://docs.slack.dev/reference/events/message); messages from bots (`bot_id`),
  the app's own among them, which Bolt's IgnoringSelfEvents also drops; and an
  app_mention carrying `edited`, which Slack sends again when someone edits a message
  that mentions the app (slackapi/bolt-js#960, slackapi/java-slack-sdk#755).
- Every event is acknowledged at once: Bolt acknowledges Events API requests before it
  runs the listener (HTTP 200, or the ack on the socket), and the answer follows.
- Slack retries an event not acknowledged within 3 seconds: at once, after a minute,
  after five (https://docs.slack.dev/apis/events-api/#retries), with X-Slack-Retry-Num
  over HTTP and `retry_attempt` over Socket Mode, and always the same `event_id`. A
  retry is acknowledged like any event and answered only if its event id is new here.

The event ids seen are kept for an hour. Retries of an event arrive within about six
minutes, and only when its first delivery went unacknowledged: to a process that was
too slow (it remembers the id), or that died before acknowledging (then it most likely
never answered, and answering the retry is right). On SQLite one `openmodels serve`
answers a workspace and keeps the ids in memory: a store table would cost a write
(behind a collection's write lock) for every message to catch the one duplicate left, a
process that answered, lost its acknowledgement and restarted within minutes. On
PostgreSQL several replicas share the store, and a retry may reach another replica than
the first delivery: the ids are kept in the store (storage.seen_events), written without
waiting for the store's write lock.

Charts are shared where the answer went, through bot.delivery's channel-share path with
its files.info confirmation; when the bot cannot share there, a one-line note says so
under the text answer.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.delivery import deliver_to_conversation, post_message
from bot.handlers import (
    BotServices,
    confirm_in_channel,
    done_with,
    failure_message,
    share_chart_apart,
)
from bot.slack_client import lane_client
from commands import answer_text
from commands.subscriptions import Channel
from storage import Store, seen_events
from storage.snapshots import format_timestamp

log = logging.getLogger(__name__)

# How long an event id is remembered, and how many at most: retries come within minutes.
REMEMBER_SECONDS = 3600.0
REMEMBER_AT_MOST = 10_000
_MENTION = r"<@{user}(?:\|[^>]*)?>"


class RecentEvents:
    """The event ids seen lately: a retried event is recognised by its id. Thread-safe.

    With a `shared` store (on PostgreSQL, shared by replicas) the ids are kept there."""

    def __init__(
        self,
        keep: float = REMEMBER_SECONDS,
        limit: int = REMEMBER_AT_MOST,
        clock: Callable[[], float] = time.monotonic,
        shared: Store | None = None,
    ) -> None:
        self.keep = keep
        self.limit = limit
        self.clock = clock
        self.shared = shared
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        """True the first time `event_id` is seen (within `keep` seconds); False after."""
        if self.shared is not None:
            moment = datetime.now(UTC)
            try:
                with self.shared.claiming() as db:
                    return seen_events.first_time(
                        db,
                        event_id,
                        format_timestamp(moment),
                        format_timestamp(moment - timedelta(seconds=self.keep)),
                    )
            except Exception:  # the store unreachable: this replica's memory still counts
                log.exception("could not record event %s in the store", event_id)
        with self._lock:
            now = self.clock()
            while self._seen and (
                len(self._seen) >= self.limit or now - next(iter(self._seen.values())) > self.keep
            ):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True


def ignored(event: dict[str, Any]) -> str | None:
    """Why `event` is not a person's new message to answer, or None if it is one. Pure."""
    kind = event.get("type")
    if kind not in {"app_mention", "message"}:
        return f"a {kind} event"
    if kind == "message" and event.get("channel_type") != "im":
        return f"a message in a {event.get('channel_type') or 'conversation'}, not a DM"
    if event.get("subtype"):
        return f"a {event['subtype']} message"
    if event.get("bot_id"):
        return "a bot's message"
    if event.get("edited"):
        return "an edited message"
    if not event.get("user") or not event.get("channel"):
        return "a message without a user or channel"
    return None


def command_text(text: str, bot_user_id: str | None) -> str:
    """The command in a message: the app's own mentions taken out. If the app's user id
    is not known, a mention at the start is taken for the app's."""
    if bot_user_id:
        text = re.sub(_MENTION.format(user=re.escape(bot_user_id)), " ", text)
    else:
        text = re.sub("^\\s*" + _MENTION.format(user="[UW][A-Z0-9]+"), " ", text)
    return " ".join(text.split())


def reply_thread(event: dict[str, Any]) -> str | None:
    """Where the answer goes: a mention's thread (started under it if it has none); a
    DM's thread if it was in one, else the DM itself (None)."""
    if event.get("type") == "app_mention":
        return str(event.get("thread_ts") or event.get("ts") or "") or None
    return str(event["thread_ts"]) if event.get("thread_ts") else None


def register(app: App, services: BotServices) -> None:
    """Attach the app_mention and direct message listeners to `app`."""
    store = services.context.store
    recent = RecentEvents(shared=store if store.engine_name == "postgresql" else None)

    def admit(
        body: dict[str, Any], request: BoltRequest, next_: Callable[[], None]
    ) -> BoltResponse | None:
        # Runs before Bolt acknowledges, so a duplicate is settled by the time Slack has
        # its answer; the listener then runs only for a new message to answer. What is
        # not answered is acknowledged here: without next_() and with no response of our
        # own, Bolt would answer 404 and Slack would deliver the event again.
        acknowledged = BoltResponse(status=200, body="")
        event = body.get("event") or {}
        why = ignored(event)
        if why is not None:
            log.debug("not answering event %s: %s", body.get("event_id"), why)
            return acknowledged
        if not recent.first_time(str(body.get("event_id") or "")):
            # Over HTTP the header; over Socket Mode, bot.socket_mode sets it from the
            # envelope's retry_attempt.
            retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
            log.info(
                "event %s delivered again (retry %s): answered once already",
                body.get("event_id"),
                retry,
            )
            return acknowledged
        next_()
        return None

    @app.event("app_mention", middleware=[admit])
    def on_mention(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any
    ) -> None:
        answer_message(services, body, event, client, context.bot_user_id)

    @app.event("message", middleware=[admit])
    def on_direct_message(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any
    ) -> None:
        answer_message(services, body, event, client, context.bot_user_id)


def answer_message(
    services: BotServices,
    body: dict[str, Any],
    event: dict[str, Any],
    client: WebClient,
    bot_user_id: str | None,
) -> None:
    """Answer a mention or a DM where it was said; share its chart there in the pool."""
    event_id = str(body.get("event_id") or "")
    channel = Channel(
        team_id=str(body.get("team_id") or event.get("team") or ""),
        channel_id=str(event["channel"]),
        user_id=event.get("user"),
    )
    thread_ts = reply_thread(event)

    done = partial(done_with, services, event_id)
    lane = services.posting.lane()
    poster = lane_client(client)  # a 429 waits as a step, holding no posting thread

    def failed_with(exc: Exception) -> Iterator[float]:
        # Told in the thread; logged once, as every listener's failure is.
        yield from post_message(poster, channel.channel_id, thread_ts, failure_message(exc, body))
        done()

    try:
        text = command_text(str(event.get("text") or ""), bot_user_id)
        answer = answer_text(text, services.context_for(channel, client))
    except Exception as exc:
        lane.run(partial(failed_with, exc))
        return

    def post() -> Iterator[float]:
        # In the answer's lane: a slow or failing post delays only this answer.
        try:
            said = answer
            if event.get("type") == "app_mention" and said.extra.get("confirmation"):
                # Said in the channel too, as for /openmodels: everyone there sees the change.
                said = yield from confirm_in_channel(services, said, poster, channel)
            posted = yield from deliver_to_conversation(
                said, client=poster, channel_id=channel.channel_id, thread_ts=thread_ts
            )
        except Exception as exc:
            yield from failed_with(exc)
            return
        if posted is None:
            log.warning("could not answer event %s in %s", event_id, channel.channel_id)
        if posted is None or said.chart is None:
            done()
            return
        share_chart_apart(
            services, lane, said.chart, posted, poster, channel.channel_id, body, done, thread_ts
        )

    lane.run(post)
