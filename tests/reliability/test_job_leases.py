"""Promise: a scheduled job running in another process is never started again nor taken
for dead while it runs; once that process is killed, the job is run again as soon as
its lease expires, and the dead run is on record.

The other process is a real one: a job runner whose collect job blocks until killed,
with a lease of three seconds renewed every 0.6 s. This process's runner checks the same
store with the real clock, then with its clock moved past the dead run's lease.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as at

from bot.scheduler import Every, Job, JobRunner
from storage import jobs as job_runs
from storage.snapshots import format_timestamp
from tests.reliability.helpers import REPO, program_env

LEASE_SECONDS = 3
RUNNER = """
import sys, time
from datetime import time as at, timedelta
from pathlib import Path
from bot.scheduler import Every, Job, JobRunner
from storage import open_store

def collect(now, slot):
    Path(sys.argv[2]).touch()
    time.sleep(600)  # a long collection, killed before it ends

runner = JobRunner(
    open_store(sys.argv[1]),
    [Job("collect", Every(at(6, 0)), collect, catch_up_if_never_run=True)],
    lease=timedelta(seconds=float(sys.argv[3])),
)
runner.tick()
"""


def lease_expiry(store) -> str | None:
    with store.reading() as db:
        run = job_runs.get(db, "collect")
    return run.lease_expires if run else None


def wait_until(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # polling another process's progress, not timing it
    return True


def test_a_job_running_elsewhere_is_left_alone_and_retried_once_its_process_dies(
    tmp_path, new_store, caplog
):
    store = new_store("s")
    started = tmp_path / "started"
    other = subprocess.Popen(
        [sys.executable, "-c", RUNNER, store.location, str(started), str(LEASE_SECONDS)],
        env=program_env(),
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    calls: list[datetime] = []
    offset = timedelta()
    here = JobRunner(
        store,
        [Job("collect", Every(at(6, 0)), lambda now, slot: calls.append(slot), True)],
        clock=lambda: datetime.now(UTC) + offset,
    )
    try:
        assert wait_until(started.exists), "the other runner never started its job"
        first = lease_expiry(store)
        assert first is not None
        # Past the first expiry the other process has renewed its lease: still running.
        assert wait_until(lambda: format_timestamp(datetime.now(UTC)) > first)
        assert (lease_expiry(store) or "") > first
        assert here.tick() == []

        other.kill()  # kill -9 in the middle of the job
        other.wait(timeout=30)
        assert here.tick() == []  # its lease has not run out yet
        offset = timedelta(seconds=LEASE_SECONDS + 1)
        assert here.tick() == ["collect"]
    finally:
        if other.poll() is None:
            other.kill()
            other.wait()

    assert len(calls) == 1
    assert "never finished; running it again" in caplog.text
    with store.reading() as db:
        run = job_runs.get(db, "collect")
    assert run is not None and run.lease_owner is None
    assert run.done_slot is not None and run.last_ok is not None
    assert run.failures == 0  # the retry succeeded
