"""Concurrent readers and one writer: collections commit while slash commands are answered.

Signed `/openmodels top` and `compare qwen llama` commands, 50 in flight at once, go
through the real waitress + Bolt app while another thread commits snapshot after
snapshot with storage.snapshots.write_snapshot, as the daily collection does in the
`openmodels serve` process (bot.scheduler) or from cron. No
request may fail, no answer may be an apology, nothing may log "database is locked",
and every answer must be the figures of exactly one snapshot: the one its footer
names ("Snapshot YYYY-MM-DD"), with its week-on-week change taken from the snapshot
named as "changes since".

Each snapshot is identifiable from its figures: in snapshot k (taken on day k) every
Qwen model has 1,000k + 7 all-time downloads and every Llama model 400k + 3, so the
family totals, and their rendering, differ from one snapshot to the next.
"""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from bot.handlers import APOLOGY
from commands.format import human, signed
from openmodels.periods import change_period
from storage import Store
from storage.snapshots import ModelRecord, write_snapshot
from tests.builders import DAY0, record
from tests.reliability.conftest import scale
from tests.slack_helpers import Exchange, RunningBot, running_bot

QWEN_MODELS = scale(1_000, 2_000)
LLAMA_MODELS = scale(500, 1_000)
HISTORY = 3  # snapshots before the writer starts
WRITES = scale(3, 4)  # snapshots the writer commits while the commands go on
IN_FLIGHT = 50
COMMANDS = ("top", "compare qwen llama")


@dataclass(frozen=True)
class Figures:
    """What snapshot k holds, computed here from the records written."""

    qwen: int
    qwen_30d: int
    llama: int
    llama_30d: int


def records(k: int) -> list[ModelRecord]:
    qwen = [record(f"Qwen/q-{i}", "qwen", 1_000 * k + 7, d30=k) for i in range(QWEN_MODELS)]
    llama = [
        record(f"meta-llama/l-{i}", "llama", 400 * k + 3, d30=2 * k) for i in range(LLAMA_MODELS)
    ]
    return qwen + llama


@cache
def figures(k: int) -> Figures:
    rows = records(k)
    return Figures(
        qwen=sum(r.downloads_all_time for r in rows if r.family == "qwen"),
        qwen_30d=sum(r.downloads_30d for r in rows if r.family == "qwen"),
        llama=sum(r.downloads_all_time for r in rows if r.family == "llama"),
        llama_30d=sum(r.downloads_30d for r in rows if r.family == "llama"),
    )


def date_of(k: int) -> str:
    return (DAY0 + timedelta(days=k)).strftime("%Y-%m-%d")


class Writer(threading.Thread):
    """Once `go` is set, commits snapshots HISTORY+1 … HISTORY+WRITES, then sets `done`."""

    def __init__(self, store: Store) -> None:
        super().__init__(name="collector", daemon=True)
        self.store = store
        self.go = threading.Event()
        self.done = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            assert self.go.wait(60), "the commands never got going"
            for k in range(HISTORY + 1, HISTORY + 1 + WRITES):
                write_snapshot(self.store, DAY0 + timedelta(days=k), "hub", records(k))
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.failure = exc
        finally:
            self.done.set()


def footer_dates(message: dict[str, Any]) -> tuple[int, int]:
    """(k of the snapshot shown, k of the baseline) from the footer's dates."""
    footer = [b for b in message["blocks"] if b["type"] == "context"][-1]
    text = footer["elements"][0]["text"]
    match = re.search(r"Snapshot (\S+) · changes since (\S+) ·", text)
    assert match, text
    by_date = {date_of(k): k for k in range(HISTORY + WRITES + 1)}
    return by_date[match[1]], by_date[match[2]]


