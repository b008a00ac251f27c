"""Posting an Answer to Slack: the text answer first, then its chart, never losing the text.

Why this order and these steps (from Slack's documentation and its SDK maintainers):
- A response URL takes up to five posts in 30 minutes and works in every channel,
  bot member or not, so the Block Kit answer goes there first and always arrives.
- A file uploaded with `files_upload_v2` and no channel is private to the bot
  ("If not specified the file will be private"); an image block may show it
  (`slack_file` needs the poster to have access, and the app posts the response).
  But uploads "are processed asynchronously via a job handler" (Slack's reference
  for files.getUploadURLExternal): an image block sent right after the upload is
  often refused with invalid_blocks ("invalid slack file"). So, for an ephemeral
  answer, we poll `files.info` a few bounded times until Slack has filled in the
  file's mimetype, then replace the text answer with the same blocks plus an image
  block. If that is refused, the text answer stays and the user is told.
- A public answer shares the PNG in the channel with the upload itself
  (`channel_id`): channel members can see it, with its title and alt text. That
  needs the bot in the channel; on not_in_channel/channel_not_found the user is
  asked (ephemerally) to `/invite @openmodels`, and the text answer stays.
The chart step runs apart from the text step (bot.handlers gives it its own pool),
so acknowledging the next commands never waits for a chart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands import blocks as bk
from commands.answer import Answer, ChartSpec
from commands.blocks import Block

log = logging.getLogger(__name__)

SHARE_ACTION = "share_in_channel"
RESPONSE_URL_POSTS = 5  # Slack: five posts within 30 minutes per response URL
MAX_FILE_ALT_TEXT = 1000  # files.getUploadURLExternal refuses more: alt_txt_too_large
INVITE_HINT = (
    "I could not share the chart here because I am not in this conversation. "
    "Type `/invite @openmodels` in this channel and ask again; the text answer is above."
)
CHART_NOT_SHOWN = (
    "The chart could not be shown in this private answer. "
    "Add `--public` to share the answer and its chart with the channel."
)
_CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


Respond = Callable[..., Any]  # Bolt's respond(): returns a WebhookResponse


@dataclass(frozen=True)
class DeliveryOptions:
    """How long to wait for Slack to process an uploaded chart before showing it."""

    # Seconds between files.info polls (about 5 s in all, well inside the 30 minutes a
    # response URL lives); the first poll is immediate.
    file_ready_waits: tuple[float, ...] = (0.25, 0.5, 1.0, 1.5, 2.0)
    sleep: Callable[[float], None] = time.sleep


@dataclass
class Delivered:
    """What reached Slack, for logs, tests and the console."""

    text: bool = False
    chart: str = "none"  # none | inline (image block) | channel (file shared) | failed
    file_id: str | None = None
    posts: int = 0


class DeliveryError(Exception):
    """Not even the plain-text answer could be posted to the response URL."""


class ResponseUrl:
    """One response URL: posts through Bolt's respond(), counting them against Slack's five."""

    def __init__(self, respond: Respond, limit: int = RESPONSE_URL_POSTS) -> None:
        self._respond = respond
        self.limit = limit
        self.used = 0

    def post(self, **message: Any) -> bool:
        """Post one message; True if Slack took it. Never raises for a refusal."""
        if self.used >= self.limit:
            log.warning("response URL already used %d times; not posting again", self.used)
            return False
        self.used += 1
        try:
            response = self._respond(**message)
        except Exception as exc:  # network trouble: the caller decides what is lost
            log.warning("posting to the response URL failed: %s", exc)
            return False
        status = int(getattr(response, "status_code", 0))
        if 200 <= status < 300:
            return True
        body = str(getattr(response, "body", ""))[:300]
        log.warning("Slack refused a response URL post (HTTP %s): %s", status, body)
        return False


def compose(
    blocks: list[Block], *, image: Block | None = None, share: Block | None = None
) -> list[Block]:
    """The answer's blocks with the chart (before the footer) and the share button, within 50."""
    extras = [b for b in (image, share) if b is not None]
    body = list(blocks)
    room = bk.MAX_BLOCKS - len(extras)
    if len(body) > room:
        kept = body[: room - 1]
        body = [*kept, bk.context(f"_…{len(body) - len(kept)} more blocks not shown_")]
    if image is not None:
        # The footer (snapshot date, sample note) reads best under the chart.
        at = len(body) - 1 if body and body[-1].get("type") == "context" else len(body)
        body.insert(at, image)
    if share is not None:
        body.append(share)
    return body


@dataclass
class Posted:
    """A text answer already at the response URL: what the chart step builds on."""

    answer: Answer
    url: ResponseUrl
    first: dict[str, Any]  # the message as first posted
    share: Block | None
    report: Delivered


