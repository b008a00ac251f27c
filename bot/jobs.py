"""The bot's jobs: collect (then check overtakes, queue launch messages, deliver, and
count derivatives) and the weekly digest.

The same functions serve the scheduler, `openmodels collect` run from cron and
`openmodels digest`, so alerts follow every committed snapshot however it was taken.

What only some runs need is imported where it is used: `openmodels collect` from cron
without a Slack token loads neither slack_sdk nor the delivery and chart code, nor the
digest's.

Whatever reaches Slack goes with the token of the workspace it is for (bot.installations):
the one of SLACK_BOT_TOKEN, or each workspace's from the installation store.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.scheduler import Every, Hourly, Job, parse_daily, parse_weekly
from commands.alert_message import alert_message
from commands.launches_answer import launch_message
from commands.subscriptions import Schedules
from openmodels.alerts import AlertCheck, check_overtakes
from openmodels.collector import CollectResult, HubSource, collect_snapshot
from openmodels.config import Config
from openmodels.derivative_counts import DerivativeSource, DerivativesReport, fill_derivatives
from openmodels.errors import ConfigError
from openmodels.families import Families
from openmodels.launch_finder import launch_notices
from storage import Store
from storage import outbox as ob
from storage.snapshots import format_timestamp

if TYPE_CHECKING:
    from bot.installations import Installations, TeamClients
    from bot.outbox_sender import DeliveryReport
    from bot.settings import SlackSettings
    from commands import AnswerContext
    from commands.answer import ChartSpec
    from openmodels.digest import DigestLaunch, DigestPlan
    from openmodels.progress import Progress

log = logging.getLogger(__name__)


class Hub(HubSource, DerivativeSource, Protocol):
    """The Hub as the jobs use it: listings, and single models' derivative counts."""


@dataclass(frozen=True)
class Services:
    """Everything the jobs touch, built once at start-up."""

    config: Config
    families: Families
    store: Store
    hub: Hub
    slack: TeamClients | None  # None: queue alerts and digests, deliver them later
    render: Callable[[ChartSpec], bytes]
    failpoint: Callable[[str], None] = lambda _where: None  # crash tests only
    # Take snapshots, and look up their derivative counts, in processes of their own
    # (`serve`: see bot.collection).
    collect_apart: bool = False
    # Refresh the App Home tabs in the background, at Slack's pace (`serve`: in a lane
    # of the Slack app's posting threads); None: here, waiting for the pace.
    refresh_homes: Callable[[datetime], None] | None = None


def services_from_config(
    config: Config,
    families: Families,
    *,
    slack: SlackSettings | None,
    installations: Installations | None = None,
    require_slack: bool = False,
    failpoint: str | None = None,
) -> Services:
    """Build the services from configuration; Slack only when `slack` can post (a bot
    token, or the OAuth credentials that find each workspace's token in the
    installation store, `installations` if given)."""
    from bot.chart_cache import ChartCache, cache_directory
    from openmodels.charts import render_chart
    from openmodels.hub import HubClient
    from openmodels.locate import store_for_writing

    if require_slack and (slack is None or not slack.posts):
        raise ConfigError(
            "neither SLACK_BOT_TOKEN nor SLACK_CLIENT_ID and SLACK_CLIENT_SECRET is set; one "
            "of them is needed to post (use --dry-run to preview)"
        )
    # Checked now: the jobs read the schedules only after the snapshot is written.
    schedules_of(config)
    store = store_for_writing(config)
    return Services(
        config=config,
        families=families,
        store=store,
        hub=HubClient.from_config(config),
        slack=team_clients(slack, store, installations),
        # A digest's chart, drawn once for all its channels (and kept beside the store).
        render=ChartCache(render_chart, cache_directory(store)),
        failpoint=crash_at(failpoint) if failpoint else (lambda _where: None),
    )


