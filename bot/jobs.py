"""The bot's jobs: collect (then check overtakes and deliver) and the weekly digest.

The same functions serve the scheduler, `openmodels collect` run from cron and
`openmodels digest`, so alerts follow every committed snapshot however it was taken.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient

from bot.collection import collect_in_own_process
from bot.outbox_sender import DeliveryReport, deliver
from bot.scheduler import Job, parse_daily, parse_weekly
from commands.answer import ChartSpec
from openmodels.alerts import AlertCheck, check_overtakes
from openmodels.collector import CollectResult, HubSource, collect_snapshot
from openmodels.config import Config
from openmodels.digest import DigestPlan, plan_digests
from openmodels.errors import ConfigError
from openmodels.families import Families
from openmodels.progress import Progress
from storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """Everything the jobs touch, built once at start-up."""

    config: Config
    families: Families
    store: Store
    hub: HubSource
    slack: WebClient | None  # None: queue alerts and digests, deliver them later
    render: Callable[[ChartSpec], bytes]
    failpoint: Callable[[str], None] = lambda _where: None  # crash tests only
    # Take snapshots in a process of their own (`serve`: see bot.collection).
    collect_apart: bool = False


def services_from_config(
    config: Config,
    families: Families,
    *,
    slack_token: str | None,
    slack_api_url: str | None = None,
    require_slack: bool = False,
    failpoint: str | None = None,
) -> Services:
    """Build the services from configuration; Slack only when a bot token is given."""
    from bot.slack_client import make_web_client
    from openmodels.charts import render_chart
    from openmodels.hub import HubClient
    from openmodels.locate import store_for_writing

    if require_slack and not slack_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set; it is needed to post (use --dry-run to preview)"
        )
    if slack_token and not slack_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    return Services(
        config=config,
        families=families,
        store=store_for_writing(config),
        hub=HubClient(config.hf_endpoint, token=config.hf_token, timeout=config.hub_timeout),
        slack=make_web_client(slack_token, slack_api_url) if slack_token else None,
        render=render_chart,
        failpoint=crash_at(failpoint) if failpoint else (lambda _where: None),
    )


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
    """Take a snapshot, queue the overtake alerts it reveals, deliver what is queued.

    Alerts follow every committed snapshot, however it was taken (cron or scheduler).
    """
    if services.collect_apart:
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
    return result, check


def alerts_job(services: Services, now: datetime) -> AlertCheck:
    check = check_overtakes(
        services.store, services.families, confirm=services.config.alert_confirm, now=now
    )
    deliver_job(services)
    return check


def digest_job(services: Services, now: datetime) -> DigestPlan:
    plan = plan_digests(
        services.store, services.families, now, confirm=services.config.alert_confirm
    )
    deliver_job(services)
    return plan


def deliver_job(services: Services) -> DeliveryReport | None:
    if services.slack is None:
        log.info("SLACK_BOT_TOKEN is not set: queued messages wait for the bot")
        return None
    return deliver(
        services.store, services.slack, render=services.render, failpoint=services.failpoint
    )


def scheduled_jobs(services: Services) -> list[Job]:
    """The jobs `openmodels serve` runs, at the times the configuration names."""
    config = services.config
    return [
        Job(
            "collect",
            parse_daily(config.collect_at, "OPENMODELS_COLLECT_AT"),
            lambda now: _log_collect(collect_job(services, now)),
            catch_up_if_never_run=True,
        ),
        Job(
            "digest",
            parse_weekly(config.digest_at, "OPENMODELS_DIGEST_AT"),
            lambda now: _log_digest(digest_job(services, now)),
        ),
    ]


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
