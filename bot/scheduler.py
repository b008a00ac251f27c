"""The bot's own job runner: daily collection and the weekly digest, in UTC.

`schedule` drives a short tick; whether a job is due is decided here from the last
run kept in the store, because `schedule` never runs a job that was missed while
the process was down, and its `.at()` times are local unless pytz is installed.
Every job is wrapped: an exception is logged with its traceback and the loop goes on.
One lock keeps jobs from overlapping. The clock is injected so tests never sleep.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import schedule

from openmodels.errors import ConfigError
from storage import Store
from storage import jobs as job_runs
from storage.snapshots import format_timestamp, parse_timestamp

log = logging.getLogger(__name__)

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Every:
    """A UTC time of day, on every day (weekday None) or on one weekday (0 = Monday)."""

    at: time
    weekday: int | None = None

    def last_due(self, now: datetime) -> datetime:
        """The latest scheduled moment at or before `now`."""
        moment = datetime.combine(now.date(), self.at, tzinfo=UTC)
        if self.weekday is None:
            return moment if moment <= now else moment - timedelta(days=1)
        moment -= timedelta(days=(now.weekday() - self.weekday) % 7)
        return moment if moment <= now else moment - timedelta(days=7)

    def next_due(self, now: datetime) -> datetime:
        """The first scheduled moment strictly after `now`."""
        step = timedelta(days=1 if self.weekday is None else 7)
        return self.last_due(now) + step

    def __str__(self) -> str:
        day = "daily" if self.weekday is None else f"every {WEEKDAYS[self.weekday].title()}"
        return f"{day} at {self.at.strftime('%H:%M')} UTC"


def parse_daily(text: str, variable: str) -> Every:
    """'06:00' -> daily at 06:00 UTC."""
    match = _TIME.match(text.strip())
    if not match:
        raise ConfigError(f"{variable} must be a UTC time like 06:00, got {text!r}")
    return Every(time(int(match[1]), int(match[2])))


def parse_weekly(text: str, variable: str) -> Every:
    """'Monday 09:00' (or 'mon 09:00') -> weekly on Monday at 09:00 UTC."""
    parts = text.strip().lower().split()
    days = [
        i for i, d in enumerate(WEEKDAYS) if parts and len(parts[0]) >= 3 and d.startswith(parts[0])
    ]
    if len(parts) != 2 or len(days) != 1 or not _TIME.match(parts[1]):
        raise ConfigError(
            f"{variable} must be a weekday and UTC time like 'Monday 09:00', got {text!r}"
        )
    return Every(parse_daily(parts[1], variable).at, days[0])


@dataclass(frozen=True)
class Job:
    name: str
    when: Every
    run: Callable[[datetime], None]
    catch_up_if_never_run: bool = False  # collect: yes; digest: wait for its first slot


class JobRunner:
    """Runs due jobs one at a time, records each run, and survives their failures."""

    def __init__(
        self,
        store: Store,
        jobs: list[Job],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.clock = clock
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def is_due(self, job: Job, now: datetime) -> bool:
        with self.store.reading() as db:
            last = job_runs.get(db, job.name)
        if last is None or last.last_started is None:
            return job.catch_up_if_never_run
        return parse_timestamp(last.last_started) < job.when.last_due(now)

    def tick(self) -> list[str]:
        """Run every job that is due now, in order; return the names of those run."""
        ran = []
        for job in self.jobs:
            if self.stopping.is_set():
                break
            now = self.clock()
            if self.is_due(job, now):
                self.run_now(job)
                ran.append(job.name)
        return ran

    def run_now(self, job: Job) -> bool:
        """Run `job` now, unless another job is running. True if it succeeded."""
        with self._lock:
            started = self.clock()
            with self.store.writing() as db:
                job_runs.started(db, job.name, format_timestamp(started))
            error = None
            try:
                log.info("job %s: starting", job.name)
                job.run(started)
            except Exception as exc:  # a job's failure must never stop the loop
                error = f"{type(exc).__name__}: {exc}"
                log.exception("job %s failed; the scheduler carries on", job.name)
            with self.store.writing() as db:
                job_runs.finished(db, job.name, format_timestamp(self.clock()), error)
            if error is None:
                log.info("job %s: done; next %s", job.name, job.when.next_due(self.clock()))
            return error is None

    def next_runs(self) -> dict[str, datetime]:
        now = self.clock()
        return {job.name: job.when.next_due(now) for job in self.jobs}

    def run_forever(self, tick_seconds: int = 30) -> None:
        """Catch up once, then tick until `stopping` is set (SIGTERM sets it)."""
        scheduler = schedule.Scheduler()
        scheduler.every(tick_seconds).seconds.do(self._safe_tick)
        self._safe_tick()
        for name, when in self.next_runs().items():
            log.info("job %s: next run %s", name, when.isoformat())
        while not self.stopping.is_set():
            scheduler.run_pending()
            self.stopping.wait(timeout=1)
        log.info("scheduler stopped")

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception:  # e.g. the store briefly unreadable: try again next tick
            log.exception("scheduler tick failed; retrying at the next tick")

    def stop(self) -> None:
        self.stopping.set()
