"""Posting an Answer to Slack: one answer per command, and charts that really land.

Why the path is shaped this way (Slack's documentation, its SDK maintainers, and
public reports of how Slack behaves):
- A response URL takes up to five posts in 30 minutes and works in every channel,
  bot member or not, so answers go there. But a slash command's response URL cannot
  update the message it created: `replace_original` is ignored and every post adds
  a message (slackapi/bolt-python#1268, where the Bolt maintainers say so;
  slackapi/bolt-js#2287). Posting the text and then "replacing" it with text plus
  chart shows the user the whole answer twice. So each post must be a new part of
  the answer, never a repeat of an earlier one.
- A private chart is uploaded with no channel (the file stays private to the bot)
  and shown in an image block (`slack_file`). Uploads "are processed asynchronously"
  (Slack's reference for files.getUploadURLExternal), and an image block sent right
  after the upload is often refused with invalid_blocks, so we poll `files.info`
  until Slack has filled in the mimetype, at Slack's pace: its staff advise waits
  that double from 1 s to 16 s, about 31 s in all (slackapi/slack-github-action#413,
  a loop of `files.info` calls `for ((i = 1; i < 30; i *= 2))`).
- Hence the private path (`PrivateAnswer`): the text waits for its chart for about
  two seconds from the command. If the chart is ready by then, the user gets one
  message holding both. If not, or if Slack refuses the image, the text goes alone
  and the chart follows as a message holding only the chart, or as a one-line note
  saying why there is none. At most four posts, within the URL's five. The ack
  never waits for any of it: Bolt acknowledges first, and the posts run in the
  answer's own lane (bot.posting), where a long wait for the chart delays only the
  chart: the text goes at its time.
- A post whose answer never came (a timeout, a connection dropped after sending) may
  have reached Slack: it is "unknown", not refused, and is never posted again (as
  plain text, say), which could show the answer twice. It is logged.
- A public chart is shared into the channel with the upload itself (`channel_id`).
  `alt_txt` on that upload is reported to make the share fail silently while every
  call answers ok (slackapi/python-slack-sdk#1818; paradigmxyz/centaur#311 stopped
  sending it), so no upload carries `alt_txt`: the chart's description goes in the
  message (its text and a context line) and in image blocks' alt text instead.
- files.completeUploadExternal answers before the share exists; the share shows in
  `files.info` (`shares`; `channels`, `groups` and, for a direct message, `ims`) once
  Slack has processed it, and the SDK maintainers advise polling for it
  (slackapi/bolt-js#2115). Shares are also reported to be dropped with `ok: true`
  (paradigmxyz/centaur#311). So a share is confirmed by polling files.info with the
  same doubling waits (about 31 s); an answer whose chart has not shown by then says
  so in a one-line note, and not before.

Every wait is a number yielded by a generator (bot.posting's Steps), never a sleep,
a 429's Retry-After included (bot.slack_client.paced):
the answer's lane waits on a timer, holding no thread, and `run_now` sleeps instead
where one thread delivers one item after another (the outbox).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.chart_pool import ChartError, ChartsBusy
from bot.posting import Steps, at_once, run_now
from bot.slack_client import paced
from commands import blocks as bk
from commands.answer import Answer, ChartSpec
from commands.blocks import Block
from commands.format import escape

log = logging.getLogger(__name__)

SHARE_ACTION = "share_in_channel"
RESPONSE_URL_POSTS = 5  # Slack: five posts within 30 minutes per response URL
INVITE_HINT = (
    "I could not share the chart here because I am not in this conversation. "
    "Type `/invite @openmodels` in this channel and ask again; the text answer is above."
)
CHART_NOT_SHOWN = (
    "The chart could not be shown in this private answer. "
    "Add `--public` to share the answer and its chart with the channel."
)
CHART_NOT_DRAWN = "The chart could not be drawn this time; the answer above is complete."
CHARTS_BUSY = (
    "Many charts are being drawn right now, so this answer comes without one; "
    "ask again in a minute for the chart. The answer above is complete."
)
CHART_NOT_UPLOADED = (
    "Slack did not take the chart's upload (`{error}`); the answer above is complete."
)
CHART_NOT_LANDED = (
    "Slack has not shown the chart in the channel yet; it may still appear. "
    "The answer above is complete without it."
)
_CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
# files.info answers these for a file that no longer exists: waiting cannot help.
_GONE_ERRORS = frozenset({"file_not_found", "file_deleted"})

Respond = Callable[..., Any]  # Bolt's respond(): returns a WebhookResponse
ShareState = Literal["landed", "absent", "gone", "unknown"]
# What became of one post: Slack took it, Slack refused it, or no answer came (it may
# have arrived: never post it again).
Outcome = Literal["ok", "refused", "unknown"]
# Waits doubling from 1 s to 16 s, about 31 s in all: how long Slack's staff advise
# polling files.info for an upload (slackapi/slack-github-action#413).
SLACK_PACE = (1.0, 2.0, 4.0, 8.0, 16.0)


@dataclass(frozen=True)
class DeliveryOptions:
    """How long each step may wait for Slack. Every wait is bounded."""

    # How long a private answer's text waits for its chart, counted from the command.
    text_wait: float = 2.0
    # Seconds between files.info polls until Slack has processed an upload (31 s in
    # all, well inside the 30 minutes a response URL lives); the first is immediate.
    file_ready_waits: tuple[float, ...] = SLACK_PACE
    # After Slack refused an image block, the pause before trying once more.
    image_retry_wait: float = 2.0
    # Seconds before each files.info poll confirming a share (the first is immediate):
    # 31 s in all before a chart is said not to have appeared.
    share_waits: tuple[float, ...] = (0.0, *SLACK_PACE)


@dataclass
class Delivered:
    """What reached Slack, for logs, tests and the console."""

    text: bool = False  # Slack took it (or, if `unknown`, may have)
    # none | inline (with the text) | followup (a chart-only message after the text)
    # | channel (share confirmed) | unconfirmed (shared, not shown yet) | failed
    # | unknown (its post got no answer)
    chart: str = "none"
    unknown: bool = False  # a post got no answer: it was not made again
    file_id: str | None = None
    posts: int = 0


class DeliveryError(Exception):
    """Not even the plain-text answer could be posted to the response URL."""


class Notes(Protocol):
    """Where the one-line notes after an answer go (a chart that could not be shown)."""

    used: int  # posts made so far, the answer's own included

    def note(self, text: str) -> Steps[bool]:
        """Post `text`: steps that may wait (Slack's 429); True unless Slack refused it."""
        ...


def posted_once(respond: Respond) -> Respond:
    """Bolt's respond(), posting each message once.

    Bolt's respond() posts with a WebhookClient that has slack_sdk's default retry
    handler, which sends a post again when its connection was reset or closed before
    the answer (ConnectionErrorRetryHandler, for "Connection reset by peer"). Slack may
    have taken the first: the answer would show twice. This posts to the same URL, with
    the same proxy and TLS settings, and no retry; a post without an answer is the
    caller's to log ("unknown"), never to make again. Anything without a response URL
    (the tests' fakes) is left as it is.
    """
    url = getattr(respond, "response_url", None)
    if not isinstance(url, str):
        return respond
    hook = WebhookClient(  # a response URL takes no token: no Web API scope
        url=url,
        proxy=getattr(respond, "proxy", None),
        ssl=getattr(respond, "ssl", None),
        retry_handlers=[],
    )

    def post(**message: Any) -> Any:
        return hook.send_dict({k: v for k, v in message.items() if v is not None})

    return post


class ResponseUrl:
    """One response URL: posts each message once (`posted_once`), counting them against
    Slack's five."""

    def __init__(self, respond: Respond, limit: int = RESPONSE_URL_POSTS) -> None:
        self._respond = posted_once(respond)
        self.limit = limit
        self.used = 0

    def post(self, **message: Any) -> Outcome:
        """Post one message: "ok", "refused", or "unknown" when no answer came (a timeout,
        a connection dropped: Slack may have it). Never raises."""
        if self.used >= self.limit:
            log.warning("response URL already used %d times; not posting again", self.used)
            return "refused"
        self.used += 1
        try:
            response = self._respond(**message)
        except Exception as exc:  # it may have arrived: the caller must not post it again
            log.warning(
                "no answer from the response URL (%s: %s); the post may have arrived, so it "
                "is not made again",
                type(exc).__name__,
                exc,
            )
            return "unknown"
        status = int(getattr(response, "status_code", 0))
        if 200 <= status < 300:
            return "ok"
        body = str(getattr(response, "body", ""))[:300]
        log.warning("Slack refused a response URL post (HTTP %s): %s", status, body)
        return "refused"

    def note(self, text: str) -> Steps[bool]:
        """A one-line ephemeral note after the answer, posted now; True unless Slack
        refused it. (Steps, as Notes are; a response URL is not rate-limited per call.)"""
        sent = self.post(text=text, response_type="ephemeral", replace_original=False)
        return at_once(sent != "refused")


def compose(
    blocks: list[Block], *, chart: Block | None = None, share: Block | None = None
) -> list[Block]:
    """The answer's blocks with a chart block (before the footer) and its row of buttons
    (`share`: next steps and "Share in channel"), within Slack's 50 blocks."""
    extras = [b for b in (chart, share) if b is not None]
    body = list(blocks)
    room = bk.MAX_BLOCKS - len(extras)
    if len(body) > room:
        kept = body[: room - 1]
        body = [*kept, bk.context(f"_…{len(body) - len(kept)} more blocks not shown_")]
    if chart is not None:
        # The footer (snapshot date, sample note) reads best under the chart.
        at = len(body) - 1 if body and body[-1].get("type") == "context" else len(body)
        body.insert(at, chart)
    if share is not None:
        body.append(share)
    return body


def with_chart_description(
    text: str, blocks: list[Block] | None, description: str
) -> tuple[str, list[Block] | None]:
    """A channel message that carries its chart's description, in its text and blocks.

    Channel charts are uploaded without `alt_txt` (see the module docstring), so this is
    where people who cannot see the image find what it shows.
    """
    line = f"Chart: {escape(description)}"
    text = bk.cut(f"{text}\n{line}", bk.MAX_MESSAGE_TEXT)
    if not blocks:
        return text, blocks  # a text-only message shows its text, description included
    return text, compose(blocks, chart=bk.context(line))


def upload_args(chart: ChartSpec, png: bytes) -> dict[str, Any]:
    """files_upload_v2 arguments for a chart: its file name and title, never `alt_txt`.

    `alt_txt` is reported to make a channel share fail silently
    (slackapi/python-slack-sdk#1818); the description goes in the message instead.
    """
    return {"file": png, "filename": chart.filename, "title": chart.title}


def share_block(answer: Answer, share_text: str | None) -> Block | None:
    """The "Share in channel" button, on private answers that only read."""
    if share_text and answer.shareable and not answer.public and not answer.error:
        return bk.share_button(share_text)
    return None


def actions_block(answer: Answer, share_text: str | None) -> Block | None:
    """One row of buttons under a private answer that only reads: its next steps
    (commands.next_steps), then "Share in channel". A public answer carries none: a
    click on it would change, for the whole channel, a message someone else asked for."""
    share = share_block(answer, share_text)
    if answer.public or answer.error or answer.next_steps is None:
        return share
    elements = list(answer.next_steps["elements"])
    if share is not None:
        elements += share["elements"]
    return bk.actions(*elements)


# -- answers posted at once: no chart, or a public answer ---------------------------------


@dataclass
class Posted:
    """A text answer already posted (at the response URL, or in a conversation): what
    the chart step builds on. Notes about the chart go where the answer went."""

    answer: Answer
    url: Notes
    report: Delivered


def deliver_text(
    answer: Answer, *, respond: Respond, share_text: str | None = None, replace: bool = False
) -> Posted:
    """Post the Block Kit answer (or, if refused, its plain text) to the response URL now.

    For answers without a chart, and public ones: a public chart is shared into the
    channel apart (`share_chart`), so the message carries the chart's description.
    With `replace` (a button's answer, whose response URL may replace the message the
    button was on) the answer takes the place of that message.
    """
    url = ResponseUrl(respond)
    report = Delivered()
    payload = answer.payload()
    text, blocks = payload["text"], compose(answer.blocks, share=actions_block(answer, share_text))
    if answer.public and answer.chart is not None:
        text, described = with_chart_description(text, blocks, answer.chart.alt_text)
        blocks = described or blocks
    sent = url.post(
        text=text, blocks=blocks, response_type=payload["response_type"], replace_original=replace
    )
    if sent == "refused":
        # Blocks can be refused; the plain text alone always renders.
        sent = url.post(text=text, response_type=payload["response_type"], replace_original=replace)
    report.text, report.unknown = sent != "refused", sent == "unknown"
    report.posts = url.used
    if sent == "refused":
        raise DeliveryError("the response URL refused the answer, even as plain text")
    return Posted(answer, url, report)


def share_chart(
    posted: Posted,
    *,
    client: WebClient,
    channel_id: str,
    render: Callable[[ChartSpec], bytes],
    options: DeliveryOptions | None = None,
    thread_ts: str | None = None,
) -> Steps[Delivered]:
    """Draw the chart of a public answer, share it in the channel (in the thread
    `thread_ts`, if given) and confirm it landed: steps yielding their waits.

    Never raises: whatever becomes of the chart, the text answer stands.
    """
    options = options or DeliveryOptions()
    report, url, chart = posted.report, posted.url, posted.answer.chart
    if chart is None:
        return report
    try:
        png = render(chart)
    except Exception as exc:
        report.chart = "failed"
        yield from url.note(_not_drawn(chart, exc))
        return _counted(report, url)
    try:
        response = yield from paced(
            lambda: client.files_upload_v2(
                channel=channel_id, thread_ts=thread_ts, **upload_args(chart, png)
            ),
            "a chart's upload",
        )
        report.file_id = file_id = _file_id(response)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        report.chart = "failed"
        if error in _CHANNEL_ERRORS:
            log.info(
                "chart not shared in %s (%s): asking the user to invite the bot", channel_id, error
            )
            yield from url.note(INVITE_HINT)
        else:
            log.warning("chart upload to %s failed (%s); the text answer stands", channel_id, error)
            yield from url.note(CHART_NOT_UPLOADED.format(error=escape(error)))
        return _counted(report, url)
    except Exception:
        report.chart = "failed"
        log.exception("chart upload to %s failed; the text answer stands", channel_id)
        yield from url.note(CHART_NOT_UPLOADED.format(error="network error"))
        return _counted(report, url)
    state = yield from confirm_share(client, file_id, channel_id, options.share_waits)
    if state == "landed":
        report.chart = "channel"
    else:
        report.chart = "unconfirmed"
        log.warning(
            "chart %s was shared in %s but files.info shows it in no channel after %.0f s "
            "(%s); telling the user",
            file_id,
            channel_id,
            sum(options.share_waits),
            state,
        )
        yield from url.note(CHART_NOT_LANDED)
    return _counted(report, url)


# -- private answers with a chart: one message if the chart is ready in time --------------


class PrivateAnswer:
    """A private answer whose chart is on its way: the text goes out exactly once.

    `post_text` (called about two seconds after the command, and at the end of the
    chart step whatever happened) posts the text alone if it has not gone yet.
    `show_chart` posts the text with the chart if the text has not gone yet, else the
    chart alone. A lock makes the two decide in turn, so the text is never posted
    twice and a chart-only message always comes after the text. (The answer's lane
    runs them one at a time anyway; the lock keeps that true for any caller.)
    """

    def __init__(
        self,
        answer: Answer,
        *,
        respond: Respond,
        share_text: str | None = None,
        replace: bool = False,
    ):
        self.answer = answer
        self.url = ResponseUrl(respond)
        self.share = actions_block(answer, share_text)
        # The answer's text (alone or with its chart) replaces the message its button
        # was on; a chart or note after it is a message of its own.
        self.replace = replace
        self.report = Delivered()
        self._lock = threading.Lock()
        self._text_gone = False

    def _message(self, chart: Block | None = None) -> dict[str, Any]:
        payload = self.answer.payload()
        return {
            "text": payload["text"],
            "blocks": compose(self.answer.blocks, chart=chart, share=self.share),
            "response_type": payload["response_type"],
            "replace_original": self.replace,
        }

    def post_text(self) -> None:
        """Post the text alone, unless it has gone already (alone or with its chart)."""
        with self._lock:
            if not self._text_gone:
                self._post_text_alone()

    def show_chart(self, image: Block) -> Literal["inline", "followup", "refused", "unknown"]:
        """Show `image`: in one message with the text if the text has not gone yet,
        else in a message of its own. On a refusal the text is out, alone, either way;
        on no answer ("unknown") nothing is posted again."""
        with self._lock:
            if not self._text_gone:
                sent = self.url.post(**self._message(chart=image))
                if sent != "refused":
                    self._text_gone = self.report.text = True
                    self.report.unknown = sent == "unknown"
                    return "inline" if sent == "ok" else "unknown"
                log.warning("Slack refused the answer with its chart; posting the text alone")
                self._post_text_alone()
                return "refused"
        chart_only = {
            "text": str(image.get("title", {}).get("text") or "Chart"),
            "blocks": [image],
            "response_type": "ephemeral",
            "replace_original": False,
        }
        sent = self.url.post(**chart_only)
        return "followup" if sent == "ok" else sent

    def _post_text_alone(self) -> None:
        self._text_gone = True
        message = self._message()
        sent = self.url.post(**message)
        if sent == "refused":
            # Blocks can be refused; the plain text alone always renders.
            sent = self.url.post(
                text=message["text"],
                response_type=message["response_type"],
                replace_original=self.replace,
            )
        self.report.text, self.report.unknown = sent != "refused", sent == "unknown"
        if sent == "refused":
            log.error("the response URL refused the answer, even as plain text")


def deliver_private_chart(
    pending: PrivateAnswer,
    *,
    client: WebClient,
    render: Callable[[ChartSpec], bytes],
    options: DeliveryOptions | None = None,
) -> Steps[Delivered]:
    """Draw, upload and show the chart of a private answer: steps yielding their waits.
    Never raises.

    Leaves the text posted, whatever became of the chart: with the chart, alone then
    followed by the chart, or alone then followed by a note saying why there is none.
    """
    options = options or DeliveryOptions()
    report, chart = pending.report, pending.answer.chart
    if chart is None:
        pending.post_text()
        return _counted(report, pending.url)
    try:
        png = render(chart)
    except Exception as exc:
        return (yield from _no_chart(pending, _not_drawn(chart, exc)))
    try:
        uploaded = yield from paced(
            lambda: client.files_upload_v2(**upload_args(chart, png)), "a chart's upload"
        )
        report.file_id = file_id = _file_id(uploaded)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        log.warning("chart upload failed (%s); the text answer stands", error)
        return (yield from _no_chart(pending, CHART_NOT_UPLOADED.format(error=escape(error))))
    except Exception:
        log.exception("chart upload failed; the text answer stands")
        return (yield from _no_chart(pending, CHART_NOT_UPLOADED.format(error="network error")))
    if not (yield from wait_until_processed(client, file_id, options.file_ready_waits)):
        log.info("file %s not reported processed yet; showing it anyway", file_id)
    image = bk.image_file(file_id, chart.alt_text, title=chart.title)
    shown = pending.show_chart(image)
    if shown == "refused":
        # Often an upload Slack has not finished with; once more after a pause, alone.
        yield options.image_retry_wait
        shown = pending.show_chart(image)
    if shown == "refused":
        log.warning("Slack refused the chart (file %s); the text answer stands", file_id)
        return (yield from _no_chart(pending, CHART_NOT_SHOWN))
    report.chart = shown
    if shown == "unknown":
        report.unknown = True
    return _counted(report, pending.url)


def _not_drawn(chart: ChartSpec, exc: Exception) -> str:
    """Log why `chart` was not drawn, once; the note that tells the user."""
    if isinstance(exc, ChartsBusy):  # a burst of charts: one line each is plenty
        log.info("chart %s not drawn (%s); the text answer stands", chart.filename, exc)
        return CHARTS_BUSY
    if isinstance(exc, ChartError):  # its worker hung or died: the pool has logged that
        log.warning("chart %s not drawn (%s); the text answer stands", chart.filename, exc)
        return CHART_NOT_DRAWN
    log.error("chart %s could not be drawn; the text answer stands", chart.filename, exc_info=exc)
    return CHART_NOT_DRAWN


def _no_chart(pending: PrivateAnswer, why: str) -> Steps[Delivered]:
    pending.post_text()
    pending.report.chart = "failed"
    yield from pending.url.note(why)
    return _counted(pending.report, pending.url)


def _counted(report: Delivered, url: Notes) -> Delivered:
    report.posts = url.used
    return report


# -- answers in a conversation: a mention's thread, a direct message ---------------------


class ThreadNotes:
    """Notes after an answer posted with chat.postMessage: replies in the same thread
    (or, with no thread, in the conversation), where everyone who saw the answer sees them."""

    def __init__(self, client: WebClient, channel_id: str, thread_ts: str | None) -> None:
        self.client = client
        self.channel_id = channel_id
        self.thread_ts = thread_ts
        self.used = 1  # the answer itself

    def note(self, text: str) -> Steps[bool]:
        self.used += 1
        ts = yield from post_message(self.client, self.channel_id, self.thread_ts, text)
        return ts is not None


def post_message(
    client: WebClient,
    channel_id: str,
    thread_ts: str | None,
    text: str,
    blocks: list[Block] | None = None,
) -> Steps[str | None]:
    """chat.postMessage in a conversation (a reply if `thread_ts`): steps whose result is
    the message's ts, or None if Slack refused it. Blocks Slack refuses are dropped for
    the plain text; a 429 is waited out (`paced`)."""
    for shown in [blocks, None] if blocks else [None]:
        try:
            response = yield from paced(
                partial(_post, client, channel_id, thread_ts, text, shown),
                f"a message in {channel_id}",
            )
            return str(response["ts"])
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            log.warning("Slack refused a message in %s (%s)", channel_id, error)
            if error in _CHANNEL_ERRORS:
                return None  # no plain text can be posted there either
        except Exception as exc:  # network trouble: the caller decides what is lost
            log.warning("posting in %s failed: %s", channel_id, exc)
            return None
    return None


def _post(client: WebClient, channel_id: str, thread_ts: str | None, text: str, blocks: Any) -> Any:
    """One chat.postMessage, links and media not unfurled."""
    return client.chat_postMessage(
        channel=channel_id,
        thread_ts=thread_ts,
        text=text,
        blocks=blocks,
        unfurl_links=False,
        unfurl_media=False,
    )


def deliver_to_conversation(
    answer: Answer, *, client: WebClient, channel_id: str, thread_ts: str | None
) -> Steps[Posted | None]:
    """Post the answer in a conversation for everyone in it to see, in the thread
    `thread_ts` if given: a mention's answer goes under the mention, a direct message's
    in the DM. Steps (a 429 is waited out); None if Slack took not even the plain text.

    No share button (the answer is visible already); with a chart, the message carries
    its description, and `share_chart` shares the chart after it, in the same place.
    """
    text, blocks = bk.cut(answer.text, bk.MAX_MESSAGE_TEXT), compose(answer.blocks)
    if answer.chart is not None:
        text, described = with_chart_description(text, blocks, answer.chart.alt_text)
        blocks = described or blocks
    if (yield from post_message(client, channel_id, thread_ts, text, blocks)) is None:
        return None
    return Posted(answer, ThreadNotes(client, channel_id, thread_ts), Delivered(text=True, posts=1))


# -- asking Slack about a file ------------------------------------------------------------


def wait_until_processed(
    client: WebClient, file_id: str, waits: tuple[float, ...] = SLACK_PACE
) -> Steps[bool]:
    """Poll files.info (at once, then after each of `waits`) until Slack has processed
    the upload: its mimetype is set. True once it has."""
    for wait in (0.0, *waits):
        if wait:
            yield wait
        try:
            info = yield from paced(lambda: client.files_info(file=file_id), "files.info")
        except SlackApiError as exc:
            # e.g. missing_scope (files:read): we cannot tell, so let the post decide.
            log.info("files.info for %s failed (%s)", file_id, exc.response.get("error"))
            return False
        file: dict[str, Any] = info.get("file") or {}
        if file.get("mimetype"):
            return True
    return False


def shared_in(file: dict[str, Any], channel_id: str) -> bool:
    """Whether a files.info file object shows the file in `channel_id`.

    Slack's file object lists landed shares under `shares` ("public" and "private",
    each keyed by channel id) and the conversations in `channels` (public), `groups`
    (private, only for members) and `ims` (direct messages: "the IDs of any direct
    message channels with which the file is currently shared", docs.slack.dev's File
    object), so a chart shared in a DM is found there too.
    """
    shares: dict[str, Any] = file.get("shares") or {}
    if any(channel_id in (shares.get(kind) or {}) for kind in ("public", "private")):
        return True
    return any(channel_id in (file.get(kind) or []) for kind in ("channels", "groups", "ims"))


def share_state(client: WebClient, file_id: str, channel_id: str) -> ShareState:
    """One files.info look, made now: has the share of `file_id` in `channel_id` landed?
    (For a client that waits out 429s itself: one delivering item after item.)"""
    return run_now(share_look(client, file_id, channel_id), time.sleep)


def share_look(client: WebClient, file_id: str, channel_id: str) -> Steps[ShareState]:
    """One files.info look, a 429 waited out as a step: has the share landed?"""
    try:
        info = yield from paced(lambda: client.files_info(file=file_id), "files.info")
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        log.info("files.info for %s failed (%s)", file_id, error)
        return "gone" if error in _GONE_ERRORS else "unknown"
    except Exception as exc:  # network trouble: ask again later
        log.info("files.info for %s failed (%s)", file_id, exc)
        return "unknown"
    return "landed" if shared_in(info.get("file") or {}, channel_id) else "absent"


def confirm_share(
    client: WebClient, file_id: str, channel_id: str, waits: tuple[float, ...]
) -> Steps[ShareState]:
    """Poll files.info, after each wait in `waits`, until the share shows in the channel.

    Returns the last state seen: "landed", or why not ("absent" after every poll,
    "gone", or "unknown" when files.info itself failed and waiting would not help).
    """
    state: ShareState = "absent"
    for wait in waits:
        if wait:
            yield wait
        state = yield from share_look(client, file_id, channel_id)
        if state != "absent":
            return state
    return state


def _file_id(response: Any) -> str:
    file: dict[str, Any] = response.get("file") or (response.get("files") or [{}])[0]
    file_id = file.get("id")
    if not file_id:
        raise ValueError("Slack's upload answer named no file id")
    return str(file_id)
