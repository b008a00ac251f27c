"""Taking a snapshot in a process of its own, as `serve` does.

Measured with benchmarks/bench_load.py on 2 cores: a snapshot written on a thread of
`serve` while 50 commands were being answered took several times as long as the same
write idle (README, "Benchmarks"). The store's lock was not what it waited for: in WAL
mode readers never block the one writer, and the answers only read. Nor the cores
alone: the same write in a process of its own, under the same load, stays close to
its idle time. What it waited for was the interpreter lock. sqlite3 releases that lock
around every step of every statement, once per row, and each time the collection
wants it back it queues behind the threads answering Slack, which hold it up to the
switch interval each (CPython's "convoy effect", bpo-7946); the Hub listing, parsed
in Python, queues behind them the same way. In a process of its own the collection
has an interpreter to itself and shares only the cores.

So `serve`'s scheduled collection lists the Hub and writes the snapshot in a spawned
child process; the alerts and delivery that follow it stay in `serve`. The child's log
records are handed to `serve`'s own logging, so they read as before. `openmodels
collect`, run from cron, is a process of its own already and collects in-process.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

from openmodels.collector import CollectResult, collect_snapshot
from openmodels.config import Config
from openmodels.families import Families

log = logging.getLogger(__name__)


def collect_in_own_process(config: Config, families: Families, now: datetime) -> CollectResult:
    """`collect_snapshot` for `config` and `families`, run in a spawned child process.

    Raises what the collection raised (a HubError naming the organisation, …); nothing
    is written then, as in-process.
    """
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
            return child.submit(_collect, config, families, now).result()
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
    """In the child: log through the queue to the parent; leave Ctrl-C to the parent.

    Ctrl-C reaches every process of the terminal's group; `serve` then stops between
    jobs, letting this collection finish and commit, so the child ignores it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level)


def _collect(config: Config, families: Families, now: datetime) -> CollectResult:
    from openmodels.hub import HubClient
    from openmodels.locate import store_for_writing

    hub = HubClient(config.hf_endpoint, token=config.hf_token, timeout=config.hub_timeout)
    return collect_snapshot(
        families, hub, store_for_writing(config), now=now, concurrency=config.hub_concurrency
    )
