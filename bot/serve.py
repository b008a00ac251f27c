"""`openmodels serve`, assembled: the Slack app, its chart pool and its job runner.

One place builds what a serving bot process holds and closes it in order, so that the
CLI (over HTTP or Socket Mode) and the load benchmark run the very same assembly.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

from slack_bolt import App

from bot.app import build_app
from bot.chart_cache import ChartCache, cache_directory
from bot.chart_pool import ChartPool
from bot.handlers import BotServices
from bot.home import refresh_home_tabs
from bot.installations import InstalledWorkspaces
from bot.jobs import Services, home_context, scheduled_jobs, schedules_of, services_from_config
from bot.scheduler import JobRunner
from bot.settings import SlackSettings
from commands import AnswerContext
from openmodels.config import Config
from openmodels.errors import ConfigError
from openmodels.families import load_families

log = logging.getLogger(__name__)


@dataclass
class BotProcess:
    """The parts of one serving bot: build with `build`, then serve `app`, then `close`."""

    app: App
    services: BotServices  # what the Slack listeners use
    jobs: Services  # what the scheduled jobs use
    runner: JobRunner
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def build(cls, config: Config, settings: SlackSettings, *, collects: bool = True) -> BotProcess:
        """Everything `serve` runs, from the configuration; one workspace's bot token is
        checked now (with installs through OAuth there is none yet).

        `collects`: whether this bot's scheduler takes the snapshots (not with
        --no-scheduler), which answers on an empty store say.
        """
        if settings.oauth is not None and config.admins is not None:
            raise ConfigError(
                "OPENMODELS_ADMINS lists who may change subscriptions in one workspace; with "
                "installs through OAuth each workspace decides (/openmodels permissions): "
                "unset it"
            )
        families = load_families(config.families_path)
        # The bot answers from, and collects into, the real store: never the bundled sample.
        jobs = services_from_config(config, families, slack=settings)
        # With installs through OAuth, the listeners and the jobs share one installation
        # store, and so one refresh of a token at a time.
        installations = (
            jobs.slack.installations if isinstance(jobs.slack, InstalledWorkspaces) else None
        )
        # One chart pool for the answers and the scheduled digests: a digest drawn inside
        # `serve` would otherwise hold up every acknowledgement while it draws. Both ask
        # through one cache, so a chart is drawn once however many answers and digest
        # channels show it (bot.chart_cache).
        pool = ChartPool(config.chart_workers)
        render = ChartCache(pool, cache_directory(jobs.store))
        context = AnswerContext(
            store=jobs.store,
            families=families,
            schedules=schedules_of(config),
            collects=collects,
            admins=config.admins,
        )
        services = BotServices(context=context, render=render)
        # Collections in a process of their own: on a thread of this one they would wait
        # behind the answering threads for the interpreter lock (bot.collection). The App
        # Home tabs refreshed after each in the background, at Slack's pace, sharing it
        # with the tabs visitors open (bot.home_pace).
        jobs = replace(
            jobs,
            render=render,
            collect_apart=True,
            refresh_homes=partial(refresh_homes_apart, services, jobs),
        )
        runner = JobRunner(
            jobs.store, scheduled_jobs(jobs), lease=timedelta(seconds=config.job_lease_seconds)
        )
        try:
            app = build_app(settings, services, installations=installations)
        except BaseException:
            services.close()
            raise
        pool.warm_up()
        return cls(app=app, services=services, jobs=jobs, runner=runner)

    def start_scheduler(self) -> None:
        """Run the scheduled jobs on a thread of their own (once Slack is reachable)."""
        thread = threading.Thread(target=self.runner.run_forever, name="scheduler", daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        """Stop the scheduler between jobs, then the listeners' pools and the chart pool.

        A job already running is allowed to finish (and commit) first.
        """
        self.runner.stop()
        for thread in self._threads:
            thread.join()
        self.services.close()
        self.jobs.store.close()  # on PostgreSQL, this process's connections to it


def refresh_homes_apart(services: BotServices, jobs: Services, now: datetime) -> None:
    """Refresh the App Home tabs after the snapshot taken at `now`, in a lane of the app's
    posting threads: the scheduler's job returns at once, and the tabs follow at the
    pace users.conversations allows."""
    assert jobs.slack is not None, "serve always has a token for each workspace"
    client, context = jobs.slack, home_context(jobs, now)
    services.posting.lane().run(lambda: refresh_home_tabs(client, context, now, services.home_pace))
