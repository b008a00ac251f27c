"""Benchmark `openmodels serve --http` under load, with the real renderer, from outside.

Four processes besides this one, as in production the bot shares its machine with
nothing of the benchmark's:
- the bot: benchmarks/serve_for_load.py, the assembly `openmodels serve --http` runs
  (bot.serve.BotProcess), with charts drawn by the real renderer in its chart pool;
- the stand-in Slack: benchmarks/slack_standin.py (localslack.server in its own process);
- the load generator: benchmarks/load_slash.py, signed slash commands over HTTP;
- (this process runs the fake Hub the collections list, and orchestrates.)
The store is a copy of the 365-day benchmark store (store_cache.py: 20 families x
1,000 models x 365 daily snapshots, built once and kept under benchmarks/.cache/).

In one run it measures and prints:
- the floor: the load below against the same Bolt app whose listener only acknowledges,
  i.e. what Bolt and waitress themselves cost on this machine;
- idle: the same mix of commands one at a time, and a snapshot written with nothing else
  running, and `top` against its raw SQL (the same reads on a fresh connection);
- under load: 1,000 signed commands, 50 at a time, taking `top`, `compare qwen llama` and
  `family qwen` in turn; a snapshot taken (collected from the fake Hub and written)
  while they run; then, once every answer has arrived at the stand-in Slack: ack p50/p99
  per command, and the time until the text answer and until the chart reached Slack;
- whether each goal is met. Figures are printed, never asserted.

    python benchmarks/bench_load.py [--count 1000 --concurrency 50]
    python benchmarks/bench_load.py --quick     # 5 x 200 x 60 store, 200 commands

Run it on a quiet machine: it measures the machine as much as the bot.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import bench_store  # the store builder, beside this file
import store_cache

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # for tests.fakes: the fake Hub

from commands import AnswerContext, answer_text  # noqa: E402
from openmodels.families import parse_families  # noqa: E402
from storage import Store  # noqa: E402
from tests.fakes import FakeHub, hub_model  # noqa: E402

SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
BOT_TOKEN = "xoxb-0-bench-load"
COMMANDS = ("top", "compare qwen llama", "family qwen")
CHARTED = frozenset({"compare qwen llama", "family qwen"})
IDLE_COMMANDS = 60  # one at a time: 20 of each
# Goals of the load benchmark, read against figures measured in the same run.
ACK_VS_IDLE, ACK_VS_FLOOR, SNAPSHOT_VS_IDLE, TOP_VS_RAW = 9.0, 2.0, 2.0, 1.5


# -- the processes ------------------------------------------------------------------------


class Child:
    """A child process speaking JSON lines on stdout; its stderr goes to a log file."""

    def __init__(self, args: Sequence[str], env: dict[str, str], log: IO[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *args],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=HERE.parent,
        )
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self._lines.put(json.loads(line))
        self._lines.put(None)

    def tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def expect(self, key: str, timeout: float = 600) -> Any:
        """The next JSON line holding `key`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no {key!r} from {self.process.args!r}") from None
            if event is None:
                raise RuntimeError(f"{self.process.args!r} ended (exit {self.process.wait()})")
            if key in event:
                return event[key]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def load(
    url: str | Sequence[str],
    base: str,
    first: int,
    count: int,
    concurrency: int,
    report: Path,
    env: dict[str, str],
) -> subprocess.Popen[str]:
    """Start the load generator: `count` commands of the mix, `concurrency` at a time, with
    response URLs BASE/first, BASE/first+1, …, to `url` (or to several, in turn)."""
    urls = [url] if isinstance(url, str) else list(url)
    args = [
        *(sys.executable, str(HERE / "load_slash.py")),
        *(arg for u in urls for arg in ("--url", u)),
        *("--signing-secret", SIGNING_SECRET, "--response-url-base", base),
        *("--count", str(count), "--concurrency", str(concurrency), "--report", str(report)),
        *("--first", str(first)),
    ]
    for text in COMMANDS:
        args += ["--text", text]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate(timeout=900)
    if process.returncode != 0:
        raise RuntimeError(f"the load generator failed ({process.returncode})")
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return figures


