"""The buttons under answers and in the App Home: each runs the command text it carries.

Where the answer goes depends on where the button was (the payload's `container`):
- a message: through the click's response URL. The metric toggle replaces the message
  it was on (an interaction's response URL may replace its message, where a slash
  command's cannot); the other buttons add an answer beside it.
- a modal: the modal shows the new answer (views.update with the hash the click saw,
  so a late answer to an older click never overwrites a newer one: hash_conflict).
- the App Home: there is no response URL. A modal opens at once on the click's trigger,
  which Slack lets expire 3 seconds after the click, saying what it is working on;
  the answer fills it when ready (views.update with the view's id and hash).

A value that names anything but an answer that only reads (a forged click, a button
from an older version) is refused, never run: it could change a subscription.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery import Respond
from bot.handlers import APOLOGY, BotServices, clicked_in, deliver_answer
from commands import answer_text
from commands import blocks as bk
from commands import next_steps as steps
from commands.answer import Answer
from commands.answers import only_reads
from commands.format import echo, escape, hide_paths
from commands.home_view import COMPARE_ACTION, FAMILY_ACTION
from commands.views import View, answer_modal, error_modal, working_modal
from openmodels.errors import OpenModelsError

log = logging.getLogger(__name__)

ACTIONS = (*steps.ACTIONS, FAMILY_ACTION, COMPARE_ACTION)
REFUSED = "That button names something other than an answer that only reads; nothing was run."


def register(app: App, services: BotServices) -> None:
    """Attach a listener for each answer button and each App Home menu."""
    for action_id in ACTIONS:
        app.action(action_id)(_listener(services))


def _listener(services: BotServices) -> Any:
    def on_action(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond | None,
        client: WebClient,
    ) -> None:
        handle_action(services, ack, body, action, respond, client)

    return on_action


def action_value(action: dict[str, Any]) -> str:
    """The command text a button (`value`) or a menu option (`selected_option`) carries."""
    option = action.get("selected_option") or {}
    return str(option.get("value") or action.get("value") or "")


def handle_action(
    services: BotServices,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond | None,
    client: WebClient,
) -> None:
    """Acknowledge, then answer the click where it came from (see the module docstring)."""
    ack()
    started = services.now()
    text = action_value(action)
    view = body.get("view") or {}
    if (body.get("container") or {}).get("type") == "view":
        if view.get("type") == "modal":
            fill_modal(services, client, str(view.get("id")), view.get("hash"), text)
        else:
            open_answer_modal(services, client, str(body.get("trigger_id") or ""), text)
        return
    if respond is None:  # a message always has a response URL; log a payload without one
        log.warning("action %s on a message without a response URL", action.get("action_id"))
        return
    channel = clicked_in(body)
    if not only_reads(text):
        log.warning("refused the action %r: not an answer that only reads", echo(text, 100))
        answer = Answer(text=REFUSED, blocks=[bk.section(REFUSED)], error=True)
        deliver_answer(services, answer, respond, client, channel.channel_id, body, started)
        return
    # A button's answer is private, whatever its value says: only "Share in channel"
    # shows an answer to the channel.
    answer = replace(answer_text(text, services.context_for(channel, client)), public=False)
    deliver_answer(
        services,
        answer,
        respond,
        client,
        channel.channel_id,
        body,
        started,
        share_text=text,
        replace=action.get("action_id") in steps.REPLACES,
    )


def open_answer_modal(services: BotServices, client: WebClient, trigger_id: str, text: str) -> None:
    """Open a modal on `trigger_id` at once (a trigger lives 3 s), then fill it."""
    try:
        opened = client.views_open(trigger_id=trigger_id, view=working_modal(text))
    except SlackApiError as exc:
        # Nothing else can reach the user: a home tab click has no response URL.
        log.warning(
            "could not open a modal for %r (%s)", echo(text, 100), exc.response.get("error")
        )
        return
    view = opened.get("view") or {}
    fill_modal(services, client, str(view.get("id")), view.get("hash"), text)


def fill_modal(
    services: BotServices, client: WebClient, view_id: str, view_hash: Any, text: str
) -> None:
    """Show the answer to `text` in the modal `view_id`, unless it changed since `view_hash`."""
    modal = modal_answer(services, text)
    try:
        client.views_update(view_id=view_id, hash=view_hash, view=modal)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "hash_conflict":
            log.info("modal %s changed while answering %r; the newer view stands", view_id, text)
        else:
            log.warning("could not show the answer in modal %s (%s)", view_id, error)


def modal_answer(services: BotServices, text: str) -> View:
    """The modal for `text`: its answer, or why there is none. Never raises."""
    if not only_reads(text):
        log.warning("refused the action %r: not an answer that only reads", echo(text, 100))
        return error_modal(REFUSED)
    try:
        answer = answer_text(text, services.context)
    except OpenModelsError as exc:
        log.warning("answering %r in a modal failed: %s", echo(text, 100), exc)
        return error_modal(f"Sorry, I could not answer that: {escape(hide_paths(str(exc)))}")
    except Exception:
        log.exception("answering %r in a modal failed", echo(text, 100))
        return error_modal(APOLOGY)
    return answer_modal(replace(answer, public=False), text)
