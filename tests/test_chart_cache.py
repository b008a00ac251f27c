"""Charts known by their content: a chart is drawn once, whoever asks and however often.

Renderers here count their drawings; one is gated by an event, so that requests are
known to arrive while a drawing is under way. Nothing sleeps.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import pytest

from bot.chart_cache import ChartCache, cache_directory
from bot.chart_pool import ChartsBusy
from commands.answer import ChartSpec
from openmodels.chart_spec import chart_key
from storage.store import store_at

SPEC = ChartSpec(
    title="Qwen vs Llama",
    series={"Qwen": [("2026-01-01T06:00:00Z", 1), ("2026-01-02T06:00:00Z", 2)]},
    metric="all_time",
    snapshot_date="2026-01-02",
    alt_text="Qwen from 1 to 2",
    filename="compare.png",
)


class Counting:
    """A renderer: b"png:" and the title; counts its drawings; waits for `gate` if set."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.drawn: list[str] = []
        self.gate = gate
        self.started = threading.Event()

    def __call__(self, spec: ChartSpec) -> bytes:
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        self.drawn.append(spec.title)
        return f"png:{spec.title}".encode()


# -- a chart's identity ------------------------------------------------------------------


def test_a_charts_identity_is_what_it_shows_and_the_style_it_is_drawn_in():
    key = chart_key(SPEC, "1")

    assert chart_key(replace(SPEC, alt_text="other words", filename="x.png"), "1") == key
    assert chart_key(SPEC, "2") != key
    assert chart_key(replace(SPEC, series={"Qwen": [("2026-01-01T06:00:00Z", 9)]}), "1") != key
    assert chart_key(replace(SPEC, metric="30d"), "1") != key
    assert chart_key(replace(SPEC, sample=True), "1") != key
    race = replace(SPEC, series={}, race={"Qwen/A": [(0.0, 0), (1.0, 9)]}, race_age=1.0)
    assert chart_key(race, "1") != chart_key(replace(race, race={"Qwen/A": [(0.0, 0)]}), "1")
    assert chart_key(race, "1") != chart_key(replace(race, race_age=0.5), "1")


def test_a_chart_read_back_from_a_stored_message_has_the_same_identity():
    # A digest's chart is stored as JSON (lists, not tuples) and read back before drawing.
    as_json = {"Qwen": [["2026-01-01T06:00:00Z", 1], ["2026-01-02T06:00:00Z", 2]]}
    stored = replace(SPEC, series=as_json)  # type: ignore[arg-type]

    assert chart_key(stored, "1") == chart_key(SPEC, "1")


# -- drawn once ------------------------------------------------------------------------------


def test_a_chart_drawn_already_is_served_without_drawing():
    render = Counting()
    with ChartCache(render) as cache:
        first = cache(SPEC)
        second = cache(replace(SPEC, alt_text="said otherwise"))

    assert first == second == b"png:Qwen vs Llama"
    assert render.drawn == ["Qwen vs Llama"] and cache.drawn == 1 and cache.served == 1


def test_requests_for_a_chart_being_drawn_wait_for_that_one_drawing():
    gate = threading.Event()
    render = Counting(gate)
    with ChartCache(render) as cache:
        futures = [cache.submit(SPEC)]
        assert render.started.wait(10)  # the drawing is under way
        futures += [cache.submit(SPEC) for _ in range(9)]
        gate.set()
        pngs = {f.result(10) for f in futures}

    assert pngs == {b"png:Qwen vs Llama"}
    assert render.drawn == ["Qwen vs Llama"] and cache.joined == 9


def test_a_failed_drawing_is_not_kept():
    calls = []

    def flaky(spec: ChartSpec) -> bytes:
        calls.append(spec.title)
        if len(calls) == 1:
            raise RuntimeError("no fonts today")
        return b"png"

    with ChartCache(flaky) as cache:
        with pytest.raises(RuntimeError):
            cache(SPEC)
        assert cache(SPEC) == b"png"

    assert len(calls) == 2


