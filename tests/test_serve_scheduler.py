"""`openmodels serve` runs its own jobs: a first collection at start-up, and a SIGTERM
during a job stops the bot only once that job has committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from bot.local_slack import LocalSlack
from storage import jobs as job_runs
from storage import open_store
from storage import queries as q
from tests.fakes import hub_model
from tests.slack_helpers import BOT_TOKEN, SIGNING_SECRET


def test_sigterm_during_the_start_up_collection_waits_for_it_to_commit(fake_hub, tmp_path):
    # Every page takes 0.3 s: the collection is still running when SIGTERM arrives.
    fake_hub.add("Qwen", *(hub_model(f"Qwen/m{i}", downloads=1, all_time=10) for i in range(9)))
    fake_hub.inject("Qwen", stall=0.3)
    db = tmp_path / "live.db"
    with LocalSlack() as slack:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "HF_ENDPOINT": fake_hub.url,
            "OPENMODELS_DB": str(db),
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openmodels.cli",
                "serve",
                "--http",
                "--port",
                "0",
                "--host",
                "127.0.0.1",
            ],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while not fake_hub.requests_for("Qwen") and time.monotonic() < deadline:
                time.sleep(0.05)  # polling for the collection to begin, not timing it
            assert fake_hub.requests_for("Qwen"), "the start-up collection never began"
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        stderr = process.stderr.read() if process.stderr else ""
    assert code == 0, stderr
    assert "Traceback" not in stderr
    store = open_store(db)
    with store.reading() as conn:
        latest = q.latest_snapshot(conn)
        run = job_runs.get(conn, "collect")
    assert latest is not None and latest.model_count == 9  # committed whole before exit
    assert run is not None and run.last_finished is not None and run.last_error is None