def assert_top_is_one_snapshot(message: dict[str, Any]) -> int:
    k, base = footer_dates(message)
    now, then = figures(k), figures(base)
    body = message["blocks"][1]["text"]["text"]
    [qwen] = [line for line in body.splitlines() if "|Qwen>" in line]
    [llama] = [line for line in body.splitlines() if "|Llama>" in line]
    assert qwen.startswith("1. ") and f"  {human(now.qwen)} · " in qwen, (k, qwen)
    period = change_period(date_of(k), date_of(base))  # "this week" only for 7 days
    assert f"{signed(now.qwen - then.qwen)} {period}" in qwen, (k, base, qwen)
    assert llama.startswith("2. ") and f"  {human(now.llama)} · " in llama, (k, llama)
    assert f"{signed(now.llama - then.llama)} {period}" in llama, (k, base, llama)
    assert f"({date_of(k)})" in message["text"]
    return k


def assert_compare_is_one_snapshot(text_post: dict[str, Any], chart_post: dict[str, Any]) -> int:
    k, _ = footer_dates(text_post)
    now = figures(k)
    assert text_post["text"].startswith(f"Qwen leads Llama by {human(now.qwen - now.llama)} ")
    fields = [
        f["text"]
        for b in text_post["blocks"]
        if b["type"] == "section"
        for f in b.get("fields", [])
    ]
    qwen, llama = fields
    assert f"All-time: {human(now.qwen)}\n30 days: {human(now.qwen_30d)}" in qwen, (k, qwen)
    assert f"Models: {QWEN_MODELS}" in qwen
    assert f"All-time: {human(now.llama)}\n30 days: {human(now.llama_30d)}" in llama, (k, llama)
    # The chart, read in the same transaction, ends on the same snapshot.
    [image] = [b for b in chart_post["blocks"] if b["type"] == "image"]
    assert f"to {human(now.qwen)} on {date_of(k)}" in image["alt_text"], (k, image["alt_text"])
    return k


def test_answers_during_collections_are_each_from_one_snapshot(new_store, caplog):
    store = new_store("s")
    for k in range(1, HISTORY + 1):
        write_snapshot(store, DAY0 + timedelta(days=k), "hub", records(k))
    writer = Writer(store)
    answered: list[tuple[str, Exchange]] = []
    lock = threading.Lock()

    def keep_asking(bot: RunningBot, first: int) -> None:
        """Send commands one after another; the last is sent after the writer finished."""
        for i in range(first, first + 1_000):  # bounded, should the writer never finish
            last = writer.done.is_set()
            text = COMMANDS[i % 2]
            exchange = bot.command(text)  # waits for the answer, and compare's chart
            with lock:
                answered.append((text, exchange))
                if len(answered) >= IN_FLIGHT:
                    writer.go.set()  # every sender is going: the commits start now
            if last:
                return

    with running_bot(store) as bot, ThreadPoolExecutor(IN_FLIGHT) as pool:
        writer.start()
        for future in [pool.submit(keep_asking, bot, n) for n in range(IN_FLIGHT)]:
            future.result()
        writer.join(60)

    assert writer.failure is None, writer.failure
    assert "database is locked" not in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    shown: list[int] = []
    for text, exchange in answered:
        assert exchange.reply.status == 200
        assert exchange.posts, f"{text!r} was never answered"
        assert all(p["text"] != APOLOGY for p in exchange.posts)
        if text == "top":
            [message] = exchange.posts
            shown.append(assert_top_is_one_snapshot(message))
        else:
            # One message with text and chart, or the text then a chart-only message.
            text_post, chart_post = exchange.posts[0], exchange.posts[-1]
            assert len(exchange.posts) in (1, 2), exchange.posts
            shown.append(assert_compare_is_one_snapshot(text_post, chart_post))
    counts = {k: shown.count(k) for k in sorted(set(shown))}
    print(f"\n{len(answered)} commands, {IN_FLIGHT} in flight; answers per snapshot: {counts}")
    # Answers came from before, during and after the commits.
    assert HISTORY in counts and HISTORY + WRITES in counts
