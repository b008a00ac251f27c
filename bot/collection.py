"""Taking a snapshot in a process of its own, as `serve` does.

What starved collections inside `serve`, measured with benchmarks/bench_load.py on 2
cores (a 20,000-model snapshot written while 1,000 commands were answered, 50 at a
time), with the write on the scheduler's thread, as it was:
- not the store's lock: BEGIN IMMEDIATE waited 0.1 ms (in WAL mode readers never block
  the one writer, and answers only read);
- not the cores alone: the same write in a process of its own, under the same load,
  takes 1.0 to 1.9 times its idle time (the more other work shares the machine, the
  more);
- the interpreter lock: the write took 8.9 s against 1.0 s idle, yet its thread ran for
  0.9 s of CPU (0.75 s idle). sqlite3 releases the lock around every step of every
  statement, once per row, and each time the writing thread wants it back it queues
  behind the threads answering Slack, each holding it up to the switch interval
  (CPython's "convoy effect", bpo-7946). The Hub listing, parsed in Python, queues the
  same way.

So `serve`'s scheduled collection lists the Hub and writes the snapshot in a spawned
child process, with an interpreter of its own; the alerts and delivery that follow it
stay in `serve`; then another child looks up the snapshot's derivative counts, a few
hundred Hub requests parsed in Python too. Each child's log records are handed to
`serve`'s own logging, so they read as before. `openmodels collect`, run from cron, is
a process of its own already and does all of it in-process.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

from openmodels.collector import CollectResult, collect_snapshot
from openmodels.config import Config
from openmodels.derivative_counts import DerivativesReport
from openmodels.families import Families

log = logging.getLogger(__name__)


def collect_in_own_process(config: Config, families: Families, now: datetime) -> CollectResult:
    """`collect_snapshot` for `config` and `families`, run in a spawned child process.

    Raises what the collection raised (a HubError naming the organisation, …); nothing
    is written then, as in-process.
    """
    result: CollectResult = _in_own_process(_collect, config, families, now)
    return result


def derivatives_in_own_process(config: Config, snapshot_id: int) -> DerivativesReport:
    """`fill_derivatives` for snapshot `snapshot_id`, run in a spawned child process."""
    report: DerivativesReport = _in_own_process(_derivatives, config, snapshot_id)
    return report


def _in_own_process(work: Callable[..., Any], *args: Any) -> Any:
    """`work(*args)` in a spawned child, its log records relayed to this process's logging."""
    context = multiprocessing.get_context("spawn")
    records: Any = context.Queue()
    relay = logging.handlers.QueueListener(records, _Relay())
    relay.start()
    try:
        with ProcessPoolExecutor(
            1,
            mp_context=context,
            initializer=_child_starts,
            initargs=(records, logging.getLogger().getEffectiveLevel()),
        ) as child:
            return child.submit(work, *args).result()
    finally:
        relay.stop()  # after the child has exited: every record it logged is relayed
        records.close()
        records.join_thread()


class _Relay(logging.Handler):
    """Hands each record from the child to the logger of the same name in this process."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


def _child_starts(records: Any, level: int) -> None:
    """In the child: log through the queue to the parent; leave Ctrl-C and SIGTERM to
    the parent.

    Ctrl-C reaches every process of the terminal's group, and systemd's stop (its default
    KillMode=control-group) sends SIGTERM to every process of the service; `serve` then
    stops between jobs, letting this collection finish and commit, so the child ignores
    both. A kill that cannot be ignored (SIGKILL) still leaves no half snapshot.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level)


def _hub(config: Config) -> Any:
    from openmodels.hub import HubClient

    return HubClient.from_config(config)


def _collect(config: Config, families: Families, now: datetime) -> CollectResult:
    from openmodels.locate import store_for_writing

    return collect_snapshot(
        families,
        _hub(config),
        store_for_writing(config),
        now=now,
        concurrency=config.hub_concurrency,
    )


def _derivatives(config: Config, snapshot_id: int) -> DerivativesReport:
    from openmodels.derivative_counts import fill_derivatives
    from openmodels.locate import store_for_writing

    return fill_derivatives(
        store_for_writing(config),
        _hub(config),
        snapshot_id,
        top=config.derivatives_top,
        concurrency=config.hub_concurrency,
    )
