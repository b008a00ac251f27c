"""The job runner, checked with an injected clock: no test sleeps."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.scheduler import (
    Every,
    Hourly,
    Job,
    JobRunner,
    parse_daily,
    parse_weekly,
    retry_delay,
)
from openmodels.errors import ConfigError
from storage import jobs as job_runs
from storage import open_store

DAILY = Every(time(6, 0))
MONDAY_9 = Every(time(9, 0), weekday=0)
HALF_PAST = Hourly(30)


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
        # Across a year's end, a leap day and a month's end: UTC has no DST to skip.
        (DAILY, "2026-12-31 23:59", "2026-12-31 06:00", "2027-01-01 06:00"),
        (DAILY, "2028-02-29 05:00", "2028-02-28 06:00", "2028-02-29 06:00"),
        (DAILY, "2028-03-01 05:00", "2028-02-29 06:00", "2028-03-01 06:00"),
        (MONDAY_9, "2027-01-01 00:00", "2026-12-28 09:00", "2027-01-04 09:00"),
        (MONDAY_9, "2028-03-01 12:00", "2028-02-28 09:00", "2028-03-06 09:00"),
        (HALF_PAST, "2026-12-31 23:45", "2026-12-31 23:30", "2027-01-01 00:30"),
        (HALF_PAST, "2027-01-01 00:10", "2026-12-31 23:30", "2027-01-01 00:30"),
        (HALF_PAST, "2028-02-29 00:30", "2028-02-29 00:30", "2028-02-29 01:30"),
    ],
)
def test_last_and_next_scheduled_moments(when, now, last, next_):
    assert when.last_due(at(now)) == at(last)
    assert when.next_due(at(now)) == at(next_)


def test_a_clock_set_back_never_runs_a_slot_again(store):
    clock = Clock(at("2027-01-01 06:00"))
    calls = []
    runner = runner_with(store, clock, calls)
    assert runner.tick() == ["collect"]

    clock.now = at("2026-12-30 07:00")  # NTP corrects a clock that ran two days fast
    assert runner.tick() == []
    clock.now = at("2027-01-01 07:00")
    assert runner.tick() == []
    clock.now = at("2027-01-02 06:00")
    assert runner.tick() == ["collect"]


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
def store(new_store):
    return new_store("s")


def runner_with(store, clock, calls, fail=False):
    def collect(now, slot):
        calls.append(("collect", now))
        if fail:
            raise RuntimeError("hub down")

    def digest(now, slot):
        calls.append(("digest", now))

    jobs = [
        Job("collect", DAILY, collect, catch_up_if_never_run=True),
        Job("digest", MONDAY_9, digest),
    ]
    return JobRunner(store, jobs, clock=clock)


def test_first_start_collects_at_once_but_waits_for_the_digest_slot(store):
    clock = Clock(at("2026-01-07 12:00"))  # a Wednesday
    calls = []
    runner = runner_with(store, clock, calls)
    assert runner.tick() == ["collect"]
    assert runner.tick() == []
    clock.now = at("2026-01-12 09:00")  # the digest's first slot
    assert runner.tick() == ["collect", "digest"]


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
    assert run.retry_at == "2026-01-07T12:05:00Z"


def test_a_failed_job_is_retried_after_5_15_then_every_60_minutes_until_it_succeeds(store):
    clock = Clock(at("2026-01-07 06:00"))
    calls: list[datetime] = []
    outcomes = iter(["fail", "fail", "fail", "fail", "ok"])

    def collect(now, slot):
        calls.append(now)
        assert slot == at("2026-01-07 06:00")  # every retry belongs to the day's slot
        if next(outcomes) == "fail":
            raise RuntimeError("hub down")

    runner = JobRunner(store, [Job("collect", DAILY, collect)], clock=clock)
    store_seen_job(runner, "2026-01-06 06:00")
    for minute in range(0, 4 * 60):
        clock.now = at("2026-01-07 06:00") + timedelta(minutes=minute)
        runner.tick()

    assert [c.strftime("%H:%M") for c in calls] == ["06:00", "06:05", "06:20", "07:20", "08:20"]
    with store.reading() as db:
        run = job_runs.get(db, "collect")
    assert run.last_error is None and run.failures == 0 and run.retry_at is None
    assert run.done_slot == "2026-01-07T06:00:00Z"


def test_retries_stop_when_the_next_slot_comes(store):
    clock = Clock(at("2026-01-07 05:30"))
    calls: list[tuple[datetime, datetime]] = []

    def collect(now, slot):
        calls.append((now, slot))
        if len(calls) == 1:
            raise RuntimeError("hub down")

    runner = JobRunner(store, [Job("collect", DAILY, collect)], clock=clock)
    store_seen_job(runner, "2026-01-05 06:00")
    runner.tick()  # the 2026-01-06 slot, late, fails
    with store.reading() as db:
        assert job_runs.get(db, "collect").retry_at == "2026-01-07T05:35:00Z"
    clock.now = at("2026-01-07 06:00")  # before 05:35's retry could matter, a new slot
    runner.tick()
    clock.now = at("2026-01-07 06:05")
    assert runner.tick() == []  # the new slot succeeded: nothing left to retry
    assert [slot for _, slot in calls] == [at("2026-01-06 06:00"), at("2026-01-07 06:00")]


@pytest.mark.parametrize(("failures", "minutes"), [(1, 5), (2, 15), (3, 60), (4, 60), (9, 60)])
def test_retry_delays(failures, minutes):
    assert retry_delay(failures) == timedelta(minutes=minutes)


def test_a_run_that_never_finished_is_retried_once_its_lease_expires(store, caplog):
    # A run began and its process died: its lease was never renewed nor released.
    with store.writing() as db:
        job_runs.start(
            db,
            "collect",
            owner="old-host:77:dead",
            slot="2026-01-07T06:00:00Z",
            now="2026-01-07T06:00:00Z",
            lease_expires="2026-01-07T06:05:00Z",
            failures=0,
        )
    clock = Clock(at("2026-01-07 06:04"))
    calls = []
    runner = runner_with(store, clock, calls)

    assert runner.tick() == []  # the lease is live: it may still be running elsewhere
    assert runner.look_again_at == at("2026-01-07 06:05")  # as the lease runs out
    clock.now = at("2026-01-07 06:05")
    assert runner.tick() == ["collect"]
    assert runner.look_again_at is None
    assert "never finished; running it again" in caplog.text
    with store.reading() as db:
        run = job_runs.get(db, "collect")
    assert run.done_slot == "2026-01-07T06:00:00Z" and run.lease_owner is None


def test_a_second_runner_does_not_start_a_job_the_first_is_running(store):
    clock = Clock(at("2026-01-07 06:00"))
    inside, release = threading.Event(), threading.Event()
    calls = []

    def slow(now, slot):
        calls.append("first")
        inside.set()
        release.wait(timeout=10)

    first = JobRunner(store, [Job("collect", DAILY, slow, True)], clock=clock)
    second = runner_with(store, clock, calls)
    running = threading.Thread(target=first.tick)
    running.start()
    inside.wait(timeout=10)

    assert second.tick() == []  # collect is running: its lease is live
    release.set()
    running.join(timeout=10)
    assert second.tick() == []  # and now its slot is done
    assert calls == ["first"]


def store_seen_job(runner, done_slot: str) -> None:
    """Record that `runner`'s jobs completed `done_slot` (a bot that ran before)."""
    with runner.store.writing() as db:
        for job in runner.jobs:
            job_runs.not_owed_before(db, job.name, at(done_slot).strftime("%Y-%m-%dT%H:%M:%SZ"))


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
    clock = Clock(at("2026-01-07 12:00"))
    inside = threading.Event()
    release = threading.Event()
    events = []

    def slow(now, slot):
        events.append("slow start")
        inside.set()
        release.wait(timeout=10)
        events.append("slow end")

    def quick(now, slot):
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


