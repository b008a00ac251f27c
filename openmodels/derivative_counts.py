"""Derivative counts of a collected snapshot, from the Hub's single-model route.

The Hub's model listing refuses `childrenModelCount` (see `openmodels.hub`), so a
collection cannot read it. Once the snapshot is committed, this step asks for it model
by model, for each family's `top` models by all-time downloads: the models most built
upon are nearly always among the most downloaded, and `top` bounds the cost to that many
requests per family (plus retries). The listing's own requests are untouched.

Lookups run `concurrency` at a time, each bounded by the client's timeout and retried
by it on 429 and 5xx. A model whose lookup fails stays unknown and the rest go on; once
`max_failures` lookups have failed the Hub is taken to be failing, and the models not
asked yet are left unknown rather than each waiting out its timeout and retries. The
counts are written in one short transaction after every lookup has finished, so the
store's write lock is never held during a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from openmodels.hub import DerivativeLookup
from storage import Store
from storage import queries as q
from storage.snapshots import set_derivatives

log = logging.getLogger(__name__)

MAX_FAILURES = 5


class DerivativeSource(Protocol):
    """Where derivative counts come from (`openmodels.hub.HubClient`, or a test double)."""

    def derivatives(self, repo_id: str) -> DerivativeLookup: ...


@dataclass(frozen=True)
class DerivativesReport:
    """What one run of the step asked, learned and cost."""

    snapshot_id: int
    asked: int  # models looked up
    counted: int  # counts written
    requests: int  # HTTP requests made, retries included
    unknown: tuple[DerivativeLookup, ...] = ()  # lookups that gave no count
    skipped: int = 0  # models not asked once the Hub was failing


def fill_derivatives(
    store: Store,
    hub: DerivativeSource,
    snapshot_id: int,
    *,
    top: int,
    concurrency: int = 4,
    max_failures: int = MAX_FAILURES,
) -> DerivativesReport:
    """Look up the derivative count of each family's `top` most downloaded models of
    snapshot `snapshot_id` and record those the Hub gave. `top` 0 does nothing."""
    if top <= 0:
        return DerivativesReport(snapshot_id, 0, 0, 0)
    with store.reading() as db:
        wanted = q.top_models_by_family(db, snapshot_id, top)
    lookups, skipped = look_up(hub, wanted, concurrency=concurrency, max_failures=max_failures)
    counts = {x.repo_id: x.count for x in lookups if x.count is not None}
    if counts:
        with store.writing() as db:
            set_derivatives(db, snapshot_id, counts)
    report = DerivativesReport(
        snapshot_id=snapshot_id,
        asked=len(lookups),
        counted=len(counts),
        requests=sum(x.requests for x in lookups),
        unknown=tuple(x for x in lookups if x.count is None),
        skipped=skipped,
    )
    log_report(report)
    return report


def look_up(
    hub: DerivativeSource,
    repo_ids: Sequence[str],
    *,
    concurrency: int = 4,
    max_failures: int = MAX_FAILURES,
) -> tuple[list[DerivativeLookup], int]:
    """Every model's lookup that was made, in the order of `repo_ids`, and how many were
    not made because `max_failures` had failed first."""
    failures = 0
    lock = threading.Lock()
    giving_up = threading.Event()

    def one(repo_id: str) -> DerivativeLookup | None:
        nonlocal failures
        if giving_up.is_set():
            return None
        try:
            found = hub.derivatives(repo_id)
        except Exception as exc:  # a source that raises: unknown, like any failure
            found = DerivativeLookup(repo_id, None, 0, f"{type(exc).__name__}: {exc}", True)
        if found.failed:
            with lock:
                failures += 1
                if failures >= max_failures:
                    giving_up.set()
        return found

    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="derivatives") as pool:
        results = list(pool.map(one, repo_ids))
    made = [r for r in results if r is not None]
    return made, len(results) - len(made)


def log_report(report: DerivativesReport) -> None:
    """One line for the step, and one per model left unknown (the first few)."""
    if report.asked == 0 and report.skipped == 0:
        return
    log.info(
        "derivative counts for snapshot %s: %d of %d models counted, %d extra Hub requests "
        "(/api/models/{repo_id})%s",
        report.snapshot_id,
        report.counted,
        report.asked + report.skipped,
        report.requests,
        f"; {report.skipped} not asked, the Hub kept failing" if report.skipped else "",
    )
    for lookup in report.unknown[:5]:
        log.warning("derivative count of %s unknown: %s", lookup.repo_id, lookup.problem)
    if len(report.unknown) > 5:
        log.warning("…and %d more derivative counts unknown", len(report.unknown) - 5)
