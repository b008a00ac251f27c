"""The `/openmodels` listeners: plain functions of Bolt's injected ack, respond and client.

`register(app, services)` wires them to an App; everything they need comes in
through `BotServices`, so they run the same under Socket Mode, HTTP, the console
and the tests.

Acknowledgements come first. The slash command's listener (and the share button's)
only acknowledges and queues the answer on the `answers` thread, so the Bolt listener
thread it runs on is free again at once for the next command's ack. Measured with
benchmarks/bench_load.py (50 commands in flight on 2 cores), what delays an ack is
everything else the process does at the same time: before, the listeners made their
answers on Bolt's five listener threads, and the next commands' acks queued behind them
(p99 0.9 s). Making answers apart was not enough by itself: every thread busy making or
posting an answer is one more thread the acknowledging threads share the interpreter
lock with (four answer threads: ack p99 2 to 3 times that of one). So answers are made
one at a time, on one thread, in the order the commands came, and that thread waits
while commands are still arriving (bot.acks_first): under a burst the acks stay close
to what Bolt and waitress alone cost, and the answers follow right after. (Mentions,
direct messages, the App Home and the answer buttons, in their own modules, still
answer on Bolt's listener threads after their ack.)

Then the answer is handed to Slack in a lane of its own (bot.posting): its posts run
in order on threads shared by every answer, so the answers thread never waits on Slack,
and a response URL that takes seconds to answer (or a subscription's confirmation in a
slow channel) delays only its own answer. The chart is asked for while the answer is
made: one already drawn, or being drawn for another answer, is shared
(bot.chart_cache); a new one is queued in the chart pool (bot.chart_pool, as `serve`
runs), which refuses it at once when too much drawing is ahead (the answer then gets
its text and a note), and drawn in a worker process; once drawn, the answer's lane
uploads and shows it. No thread waits on a drawing, nor
on the files.info polls between posts. A private answer with a chart goes out once,
with its chart if the chart is ready about two seconds after the command
(bot.delivery says why): the lane's timer, not a waiting thread, posts the text alone
when the chart is late.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.acks_first import AcksFirst
from bot.chart_cache import ChartCache
from bot.chart_pool import ChartError
from bot.delivery import (
    SHARE_ACTION,
    DeliveryOptions,
    Posted,
    PrivateAnswer,
    Respond,
    ResponseUrl,
    deliver_private_chart,
    deliver_text,
    share_chart,
)
from bot.home_pace import HomePace
from bot.posting import Lane, Lanes, Scheduled, Steps, run_now
from bot.roles import RoleCache, SlackRoles
from bot.slack_client import lane_client, paced
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
    "Only answers that read the figures (top, compare, family, model, regions, movers, "
    "forecast, new, help) can be shared in the channel."
)


@dataclass(frozen=True)
class BotServices:
    """What the listeners need, built once at start-up and handed to `register`."""

    context: AnswerContext  # store, families, schedules; the channel is set per request
    # A ChartCache over the chart pool (serve, console, demo), or any function drawing a
    # chart (the tests), which gets a cache of its own, in memory.
    render: Callable[[ChartSpec], bytes]
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)
    # Told each response URL (for a mention or a DM: its event id) once its answer (or
    # apology) has been delivered: the console, the tests and the benchmark wait on it
    # instead of sleeping.
    on_done: Callable[[str], None] | None = None
    # Where answers are made and posted, one at a time, apart from the threads that
    # acknowledge, and held back while commands are still arriving: see the module
    # docstring.
    answers: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="openmodels-answer")
    )
    acks_first: AcksFirst = field(default_factory=AcksFirst)
    # Where each answer's posts go, in a lane of its own (bot.posting): the response URL,
    # the messages, the uploads, and the waits between.
    posting: Lanes = field(default_factory=Lanes)
    # The pace of asking Slack which channels App Home visitors are in (bot.home_pace).
    home_pace: HomePace = field(default_factory=HomePace)
    # What Slack said lately of who is a workspace admin or owner (bot.roles).
    roles: RoleCache = field(default_factory=RoleCache)
    # Where the answers' charts come from: each distinct chart drawn once (bot.chart_cache).
    charts: ChartCache = field(init=False)

    def __post_init__(self) -> None:
        charts = self.render if isinstance(self.render, ChartCache) else ChartCache(self.render)
        object.__setattr__(self, "charts", charts)

    def now(self) -> float:
        """The clock the answers' deadlines are given on (when a command was acked)."""
        return self.posting.timer.now()

    def context_for(self, channel: Channel, client: WebClient) -> AnswerContext:
        """The answers' context for a request from `channel`, whose people's roles are
        asked with the request's `client` (its workspace's token)."""
        roles = SlackRoles(self.roles, client, self.context.store)
        return replace(self.context, channel=channel, roles=roles)

    def close(self) -> None:
        """Finish the answers and charts in flight, then stop the pools.

        The answers first, then the chart pool: charts queued are refused (their answers
        get the text and a note), those being drawn finish; then the posts they lead to.
        A post waiting for Slack's pace (a share to confirm, a refresh's next call) is
        cancelled and logged, never run early (bot.posting); a private answer's text
        still goes.
        """
        self.answers.shutdown(wait=True)
        self.charts.close()
        self.posting.close()


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
    from bot import alert_actions, answer_actions, home

    alert_actions.register(app, services)
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
    """`/openmodels TEXT`: acknowledge at once; the answer is made on a thread of `answers`
    and goes to the response URL."""
    # First, before touching the store: Slack shows an error if this takes over 3 s. An
    # empty ack shows nothing, so the real answer arrives alone at the response URL.
    services.acks_first.arrived()
    ack()
    started = services.now()
    _answer_apart(
        services,
        command,
        respond,
        lambda: answer_command(services, command, respond, client, started),
    )


