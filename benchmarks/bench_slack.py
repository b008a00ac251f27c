"""Benchmark the Slack app end to end on a year of synthetic snapshots.

Signed slash commands go over HTTP to the real Bolt app behind waitress, which answers
a local stand-in for Slack (localslack.server) on 127.0.0.1. For `top` and
`compare qwen llama` it prints p50/p99 of:
- ack: until the HTTP response to Slack's request (Slack allows 3 s);
- text: until the answer is posted to the response URL (for compare, with its chart
  when the chart is ready within 2 s of the command, else alone);
- chart (compare): until the chart is at the response URL, in the answer's own
  message or in a chart-only message after it; and how many came in one message.
Beside them, the floor measured in the same run: the raw SQL query, the whole answer
computed in-process (parse, read, rank, blocks), and for compare a bare matplotlib
render of the same series. Not a test: it prints figures and asserts nothing.

    python benchmarks/bench_slack.py [--requests 200] [--families 20 --models 1000 --days 365]
    python benchmarks/bench_slack.py --quick          # 5 x 200 x 60, 50 requests
    python benchmarks/bench_slack.py --concurrency 8  # 8 commands in flight at once

The store is built with benchmarks/bench_store.py's builder (Size, Catalogue,
ingest_storage); families fam00 and fam01 are labelled Qwen and Llama so that
`compare qwen llama` names two of them. Charts are drawn as `openmodels serve` draws
them: in worker processes (bot.chart_pool.ChartPool).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import bench_store  # the store builder, beside this file

from bot.app import build_app
from bot.chart_pool import ChartPool
from bot.delivery import DeliveryOptions
from bot.handlers import BotServices
from bot.runtime import BackgroundServer
from bot.settings import SlackSettings
from commands import AnswerContext, answer_text
from localslack.payloads import signed_headers, slash_command_body
from localslack.server import LocalSlack
from openmodels.charts import render_chart
from openmodels.families import Families, parse_families
from storage import Store, open_store

SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
COMMANDS = ("top", "compare qwen llama")
# The one query `top` needs, the floor under everything the app adds.
TOP_SQL = """
    SELECT family, downloads_all_time FROM family_totals
    WHERE snapshot_id = (SELECT id FROM snapshots ORDER BY taken_at DESC LIMIT 1)
    ORDER BY 2 DESC