# -- what reached Slack ---------------------------------------------------------------------


@dataclass
class Outcome:
    """One command: its ack, and when its text and its chart (if any) reached Slack."""

    text: str
    ack: float
    answered: float | None = None  # seconds from sending to the text's arrival
    charted: float | None = None  # ... to the chart's arrival
    chart: str = "none"  # none | inline | followup | note | pending


def outcomes(report: Path, responses: dict[str, list[dict[str, Any]]]) -> list[Outcome]:
    found = []
    for line in report.read_text().splitlines():
        sent = json.loads(line)
        posts = [p for p in responses.get(sent["response_url"].rsplit("/", 1)[-1], [])]
        posts = [p for p in posts if p["status"] == 200]
        outcome = Outcome(sent["text"], sent["seconds"])
        if posts:
            outcome.answered = posts[0]["at"] - sent["sent"]
        if sent["text"] in CHARTED:
            images = [p for p in posts if p["image"]]
            if images:
                outcome.charted = images[0]["at"] - sent["sent"]
                outcome.chart = "inline" if images[0] is posts[0] else "followup"
            else:
                outcome.chart = "note" if len(posts) >= 2 else "pending"
        found.append(outcome)
    return found


def wait_for_answers(slack: Child, report: Path, timeout: float) -> list[Outcome]:
    """Ask the stand-in until every command has its text, and its chart or a note."""
    deadline = time.monotonic() + timeout
    while True:
        slack.tell("report")
        found = outcomes(report, slack.expect("responses"))
        waiting = [o for o in found if o.answered is None or o.chart == "pending"]
        if not waiting or time.monotonic() > deadline:
            return found
        time.sleep(2)


# -- `top` against its raw SQL ----------------------------------------------------------------


def top_against_raw(store: Store, context: AnswerContext, runs: int = 300) -> tuple[float, float]:
    """Median ms of the `top` answer and of its raw reads on a fresh connection
    (bench_store.raw_top_fresh), timed turn about so that both see the same machine."""
    answer = lambda: answer_text("top", context)  # noqa: E731
    return bench_store.paired_median_ms(answer, bench_store.raw_top_fresh(store.path), runs)


# -- the fake Hub, one day at a time -----------------------------------------------------------


def hub_day(hub: FakeHub, catalogue: bench_store.Catalogue, day: int) -> None:
    """The Hub as it lists the catalogue on `day` (a collection takes no derivative counts)."""
    by_org: dict[str, list[dict[str, object]]] = {}
    for repo_id, _family, d30, all_time, likes, _derivatives in catalogue.figures(day):
        by_org.setdefault(repo_id.partition("/")[0], []).append(
            hub_model(repo_id, downloads=d30, all_time=all_time, likes=likes)
        )
    for org, models in by_org.items():
        hub.replace(org, *models)


# -- figures ----------------------------------------------------------------------------------