def team_clients(
    slack: SlackSettings | None, store: Store, installations: Installations | None = None
) -> TeamClients | None:
    """Who the jobs post as in each workspace, or None when they cannot post."""
    if slack is None or not slack.posts:
        return None
    # slack_sdk is loaded only now, when there is a token to post with.
    from bot.installations import InstalledWorkspaces, OneWorkspace, open_installations
    from bot.slack_client import make_web_client

    if slack.oauth is None:
        return OneWorkspace(make_web_client(slack.bot_token, slack.api_url))
    if installations is None:
        installations = open_installations(store, slack.oauth, slack.api_url)
    return InstalledWorkspaces(store, installations, slack.api_url)


def collect_every(config: Config) -> Every:
    """When collections run (OPENMODELS_COLLECT_AT)."""
    return parse_daily(config.collect_at, "OPENMODELS_COLLECT_AT")


def digest_every(config: Config) -> Every:
    """When digests run (OPENMODELS_DIGEST_AT)."""
    return parse_weekly(config.digest_at, "OPENMODELS_DIGEST_AT")


def schedules_of(config: Config) -> Schedules:
    """Both schedules, in words, for the answers; a malformed one raises ConfigError."""
    return Schedules(collect=str(collect_every(config)), digest=str(digest_every(config)))


def crash_at(name: str) -> Callable[[str], None]:
    """A failpoint that kills the process, as kill -9 would, when delivery reaches `name`.

    Set through OPENMODELS_FAILPOINT by the reliability suite; never in production.
    """

    def maybe_crash(where: str) -> None:
        if where == name:
            log.warning("failpoint %s reached: exiting without cleanup", where)
            logging.shutdown()
            os._exit(137)

    return maybe_crash


def collect_job(
    services: Services, now: datetime, progress: Progress | None = None
) -> tuple[CollectResult, AlertCheck]:
    """Take a snapshot, queue the overtake alerts and launch messages it reveals,
    deliver what is queued, then look up its derivative counts.

    Alerts follow every committed snapshot, however it was taken (cron or scheduler).
    Derivative counts come last, so no message waits for their requests.
    """
    if services.collect_apart:
        from bot.collection import collect_in_own_process

        result = collect_in_own_process(services.config, services.families, now)
    else:
        result = collect_snapshot(
            services.families,
            services.hub,
            services.store,
            now=now,
            concurrency=services.config.hub_concurrency,
            progress=progress,
        )
    # Crash tests kill here: the snapshot is committed, its check has not run.
    services.failpoint("after_snapshot")
    check = alerts_job(services, now)
    derivatives_job(services, result.snapshot_id)
    home_job(services, now)
    return result, check


def home_job(services: Services, now: datetime) -> int:
    """Refresh the App Home tab of everyone who opened it in the last 7 days, now that a
    new snapshot is in, at the pace Slack allows (bot.home_pace): in the background in
    `serve`, here (and 0 returned) otherwise. Returns the tabs refreshed here. Never
    raises: the snapshot and its alerts stand whatever Slack says, and a collection must
    not be retried for a tab."""
    if services.slack is None:
        return 0
    if services.refresh_homes is not None:
        services.refresh_homes(now)
        return 0
    from bot.home import refresh_home_tabs
    from bot.home_pace import HomePace
    from bot.posting import run_now

    try:
        steps = refresh_home_tabs(services.slack, home_context(services, now), now, HomePace())
        return run_now(steps, time.sleep)
    except Exception:
        log.exception("refreshing the App Home tabs failed; the snapshot stands")
        return 0


def home_context(services: Services, now: datetime) -> AnswerContext:
    """What the App Home tabs are built from, as of the snapshot taken at `now`."""
    from commands import AnswerContext

    return AnswerContext(
        store=services.store,
        families=services.families,
        now=lambda: now,
        schedules=schedules_of(services.config),
    )


def alerts_job(services: Services, now: datetime) -> AlertCheck:
    check = check_overtakes(
        services.store,
        services.families,
        message=alert_message,
        confirm=services.config.alert_confirm,
        now=now,
    )
    launches_job(services, now)
    deliver_job(services)
    return check