def test_status_shows_a_pending_retry_and_a_run_in_progress(store):
    from commands import AnswerContext, answer_text
    from commands.render import render_text
    from openmodels.families import load_families

    clock = Clock(at("2026-01-07 06:00"))
    inside, release = threading.Event(), threading.Event()

    def collect(now, slot):
        raise RuntimeError("hub down")

    def digest(now, slot):
        inside.set()
        release.wait(timeout=10)

    runner = JobRunner(
        store, [Job("collect", DAILY, collect, True), Job("digest", DAILY, digest, True)], clock
    )
    running = threading.Thread(target=runner.tick)
    running.start()
    inside.wait(timeout=10)
    status = render_text(answer_text("status", AnswerContext(store, load_families(), now=clock)))
    release.set()
    running.join(timeout=10)

    assert (
        "Retrying: collect for its 2026-01-07T06:00:00Z slot after 1 failed attempt; "
        "next try 2026-01-07T06:05:00Z"
    ) in status
    assert "Running: digest since 2026-01-07T06:00:00Z" in status
    assert "collect 2026-01-07T06:00:00Z (failed: RuntimeError: hub down)" in status


@pytest.mark.parametrize(
    ("now", "shown"),
    [
        ("2026-01-07 06:04", "Running: collect since 2026-01-07T06:00:00Z"),
        (
            "2026-01-07 06:30",
            "Never finished: collect started 2026-01-07T06:00:00Z (`old-host:77:dead`); "
            "its lease ran out at 2026-01-07T06:05:00Z, so a serving bot's scheduler runs "
            "it again",
        ),
    ],
)
def test_status_tells_a_run_in_progress_from_one_whose_process_died(store, now, shown):
    from commands import AnswerContext, answer_text
    from commands.render import render_text
    from openmodels.families import load_families

    # A run began and its process was killed: its lease is neither renewed nor released.
    with store.writing() as db:
        job_runs.start(
            db,
            "collect",
            owner="old-host:77:dead",
            slot="2026-01-07T06:00:00Z",
            now="2026-01-07T06:00:00Z",
            lease_expires="2026-01-07T06:05:00Z",
            failures=0,
        )
    context = AnswerContext(store, load_families(), now=lambda: at(now))

    status = render_text(answer_text("status", context))

    assert shown in status
    assert ("Running:" in status) == shown.startswith("Running:")


