"""The bot's own job runner: daily collection and the weekly digest, in UTC.

`schedule` drives a short tick; whether a job is due is decided here from the state
kept in the store, because `schedule` never runs a job that was missed while the
process was down, and its `.at()` times are local unless pytz is installed.

Delivery also runs hourly, so a message Slack refused for a moment (or a digest chart
it had not shown yet) waits an hour at most, not until the next collection.

A job is owed once per slot, the scheduled moment a run belongs to (`Every.last_due`),
and the job is told its slot. A run that fails, or never finishes (the process killed
mid-collection), is retried after 5, 15, then every 60 minutes until it succeeds or
the next slot comes. A run in progress holds a lease in the store, renewed while it
works, so a second runner — this process's or another's — never starts it again and
never mistakes it for a dead one; a lease that expires marks a run that died.
Every job is wrapped: an exception is logged with its traceback and the loop goes on.
One lock keeps this process's jobs from overlapping. The clock is injected so tests
never sleep.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import schedule

from bot.identity import holder_id
from openmodels.errors import ConfigError
from storage import Store
from storage import jobs as job_runs
from storage.jobs import JobRun
from storage.snapshots import format_timestamp, parse_timestamp

log = logging.getLogger(__name__)

# After a failed attempt, wait this long before the next; the last delay repeats.
RETRY_DELAYS = (timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=60))
# A run's lease lasts this long unless renewed; it is renewed five times as often, so
# only a run that died (or a process frozen for minutes) lets it expire.
LEASE = timedelta(minutes=5)

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


@dataclass(frozen=True)
class Hourly:
    """Every hour, at `minute` past."""

    minute: int = 0

    def last_due(self, now: datetime) -> datetime:
        """The latest scheduled moment at or before `now`."""
        moment = now.replace(minute=self.minute, second=0, microsecond=0)
        return moment if moment <= now else moment - timedelta(hours=1)

    def next_due(self, now: datetime) -> datetime:
        """The first scheduled moment strictly after `now`."""
        return self.last_due(now) + timedelta(hours=1)

    def __str__(self) -> str:
        return f"hourly at {self.minute:02d} past"


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
    when: Every | Hourly
    run: Callable[[datetime, datetime], None]  # run(now, slot)
    catch_up_if_never_run: bool = False  # collect: yes; digest: wait for its first slot


@dataclass(frozen=True)
class Due:
    """A run owed now: the slot it belongs to, and the dead run it takes over, if any."""

    slot: datetime
    failures: int  # earlier attempts for this slot that failed or never finished
    took_over: str | None = None  # the holder of an expired lease


def tick_for(lease: timedelta) -> int:
    """Seconds between two looks at the jobs: a tenth of the lease, 1 to 30."""
    return max(1, min(30, int(lease.total_seconds() / 10)))


def retry_delay(failures: int) -> timedelta:
    """How long to wait after the `failures`-th failed attempt in a row."""
    return RETRY_DELAYS[min(max(failures, 1), len(RETRY_DELAYS)) - 1]


def due(job: Job, state: JobRun | None, now: datetime) -> Due | None:
    """Whether `job` should start now, given its recorded `state`. Pure.

    Not due: while a live lease says it is running; once its current slot is done;
    while a retry of the current slot waits for its time. A job never seen before is
    due at once only if it catches up (`collect`); otherwise it waits for a slot.
    """
    slot = job.when.last_due(now)
    if state is None:
        return Due(slot, 0) if job.catch_up_if_never_run else None
    stamp = format_timestamp(now)
    if state.lease_live(stamp):
        return None
    if state.done_slot and parse_timestamp(state.done_slot) >= slot:
        return None
    same_slot = state.slot is not None and parse_timestamp(state.slot) == slot
    failures = state.failures if same_slot else 0
    if state.lease_owner is not None:  # a lease that expired: that run died
        return Due(slot, failures + 1 if same_slot else 0, took_over=state.lease_owner)
    if same_slot and state.retry_at and stamp < state.retry_at:
        return None
    return Due(slot, failures)


class JobRunner:
    """Runs due jobs one at a time, records each run, and survives their failures."""

    def __init__(
        self,
        store: Store,
        jobs: list[Job],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease: timedelta = LEASE,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.clock = clock
        self.lease = lease
        self.holder = holder_id()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        # When another runner's lease seen at the last tick expires: run_forever looks
        # again then, so a job whose runner died is taken over the moment its lease runs
        # out, not at the next regular tick.
        self.look_again_at: datetime | None = None

    def tick(self) -> list[str]:
        """Run every job that is due now, in order; return the names of those run."""
        self.look_again_at = None
        ran = []
        for job in self.jobs:
            if self.stopping.is_set():
                break
            with self._lock:
                claimed = self._claim(job)
                if claimed is not None:
                    self._run(job, claimed)
                    ran.append(job.name)
        return ran

    def run_now(self, job: Job) -> bool:
        """Run `job` now for its latest slot, unless a live lease says it is running
        (here or in another process). True if it ran and succeeded."""
        with self._lock:
            claimed = self._claim(job, force=True)
            return claimed is not None and self._run(job, claimed)

    def _claim(self, job: Job, force: bool = False) -> Due | None:
        """Decide and take the lease in one write transaction, so that of two runners
        looking at once only one starts the job."""
        now = self.clock()
        stamp = format_timestamp(now)
        if not force:  # most ticks find nothing due: decide that without the write lock
            with self.store.reading() as db:
                state = job_runs.get(db, job.name)
            if state is not None and state.lease_live(stamp) and state.lease_owner != self.holder:
                self._look_again(parse_timestamp(str(state.lease_expires)))
            if state is not None and due(job, state, now) is None:
                return None
        with self.store.writing() as db:
            state = job_runs.get(db, job.name)
            if force:
                if state is not None and state.lease_live(stamp):
                    log.info("job %s: already running (%s)", job.name, state.lease_owner)
                    return None
                slot = job.when.last_due(now)
                same = state is not None and state.slot == format_timestamp(slot)
                claimed: Due | None = Due(slot, state.failures if state and same else 0)
            else:
                claimed = due(job, state, now)
            if claimed is None:
                if state is None:
                    job_runs.not_owed_before(db, job.name, format_timestamp(job.when.last_due(now)))
                return None
            error = None
            if claimed.took_over:
                error = (
                    f"the run started {state.last_started if state else '?'} by "
                    f"{claimed.took_over} never finished"
                )
            job_runs.start(
                db,
                job.name,
                owner=self.holder,
                slot=format_timestamp(claimed.slot),
                now=stamp,
                lease_expires=format_timestamp(now + self.lease),
                failures=claimed.failures,
                error=error,
            )
        if claimed.took_over:
            log.warning("job %s: %s; running it again", job.name, error)
        elif claimed.failures:
            log.info("job %s: retry %d for %s", job.name, claimed.failures, claimed.slot)
        return claimed

    def _run(self, job: Job, claimed: Due) -> bool:
        started = self.clock()
        slot = format_timestamp(claimed.slot)
        error = None
        renewing = threading.Event()
        heartbeat = threading.Thread(
            target=self._renew, args=(job, renewing), name=f"lease-{job.name}", daemon=True
        )
        heartbeat.start()
        try:
            log.info("job %s: starting (slot %s)", job.name, slot)
            job.run(started, claimed.slot)
        except Exception as exc:  # a job's failure must never stop the loop
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed; the scheduler carries on", job.name)
        finally:
            renewing.set()
            heartbeat.join()
        now = self.clock()
        with self.store.writing() as db:
            if error is None:
                job_runs.succeeded(db, job.name, self.holder, slot, format_timestamp(now))
            else:
                retry = min(now + retry_delay(claimed.failures + 1), job.when.next_due(now))
                job_runs.failed(
                    db,
                    job.name,
                    self.holder,
                    slot,
                    format_timestamp(now),
                    error,
                    format_timestamp(retry),
                )
        if error is None:
            log.info("job %s: done; next %s", job.name, job.when.next_due(now))
        else:
            log.warning("job %s: will try again at %s", job.name, retry.isoformat())
        return error is None

    def _renew(self, job: Job, done: threading.Event) -> None:
        """Keep the lease of a run in progress alive until `done` is set."""
        while not done.wait(self.lease.total_seconds() / 5):
            try:
                until = format_timestamp(self.clock() + self.lease)
                with self.store.writing() as db:
                    if not job_runs.renew(db, job.name, self.holder, until):
                        log.warning("job %s: lost its lease to another runner", job.name)
                        return
            except Exception:  # e.g. the store briefly locked: try at the next beat
                log.exception("job %s: could not renew its lease", job.name)

    def _look_again(self, moment: datetime) -> None:
        if self.look_again_at is None or moment < self.look_again_at:
            self.look_again_at = moment

    def next_runs(self) -> dict[str, datetime]:
        now = self.clock()
        return {job.name: job.when.next_due(now) for job in self.jobs}

    def run_forever(self, tick_seconds: int | None = None) -> None:
        """Catch up once, then tick until `stopping` is set (SIGTERM sets it).

        Ticks come every 30 s, or every tenth of the lease if that is shorter (at least
        a second), and one more when another runner's lease seen running expires: a job
        whose runner died is taken over as its lease runs out, within one lease period of
        the death."""
        if tick_seconds is None:
            tick_seconds = tick_for(self.lease)
        scheduler = schedule.Scheduler()
        scheduler.every(tick_seconds).seconds.do(self._safe_tick)
        self._safe_tick()
        for name, when in self.next_runs().items():
            log.info("job %s: next run %s", name, when.isoformat())
        while not self.stopping.is_set():
            scheduler.run_pending()
            wait = 1.0
            if self.look_again_at is not None:
                wait = (self.look_again_at - self.clock()).total_seconds()
                if wait <= 0:
                    self._safe_tick()
                    continue
            self.stopping.wait(timeout=min(1.0, wait))
        log.info("scheduler stopped")

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception:  # e.g. the store briefly unreadable: try again next tick
            log.exception("scheduler tick failed; retrying at the next tick")

    def stop(self) -> None:
        self.stopping.set()