def answer_command(
    services: BotServices,
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    started: float,
) -> None:
    """Answer an acknowledged `/openmodels TEXT` (`started`: when it was acknowledged)."""
    text = str(command.get("text") or "")  # the parser caps its length
    channel = Channel(
        team_id=str(command.get("team_id") or ""),
        channel_id=str(command.get("channel_id") or ""),
        user_id=command.get("user_id"),
    )
    answer = answer_text(text, services.context_for(channel, client))
    # `/openmodels` alone is `top`: its share button says so rather than carry "".
    share_text = text if text.strip() else "top"
    lane = services.posting.lane()

    def deliver(said: Answer) -> None:
        deliver_answer(
            services,
            said,
            respond,
            client,
            channel.channel_id,
            command,
            started,
            share_text=share_text,
            lane=lane,
        )

    if answer.extra.get("confirmation"):
        # In the lane: a channel slow to take the confirmation holds no other answer.
        def confirm() -> Iterator[float]:
            said = yield from confirm_in_channel(services, answer, lane_client(client), channel)
            deliver(said)

        _in_lane(services, lane, command, respond, confirm)
        return
    deliver(answer)


def confirm_in_channel(
    services: BotServices, answer: Answer, client: WebClient, channel: Channel
) -> Steps[Answer]:
    """Say a subscription change in the channel, for everyone there to see: steps (a 429
    is waited out on the lane's timer), whose result is the answer to give.

    This is also the test that the bot can post there: if Slack refuses, the
    subscription is marked failing and the user is told to invite the bot.
    """
    try:
        yield from paced(
            lambda: client.chat_postMessage(
                channel=channel.channel_id,
                text=str(answer.extra["confirmation"]),
                unfurl_links=False,
            ),
            f"a confirmation in {channel.channel_id}",
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
    services.acks_first.arrived()
    ack()
    started = services.now()
    _answer_apart(
        services,
        body,
        respond,
        lambda: answer_share(services, body, action, respond, client, started),
    )


def clicked_in(body: dict[str, Any]) -> Channel:
    """The channel a button was clicked in, and who clicked it (from Slack's payload)."""
    user = body.get("user") or {}
    return Channel(
        team_id=str((body.get("team") or {}).get("id") or user.get("team_id") or ""),
        channel_id=str(
            (body.get("channel") or {}).get("id")
            or (body.get("container") or {}).get("channel_id")
            or ""
        ),
        user_id=user.get("id"),
    )


def answer_share(
    services: BotServices,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
    started: float,
) -> None:
    """Answer an acknowledged click of "Share in channel", for the whole channel."""
    text = str(action.get("value") or "")
    channel = clicked_in(body)
    if not only_reads(text):
        # Checked before answering: answering a subscription command would change it.
        log.warning("refused to share %r: not an answer that only reads", echo(text, 100))
        answer = Answer(text=NOT_SHAREABLE, blocks=[bk.section(NOT_SHAREABLE)], error=True)
    else:
        answer = answer_text(text, services.context_for(channel, client))
        if not answer.error:
            answer = replace(answer, public=True)
    deliver_answer(services, answer, respond, client, channel.channel_id, body, started)


def _answer_apart(
    services: BotServices, body: dict[str, Any], respond: Respond, work: Callable[[], None]
) -> None:
    """Run `work` on the `answers` thread, once acknowledging has its turn; a failure
    goes to the one error handler, whose apology is posted in a lane of its own."""

    def answer() -> None:
        try:
            services.acks_first.wait_turn()
            work()
        except Exception as exc:
            services.posting.lane().run(partial(handle_error, services, exc, body, respond))

    try:
        services.answers.submit(answer)
    except RuntimeError:  # the bot is stopping: answer on this thread
        answer()


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
    lane: Lane | None = None,
) -> None:
    """Post the answer to the request's response URL, in `lane` (a new one if none);
    draw and show its chart in the chart pool. With `replace`, the answer replaces the
    message a button was on."""
    lane = lane or services.posting.lane()
    client = lane_client(client)
    if answer.chart is not None and not answer.public:
        _deliver_private_chart(
            services, lane, answer, respond, client, body, started, share_text, replace
        )
        return
    chart = answer.chart
    done = partial(done_with, services, body.get("response_url"))

    def post_text() -> None:
        posted = deliver_text(answer, respond=respond, share_text=share_text, replace=replace)
        if chart is None:
            done()
        else:
            share_chart_apart(services, lane, chart, posted, client, channel_id, body, done)

    _in_lane(services, lane, body, respond, post_text)