"""


@dataclass
class Sample:
    ack: float
    text: float
    done: float
    messages: int  # posts at the response URL: 1 when text and chart came together


def families(count: int) -> Families:
    toml = bench_store.families_toml(count)
    toml = toml.replace('label = "Fam00"', 'label = "Qwen"').replace(
        'label = "Fam01"', 'label = "Llama"'
    )
    return parse_families(toml, "benchmark families")


def build_store(path: Path, size: bench_store.Size) -> Store:
    store = open_store(path)
    print(
        f"building {size.families} families x {size.models:,} models x {size.days} days "
        f"= {size.rows:,} model-count rows …",
        file=sys.stderr,
        flush=True,
    )
    catalogue = bench_store.Catalogue.of(size)
    progress = bench_store.progress_printer("store", size.days)
    bench_store.ingest_storage(store, catalogue, size.days, progress)
    return store


def raw_top(path: Path) -> Callable[[], object]:
    conn = sqlite3.connect(path, check_same_thread=False)
    return lambda: conn.execute(TOP_SQL).fetchall()


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm imports and the page cache outside the figures
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


class Bench:
    """The app, waitress and the stand-in Slack, with a done-signal per response URL."""

    def __init__(self, context: AnswerContext) -> None:
        self.slack = LocalSlack().start()
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        settings = SlackSettings(
            bot_token="xoxb-0-bench", signing_secret=SIGNING_SECRET, api_url=self.slack.api_url
        )
        render = ChartPool()  # as `openmodels serve` draws charts
        render.warm_up()
        self.services = BotServices(
            context=context,
            render=render,
            # Same waits as production; the stand-in reports files processed at once.
            delivery=DeliveryOptions(),
            on_done=lambda url: self._event(url).set(),
        )
        self.server = BackgroundServer(build_app(settings, self.services), threads=8)

    def _event(self, url: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(url, threading.Event())

    def send(self, text: str) -> Sample:
        response_url = self.slack.response_url()
        body = slash_command_body(text, response_url)
        request = urllib.request.Request(
            self.server.url, data=body, headers=signed_headers(SIGNING_SECRET, body)
        )
        start = time.monotonic()
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert reply.status == 200, reply.status
        ack = time.monotonic() - start
        assert self._event(response_url).wait(60), f"no answer to {text!r}"
        path = "/response/" + response_url.rsplit("/", 1)[1]
        posts = [c for c in self.slack.calls_to("response_url") if c.path == path]
        assert posts and all(c.status == 200 for c in posts), posts
        return Sample(
            ack=ack, text=posts[0].at - start, done=posts[-1].at - start, messages=len(posts)
        )

    def close(self) -> None:
        self.server.close()
        self.services.close()
        self.slack.close()


def run(store: Store, fams: Families, requests: int, concurrency: int) -> None:
    context = AnswerContext(store=store, families=fams)
    compare = answer_text("compare qwen llama", context)
    assert compare.chart is not None and not compare.error, compare.text
    chart = compare.chart
    floors = {
        "top": [
            ("raw SQL query (open connection)", raw_top(store.path)),
            ("whole answer in-process", lambda: answer_text("top", context)),
        ],
        "compare qwen llama": [
            ("whole answer in-process", lambda: answer_text("compare qwen llama", context)),
            ("bare matplotlib render of the series", lambda: render_chart(chart)),
        ],
    }
    bench = Bench(context)
    results: dict[str, list[Sample]] = {}
    try:
        for text in COMMANDS:
            bench.send(text)  # warm-up, not counted
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                results[text] = list(pool.map(bench.send, [text] * requests))
    finally:
        bench.close()

    print(
        f"\n{requests} signed requests per command over HTTP (concurrency {concurrency}); "
        "milliseconds"
    )
    print(f"{'':<46} {'p50':>9} {'p99':>9}")
    for text in COMMANDS:
        samples = results[text]
        print(f"/openmodels {text}")
        rows = [
            ("  ack (HTTP 200 to Slack)", [s.ack for s in samples]),
            ("  text answer at the response URL", [s.text for s in samples]),
        ]
        if text.startswith("compare"):
            rows.append(("  chart at the response URL", [s.done for s in samples]))
        for name, floor in floors[text]:
            rows.append((f"  floor: {name}", timed(floor, min(requests, 200))))
        for name, values in rows:
            p50, p99 = percentiles(values)
            print(f"{name:<46} {p50:>9.2f} {p99:>9.2f}")
        if text.startswith("compare"):
            together = sum(s.messages == 1 for s in samples)
            print(f"  text and chart in one message: {together} of {len(samples)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--families", type=int, default=20)
    parser.add_argument("--models", type=int, default=1000, help="models per family")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=200, help="requests per command")
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight at once")
    parser.add_argument("--quick", action="store_true", help="5 x 200 x 60, 50 requests")
    parser.add_argument("--store", type=Path, help="reuse this store (built by an earlier run)")
    parser.add_argument("--keep", action="store_true", help="keep the store built")
    args = parser.parse_args(argv)
    if args.quick:
        size = bench_store.Size(**bench_store.QUICK)
        args.requests = min(args.requests, 50)
    else:
        size = bench_store.Size(args.families, args.models, args.days)
    if size.families < 2 or args.requests < 1 or args.concurrency < 1:
        parser.error("need at least 2 families, 1 request and a concurrency of 1")
    fams = families(size.families)
    folder = Path(tempfile.mkdtemp(prefix="openmodels-bench-slack-"))
    try:
        store = open_store(args.store) if args.store else build_store(folder / "bench.db", size)
        started = time.perf_counter()
        run(store, fams, args.requests, args.concurrency)
        print(f"\nwall time {time.perf_counter() - started:.0f}s")
    finally:
        if args.keep and not args.store:
            print(f"store kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
