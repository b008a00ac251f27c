"""Scheduled jobs' state: the slot each last completed, the run in progress, pending retries.

A job is owed once per slot (the scheduled moment a run belongs to). A run holds a
lease — its owner and an expiry it renews while it works — so that no runner, in this
process or another, starts the job again while it runs, and so that a run killed
half-way is recognised once its lease has expired. Deciding whether a job is due is
the scheduler's business; this module only records and reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.sql import Connection


@dataclass(frozen=True)
class JobRun:
    job: str
    last_started: str | None
    last_finished: str | None
    last_ok: str | None
    last_error: str | None
    slot: str | None = None  # the slot of the latest attempt
    done_slot: str | None = None  # the latest slot a run completed (or that is not owed)
    failures: int = 0  # failed attempts in a row for `slot`
    retry_at: str | None = None  # when `slot` is tried again after a failure
    lease_owner: str | None = None  # the runner of the attempt in progress
    lease_expires: str | None = None

    def lease_live(self, now: str) -> bool:
        return self.lease_owner is not None and (self.lease_expires or "") > now


_COLS = (
    "job, last_started, last_finished, last_ok, last_error, slot, done_slot, failures, "
    "retry_at, lease_owner, lease_expires"
)


def get(db: Connection, job: str) -> JobRun | None:
    row = db.execute(f"SELECT {_COLS} FROM job_runs WHERE job = ?", [job]).fetchone()
    return JobRun(*row) if row else None


def all_runs(db: Connection) -> list[JobRun]:
    return [JobRun(*row) for row in db.execute(f"SELECT {_COLS} FROM job_runs ORDER BY job")]


def not_owed_before(db: Connection, job: str, slot: str) -> None:
    """Record a job seen for the first time as owing nothing up to `slot` (it waits for
    its next scheduled moment instead of running at once)."""
    db.execute(
        "INSERT INTO job_runs (job, done_slot) VALUES (?, ?) ON CONFLICT (job) DO NOTHING",
        [job, slot],
    )


def start(
    db: Connection,
    job: str,
    *,
    owner: str,
    slot: str,
    now: str,
    lease_expires: str,
    failures: int,
    error: str | None = None,
) -> None:
    """Record the start of an attempt for `slot` under `owner`'s lease. `failures` are
    the attempts for this slot that already failed (or never finished: `error` says so)."""
    db.execute(
        """INSERT INTO job_runs (job, last_started, slot, failures, retry_at, lease_owner,
                                 lease_expires, last_error)
           VALUES (:job, :now, :slot, :failures, NULL, :owner, :lease_expires, :error)
           ON CONFLICT (job) DO UPDATE SET
               last_started = excluded.last_started, slot = excluded.slot,
               failures = excluded.failures, retry_at = NULL,
               lease_owner = excluded.lease_owner, lease_expires = excluded.lease_expires,
               last_error = coalesce(excluded.last_error, job_runs.last_error)""",
        {
            "job": job,
            "now": now,
            "slot": slot,
            "failures": failures,
            "owner": owner,
            "lease_expires": lease_expires,
            "error": error,
        },
    )


def renew(db: Connection, job: str, owner: str, lease_expires: str) -> bool:
    """Extend `owner`'s lease. False if the lease is no longer theirs."""
    cursor = db.execute(
        "UPDATE job_runs SET lease_expires = ? WHERE job = ? AND lease_owner = ?",
        [lease_expires, job, owner],
    )
    return cursor.rowcount > 0


def succeeded(db: Connection, job: str, owner: str, slot: str, now: str) -> None:
    """Record a completed run: its slot is done, and no retry is pending."""
    db.execute(
        """UPDATE job_runs SET
               last_finished = :now, last_ok = :now, last_error = NULL,
               done_slot = CASE WHEN coalesce(done_slot, '') > :slot THEN done_slot ELSE :slot END,
               failures = CASE WHEN slot = :slot THEN 0 ELSE failures END,
               retry_at = CASE WHEN slot = :slot THEN NULL ELSE retry_at END,
               lease_owner = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_owner END,
               lease_expires = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_expires END
           WHERE job = :job""",
        {"job": job, "owner": owner, "slot": slot, "now": now},
    )


def failed(
    db: Connection, job: str, owner: str, slot: str, now: str, error: str, retry_at: str
) -> None:
    """Record a failed attempt for `slot`, to be tried again at `retry_at`; its error
    is kept for `status`."""
    db.execute(
        """UPDATE job_runs SET
               last_finished = :now, last_error = :error,
               failures = CASE WHEN slot = :slot THEN failures + 1 ELSE failures END,
               retry_at = CASE WHEN slot = :slot THEN :retry_at ELSE retry_at END,
               lease_owner = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_owner END,
               lease_expires = CASE WHEN lease_owner = :owner THEN NULL ELSE lease_expires END
           WHERE job = :job""",
        {
            "job": job,
            "owner": owner,
            "slot": slot,
            "now": now,
            "error": error,
            "retry_at": retry_at,
        },
    )