def deliver_text(answer: Answer, *, respond: Respond, share_text: str | None = None) -> Posted:
    """Post the Block Kit answer (or, if refused, its plain text) to the response URL."""
    url = ResponseUrl(respond)
    report = Delivered()
    payload = answer.payload()
    share = (
        bk.share_button(share_text)
        if share_text and not answer.public and not answer.error
        else None
    )
    first = {
        "text": payload["text"],
        "blocks": compose(answer.blocks, share=share),
        "response_type": payload["response_type"],
        "replace_original": False,
    }
    report.text = url.post(**first)
    if not report.text:
        # Blocks can be refused; the plain text alone always renders.
        report.text = url.post(
            text=payload["text"], response_type=payload["response_type"], replace_original=False
        )
    report.posts = url.used
    if not report.text:
        raise DeliveryError("the response URL refused the answer, even as plain text")
    return Posted(answer, url, first, share, report)


def deliver_chart(
    posted: Posted,
    *,
    client: WebClient,
    channel_id: str,
    render: Callable[[ChartSpec], bytes],
    options: DeliveryOptions | None = None,
) -> Delivered:
    """Draw and show the chart of an answer whose text is already posted. Never raises."""
    options = options or DeliveryOptions()
    report = posted.report
    chart = posted.answer.chart
    if chart is None:
        return report
    try:
        png = render(chart)
    except Exception:
        log.exception("chart %s could not be drawn; the text answer stands", chart.filename)
        report.chart = "failed"
        return report
    if posted.answer.public:
        _share_in_channel(client, posted.url, channel_id, chart, png, report)
    else:
        _show_inline(client, posted, chart, png, options)
    report.posts = posted.url.used
    return report


def upload_args(chart: ChartSpec, png: bytes) -> dict[str, Any]:
    """files_upload_v2 arguments for a chart: its file name, title and (capped) alt text."""
    return {
        "file": png,
        "filename": chart.filename,
        "title": chart.title,
        "alt_txt": bk.cut(chart.alt_text, MAX_FILE_ALT_TEXT),
    }


def _share_in_channel(
    client: WebClient,
    url: ResponseUrl,
    channel_id: str,
    chart: ChartSpec,
    png: bytes,
    report: Delivered,
) -> None:
    try:
        response = client.files_upload_v2(channel=channel_id, **upload_args(chart, png))
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        report.chart = "failed"
        if error in _CHANNEL_ERRORS:
            log.info(
                "chart not shared in %s (%s): asking the user to invite the bot", channel_id, error
            )
            url.post(text=INVITE_HINT, response_type="ephemeral", replace_original=False)
        else:
            log.warning("chart upload to %s failed (%s); the text answer stands", channel_id, error)
        return
    except Exception:
        report.chart = "failed"
        log.exception("chart upload to %s failed; the text answer stands", channel_id)
        return
    report.chart = "channel"
    report.file_id = _file_id(response)


def _show_inline(
    client: WebClient,
    posted: Posted,
    chart: ChartSpec,
    png: bytes,
    options: DeliveryOptions,
) -> None:
    report = posted.report
    try:
        response = client.files_upload_v2(**upload_args(chart, png))
        file_id = _file_id(response)
    except SlackApiError as exc:
        report.chart = "failed"
        log.warning("chart upload failed (%s); the text answer stands", exc.response.get("error"))
        return
    except Exception:
        report.chart = "failed"
        log.exception("chart upload failed; the text answer stands")
        return
    report.file_id = file_id
    if not wait_until_processed(client, file_id, options):
        log.info("file %s not reported processed yet; showing it anyway", file_id)
    image = bk.image_file(file_id, chart.alt_text, title=chart.title)
    blocks = compose(posted.answer.blocks, image=image, share=posted.share)
    if posted.url.post(**{**posted.first, "blocks": blocks, "replace_original": True}):
        report.chart = "inline"
        return
    report.chart = "failed"
    log.warning(
        "Slack refused the answer with its chart (file %s); the text answer stands", file_id
    )
    posted.url.post(text=CHART_NOT_SHOWN, response_type="ephemeral", replace_original=False)


def wait_until_processed(client: WebClient, file_id: str, options: DeliveryOptions) -> bool:
    """Poll files.info (bounded) until Slack has processed the upload: its mimetype is set."""
    for wait in (0.0, *options.file_ready_waits):
        if wait:
            options.sleep(wait)
        try:
            info = client.files_info(file=file_id)
        except SlackApiError as exc:
            # e.g. missing_scope (files:read): we cannot tell, so let the post decide.
            log.info("files.info for %s failed (%s)", file_id, exc.response.get("error"))
            return False
        file: dict[str, Any] = info.get("file") or {}
        if file.get("mimetype"):
            return True
    return False


def _file_id(response: Any) -> str:
    file: dict[str, Any] = response.get("file") or (response.get("files") or [{}])[0]
    file_id = file.get("id")
    if not file_id:
        raise ValueError("Slack's upload answer named no file id")
    return str(file_id)