def _in_lane(
    services: BotServices,
    lane: Lane,
    body: dict[str, Any],
    respond: Respond | None,
    work: Callable[[], Iterator[float] | None],
) -> None:
    """Run `work` (steps, or a plain function) in `lane`; a failure goes to the one
    error handler."""

    def guarded() -> Iterator[float]:
        try:
            steps = work()
            if steps is not None:
                yield from steps
        except Exception as exc:
            handle_error(services, exc, body, respond)

    lane.run(guarded)


def share_chart_apart(
    services: BotServices,
    lane: Lane,
    chart: ChartSpec,
    posted: Posted,
    client: WebClient,
    channel_id: str,
    body: dict[str, Any],
    done: Callable[[], None],
    thread_ts: str | None = None,
) -> None:
    """Draw `chart` (in the chart pool, if there is one) and share it with the answer
    `posted` in `channel_id`, in the thread `thread_ts` if given, in `lane`; then call
    `done`."""
    drawing = _start_drawing(services, chart)

    def share() -> Iterator[float]:
        try:
            yield from share_chart(
                posted,
                client=client,
                channel_id=channel_id,
                render=drawing.render,
                options=services.delivery,
                thread_ts=thread_ts,
            )
        except Exception:  # share_chart should not raise; if it does, say so once
            log.exception("sharing the chart for %s failed", _describe(body))
        finally:
            done()

    _once_drawn(drawing, lane, share)


def _deliver_private_chart(
    services: BotServices,
    lane: Lane,
    answer: Answer,
    respond: Respond,
    client: WebClient,
    body: dict[str, Any],
    started: float,
    share_text: str | None,
    replace: bool = False,
) -> None:
    """One message with text and chart if the chart is ready in time; else the text
    alone (posted at its deadline) and the chart after it."""
    assert answer.chart is not None
    pending = PrivateAnswer(answer, respond=respond, share_text=share_text, replace=replace)
    drawing = _start_drawing(services, answer.chart)
    deadline: Scheduled | None = None

    def finish() -> None:
        if deadline is not None:
            deadline.cancel()
        pending.post_text()  # the text always goes, whatever became of the chart
        done_with(services, body.get("response_url"))

    def chart() -> Iterator[float]:
        try:
            yield from deliver_private_chart(
                pending, client=client, render=drawing.render, options=services.delivery
            )
        except Exception:  # deliver_private_chart should not raise; if it does, say so once
            log.exception("showing the chart for %s failed", _describe(body))
        finally:
            finish()

    if drawing.refused:  # no chart will come: the text and a note, now
        lane.run(chart)
        return
    timer = services.posting.timer
    try:
        deadline = timer.at(
            started + services.delivery.text_wait, lambda: lane.run(pending.post_text)
        )
    except RuntimeError:  # shutting down: answer with the text alone
        lane.run(finish)
        return
    _once_drawn(drawing, lane, chart)


@dataclass(frozen=True)
class _Drawing:
    """A chart on its way: what the chart step calls to get its PNG."""

    render: Callable[[ChartSpec], bytes]
    future: Future[bytes] | None = None  # None: refused at once (the render says why)

    @property
    def refused(self) -> bool:
        return self.future is None


def _start_drawing(services: BotServices, chart: ChartSpec) -> _Drawing:
    """Ask for `chart` now, while the answer is posted: a chart already drawn or being
    drawn is shared (bot.chart_cache), and a full chart queue refuses a new one at once.
    No thread waits while it is drawn."""
    try:
        future = services.charts.submit(chart)
    except ChartError as exc:
        refusal = exc

        def refuse(_spec: ChartSpec) -> bytes:
            raise refusal

        return _Drawing(refuse)
    return _Drawing(lambda _spec: future.result(), future)


def _once_drawn(drawing: _Drawing, lane: Lane, work: Callable[[], Iterator[float]]) -> None:
    """Queue the chart step `work` in `lane` once the chart is drawn (at once if refused)."""
    if drawing.future is None:
        lane.run(work)
    else:
        drawing.future.add_done_callback(lambda _drawn: lane.run(work))


def handle_error(
    services: BotServices, error: Exception, body: dict[str, Any], respond: Respond | None
) -> None:
    """The one place a listener's failure is logged (traceback once) and the user told."""
    message = failure_message(error, body)
    if body.get("response_url") and respond is not None:
        # Best effort, posted once; ResponseUrl logs what Slack said to it.
        run_now(ResponseUrl(respond).note(message), time.sleep)
    done_with(services, body.get("response_url"))


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


def done_with(services: BotServices, response_url: Any) -> None:
    """Tell `on_done` that the answer to `response_url` (or event id) is delivered."""
    if services.on_done is not None and response_url:
        services.on_done(str(response_url))