class RefusingPool:
    """A chart pool whose queue is full for the first `refusals` charts."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.submitted: list[tuple[str, bool]] = []

    def submit(self, spec: ChartSpec, *, bounded: bool = True) -> Future[bytes]:
        self.submitted.append((spec.title, bounded))
        if self.refusals:
            self.refusals -= 1
            raise ChartsBusy("8 charts are already waiting")
        future: Future[bytes] = Future()
        future.set_result(b"png")
        return future


def test_a_refused_chart_is_refused_to_its_asker_and_drawn_when_asked_again():
    pool = RefusingPool(refusals=1)
    cache = ChartCache(pool)

    with pytest.raises(ChartsBusy):
        cache.submit(SPEC)
    assert cache.submit(SPEC).result() == b"png"
    assert cache(SPEC) == b"png"  # kept: the digest's unbounded request draws nothing

    assert pool.submitted == [("Qwen vs Llama", True), ("Qwen vs Llama", True)]


# -- kept in memory and beside the store, least recently used out first ------------------------


def test_memory_keeps_the_most_recently_used_charts_within_its_bytes():
    render = Counting()
    specs = [replace(SPEC, title=f"chart {n}") for n in range(3)]  # 11 bytes each
    with ChartCache(render, memory_bytes=25) as cache:
        cache(specs[0])
        cache(specs[1])
        cache(specs[0])  # used again: chart 1 is now the least recently used
        cache(specs[2])  # two fit: chart 1 goes
        cache(specs[0])
        cache(specs[1])

    assert render.drawn == ["chart 0", "chart 1", "chart 2", "chart 1"]


def test_charts_kept_on_disk_are_served_after_a_restart(tmp_path):
    directory = cache_directory(store_at(tmp_path / "team.db"))
    assert directory == tmp_path / "team.db-charts"
    with ChartCache(Counting(), directory) as before:
        before(SPEC)

    again = Counting()
    with ChartCache(again, directory) as after:
        png = after(SPEC)

    assert png == b"png:Qwen vs Llama" and again.drawn == []
    assert [p.name for p in directory.iterdir()] == [f"{chart_key(SPEC, after.style)}.png"]


def test_the_directory_keeps_the_most_recently_used_charts_within_its_bytes(tmp_path):
    directory = tmp_path / "charts"
    specs = [replace(SPEC, title=f"chart {n}") for n in range(4)]  # 11 bytes each
    with ChartCache(Counting(), directory, disk_bytes=40) as cache:
        for moment, spec in enumerate(specs[:3]):
            cache(spec)
            # Each file was last used a minute after the one before (set, not waited for).
            path = directory / f"{chart_key(spec, cache.style)}.png"
            os.utime(path, (1_000 + 60 * moment, 1_000 + 60 * moment))
        cache(specs[3])  # 44 bytes: the least recently used goes, to 90% of the limit

    kept = {p.read_bytes() for p in directory.iterdir()}
    assert kept == {b"png:chart 1", b"png:chart 2", b"png:chart 3"}


class VanishingScan:
    """os.scandir as another process sharing the directory makes it look: `serve` and a
    cron digest keep charts in the same `<store>-charts`, and one may delete a file
    (trimming) between the other's listing and its look at that file."""

    def __init__(self, scandir: Callable[..., Any]) -> None:
        self._scandir = scandir
        self.vanished: list[str] = []

    def __call__(self, path: Any) -> Any:
        entries = list(self._scandir(path))
        for entry in entries:
            if entry.name.endswith(".png"):
                os.unlink(entry.path)  # listed, then gone before it is looked at
                self.vanished.append(entry.name)
        return _Listing(entries)


class _Listing(list):  # what os.scandir returns is used as a context manager
    def __enter__(self) -> _Listing:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_chart_file_deleted_by_another_process_while_counted_costs_nothing(tmp_path, monkeypatch):
    directory = tmp_path / "charts"
    directory.mkdir()
    (directory / f"{'0' * 64}.png").write_bytes(b"an older chart")
    scan = VanishingScan(os.scandir)
    monkeypatch.setattr("bot.chart_cache.os.scandir", scan)
    renderer = Counting()

    with ChartCache(renderer, directory) as cache:
        png = cache.submit(SPEC).result(timeout=10)  # the first write counts the directory
        again = cache.submit(SPEC).result(timeout=10)

    assert scan.vanished  # the race did happen
    assert png == again == b"png:Qwen vs Llama"
    assert renderer.drawn == ["Qwen vs Llama"]  # drawn once: the second was served
    assert cache._drawing == {}


def test_a_chart_file_deleted_by_another_process_while_trimming_costs_nothing(
    tmp_path, monkeypatch
):
    directory = tmp_path / "charts"
    specs = [replace(SPEC, title=f"chart {n}") for n in range(4)]  # 11 bytes each
    renderer = Counting()
    with ChartCache(renderer, directory, disk_bytes=40) as cache:
        for spec in specs[:3]:
            cache(spec)
        monkeypatch.setattr("bot.chart_cache.os.scandir", VanishingScan(os.scandir))

        png = cache.submit(specs[3]).result(timeout=10)  # over the limit: trims
        monkeypatch.undo()
        later = cache.submit(replace(SPEC, title="chart 4")).result(timeout=10)

    assert png == b"png:chart 3" and later == b"png:chart 4"
    assert cache._drawing == {}


def test_a_failed_disk_write_still_gives_the_drawn_chart_and_leaves_nothing_stuck(
    tmp_path, monkeypatch, caplog
):
    def broken_write(self: Any, key: str, png: bytes) -> None:
        raise RuntimeError("the disk cache broke")

    monkeypatch.setattr("bot.chart_cache._Disk.write", broken_write)
    renderer = Counting()

    with ChartCache(renderer, tmp_path / "charts") as cache:
        first = cache.submit(SPEC).result(timeout=10)
        second = cache.submit(SPEC).result(timeout=10)

    assert first == second == b"png:Qwen vs Llama"
    assert renderer.drawn == ["Qwen vs Llama"]
    assert cache._drawing == {}
    assert "could not keep chart" in caplog.text
