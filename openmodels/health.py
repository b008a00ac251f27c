"""Is collection healthy? Decided from the latest snapshot and the collect job's record.
Pure: the store is read by the caller, the clock passed in.

The states, in the order they are checked:
- NEVER: no snapshot yet (a run may be under way: `running` says so);
- SAMPLE: the store is the bundled sample, which is never collected into;
- RUNNING: a collection holds a live lease right now;
- RETRYING: the last attempt failed and a retry is scheduled (storage.jobs `retry_at`);
- FAILING: the last attempt failed and no retry is pending;
- STALE: nothing failed, yet the latest live snapshot is older than `stale_after`
  (collection runs daily; a missed day or two is the usual sign of a stopped bot);
- HEALTHY: otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage.jobs import JobRun
from storage.queries import Snapshot
from storage.snapshots import format_timestamp, parse_timestamp

COLLECT_JOB = "collect"
# Daily collection, plus the scheduler's hour of retries: older than this is overdue.
STALE_AFTER = timedelta(hours=36)


class CollectionState(StrEnum):
    NEVER = "never"
    SAMPLE = "sample"
    RUNNING = "running"
    RETRYING = "retrying"
    FAILING = "failing"
    STALE = "stale"
    HEALTHY = "healthy"


@dataclass(frozen=True)
class CollectionHealth:
    state: CollectionState
    latest: Snapshot | None
    age: timedelta | None  # since the latest snapshot was taken
    run: JobRun | None  # the collect job's record, when the scheduler has one
    running: bool = False  # a collection holds a live lease


def collection_health(
    latest: Snapshot | None,
    run: JobRun | None,
    now: datetime,
    *,
    stale_after: timedelta = STALE_AFTER,
) -> CollectionHealth:
    """The state of collection at `now`, from the latest snapshot and the job's record."""
    running = run is not None and run.lease_live(format_timestamp(now))
    age = now - parse_timestamp(latest.taken_at) if latest is not None else None
    if latest is None:
        return CollectionHealth(CollectionState.NEVER, None, None, run, running)
    if latest.is_sample:
        return CollectionHealth(CollectionState.SAMPLE, latest, age, run, running)
    if running:
        state = CollectionState.RUNNING
    elif run is not None and run.last_error and run.retry_at:
        state = CollectionState.RETRYING
    elif run is not None and run.last_error:
        state = CollectionState.FAILING
    elif age is not None and age > stale_after:
        state = CollectionState.STALE
    else:
        state = CollectionState.HEALTHY
    return CollectionHealth(state, latest, age, run, running)