def launches_job(services: Services, now: datetime) -> int:
    """Queue one message per `launches` channel for each recent live snapshot that found
    launches it wants; idempotent (keyed by channel and snapshot). Returns how many were
    new. A failure is logged and never fails the collection: the next one makes it up."""
    try:
        with services.store.reading() as db:
            notices = launch_notices(db, services.families.keys)
        if not notices:
            return 0
        stamp = format_timestamp(now)
        with services.store.writing() as db:
            queued = sum(
                ob.enqueue(
                    db,
                    n.team_id,
                    n.channel_id,
                    "launch",
                    n.event,
                    launch_message(n.launches, services.families, n.snapshot),
                    stamp,
                )
                for n in notices
            )
    except Exception:
        log.exception("launch messages could not be queued; the next collection tries again")
        return 0
    if queued:
        log.info("%d launch messages queued", queued)
    return queued


def derivatives_job(services: Services, snapshot_id: int) -> DerivativesReport | None:
    """Fill in the snapshot's derivative counts. A failure leaves them unknown and is
    logged: the snapshot is committed, and retrying the collection would take another."""
    try:
        if services.collect_apart:
            from bot.collection import derivatives_in_own_process

            return derivatives_in_own_process(services.config, snapshot_id)
        return fill_derivatives(
            services.store,
            services.hub,
            snapshot_id,
            top=services.config.derivatives_top,
            concurrency=services.config.hub_concurrency,
        )
    except Exception:
        log.exception("derivative counts of snapshot %s stay unknown", snapshot_id)
        return None


def digest_job(services: Services, now: datetime, slot: datetime | None = None) -> DigestPlan:
    """Queue the digest of `slot` and deliver it. Without a slot (`openmodels digest`
    run by hand) the digest belongs to the most recent scheduled moment."""
    from commands.digest_message import digest_message
    from openmodels.digest import plan_digests

    if slot is None:
        slot = digest_every(services.config).last_due(now)
    plan = plan_digests(
        services.store,
        services.families,
        now,
        slot=slot,
        message=digest_message,
        confirm=services.config.alert_confirm,
        launches=digest_launches(services, now),
    )
    deliver_job(services)
    return plan


def digest_launches(services: Services, now: datetime) -> tuple[DigestLaunch, ...]:
    """The models launched in the seven days up to `now`, as the digest lists them."""
    from openmodels.digest import digest_launches as week_digest_launches

    with services.store.reading() as db:
        return week_digest_launches(db, now, services.families)


def deliver_job(services: Services) -> DeliveryReport | None:
    if services.slack is None:
        log.info("Slack is not configured here: queued messages wait for the bot")
        return None
    from bot.outbox_sender import deliver

    return deliver(
        services.store,
        services.slack,
        render=services.render,
        failpoint=services.failpoint,
        claim_seconds=services.config.delivery_claim_seconds,
    )


def scheduled_jobs(services: Services) -> list[Job]:
    """The jobs `openmodels serve` runs: collection and digest at the times the
    configuration names, and delivery of anything left pending, hourly."""
    config = services.config
    return [
        Job(
            "collect",
            collect_every(config),
            lambda now, _slot: _log_collect(collect_job(services, now)),
            catch_up_if_never_run=True,
        ),
        Job(
            "digest",
            digest_every(config),
            lambda now, slot: _log_digest(digest_job(services, now, slot)),
        ),
        # Collections and digests deliver what they queue; this picks up what Slack
        # refused for a moment, and rechecks digest charts not shown yet, meanwhile.
        Job("deliver", Hourly(30), lambda _now, _slot: _deliver_pending(services)),
    ]


def _deliver_pending(services: Services) -> None:
    deliver_job(services)


def _log_collect(outcome: tuple[CollectResult, AlertCheck]) -> None:
    result, check = outcome
    log.info(
        "snapshot %s: %s models; %s overtakes, %s alerts queued",
        result.snapshot_id,
        result.model_count,
        len(check.overtakes),
        check.queued,
    )


def _log_digest(plan: DigestPlan) -> None:
    log.info("digest: queued for %s; skipped %s", plan.queued or "no channel", plan.skipped)
