"""Replicas: several real `openmodels serve --http` processes sharing one store.

For the replica and failover tests and benchmarks/bench_postgres.py. Each replica is
the program a team runs, started with the same environment but its own port; its log
(stderr) goes to a file, and the URL it listens on is read from it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from storage import Store
from storage import jobs as job_runs
from storage import outbox as ob
from storage import subscriptions as subs
from tests.reliability.helpers import REPO, program_env
from tests.slack_helpers import BOT_TOKEN, SIGNING_SECRET

QUEUED_AT = "2026-01-05T06:00:00Z"
NEVER = "9999-12-31T00:00:00Z"  # a slot no schedule reaches: the job is not owed
LONG_AGO = "2000-01-01T00:00:00Z"
SERVE_ON_LOOPBACK = ("--port", "0", "--host", "127.0.0.1")


class Replica:
    """One `openmodels serve --http` on 127.0.0.1, its stderr copied to `log`."""

    def __init__(self, location: str, slack_api_url: str, log: Path, **settings: str) -> None:
        env = program_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack_api_url,
            OPENMODELS_DB=location,
            HF_ENDPOINT="http://127.0.0.1:9",  # nothing here collects
            OPENMODELS_CHART_WORKERS="1",
            **settings,
        )
        self.process = subprocess.Popen(
            [*(sys.executable, "-m", "openmodels.cli", "serve", "--http"), *SERVE_ON_LOOPBACK],
            env=env,
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._url: str | None = None
        self._listening = threading.Event()
        self._log = log
        threading.Thread(target=self._copy_log, daemon=True).start()

    def _copy_log(self) -> None:
        assert self.process.stderr is not None
        with self._log.open("a") as out:
            for line in self.process.stderr:
                out.write(line)
                out.flush()
                found = re.search(r"listening on (http://\S+)", line)
                if found:
                    self._url = found[1]
                    self._listening.set()
        self._listening.set()  # ended: stop anyone waiting

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, timeout: float = 60) -> str:
        """The replica's /slack/events URL, once it listens."""
        self._listening.wait(timeout)
        if self._url is None:
            raise RuntimeError(f"replica {self.pid} never listened; see {self._log}")
        return self._url

    def kill(self) -> None:
        """SIGKILL: no clean-up, no atexit, leases and claims left as they were."""
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def queue_deliveries(store: Store, channels: Sequence[str], per_channel: int) -> list[str]:
    """Queue `per_channel` alerts for each channel, and make delivery the one job owed
    (due at once; collection and digest not owed): the texts queued."""
    texts = []
    with store.writing() as db:
        for channel in channels:
            subs.subscribe(db, "T1", channel, "alerts", (), QUEUED_AT)
            for n in range(per_channel):
                text = f"alert {n} for {channel}"
                ob.enqueue(db, "T1", channel, "alert", f"e{n}", {"text": text}, QUEUED_AT)
                texts.append(text)
        for job, done in (("collect", NEVER), ("digest", NEVER), ("deliver", LONG_AGO)):
            job_runs.not_owed_before(db, job, done)
    return texts


def delivery_holder(store: Store, now: str) -> int | None:
    """The process id of the replica holding the delivery job's live lease, if any."""
    with store.reading() as db:
        run = job_runs.get(db, "deliver")
    if run is None or not run.lease_live(now):
        return None
    return int(str(run.lease_owner).split(":")[1])


def undelivered(store: Store) -> int:
    with store.reading() as db:
        return sum(item.status != "sent" for item in ob.all_items(db))


def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    """Poll another process's progress (never timing it) until `predicate()` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True
