"""The chart pool: charts drawn in worker processes at a lower priority, a bounded queue,
and workers that crash or hang replaced without taking the bot with them.

Real spawned processes throughout; the failing renderers are in tests/chart_renderers.py.
Nothing here times anything: a hung worker's timeout is set short so the test is quick,
and every wait is for a state, bounded only so that a bug fails instead of hanging.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from bot.chart_pool import ChartError, ChartPool, ChartPoolClosed, ChartsBusy
from commands.answer import ChartSpec
from tests import chart_renderers
from tests.chart_renderers import alive, wait_until

REPO = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def spec(title: str = "Qwen vs Llama") -> ChartSpec:
    return ChartSpec(
        title=title,
        series={"Qwen": [("2026-01-01T06:00:00Z", 1), ("2026-01-02T06:00:00Z", 2)]},
        metric="all_time",
        snapshot_date="2026-01-02",
        alt_text="alt",
        filename=f"{title}.png",
    )


def dispatcher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "openmodels-charts"]


@pytest.fixture
def pools() -> Iterator[Callable[..., ChartPool]]:
    """Make pools of test renderers (no matplotlib to import); all closed afterwards."""
    made: list[ChartPool] = []

    def make(renderer: Callable[[ChartSpec], bytes], **options: object) -> ChartPool:
        pool = ChartPool(renderer=renderer, preload=(), **{"workers": 1, **options})  # type: ignore[arg-type]
        made.append(pool)
        return pool

    yield make
    for pool in made:
        pool.close()


def test_charts_are_drawn_in_worker_processes_at_a_lower_priority(pools):
    pool = pools(chart_renderers.tiny)

    png = pool(spec())

    assert png.startswith(PNG_MAGIC)
    [worker] = pool.worker_pids()
    assert worker != os.getpid()
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, worker) == min(19, ours + 10)


def test_a_renderer_error_fails_that_chart_and_keeps_the_worker(pools):
    pool = pools(chart_renderers.fail)
    pool.warm_up()
    before = pool.worker_pids()

    with pytest.raises(ChartError, match="ValueError: no fonts today"):
        pool(spec())

    assert pool.worker_pids() == before and pool.replaced == 0


def test_a_crashed_worker_fails_its_chart_and_the_pool_recovers(pools):
    pool = pools(partial(chart_renderers.crash_on, "crash"))
    pool.warm_up()
    [crashed] = pool.worker_pids()

    with pytest.raises(ChartError, match="died"):
        pool(spec("crash"))

    assert pool(spec("next")).startswith(PNG_MAGIC)  # a fresh worker drew it
    assert pool.replaced == 1
    assert not alive(crashed) and crashed not in pool.worker_pids()


def test_a_hung_worker_is_killed_and_replaced_after_its_timeout(pools):
    pool = pools(chart_renderers.hang, timeout=0.5)
    pool.warm_up()
    [hung] = pool.worker_pids()

    with pytest.raises(ChartError, match="took over"):
        pool(spec())

    assert not alive(hung)
    assert pool.replaced == 1 and len(pool.worker_pids()) == 1


def test_a_worker_that_dies_while_idle_is_replaced(pools):
    pool = pools(chart_renderers.tiny)
    pool.warm_up()
    [killed] = pool.worker_pids()

    os.kill(killed, signal.SIGKILL)
    wait_until(lambda: pool.replaced == 1)

    assert pool(spec()).startswith(PNG_MAGIC)
    assert killed not in pool.worker_pids()


def test_a_full_queue_refuses_an_answers_chart_at_once_but_a_digest_waits(pools, tmp_path):
    gate = tmp_path / "gate"
    pool = pools(partial(chart_renderers.gated, str(gate)), queue_limit=1)
    drawing = pool.submit(spec("drawing"))
    wait_until(drawing.running)  # the only worker has it
    queued = pool.submit(spec("queued"))  # the one place in the queue

    with pytest.raises(ChartsBusy):
        pool.submit(spec("refused"))
    digest = pool.submit(spec("digest"), bounded=False)

    gate.touch()
    for future in (drawing, queued, digest):
        assert future.result(timeout=30).startswith(PNG_MAGIC)


def test_a_chart_that_would_wait_too_long_for_those_ahead_is_refused(pools, tmp_path):
    # Charts have lately taken 8 s each (set, not drawn); 20 s is the most to wait.
    gate = tmp_path / "gate"
    pool = pools(partial(chart_renderers.gated, str(gate)), max_wait=20.0)
    pool.drawing_seconds = 8.0
    drawing = pool.submit(spec("drawing"))  # an idle worker: no wait
    wait_until(drawing.running)
    queued = [pool.submit(spec("8 s")), pool.submit(spec("16 s"))]

    with pytest.raises(ChartsBusy, match="about 24 s of drawing"):
        pool.submit(spec("24 s"))
    gate.touch()
    for future in (drawing, *queued):
        assert future.result(timeout=30).startswith(PNG_MAGIC)


def test_the_pool_learns_how_long_a_chart_takes(pools):
    pool = pools(chart_renderers.tiny)
    pool.drawing_seconds = 100.0

    pool(spec())

    assert pool.drawing_seconds < 100.0


def test_closing_refuses_queued_charts_finishes_those_drawn_and_leaves_nothing(pools, tmp_path):
    gate = tmp_path / "gate"
    pool = pools(partial(chart_renderers.gated, str(gate)), workers=2)
    drawing = [pool.submit(spec("a")), pool.submit(spec("b"))]
    for future in drawing:
        wait_until(future.running)
    queued = pool.submit(spec("queued"))
    workers = pool.worker_pids()

    closing = threading.Thread(target=pool.close)
    closing.start()
    assert isinstance(queued.exception(timeout=30), ChartPoolClosed)
    gate.touch()
    closing.join(timeout=30)

    assert not closing.is_alive()
    assert all(future.result().startswith(PNG_MAGIC) for future in drawing)
    assert not any(alive(pid) for pid in workers)
    assert dispatcher_threads() == []
    with pytest.raises(ChartPoolClosed):
        pool.submit(spec())


def test_closing_kills_a_hung_worker_and_fails_its_chart(pools):
    pool = pools(chart_renderers.hang, timeout=0.5)
    drawing = pool.submit(spec())
    wait_until(drawing.running)
    [hung] = pool.worker_pids()

    pool.close()

    assert isinstance(drawing.exception(), ChartError)
    assert not alive(hung) and dispatcher_threads() == []


KILLED_BOT = """
import time
from bot.chart_pool import ChartPool
from commands.answer import ChartSpec
from tests import chart_renderers

pool = ChartPool(workers=1, renderer=chart_renderers.hang, preload=())
drawing = pool.submit(ChartSpec("t", {}, "all_time", "2026-01-02", "alt", "t.png"))
while not drawing.running():
    time.sleep(0.01)
print(pool.worker_pids()[0], flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux kernel feature")
def test_a_worker_stuck_drawing_dies_with_a_bot_killed_outright():
    bot = subprocess.Popen(
        [sys.executable, "-c", KILLED_BOT], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert bot.stdout is not None
        worker = int(bot.stdout.readline())
        assert alive(worker)
    finally:
        bot.kill()
        bot.wait()

    wait_until(lambda: not alive(worker))
