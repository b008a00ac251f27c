"""The buttons on alerts and on the subscriptions list: "Mute this pair here" and "Unmute".

`register(app, services)` wires them to the App built in `bot.app`, so they work in
HTTP mode and in Socket Mode alike. Each acknowledges at once, then changes the store
(`commands.subscriptions.change_mute`: only those commands.permissions allows) and
answers the person who clicked through the click's response URL:
- a mute answers privately under the alert, which stays as it is for everyone else;
- an unmute replaces the private subscriptions list it was clicked in with the list as
  it now stands (an interaction's response URL may replace the message it came from).
A change is also said in the channel, for everyone there, as subscription changes are.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.delivery import Respond, post_message, posted_once
from bot.handlers import BotServices, clicked_in, done_with
from bot.posting import run_now
from commands import blocks as bk
from commands.alert_message import MUTE_ACTION, UNMUTE_ACTION
from commands.answer import Answer
from commands.subscriptions import change_mute, listing

log = logging.getLogger(__name__)


def register(app: App, services: BotServices) -> None:
    """Attach the mute and unmute buttons' listeners to `app`."""

    @app.action(MUTE_ACTION)
    def on_mute(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        handle_mute(services, ack, body, action, respond, client, muting=True)

    @app.action(UNMUTE_ACTION)
    def on_unmute(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        handle_mute(services, ack, body, action, respond, client, muting=False)


def handle_mute(
    services: BotServices,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
    *,
    muting: bool,
) -> None:
    """Mute or unmute the pair the clicked button names, in the channel it was clicked in."""
    ack()
    respond = posted_once(respond)
    context = services.context
    channel = clicked_in(body)
    answer = change_mute(
        muting,
        str(action.get("value") or ""),
        context.store,
        context.families,
        channel,
        context.now(),
        context.admins,
        services.context_for(channel, client).roles,
    )
    confirmation = answer.extra.get("confirmation")
    if confirmation:
        # The change stands whatever Slack says to this line (post_message logs a refusal).
        run_now(post_message(client, channel.channel_id, None, str(confirmation)), time.sleep)
    if muting or answer.error:
        respond(
            text=answer.text,
            blocks=answer.blocks,
            response_type="ephemeral",
            replace_original=False,
        )
    else:
        now_listed = listing(context.store, context.families, channel, context.schedules)
        shown = replace(now_listed, blocks=[bk.context(answer.text), *now_listed.blocks])
        _replace_list(respond, shown)
    # Errors go to the app's one error handler, which apologises and says it is done.
    done_with(services, body.get("response_url"))


def _replace_list(respond: Respond, answer: Answer) -> None:
    respond(
        text=answer.text,
        blocks=bk.fit(answer.blocks),
        response_type="ephemeral",
        replace_original=True,
    )