def pct(values: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 (nearest rank) in milliseconds."""
    ordered = sorted(values)
    if not ordered:
        return float("nan"), float("nan")
    p99 = ordered[min(len(ordered) - 1, max(0, -(-99 * len(ordered) // 100) - 1))]
    return statistics.median(ordered) * 1000, p99 * 1000


def ms(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


@dataclass
class Run:
    floor: dict[str, Any] = field(default_factory=dict)
    idle: list[Outcome] = field(default_factory=list)
    loaded: list[Outcome] = field(default_factory=list)
    loaded_figures: dict[str, Any] = field(default_factory=dict)
    snapshot_idle: dict[str, Any] = field(default_factory=dict)
    snapshot_loaded: dict[str, Any] = field(default_factory=dict)
    # Seconds from the load's first command: the snapshot's commit, the last ack, the last
    # answer to reach Slack.
    timeline: dict[str, float] = field(default_factory=dict)
    top_ms: float = 0.0
    raw_ms: float = 0.0


def print_report(run: Run, count: int, concurrency: int, workers: str) -> None:
    print(
        f"\n{count} signed commands, {concurrency} at a time ({', '.join(COMMANDS)} in turn); "
        f"chart workers: {workers}; milliseconds, p50 / p99"
    )
    header = f"{'':<22}{'idle ack':>16}{'ack under load':>18}{'floor ack':>16}"
    header += f"{'text at Slack':>18}{'chart at Slack':>18}"
    print(header)
    goals = []
    for text in COMMANDS:
        idle = pct([o.ack for o in run.idle if o.text == text])
        loaded_outcomes = [o for o in run.loaded if o.text == text]
        loaded = pct([o.ack for o in loaded_outcomes])
        floor = run.floor["by_text"][text]
        answered = pct([o.answered for o in loaded_outcomes if o.answered is not None])
        charts = [o.charted for o in loaded_outcomes if o.charted is not None]
        charted = pct(charts) if text in CHARTED else (float("nan"), float("nan"))
        print(
            f"{text:<22}{ms(idle[0]):>7} / {ms(idle[1]):>6}{ms(loaded[0]):>9} / {ms(loaded[1]):>6}"
            f"{ms(floor['p50_ms']):>7} / {ms(floor['p99_ms']):>6}"
            f"{ms(answered[0]):>9} / {ms(answered[1]):>6}{ms(charted[0]):>9} / {ms(charted[1]):>6}"
        )
        allowed = max(ACK_VS_IDLE * idle[1], ACK_VS_FLOOR * floor["p99_ms"])
        goals.append((text, loaded[1], idle[1], floor["p99_ms"], allowed))
    for text in sorted(CHARTED):
        kinds = [o.chart for o in run.loaded if o.text == text]
        print(
            f"  {text}: chart in the answer's message {kinds.count('inline')}, after it "
            f"{kinds.count('followup')}, a note instead {kinds.count('note')}, "
            f"still missing {kinds.count('pending')} (of {len(kinds)})"
        )
    unanswered = sum(o.answered is None for o in run.loaded)
    print(
        f"  errors (no HTTP 200): {run.loaded_figures.get('errors')}, acks over 3 s: "
        f"{run.loaded_figures.get('over_3s')}, commands never answered: {unanswered}; "
        f"the load generator used {run.loaded_figures.get('cpu_seconds')} s of CPU "
        f"({run.floor.get('cpu_seconds')} s against the floor)"
    )
    idle_write, loaded_write = (
        run.snapshot_idle["write_seconds"],
        run.snapshot_loaded["write_seconds"],
    )
    when = run.timeline
    print(
        f"\nsnapshot of {run.snapshot_idle['models']:,} models: written in "
        f"{idle_write * 1000:,.0f} ms idle, {loaded_write * 1000:,.0f} ms under load "
        f"({loaded_write / idle_write:.2f}x); whole collection (Hub listing to commit) "
        f"{run.snapshot_idle['seconds']:.2f} s idle, {run.snapshot_loaded['seconds']:.2f} s "
        f"under load. From the load's first command: the snapshot under load was written "
        f"from {when['committed'] - loaded_write:.1f} s to {when['committed']:.1f} s, the "
        f"last ack came at {when['last_ack']:.1f} s, the last answer reached Slack at "
        f"{when['last_answer']:.1f} s"
    )
    print(
        f"`top` answer {run.top_ms:.2f} ms against its raw reads on a fresh connection "
        f"{run.raw_ms:.2f} ms ({run.top_ms / run.raw_ms:.2f}x), medians, idle"
    )
    print("\ngoals (measured in this run):")
    for text, p99, idle_p99, floor_p99, allowed in goals:
        print(
            f"  ack p99 of {text!r} under load {ms(p99)} ms <= max({ACK_VS_IDLE:.0f} x idle "
            f"{ms(idle_p99)}, {ACK_VS_FLOOR:.0f} x floor {ms(floor_p99)}) = {ms(allowed)} ms: "
            f"{verdict(p99 <= allowed)}"
        )
    ratio = loaded_write / idle_write
    print(
        f"  snapshot under load {ratio:.2f}x idle <= {SNAPSHOT_VS_IDLE:.0f}x: "
        f"{verdict(ratio <= SNAPSHOT_VS_IDLE)}"
    )
    top_ratio = run.top_ms / run.raw_ms
    print(
        f"  top {top_ratio:.2f}x its raw SQL <= {TOP_VS_RAW}x: {verdict(top_ratio <= TOP_VS_RAW)}"
    )


# -- the run ----------------------------------------------------------------------------------


def families_toml(count: int) -> str:
    """bench_store's families, fam00 and fam01 labelled Qwen and Llama."""
    toml = bench_store.families_toml(count)
    return toml.replace('label = "Fam00"', 'label = "Qwen"').replace(
        'label = "Fam01"', 'label = "Llama"'
    )


def run(size: bench_store.Size, count: int, concurrency: int, folder: Path) -> None:
    catalogue = bench_store.Catalogue.of(size)
    db = store_cache.working_copy(size, folder)
    families_file = folder / "families.toml"
    families_file.write_text(families_toml(size.families))
    families = parse_families(families_file.read_text(), str(families_file))
    store = Store(db)
    log = (folder / "processes.log").open("w")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENMODELS_", "SLACK_"))}

    with FakeHub(page_size=1000) as hub:
        slack = Child([str(HERE / "slack_standin.py")], base_env, log)
        try:
            urls = slack.expect("slack", timeout=60)
            env = {
                **base_env,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": urls["api_url"],
                "HF_ENDPOINT": hub.url,
                "OPENMODELS_DB": str(db),
                "OPENMODELS_FAMILIES": str(families_file),
                # One organisation at a time: the last one listed is the last one asked.
                "OPENMODELS_HUB_CONCURRENCY": "1",
                # The derivative counts looked up after a snapshot (apart from it, a few
                # hundred Hub requests) are not what is measured here.
                "OPENMODELS_DERIVATIVES_TOP": "0",
            }
            base = urls["base_url"] + "/response"
            result = measure(size, catalogue, hub, slack, env, base, count, concurrency, folder)
        finally:
            slack.tell("quit")
            slack.stop()
            log.close()
    # With every process of the run stopped: the store as a quiet bot reads it.
    top_ms, raw_ms = top_against_raw(store, AnswerContext(store=store, families=families))
    result.top_ms, result.raw_ms = top_ms, raw_ms
    workers = os.environ.get("OPENMODELS_CHART_WORKERS") or "default"
    print_report(result, count, concurrency, workers)


def measure(
    size: bench_store.Size,
    catalogue: bench_store.Catalogue,
    hub: FakeHub,
    slack: Child,
    env: dict[str, str],
    base: str,
    count: int,
    concurrency: int,
    folder: Path,
) -> Run:
    result = Run()
    serve = [str(HERE / "serve_for_load.py")]
    log = (folder / "serve.log").open("w")
    step = progress()

    # 1. The floor: the same load, a listener that only acknowledges.
    floor = Child([*serve, "--floor"], env, log)
    try:
        url = floor.expect("listening", timeout=120)
        step("floor: load against a listener that only acknowledges")
        sender = load(url, base, 1, count, concurrency, folder / "floor.jsonl", env)
        result.floor = finished(sender)
    finally:
        floor.stop()

    bot = Child(serve, env, log)
    try:
        url = bot.expect("listening", timeout=120)
        time.sleep(3)  # let the chart workers finish importing matplotlib
        # 2. Idle: one command at a time.
        step("idle: one command at a time")
        report = folder / "idle.jsonl"
        finished(load(url, base, 100_001, IDLE_COMMANDS, 1, report, env))
        result.idle = wait_for_answers(slack, report, timeout=120)
        # 3. A snapshot with nothing else running.
        step("idle: a snapshot")
        hub_day(hub, catalogue, size.days)
        bot.tell("collect")
        result.snapshot_idle = bot.expect("collect")
        # 4. The load, and a snapshot written while it runs: the load starts as the Hub is
        # asked for the collection's last listing but one; the snapshot is written right
        # after the last, a moment into the load.
        step("load: commands, and a snapshot written while they run")
        hub_day(hub, catalogue, size.days + 1)
        last = f"org{size.families - 2:02d}"
        asked_before = len(hub.requests_for(last))
        committed = CommitWatch(Path(env["OPENMODELS_DB"]))
        bot.tell("collect")
        deadline = time.monotonic() + 300
        while len(hub.requests_for(last)) == asked_before:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the collection never listed {last}")
            time.sleep(0.01)
        report = folder / "load.jsonl"
        sender = load(url, base, 200_001, count, concurrency, report, env)
        result.snapshot_loaded = bot.expect("collect")
        result.loaded_figures = finished(sender)
        step("load: waiting for every answer and chart to reach Slack")
        result.loaded = wait_for_answers(slack, report, timeout=900)
        result.timeline = timeline(report, slack, committed.at())
    finally:
        bot.stop()
        log.close()
    for phase in ("snapshot_idle", "snapshot_loaded"):
        if "error" in getattr(result, phase):
            raise RuntimeError(f"{phase}: {getattr(result, phase)['error']}")
    return result


class CommitWatch:
    """When the next snapshot is committed to the store, as this process sees it.

    It asks every 10 ms on one connection kept open, a few microseconds a time, so the
    watching takes nothing from the write it watches.
    """

    def __init__(self, db: Path) -> None:
        self._conn = sqlite3.connect(db, check_same_thread=False)
        self._seen = threading.Event()
        self._at = 0.0
        self._before = self._latest()
        threading.Thread(target=self._watch, daemon=True).start()

    def _latest(self) -> int:
        return int(self._conn.execute("SELECT coalesce(max(id), 0) FROM snapshots").fetchone()[0])

    def _watch(self) -> None:
        try:
            while self._latest() == self._before:
                time.sleep(0.01)
            self._at = time.monotonic()
            self._seen.set()
        finally:
            self._conn.close()

    def at(self) -> float:
        """time.monotonic() of the commit (within 10 ms)."""
        if not self._seen.wait(600):
            raise TimeoutError("the snapshot was never committed")
        return self._at


def timeline(report: Path, slack: Child, committed: float) -> dict[str, float]:
    """When the snapshot was committed, the last ack came and the last answer arrived, in
    seconds from the load's first command."""
    sent = [json.loads(line) for line in report.read_text().splitlines()]
    start = min(s["sent"] for s in sent)
    keys = {s["response_url"].rsplit("/", 1)[-1] for s in sent}
    slack.tell("report")
    posts = [p["at"] for k, ps in slack.expect("responses").items() if k in keys for p in ps]
    return {
        "committed": committed - start,
        "last_ack": max(s["sent"] + s["seconds"] for s in sent) - start,
        "last_answer": max(posts) - start,
    }


def progress() -> Callable[[str], None]:
    started = time.monotonic()

    def step(what: str) -> None:
        print(f"[{time.monotonic() - started:5.0f}s] {what}", file=sys.stderr, flush=True)

    return step


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1000, help="commands under load")
    parser.add_argument("--concurrency", type=int, default=50, help="in flight at once")
    parser.add_argument("--quick", action="store_true", help="5 x 200 x 60 store, 200 commands")
    parser.add_argument("--keep", action="store_true", help="keep the working folder and logs")
    args = parser.parse_args(argv)
    size = bench_store.Size(20, 1000, 365)
    if args.quick:
        size = bench_store.Size(**bench_store.QUICK)
        args.count = min(args.count, 200)
    load_average = os.getloadavg()
    print(
        f"load benchmark on {os.cpu_count()} cores; load average before the run "
        f"{load_average[0]:.2f} {load_average[1]:.2f} {load_average[2]:.2f}",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="openmodels-bench-load-"))
    started = time.monotonic()
    try:
        run(size, args.count, args.concurrency, folder)
    finally:
        if args.keep:
            print(f"working folder kept: {folder}")
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    load_average = os.getloadavg()
    print(
        f"\nwall time {time.monotonic() - started:.0f}s; load average after the run "
        f"{load_average[0]:.2f} {load_average[1]:.2f} {load_average[2]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
