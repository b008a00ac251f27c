"""How an answer reaches Slack, step by step: a post that got no answer is never made
again, files.info is polled at Slack's pace, and a share in a direct message counts.

The steps are generators yielding their waits; the tests run them by hand and read the
waits, so no test sleeps. Slack is a small fake of the calls each step makes.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from bot.delivery import (
    CHART_NOT_LANDED,
    SLACK_PACE,
    DeliveryOptions,
    PrivateAnswer,
    confirm_share,
    deliver_private_chart,
    deliver_text,
    share_chart,
    shared_in,
    wait_until_processed,
)
from commands import blocks as bk
from commands.answer import Answer
from tests.slack_helpers import CHART

ANSWER = Answer(text="Qwen leads", blocks=[bk.section("Qwen leads")], chart=CHART)


def drive(steps: Generator[float, None, Any]) -> tuple[list[float], Any]:
    """Run `steps` to the end without waiting: the waits asked for, and the result."""
    waits: list[float] = []
    while True:
        try:
            waits.append(next(steps))
        except StopIteration as done:
            return waits, done.value


class Ok:
    status_code = 200
    body = "ok"


class Refused:
    status_code = 404
    body = "invalid_blocks"


class Respond:
    """A response URL: each post answered by the next of `answers` (an exception: no
    answer came)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.posts: list[dict[str, Any]] = []

    def __call__(self, **message: Any) -> Any:
        self.posts.append(message)
        answer = self.answers.pop(0) if self.answers else Ok()
        if isinstance(answer, Exception):
            raise answer
        return answer


class Files:
    """files.info and the upload: processed after `ready_after` polls; the share in
    `channel` shows under `where` after `landed_after` polls (None: never)."""

    def __init__(
        self, ready_after: int = 0, landed_after: int | None = 0, where: str = "channels"
    ) -> None:
        self.ready_after, self.landed_after, self.where = ready_after, landed_after, where
        self.polls = 0
        self.channel: str | None = None

    def files_upload_v2(self, **kwargs: Any) -> dict[str, Any]:
        self.channel = kwargs.get("channel")
        return {"file": {"id": "F1"}}

    def files_info(self, file: str) -> dict[str, Any]:
        self.polls += 1
        found: dict[str, Any] = {"id": file, "mimetype": ""}
        if self.polls > self.ready_after:
            found["mimetype"] = "image/png"
        if self.landed_after is not None and self.polls > self.landed_after and self.channel:
            found[self.where] = [self.channel]
        return {"ok": True, "file": found}


# -- a post that got no answer ------------------------------------------------------------


def test_a_text_answer_whose_post_times_out_is_not_posted_again(caplog):
    respond = Respond(TimeoutError("The read operation timed out"))

    posted = deliver_text(Answer(text="top", blocks=[bk.section("top")]), respond=respond)

    assert len(respond.posts) == 1  # never again as plain text: it may have arrived
    assert posted.report.unknown and posted.report.text
    assert "may have arrived" in caplog.text


def test_a_refused_text_answer_is_posted_again_as_plain_text():
    respond = Respond(Refused(), Ok())

    posted = deliver_text(Answer(text="top", blocks=[bk.section("top")]), respond=respond)

    assert [("blocks" in p) for p in respond.posts] == [True, False]
    assert posted.report.text and not posted.report.unknown


def test_a_private_answer_whose_text_timed_out_is_never_posted_again():
    respond = Respond(TimeoutError())
    pending = PrivateAnswer(ANSWER, respond=respond)

    pending.post_text()  # at its deadline
    pending.post_text()  # at the end of the chart step, as always

    assert len(respond.posts) == 1
    assert pending.report.unknown


def test_a_chart_with_its_text_that_timed_out_is_not_followed_by_the_text_again():
    respond = Respond(TimeoutError())
    pending = PrivateAnswer(ANSWER, respond=respond)

    _, report = drive(
        deliver_private_chart(pending, client=Files(), render=lambda _s: b"png")  # type: ignore[arg-type]
    )
    pending.post_text()

    assert len(respond.posts) == 1 and report.chart == "unknown"


# -- files at Slack's pace ------------------------------------------------------------------


def test_an_upload_is_polled_with_waits_doubling_from_1_to_16_seconds():
    files = Files(ready_after=100)

    waits, ready = drive(wait_until_processed(files, "F1"))  # type: ignore[arg-type]

    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0] == list(SLACK_PACE)
    assert files.polls == 6 and not ready


def test_polling_stops_once_slack_has_processed_the_upload():
    files = Files(ready_after=2)

    waits, ready = drive(wait_until_processed(files, "F1"))  # type: ignore[arg-type]

    assert waits == [1.0, 2.0] and ready


def test_a_share_is_said_missing_only_after_the_whole_wait():
    files = Files(landed_after=None)
    respond = Respond()
    posted = deliver_text(ANSWER, respond=respond)
    respond.posts.clear()
    steps = share_chart(posted, client=files, channel_id="C1", render=lambda _s: b"png")  # type: ignore[arg-type]

    waits = []
    for wait in steps:
        waits.append(wait)
        assert respond.posts == []  # no note while Slack may still show it

    assert sum(waits) == 31.0
    assert [p["text"] for p in respond.posts] == [CHART_NOT_LANDED]


def test_a_share_that_lands_while_polled_needs_no_note():
    files = Files(landed_after=3)
    respond = Respond()
    posted = deliver_text(ANSWER, respond=respond)
    respond.posts.clear()

    waits, report = drive(
        share_chart(posted, client=files, channel_id="C1", render=lambda _s: b"png")  # type: ignore[arg-type]
    )

    assert waits == [1.0, 2.0, 4.0] and report.chart == "channel" and respond.posts == []


def test_the_default_waits_are_slacks_pace():
    options = DeliveryOptions()
    assert options.file_ready_waits == SLACK_PACE
    assert options.share_waits == (0.0, *SLACK_PACE)


def test_a_share_in_a_direct_message_counts():
    files = Files(where="ims")
    files.channel = "D1"

    waits, state = drive(confirm_share(files, "F1", "D1", (0.0, *SLACK_PACE)))  # type: ignore[arg-type]

    assert state == "landed" and waits == []


def test_where_a_files_info_file_shows_its_shares():
    assert shared_in({"ims": ["D1"]}, "D1")
    assert shared_in({"groups": ["G1"]}, "G1")
    assert shared_in({"channels": ["C1"]}, "C1")
    assert shared_in({"shares": {"private": {"D1": [{}]}}}, "D1")
    assert not shared_in({"channels": ["C1"], "ims": []}, "D1")
