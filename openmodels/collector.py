"""Taking a snapshot: list every organisation, classify models into families, store.

Data flows one way: Hub client -> collector -> storage. A snapshot is all or
nothing: it is written only if every organisation answered, so a failed collection
leaves the store exactly as it was. In the same transaction, a collection that finds
families the store has no figure of from the last 30 days (every family, at a store's
first collection) writes their day-one estimate (`openmodels.estimate`) beside it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from openmodels.definitions import DefinitionChange, definition_changes
from openmodels.errors import HubError, HubErrors, OpenModelsError
from openmodels.estimate import ESTIMATE_DAYS, Estimate, estimate_before, fresh_families
from openmodels.families import Families
from openmodels.hub import HubModel
from openmodels.progress import Progress
from openmodels.sizes import ModelSize
from storage import Store
from storage import queries as q
from storage.estimates import families_counted_since, insert_estimate
from storage.model_sizes import changed_sizes, stored_sizes
from storage.snapshots import (
    SOURCE_HUB,
    FamilyTotal,
    ModelRecord,
    family_totals,
    format_timestamp,
    insert_snapshot,
    unique_records,
)
from storage.sql import Connection

log = logging.getLogger(__name__)


class HubSource(Protocol):
    """Where model listings come from (`openmodels.hub.HubClient`, or a test double)."""

    def list_org(
        self, org: str, on_page: Callable[[int], None] | None = None
    ) -> list[HubModel]: ...


@dataclass(frozen=True)
class CollectResult:
    """A committed snapshot."""

    snapshot_id: int
    taken_at: str
    model_count: int
    totals: list[FamilyTotal]
    write_seconds: float = 0.0  # committing it to the store, for the log and the benchmark
    estimate: Estimate | None = None  # the day-one estimate written beside it, if any


class _Cancelled(Exception):
    """Raised inside a worker to stop a listing once another organisation has failed."""


def collect_snapshot(
    families: Families,
    hub: HubSource,
    store: Store,
    *,
    now: datetime,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> CollectResult:
    """List every organisation of `families` and commit one snapshot taken at `now`.

    Raises a `HubError` if any organisation fails (`HubErrors`, naming each, if several
    did); then nothing is written, queued organisations are never asked, and listings
    already running stop at their next page.
    """
    listings = fetch_listings(families.orgs(), hub, concurrency=concurrency, progress=progress)
    for org, models in listings:
        log_listing(org, models)
    records = classify(listings, families)
    if not records:
        # An empty snapshot would read as every family collapsing to zero.
        raise OpenModelsError(
            "the Hub listed no models of any tracked family; nothing was written "
            f"(check HF_ENDPOINT and the families file: {families.source})"
        )
    sizes = listed_sizes(listings, families)
    with store.reading() as db:
        stored = stored_sizes(db)
    # Models stored before sizes were kept, or gone since, get one from their name; of
    # them all, only sizes new or changed are written (nearly every one is as it was),
    # decided before the write so that the store's write lock is not held for it.
    unsized = [r for r, z in stored.items() if z is None and r not in sizes]
    sizes.update({r: families.size_of(r) for r in unsized})
    sizes = changed_sizes(sizes, stored)
    started = time.perf_counter()
    rows = unique_records(records)
    definitions = families.definitions()
    with store.writing() as db:
        snapshot_id = insert_snapshot(db, now, SOURCE_HUB, rows, definitions, sizes)
        estimate = write_estimate(db, rows, now, snapshot_id, definitions)
    written = time.perf_counter() - started
    log_changes(store, snapshot_id)
    totals = family_totals(rows)
    log.info(
        "snapshot %s: %s models in %s families, written in %.2f s",
        snapshot_id,
        len(rows),
        len(totals),
        written,
    )
    if estimate is not None:
        log.info(
            "estimated the all-time counts of %s from the Hub's 30-day counts: %s models of %s%s",
            format_timestamp(estimate.taken_at),
            len(estimate.records),
            ", ".join(sorted(estimate.families)),
            f" ({estimate.floored} with a 30-day count above their all-time count, counted as zero)"
            if estimate.floored
            else "",
        )
    return CollectResult(snapshot_id, format_timestamp(now), len(rows), totals, written, estimate)


def write_estimate(
    db: Connection,
    rows: Sequence[ModelRecord],
    now: datetime,
    snapshot_id: int,
    definitions: dict[str, str],
) -> Estimate | None:
    """Write, in the caller's transaction, the day-one estimate of the families of the
    snapshot just inserted that the store holds no figure of from the 30 days before it;
    None when there are none (or none of their models existed then)."""
    since = format_timestamp(now - timedelta(days=ESTIMATE_DAYS))
    present = {r.family for r in rows}
    fresh = fresh_families(present, families_counted_since(db, since, besides=snapshot_id))
    if not fresh:
        return None
    estimate = estimate_before(rows, now, fresh)
    if not estimate.records:
        return None
    insert_estimate(
        db,
        estimate.taken_at,
        estimate.records,
        {f: definitions[f] for f in estimate.families if f in definitions},
        based_on=snapshot_id,
        floored=estimate.floored,
        whole=fresh == present,
    )
    return estimate


def fetch_listings(
    orgs: Sequence[str],
    hub: HubSource,
    *,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> list[tuple[str, list[HubModel]]]:
    """Every organisation's listing, in the order of `orgs`; all of them or an exception:
    the `HubError` of the one that failed, or `HubErrors` naming each when several failed
    before the others stopped."""
    stop = threading.Event()
    errors: list[Exception] = []  # real failures, first first
    seen: dict[str, int] = {}
    seen_lock = threading.Lock()

    def fetch(org: str) -> list[HubModel]:
        def on_page(models_so_far: int) -> None:
            if stop.is_set():
                raise _Cancelled(org)
            with seen_lock:
                seen[org] = models_so_far
                total = sum(seen.values())
            if progress is not None:
                progress.page(org, total)

        if stop.is_set():
            raise _Cancelled(org)
        try:
            models = hub.list_org(org, on_page=on_page)
        except _Cancelled:
            raise
        except Exception as exc:
            with seen_lock:
                errors.append(exc)
            # Set here, in the worker, so no queued organisation starts after a failure.
            stop.set()
            raise
        if progress is not None:
            progress.org_done(org)
        return models

    if progress is not None:
        progress.start(len(orgs))
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="hub")
    failed = False
    try:
        futures: dict[str, Future[list[HubModel]]] = {org: pool.submit(fetch, org) for org in orgs}
        done, _ = wait(futures.values(), return_when=FIRST_EXCEPTION)
        # A worker records its error before it sets `stop`, so a listing cancelled
        # because of it always finds it in `errors`.
        failed = any(f.exception() is not None for f in done)
        if not failed:
            return [(org, futures[org].result()) for org in orgs]
    finally:
        stop.set()
        # Queued listings are dropped; running ones stop at their next page. Waiting for
        # them means no thread is still talking to the Hub once we return or raise, and
        # that every organisation failing meanwhile is named.
        pool.shutdown(wait=True, cancel_futures=True)
        if progress is not None:
            progress.finish()
    with seen_lock:
        hub_errors = [e for e in errors if isinstance(e, HubError)]
        if len(hub_errors) > 1 and len(hub_errors) == len(errors):
            raise HubErrors(hub_errors)
        raise errors[0]


def classify(
    listings: Iterable[tuple[str, Sequence[HubModel]]], families: Families
) -> list[ModelRecord]:
    """Records for the models some family owns; others are skipped. Pure.

    A model listed twice (pages that overlap while the Hub re-sorts, or an organisation
    named twice) gives one record, the first.
    """
    records: list[ModelRecord] = []
    seen: set[str] = set()
    for _org, models in listings:
        for model in models:
            family = families.family_of(model.repo_id)
            if family is None or model.repo_id in seen:
                continue
            seen.add(model.repo_id)
            records.append(
                ModelRecord(
                    repo_id=model.repo_id,
                    family=family.key,
                    downloads_30d=model.downloads_30d,
                    downloads_all_time=model.downloads_all_time,
                    likes=model.likes,
                    created_at=model.created_at,
                    pipeline_tag=model.pipeline_tag,
                    derivatives=model.derivatives,
                )
            )
    return records


def listed_sizes(
    listings: Iterable[tuple[str, Sequence[HubModel]]], families: Families
) -> dict[str, ModelSize]:
    """The size of each model some family owns, from the families file, the Hub's count
    or the name (`Families.size_of`); the first listing of a model wins, as in
    `classify`. Pure."""
    sizes: dict[str, ModelSize] = {}
    for _org, models in listings:
        for model in models:
            if model.repo_id in sizes or families.family_of(model.repo_id) is None:
                continue
            sizes[model.repo_id] = families.size_of(
                model.repo_id, model.parameters, dict(model.parameters_by_dtype)
            )
    return sizes


def log_listing(org: str, models: Sequence[HubModel]) -> None:
    """One summary line per organisation; a warning if it listed nothing."""
    if not models:
        log.warning("org %s listed no models (renamed or removed?)", org)
        return
    log.info(
        "org %s: %s models, %s downloads (30d), %s all time",
        org,
        f"{len(models):,}",
        f"{sum(m.downloads_30d for m in models):,}",
        f"{sum(m.downloads_all_time for m in models):,}",
    )


def log_changes(store: Store, snapshot_id: int) -> None:
    """Log models that appeared, vanished or whose all-time count fell since the last snapshot.

    None of these is an error: the Hub adds and removes repos, and a count that goes
    down is the Hub's own correction. They are logged so a reader of the log can tell
    a real shift from a change in what was listed.
    """
    with store.reading() as db:
        current = q.latest_snapshot(db)
        if current is None or current.id != snapshot_id:
            return
        previous = q.previous_snapshot(db, current, estimates=False)
        if previous is None:
            return
        changes = q.model_changes(db, previous.id, current.id)
        recorded = q.definitions_at(db, previous.id)
        redefined = definition_changes(recorded, q.definitions_at(db, current.id))
    log_definition_changes(redefined, recorded_before=bool(recorded))
    for family, n in changes.appeared.items():
        log.info("%s: %d models new since the previous snapshot", family, n)
    for family, n in changes.disappeared.items():
        log.warning("%s: %d models no longer listed since the previous snapshot", family, n)
    for repo_id, before, after in changes.decreased[:20]:
        log.warning("%s: all-time downloads went down (%d -> %d)", repo_id, before, after)
    if len(changes.decreased) > 20:
        log.warning(
            "…and %d more models whose all-time downloads went down", len(changes.decreased) - 20
        )


def log_definition_changes(changes: Sequence[DefinitionChange], recorded_before: bool) -> None:
    """Say which families are counted by other rules than in the previous snapshot.

    Their totals moved because the families file changed, not because of downloads, so
    no alert and no biggest gainer is drawn across the change.
    """
    if changes and not recorded_before:
        log.info(
            "the previous snapshot recorded no families definitions (an older openmodels): "
            "no alert is drawn across this snapshot; definitions are compared from now on"
        )
        return
    for change in changes:
        log.warning(
            "%s: families definition changed since the previous snapshot (%s); its figures "
            "are not compared across the change: no alert, no biggest gainer",
            change.family,
            change.describe(),
        )
