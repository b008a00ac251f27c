"""The `/openmodels` listeners: plain functions of Bolt's injected ack, respond and client.

`register(app, services)` wires them to an App; everything they need comes in
through `BotServices`, so they run the same under Socket Mode, HTTP, the console
and the tests.

A listener acknowledges and answers, then hands the chart (draw, upload, wait for
Slack to process it, show it) to a pool of its own. Bolt calls ack() from inside its
listener threads (five by default), so a listener busy for seconds with a chart
would keep the next commands from being acknowledged within Slack's 3 seconds once
the pool is full. A private answer with a chart goes out once, with its chart if
the chart is ready about two seconds after the command (bot.delivery says why): a
deadline (bot.deadlines), not a waiting listener, posts the text alone when the
chart is late.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deadlines import Deadlines
from bot.delivery import (
    SHARE_ACTION,
    DeliveryOptions,
    PrivateAnswer,
    Respond,
    deliver_private_chart,
    deliver_text,
    share_chart,
)
from commands import AnswerContext, answer_text
from commands import blocks as bk
from commands.answer import Answer, ChartSpec
from commands.answers import only_reads
from commands.format import echo, escape, hide_paths
from commands.subscriptions import Channel, channel_refused
from openmodels.errors import OpenModelsError

log = logging.getLogger(__name__)

COMMAND = "/openmodels"
APOLOGY = (
    "Sorry, something went wrong while answering that. It has been logged; "
    "please try again in a moment."
)
NOT_SHAREABLE = (
    "Only answers that read the figures (top, compare, family, model, help) can be shared "
    "in the channel."
)


@dataclass(frozen=True)
class BotServices:
    """What the listeners need, built once at start-up and handed to `register`."""

    context: AnswerContext  # store, families, schedules; the channel is set per request
    render: Callable[[ChartSpec], bytes]
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)
    # Told each response URL (for a mention or a DM: its event id) once its answer (or
    # apology) has been delivered: the console, the tests and the benchmark wait on it
    # instead of sleeping.
    on_done: Callable[[str], None] | None = None
    # Where charts are drawn, uploaded and shown, away from Bolt's listener threads.
    charts: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(4, thread_name_prefix="openmodels-chart")
    )
    # Posts a private answer's text alone once it has waited long enough for its chart.
    texts: Deadlines = field(default_factory=Deadlines)

    def close(self) -> None:
        """Finish the charts in flight, then stop the pools and the renderer."""
        self.charts.shutdown(wait=True)
        self.texts.close()
        close_render = getattr(self.render, "close", None)
        if callable(close_render):
            close_render()


def register(app: App, services: BotServices) -> None:
    """Attach the slash command, the buttons, the App Home, mentions and direct messages,
    and the one error handler to `app`."""
    # Imported here: bot.conversations builds on this module's services and helpers.
    from bot.conversations import register as register_conversations

    register_conversations(app, services)

    @app.command(COMMAND)
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        handle_command(services, ack, command, respond, client)

    @app.action(SHARE_ACTION)
    def on_share(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        handle_share(services, ack, body, action, respond, client)

    # The buttons and the App Home register from their own modules, which build on this
    # one's BotServices and deliver_answer (so they are imported here, not at the top).
    from bot import answer_actions, home

    answer_actions.register(app, services)
    home.register(app, services)

    @app.error
    def on_error(error: Exception, body: dict[str, Any], respond: Respond) -> None:
        handle_error(services, error, body, respond)


def handle_command(
    services: BotServices,
    ack: Ack,
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    """Answer `/openmodels TEXT`: acknowledge at once, then answer through the response URL."""
    # First, before touching the store: Slack shows an error if this takes over 3 s. An
    # empty ack shows nothing, so the real answer arrives alone at the response URL.
    ack()
    started = services.texts.now()
    text = str(command.get("text") or "")  # the parser caps its length
    channel = Channel(
        team_id=str(command.get("team_id") or ""),
        channel_id=str(command.get("channel_id") or ""),
        user_id=command.get("user_id"),
    )
    answer = answer_text(text, replace(services.context, channel=channel))
    if answer.extra.get("confirmation"):
        answer = confirm_in_channel(services, answer, client, channel)
    # `/openmodels` alone is `top`: its share button says so rather than carry "".
    share_text = text if text.strip() else "top"
    deliver_answer(
        services,
        answer,
        respond,
        client,
        channel.channel_id,
        command,
        started,
        share_text=share_text,
    )


def confirm_in_channel(
    services: BotServices, answer: Answer, client: WebClient, channel: Channel
) -> Answer:
    """Say a subscription change in the channel, for everyone there to see.

    This is also the test that the bot can post there: if Slack refuses, the
    subscription is marked failing and the user is told to invite the bot.
    """
    try:
        client.chat_postMessage(
            channel=channel.channel_id, text=str(answer.extra["confirmation"]), unfurl_links=False
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "error")
        log.warning(
            "cannot post in %s (%s): subscription marked failing", channel.channel_id, error
        )
        return channel_refused(
            answer, services.context.store, channel, error, services.context.now()
        )
    return answer


def handle_share(
    services: BotServices,
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    """The "Share in channel" button: answer the command stored in it again, for everyone.

    Only answers that read carry the button; a value naming anything else (a message
    from an older version, a forged click) is refused, never run for the channel.
    """
    ack()
    started = services.texts.now()
    text = str(action.get("value") or "")
    channel_id = str(
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or ""
    )
    user = body.get("user") or {}
    team_id = str((body.get("team") or {}).get("id") or user.get("team_id") or "")
    channel = Channel(team_id=team_id, channel_id=channel_id, user_id=user.get("id"))
    if not only_reads(text):
        # Checked before answering: answering a subscription command would change it.
        log.warning("refused to share %r: not an answer that only reads", echo(text, 100))
        answer = Answer(text=NOT_SHAREABLE, blocks=[bk.section(NOT_SHAREABLE)], error=True)
    else:
        answer = answer_text(text, replace(services.context, channel=channel))
        if not answer.error:
            answer = replace(answer, public=True)
    deliver_answer(services, answer, respond, client, channel_id, body, started)


def deliver_answer(
    services: BotServices,
    answer: Answer,
    respond: Respond,
    client: WebClient,
    channel_id: str,
    body: dict[str, Any],
    started: float,
    share_text: str | None = None,
    replace: bool = False,
) -> None:
    """Post the answer to the request's response URL; draw and show its chart in the
    chart pool. With `replace`, the answer replaces the message a button was on."""
    if answer.chart is not None and not answer.public:
        _deliver_private_chart(
            services, answer, respond, client, body, started, share_text, replace
        )
        return
    posted = deliver_text(answer, respond=respond, share_text=share_text, replace=replace)
    if answer.chart is None:
        _done(services, body.get("response_url"))
        return

    def chart() -> None:
        try:
            share_chart(
                posted,
                client=client,
                channel_id=channel_id,
                render=services.render,
                options=services.delivery,
            )
        except Exception:  # share_chart should not raise; if it does, say so once
            log.exception("sharing the chart for %s failed", _describe(body))
        finally:
            _done(services, body.get("response_url"))

    _submit(services, chart, lambda: _done(services, body.get("response_url")))


def _deliver_private_chart(
    services: BotServices,
    answer: Answer,
    respond: Respond,
    client: WebClient,
    body: dict[str, Any],
    started: float,
    share_text: str | None,
    replace: bool = False,
) -> None:
    """One message with text and chart if the chart is ready in time; else the text
    alone (posted by a timer) and the chart after it."""
    pending = PrivateAnswer(answer, respond=respond, share_text=share_text, replace=replace)
    try:
        deadline = services.texts.at(started + services.delivery.text_wait, pending.post_text)
    except RuntimeError:  # shutting down: answer with the text alone
        pending.post_text()
        _done(services, body.get("response_url"))
        return

    def finish() -> None:
        deadline.cancel()
        pending.post_text()  # the text always goes, whatever became of the chart
        _done(services, body.get("response_url"))

    def chart() -> None:
        try:
            deliver_private_chart(
                pending, client=client, render=services.render, options=services.delivery
            )
        except Exception:  # deliver_private_chart should not raise; if it does, say so once
            log.exception("showing the chart for %s failed", _describe(body))
        finally:
            finish()

    _submit(services, chart, finish)


def _submit(services: BotServices, work: Callable[[], None], instead: Callable[[], None]) -> None:
    """Run `work` in the chart pool; if the pool is shutting down, run `instead` now."""
    try:
        services.charts.submit(work)
    except RuntimeError:
        log.warning("the chart pool is shut down: answering without the chart")
        instead()


def handle_error(
    services: BotServices, error: Exception, body: dict[str, Any], respond: Respond | None
) -> None:
    """The one place a listener's failure is logged (traceback once) and the user told."""
    message = failure_message(error, body)
    if body.get("response_url") and respond is not None:
        try:
            respond(text=message, response_type="ephemeral", replace_original=False)
        except Exception as exc:  # the apology is best effort; the traceback is logged above
            log.warning("could not tell the user about the failure: %s", exc)
    _done(services, body.get("response_url"))


def failure_message(error: Exception, body: dict[str, Any]) -> str:
    """Log a listener's failure (with its traceback unless a person can act on it) and
    return what to tell the user."""
    if isinstance(error, OpenModelsError):
        # A problem a person can act on (say, an unreadable store): say it, no traceback,
        # and without the server's file paths, which are no business of the channel.
        log.warning("answering %s failed: %s", _describe(body), error)
        return f"Sorry, I could not answer that: {escape(hide_paths(str(error)))}"
    log.error("answering %s failed", _describe(body), exc_info=error)
    return APOLOGY


def _describe(body: dict[str, Any]) -> str:
    if body.get("command"):
        return f"{body['command']} {echo(str(body.get('text') or ''), 100)!r}"
    event = body.get("event") or {}
    if event.get("type"):
        return f"{event['type']} event {body.get('event_id', '?')}"
    actions = body.get("actions") or [{}]
    return f"action {actions[0].get('action_id', body.get('type', '?'))}"


def _done(services: BotServices, response_url: Any) -> None:
    if services.on_done is not None and response_url:
        services.on_done(str(response_url))
