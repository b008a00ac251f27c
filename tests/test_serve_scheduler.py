"""`openmodels serve` runs its own jobs: a first collection at start-up, and a SIGTERM
during a job stops the bot only once that job has committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from localslack.server import LocalSlack
from storage import jobs as job_runs
from storage import open_store
from storage import queries as q
from tests.fakes import hub_model
from tests.slack_helpers import BOT_TOKEN, SIGNING_SECRET


def start_serve(fake_hub, slack, db, *, own_group: bool = False) -> subprocess.Popen[str]:
    """`openmodels serve --http` on the fake Hub and the local Slack, collecting at once
    into `db` (a fresh store); `own_group`: in a process group of its own."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "HF_ENDPOINT": fake_hub.url,
        "OPENMODELS_DB": str(db),
    }
    command = ["serve", "--http", "--port", "0", "--host", "127.0.0.1"]
    return subprocess.Popen(
        [sys.executable, "-m", "openmodels.cli", *command],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=own_group,
    )


def wait_for_the_collection(fake_hub) -> None:
    deadline = time.monotonic() + 30
    while not fake_hub.requests_for("Qwen") and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the collection to begin, not timing it
    assert fake_hub.requests_for("Qwen"), "the start-up collection never began"


def assert_committed_whole(db) -> None:
    with open_store(db).reading() as conn:
        latest = q.latest_snapshot(conn)
        run = job_runs.get(conn, "collect")
    assert latest is not None and latest.model_count == 9  # committed whole before exit
    assert run is not None and run.last_finished is not None and run.last_error is None


def slow_hub(fake_hub):
    # Every page takes 0.3 s: the collection is still running when SIGTERM arrives.
    fake_hub.add("Qwen", *(hub_model(f"Qwen/m{i}", downloads=1, all_time=10) for i in range(9)))
    fake_hub.inject("Qwen", stall=0.3)
    return fake_hub


def test_sigterm_during_the_start_up_collection_waits_for_it_to_commit(fake_hub, tmp_path):
    db = tmp_path / "live.db"
    with LocalSlack() as slack:
        process = start_serve(slow_hub(fake_hub), slack, db)
        try:
            wait_for_the_collection(fake_hub)
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        stderr = process.stderr.read() if process.stderr else ""
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert_committed_whole(db)


def test_sigterm_to_every_process_of_the_bot_still_lets_the_collection_commit(fake_hub, tmp_path):
    # systemd's stop (default KillMode=control-group) and `kill -TERM -PGID` signal every
    # process of the service: the child taking the snapshot too, not only `serve`.
    db = tmp_path / "live.db"
    with LocalSlack() as slack:
        process = start_serve(slow_hub(fake_hub), slack, db, own_group=True)
        try:
            wait_for_the_collection(fake_hub)
            os.killpg(process.pid, signal.SIGTERM)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        stderr = process.stderr.read() if process.stderr else ""
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert not group_alive(process.pid), "a process of the bot was left behind"
    assert_committed_whole(db)


def group_alive(pgid: int) -> bool:
    """Whether any process of group `pgid` still runs once its leader has exited (with a
    moment's grace for children already on their way out)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    return True
