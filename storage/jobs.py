"""When each scheduled job last ran, so a job missed while the bot was down runs once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True)
class JobRun:
    job: str
    last_started: str | None
    last_finished: str | None
    last_ok: str | None
    last_error: str | None


def get(db: Database, job: str) -> JobRun | None:
    row = db.execute(
        "SELECT job, last_started, last_finished, last_ok, last_error FROM job_runs WHERE job = ?",
        [job],
    ).fetchone()
    return JobRun(*row) if row else None


def started(db: Database, job: str, now: str) -> None:
    db.execute(
        """INSERT INTO job_runs (job, last_started) VALUES (?, ?)
           ON CONFLICT (job) DO UPDATE SET last_started = excluded.last_started""",
        [job, now],
    )


def finished(db: Database, job: str, now: str, error: str | None) -> None:
    """Record the end of a run; a failed run still counts as run (it is not retried
    in a loop), and its error is kept for `status`."""
    db.execute(
        """INSERT INTO job_runs (job, last_finished, last_ok, last_error) VALUES (?, ?, ?, ?)
           ON CONFLICT (job) DO UPDATE SET
               last_finished = excluded.last_finished,
               last_ok = coalesce(excluded.last_ok, job_runs.last_ok),
               last_error = excluded.last_error""",
        [job, now, None if error else now, error],
    )