def test_a_collection_the_hub_failed_is_retried_and_the_days_snapshot_taken(store, fake_hub):
    # The Hub answers 500 to more requests than the client retries: the 06:00 collection
    # fails. Five minutes later the scheduler tries again and the day has its snapshot.
    from bot.jobs import Services, scheduled_jobs
    from openmodels.config import Config
    from openmodels.families import parse_families
    from openmodels.hub import HubClient
    from storage import queries as q
    from tests.fakes import hub_model
    from tests.slack_helpers import tiny_png

    fake_hub.add("Qwen", hub_model("Qwen/Qwen3-8B", downloads=5, all_time=50))
    fake_hub.inject("Qwen", server_errors=6)  # one request and its five retries
    services = Services(
        config=Config(db=store.location),
        families=parse_families('[families.qwen]\norgs = ["Qwen"]', "f.toml"),
        store=store,
        hub=HubClient(fake_hub.url, timeout=5),
        slack=None,
        render=tiny_png,
    )
    [collect] = [j for j in scheduled_jobs(services) if j.name == "collect"]
    clock = Clock(at("2026-01-07 06:00"))
    runner = JobRunner(store, [collect], clock=clock)

    assert runner.tick() == ["collect"]  # fails: every answer a 500
    clock.now = at("2026-01-07 06:05")
    assert runner.tick() == ["collect"]

    with store.reading() as db:
        latest = q.latest_snapshot(db)
        run = job_runs.get(db, "collect")
    assert latest is not None and latest.model_count == 1
    assert run.done_slot == "2026-01-07T06:00:00Z" and run.last_error is None


def test_a_message_slack_refused_for_a_moment_is_posted_within_the_hour(store):
    # The 06:00 collection queued an alert, but Slack answered its post with an error:
    # `serve` tries again within the hour, not only after the next day's collection.
    from bot.jobs import Services, deliver_job, scheduled_jobs
    from bot.slack_client import make_web_client
    from localslack.server import LocalSlack
    from openmodels.config import Config
    from openmodels.families import parse_families
    from storage import outbox as ob
    from tests.slack_helpers import tiny_png

    with store.writing() as db:
        ob.enqueue(db, "T1", "C1", "alert", "e1", {"text": "Qwen passed Llama"}, "2026-01-07")
    with LocalSlack() as slack:
        services = Services(
            config=Config(db=store.location),
            families=parse_families('[families.qwen]\norgs = ["Qwen"]', "f.toml"),
            store=store,
            hub=None,  # delivery never asks the Hub
            slack=make_web_client("xoxb-test", slack.api_url),
            render=tiny_png,
        )
        slack.fail("chat.postMessage", "internal_error", status=500)
        assert deliver_job(services).retry  # the collection's own delivery
        clock = Clock(at("2026-01-07 06:01"))
        runner = JobRunner(store, scheduled_jobs(services), clock=clock)
        runner.jobs[:] = [job for job in runner.jobs if job.name == "deliver"]

        ran = []
        for minute in range(0, 60, 5):
            clock.now = at("2026-01-07 06:01") + timedelta(minutes=minute)
            ran += runner.tick()

        assert ran == ["deliver"]
        assert [m["text"] for m in slack.channel_messages["C1"]] == ["Qwen passed Llama"]
    with store.reading() as db:
        assert [item.status for item in ob.all_items(db)] == ["sent"]


def test_a_store_from_before_leases_keeps_its_schedule(tmp_path):
    # Written by an openmodels without leases: the collection ran today at 06:00.
    from sqlite_utils import Database

    from storage.schema import migrations

    db = Database(tmp_path / "old.db")
    migrations.apply(db, stop_before="m005_claims_and_leases")
    db.execute(
        "INSERT INTO job_runs (job, last_started, last_finished, last_ok) VALUES (?, ?, ?, ?)",
        ["collect", "2026-01-07T06:00:01Z", "2026-01-07T06:02:00Z", "2026-01-07T06:02:00Z"],
    )
    db.close()

    store = open_store(tmp_path / "old.db")  # applies m005_claims_and_leases
    clock = Clock(at("2026-01-07 12:00"))
    runner = runner_with(store, clock, [])

    assert runner.tick() == []  # today's collection is done; the digest waits for Monday
    clock.now = at("2026-01-08 06:00")
    assert runner.tick() == ["collect"]
