"""The job runner, checked with an injected clock: no test sleeps."""

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.scheduler import Every, Job, JobRunner, parse_daily, parse_weekly
from openmodels.errors import ConfigError
from storage import jobs as job_runs
from storage import open_store

DAILY = Every(time(6, 0))
MONDAY_9 = Every(time(9, 0), weekday=0)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "now", "last", "next_"),
    [
        (DAILY, "2026-01-07 05:59", "2026-01-06 06:00", "2026-01-07 06:00"),
        (DAILY, "2026-01-07 06:00", "2026-01-07 06:00", "2026-01-08 06:00"),
        (MONDAY_9, "2026-01-07 12:00", "2026-01-05 09:00", "2026-01-12 09:00"),  # a Wednesday
        (MONDAY_9, "2026-01-05 08:59", "2025-12-29 09:00", "2026-01-05 09:00"),
        (MONDAY_9, "2026-01-05 09:00", "2026-01-05 09:00", "2026-01-12 09:00"),
    ],
)
def test_last_and_next_scheduled_moments(when, now, last, next_):
    assert when.last_due(at(now)) == at(last)
    assert when.next_due(at(now)) == at(next_)


def test_schedules_parse_from_the_environment_format():
    assert parse_daily("06:00", "X") == DAILY
    assert parse_weekly("Monday 09:00", "X") == MONDAY_9
    assert parse_weekly("fri 17:30", "X") == Every(time(17, 30), weekday=4)


@pytest.mark.parametrize("text", ["6am", "25:00", "", "06:60"])
def test_a_bad_time_names_the_variable(text):
    with pytest.raises(ConfigError, match="OPENMODELS_COLLECT_AT"):
        parse_daily(text, "OPENMODELS_COLLECT_AT")


@pytest.mark.parametrize("text", ["Funday 09:00", "Monday", "09:00 Monday", "m 09:00"])
def test_a_bad_weekly_schedule_names_the_variable(text):
    with pytest.raises(ConfigError, match="OPENMODELS_DIGEST_AT"):
        parse_weekly(text, "OPENMODELS_DIGEST_AT")


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "s.db")


def runner_with(store, clock, calls, fail=False):
    def collect(now):
        calls.append(("collect", now))
        if fail:
            raise RuntimeError("hub down")

    def digest(now):
        calls.append(("digest", now))

    jobs = [
        Job("collect", DAILY, collect, catch_up_if_never_run=True),
        Job("digest", MONDAY_9, digest),
    ]
    return JobRunner(store, jobs, clock=clock)


def test_first_start_collects_at_once_but_waits_for_the_digest_slot(store):
    calls = []
    runner = runner_with(store, Clock(at("2026-01-07 12:00")), calls)
    assert runner.tick() == ["collect"]
    assert runner.tick() == []


def test_a_job_missed_while_down_runs_once_at_start_up(store):
    clock = Clock(at("2026-01-05 10:00"))
    calls = []
    runner = runner_with(store, clock, calls)
    runner.tick()
    runner.run_now(runner.jobs[1])
    # Down from Monday 10:00 until Wednesday 12:00: two collections were missed.
    clock.now = at("2026-01-07 12:00")
    restarted = runner_with(store, clock, calls)
    assert restarted.tick() == ["collect"]
    assert restarted.tick() == []
    clock.now = at("2026-01-08 06:00")
    assert restarted.tick() == ["collect"]
    clock.now = at("2026-01-12 09:00")
    assert restarted.tick() == ["collect", "digest"]


def test_a_failing_job_is_logged_recorded_and_does_not_stop_the_loop(store, caplog):
    clock = Clock(at("2026-01-07 12:00"))
    runner = runner_with(store, clock, [], fail=True)
    assert runner.tick() == ["collect"]
    assert "job collect failed" in caplog.text
    assert "RuntimeError: hub down" in caplog.text  # the traceback
    with store.reading() as db:
        run = job_runs.get(db, "collect")
    assert run.last_error == "RuntimeError: hub down" and run.last_ok is None
    clock.now += timedelta(days=1)
    assert runner.tick() == ["collect"]  # tried again at the next slot


def test_next_runs_are_reported_in_utc(store):
    runner = runner_with(store, Clock(at("2026-01-07 12:00")), [])
    assert runner.next_runs() == {
        "collect": at("2026-01-08 06:00"),
        "digest": at("2026-01-12 09:00"),
    }


def test_stop_ends_the_loop_between_jobs(store):
    clock = Clock(at("2026-01-07 12:00"))
    calls = []
    runner = runner_with(store, clock, calls)
    runner.stop()
    runner.run_forever(tick_seconds=1)  # returns at once: stop was already requested
    assert calls == []


def test_jobs_never_overlap(store):
    import threading

    clock = Clock(at("2026-01-07 12:00"))
    inside = threading.Event()
    release = threading.Event()
    events = []

    def slow(now):
        events.append("slow start")
        inside.set()
        release.wait(timeout=10)
        events.append("slow end")

    def quick(now):
        events.append("quick")

    runner = JobRunner(store, [Job("slow", DAILY, slow), Job("quick", DAILY, quick)], clock=clock)
    first = threading.Thread(target=runner.run_now, args=(runner.jobs[0],))
    first.start()
    inside.wait(timeout=10)
    second = threading.Thread(target=runner.run_now, args=(runner.jobs[1],))
    second.start()
    second.join(timeout=0.2)
    assert second.is_alive()  # waiting for the slow job to finish
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert events == ["slow start", "slow end", "quick"]
