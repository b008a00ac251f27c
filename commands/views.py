"""Modal views: an answer shown in a modal, the "working…" view that opens first, and
the apology when answering failed. Pure.

A modal opened from the App Home has no response URL and no channel. It opens at
once on the click's trigger (which Slack lets expire after 3 seconds), saying what
it is working on, and the answer replaces it once ready (views.update). A modal
holds up to 100 blocks and its title at most 24 characters
(https://docs.slack.dev/reference/views/modal-views); charts come with answers in
a channel, so the modal says how to get one.
"""

from __future__ import annotations

from typing import Any

from commands import blocks as bk
from commands.answer import Answer
from commands.format import echo

View = dict[str, Any]
TITLE = "openmodels"
CALLBACK_ID = "openmodels_answer"


def _modal(blocks: list[bk.Block], private_metadata: str = "") -> View:
    view: View = {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": bk.plain_text(TITLE, bk.MAX_MODAL_TITLE),
        "close": bk.plain_text("Close", bk.MAX_MODAL_TITLE),
        "blocks": blocks,
    }
    if private_metadata:
        view["private_metadata"] = private_metadata[: bk.MAX_PRIVATE_METADATA]
    return view


def working_modal(text: str) -> View:
    """What the modal shows while the answer is being worked out."""
    return _modal([bk.section(f":hourglass_flowing_sand: Working on `{echo(text, 200)}`…")], text)


def answer_modal(answer: Answer, text: str) -> View:
    """`answer` (to the command `text`) as a modal, with its next steps under it."""
    extras: list[bk.Block] = []
    if answer.chart is not None:
        extras.append(
            bk.context(
                f"The chart comes with this answer in a channel: type "
                f"`/openmodels {echo(text, 200)}` there."
            )
        )
    if answer.next_steps is not None and not answer.error:
        extras.append(answer.next_steps)
    body = bk.fit(list(answer.blocks), bk.MAX_VIEW_BLOCKS - len(extras))
    return _modal([*body, *extras], text)


def error_modal(message: str) -> View:
    return _modal([bk.section(message)])
