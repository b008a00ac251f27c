"""Benchmark openmodels on PostgreSQL, each figure against a floor measured in the same run.

Starts a throwaway PostgreSQL cluster from the server binaries on the machine
(tests/pg_cluster.py, with PostgreSQL's durable defaults) and prints, in one run:
- bytes per model-day on both engines, indexes included (goals: SQLite <= 40,
  PostgreSQL <= 60), for the same synthetic history (bench_store's catalogue);
- writing a 20,000-model snapshot on PostgreSQL through openmodels (with the model
  sizes a collection writes: those new or changed, picked before the write, timed
  apart), against a plain COPY of the same rows into a bare table, turn about (goal
  <= 2x);
- the `top`, `sizes` and `top --size 1-5B` answers on PostgreSQL against their raw SQL
  on PostgreSQL, on an open connection, turn about (goal <= 2x);
- acks under load: one replica on SQLite, then two replicas on PostgreSQL taking the
  same load in turn, as a load balancer spreads it (goal: p99 <= 1.2x SQLite's);
- failover: SIGKILL of the replica holding the delivery job's lease while it delivers,
  and how long until the other replica runs the job (goal: within one lease period);
- 20 such SIGKILLs while 200 queued alerts are delivered: how many were lost, and how
  many posted twice (goal: 0 lost; no duplicate, since the stand-in's history can be read).

    python benchmarks/bench_postgres.py [--days 365] [--count 1000] [--kills 20]
    python benchmarks/bench_postgres.py --quick      # 10 days, 300 commands, 5 kills

Figures are printed, never asserted. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bench_load  # beside this file
import bench_store
import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # for tests.*: the cluster, the replicas

from bot.scheduler import tick_for  # noqa: E402
from commands import AnswerContext, answer_text  # noqa: E402
from openmodels.families import parse_families  # noqa: E402
from openmodels.sizes import ModelSize  # noqa: E402
from storage import Store, open_store  # noqa: E402
from storage.engines.postgres import PostgresConnection  # noqa: E402
from storage.model_sizes import changed_sizes, stored_sizes  # noqa: E402
from storage.snapshots import ModelRecord, format_timestamp, insert_snapshot  # noqa: E402
from storage.sql import to_pyformat  # noqa: E402
from tests.pg_cluster import Cluster, find_bindir  # noqa: E402
from tests.reliability.replicas import (  # noqa: E402
    Replica,
    delivery_holder,
    queue_deliveries,
    undelivered,
    wait_until,
)

FAMILIES, MODELS = 20, 1000  # a 20,000-model snapshot
BYTES_SQLITE, BYTES_POSTGRESQL, INGEST_VS_COPY, ANSWER_VS_RAW, ACK_VS_SQLITE = 40, 60, 2.0, 2.0, 1.2
# Answers held to their raw SQL: `top`, and the answers by model size on the sizes
# every model has (bench_store's catalogue).
ANSWERS = ("top", "sizes", "top --size 1-5B")
LEASE_SECONDS, CLAIM_SECONDS = 3, 2
TAKEOVER_WRITE_SECONDS = 0.1  # the surviving replica's claim of the job, once it is due
COPY_COLUMNS = (
    "repo_id, family, created_at, pipeline_tag, downloads_30d, downloads_all_time, likes, "
    "derivatives"
)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def step(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


# -- the store: ingest, bytes, `top` ---------------------------------------------------------


def records_of(catalogue: bench_store.Catalogue, day: int) -> list[ModelRecord]:
    return [
        ModelRecord(repo_id, family, d30, all_time, likes, "2024-01-01T00:00:00.000Z", None, n)
        for repo_id, family, d30, all_time, likes, n in catalogue.figures(day)
    ]


def timed_sizes(store: Store, sizes: Mapping[str, ModelSize]) -> tuple[dict[str, ModelSize], float]:
    """The sizes a collection writes with its snapshot (those new or changed), as it
    picks them, before the write; and the seconds that took."""
    started = time.perf_counter()
    with store.reading() as db:
        stored = stored_sizes(db)
    return changed_sizes(sizes, stored), time.perf_counter() - started


def timed_write(
    store: Store, day: int, records: list[ModelRecord], sizes: Mapping[str, ModelSize]
) -> float:
    started = time.perf_counter()
    with store.writing() as db:
        insert_snapshot(db, bench_store.taken_at(day), "bench", records, sizes=sizes)
    return time.perf_counter() - started


def timed_copy(conn: psycopg.Connection[Any], records: list[ModelRecord]) -> float:
    """A plain COPY of the same rows into a bare table, committed: the floor."""
    started = time.perf_counter()
    statement = f"COPY copy_floor ({COPY_COLUMNS}) FROM STDIN"
    with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
        for r in records:
            copy.write_row(
                (
                    r.repo_id,
                    r.family,
                    r.created_at,
                    r.pipeline_tag,
                    r.downloads_30d,
                    r.downloads_all_time,
                    r.likes,
                    r.derivatives,
                )
            )
    spent = time.perf_counter() - started
    conn.execute("TRUNCATE copy_floor")
    return spent


def build_stores(
    days: int, sqlite_path: Path, url: str, floor_url: str
) -> tuple[Store, Store, dict[str, list[float]]]:
    """The same history written into a SQLite file and a PostgreSQL database, each
    snapshot through insert_snapshot with its models' sizes as a collection writes them
    (every model sized, so all on the first day, then those changed: none); each
    PostgreSQL write timed turn about with a COPY of its rows."""
    catalogue = bench_store.Catalogue.of(bench_store.Size(FAMILIES, MODELS, days))
    sizes = catalogue.sizes()
    sqlite, postgresql = open_store(sqlite_path), open_store(url)
    times: dict[str, list[float]] = {"sqlite": [], "postgresql": [], "sizes": [], "copy": []}
    with psycopg.connect(floor_url, autocommit=True) as floor:
        floor.execute(
            """CREATE TABLE copy_floor (repo_id text, family text, created_at text,
               pipeline_tag text, downloads_30d bigint, downloads_all_time bigint,
               likes integer, derivatives integer)"""
        )
        for day in range(days):
            records = records_of(catalogue, day)
            changed, _ = timed_sizes(sqlite, sizes)
            times["sqlite"].append(timed_write(sqlite, day, records, changed))
            changed, picked = timed_sizes(postgresql, sizes)
            times["sizes"].append(picked)
            times["postgresql"].append(timed_write(postgresql, day, records, changed))
            times["copy"].append(timed_copy(floor, records))
            if (day + 1) % 10 == 0:
                step(f"store: day {day + 1}/{days} written on both engines")
    return sqlite, postgresql, times


def postgresql_bytes(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # as autovacuum leaves a table: maps made, stats read
    return open_store(url).size_bytes


def statements_of(text: str, context: AnswerContext) -> list[tuple[str, Any]]:
    """The SQL statements (and their parameters) the answer to `text` runs, as it runs
    them on PostgreSQL, once warm (the first answer also fills the process's timeline
    cache): recorded from the storage layer's connection."""
    answer_text(text, context)
    recorded: list[tuple[str, Any]] = []
    run = PostgresConnection.execute

    def record(self: PostgresConnection, sql: str, params: Any = ()) -> Any:
        recorded.append((to_pyformat(sql), params))
        return run(self, sql, params)

    PostgresConnection.execute = record  # type: ignore[method-assign]
    try:
        answer_text(text, context)
    finally:
        PostgresConnection.execute = run  # type: ignore[method-assign]
    return recorded


def raw_reads(conn: psycopg.Connection[Any], statements: list[tuple[str, Any]]) -> Any:
    """Those statements in plain psycopg, in one read transaction on an open connection:
    what the answer is held to."""

    def run() -> object:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        rows = [conn.execute(sql, params).fetchall() for sql, params in statements]
        conn.execute("ROLLBACK")
        return rows

    return run


def store_figures(days: int, cluster: Cluster, folder: Path, runs: int) -> tuple[Store, Store]:
    for name in ("openmodels", "floor"):
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
    sqlite_path = folder / "bench.db"
    sqlite, postgresql, times = build_stores(
        days, sqlite_path, cluster.url("openmodels"), cluster.url("floor")
    )
    model_days = FAMILIES * MODELS * days
    sqlite_bytes = bench_store.checkpointed_size(sqlite_path) / model_days
    pg_bytes = postgresql_bytes(cluster.url("openmodels")) / model_days
    later = slice(1, None)  # day 0 also creates every model: not a daily snapshot
    ours, copy = (
        statistics.median(times["postgresql"][later]) * 1000,
        statistics.median(times["copy"][later]) * 1000,
    )
    sqlite_ms = statistics.median(times["sqlite"][later]) * 1000
    sizes_ms = statistics.median(times["sizes"][later]) * 1000
    families = parse_families(bench_load.families_toml(FAMILIES), "benchmark families")
    context = AnswerContext(store=postgresql, families=families)
    answers = {}
    with psycopg.connect(cluster.url("openmodels"), autocommit=True) as conn:
        for text in ANSWERS:
            reads = statements_of(text, context)
            ms, raw = bench_store.paired_median_ms(
                lambda text=text: answer_text(text, context), raw_reads(conn, reads), runs
            )
            answers[text] = (ms, raw, len(reads))

    print(
        f"\nthe store: {FAMILIES} families x {MODELS:,} models x {days} daily snapshots "
        f"({model_days:,} model-days), written through insert_snapshot on both engines"
    )
    print(
        f"  bytes per model-day, indexes included: SQLite {sqlite_bytes:.1f} "
        f"(goal <= {BYTES_SQLITE}: {verdict(sqlite_bytes <= BYTES_SQLITE)}), PostgreSQL "
        f"{pg_bytes:.1f} (goal <= {BYTES_POSTGRESQL}: {verdict(pg_bytes <= BYTES_POSTGRESQL)})"
    )
    print(
        f"  a {FAMILIES * MODELS:,}-model snapshot, median of {days - 1}: PostgreSQL "
        f"{ours:.0f} ms against a plain COPY of its rows {copy:.0f} ms ({ours / copy:.2f}x; "
        f"goal <= {INGEST_VS_COPY:.0f}x: {verdict(ours / copy <= INGEST_VS_COPY)}); "
        f"SQLite {sqlite_ms:.0f} ms"
    )
    print(
        f"  before each write, the sizes to record picked as a collection picks them (read "
        f"from the store, outside its write lock): {sizes_ms:.0f} ms on PostgreSQL"
    )
    for text, (ms, raw, statements) in answers.items():
        print(
            f"  `{text}` on PostgreSQL {ms:.2f} ms against its raw SQL ({statements} "
            f"statements in one read transaction on an open connection) {raw:.2f} ms, "
            f"medians of {runs} turn about ({ms / raw:.2f}x; goal <= "
            f"{ANSWER_VS_RAW:.0f}x: {verdict(ms / raw <= ANSWER_VS_RAW)})"
        )
    return sqlite, postgresql


# -- replicas: acks under load -------------------------------------------------------------------


def acks_under_load(
    locations: dict[str, list[str]], count: int, concurrency: int, folder: Path
) -> dict[str, tuple[float, float]]:
    """Ack p50 and p99 (ms) of `count` commands, `concurrency` at a time, for each setup:
    a name -> the store location of each of its replicas (bench_load's serve_for_load)."""
    families_file = folder / "families.toml"
    families_file.write_text(bench_load.families_toml(FAMILIES))
    log = (folder / "processes.log").open("a")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENMODELS_", "SLACK_"))}
    slack = bench_load.Child([str(HERE / "slack_standin.py")], base_env, log)
    figures = {}
    try:
        urls = slack.expect("slack", timeout=60)
        env = {
            **base_env,
            "SLACK_BOT_TOKEN": bench_load.BOT_TOKEN,
            "SLACK_SIGNING_SECRET": bench_load.SIGNING_SECRET,
            "SLACK_API_URL": urls["api_url"],
            "OPENMODELS_FAMILIES": str(families_file),
            "HF_ENDPOINT": "http://127.0.0.1:9",
        }
        base = urls["base_url"] + "/response"
        first = 1
        for name, replicas in locations.items():
            step(f"acks: {name}")
            bots = [
                bench_load.Child(
                    [str(HERE / "serve_for_load.py")], {**env, "OPENMODELS_DB": where}, log
                )
                for where in replicas
            ]
            try:
                bot_urls = [bot.expect("listening", timeout=120) for bot in bots]
                time.sleep(3)  # let the chart workers finish importing matplotlib
                report = folder / f"acks-{first}.jsonl"
                warm = bench_load.load(bot_urls, base, first, 20, 1, folder / "warm.jsonl", env)
                bench_load.finished(warm)
                first += 20
                sender = bench_load.load(bot_urls, base, first, count, concurrency, report, env)
                bench_load.finished(sender)
                first += count
                found = bench_load.wait_for_answers(slack, report, timeout=900)
                figures[name] = bench_load.pct([o.ack for o in found])
            finally:
                for bot in bots:
                    bot.stop()
    finally:
        slack.tell("quit")
        slack.stop()
        log.close()
    return figures


# -- replicas: failover ---------------------------------------------------------------------------


def now() -> str:
    return format_timestamp(datetime.now(UTC))


def kills_during_delivery(url: str, kills: int, folder: Path) -> None:
    """Two `openmodels serve` replicas deliver 200 queued alerts; the one holding the
    delivery job's lease is killed `kills` times (and started again)."""
    from localslack.server import LocalSlack

    store = open_store(url)
    texts = queue_deliveries(store, [f"C{i:02d}" for i in range(40)], per_channel=5)
    settings = {
        "OPENMODELS_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "OPENMODELS_DELIVERY_CLAIM_SECONDS": str(CLAIM_SECONDS),
    }
    log = folder / "replicas.log"
    takeovers: list[float] = []
    killed_at: list[int] = []
    with LocalSlack() as slack:

        def posts() -> int:
            return sum(len(m) for m in slack.channel_messages.values())

        replicas = {r.pid: r for r in (Replica(url, slack.api_url, log, **settings) for _ in "ab")}
        try:
            while len(takeovers) < kills and undelivered(store):
                before = posts()
                if not wait_until(lambda: delivery_holder(store, now()) in replicas, 120):
                    raise RuntimeError(f"no replica took the delivery job; see {log}")
                wait_until(lambda b=before: posts() > b, 15)  # it is delivering
                holder = delivery_holder(store, now())
                if holder not in replicas:
                    continue
                replicas.pop(holder).kill()
                killed = time.monotonic()
                killed_at.append(posts())
                fresh = Replica(url, slack.api_url, log, **settings)
                replicas[fresh.pid] = fresh
                if not wait_until(
                    lambda h=holder: (
                        delivery_holder(store, now()) not in (None, h) or not undelivered(store)
                    ),
                    120,
                    step=0.01,
                ):
                    raise RuntimeError(f"nobody took over from replica {holder}; see {log}")
                if undelivered(store):
                    takeovers.append(time.monotonic() - killed)
                step(f"failover: kill {len(killed_at)} after {killed_at[-1]} posts")
            wait_until(lambda: not undelivered(store), 600)
        finally:
            for replica in replicas.values():
                replica.stop()
        posted = Counter(m["text"] for ms in slack.channel_messages.values() for m in ms)
    lost = [t for t in texts if posted[t] == 0]
    twice = [t for t, n in posted.items() if n > 1]
    tick = tick_for(timedelta(seconds=LEASE_SECONDS))
    print(
        f"\nfailover: two `openmodels serve` replicas on PostgreSQL, a job lease of "
        f"{LEASE_SECONDS} s (ticks every {tick} s), delivery claims of {CLAIM_SECONDS} s"
    )
    if takeovers:
        # The lease may have been renewed just before the kill: the other replica takes
        # the job as it expires, a lease period later, plus its own claim's write.
        within = max(takeovers) <= LEASE_SECONDS + TAKEOVER_WRITE_SECONDS
        print(
            f"  SIGKILL of the lease holder mid-delivery -> the other replica runs the job: "
            f"first {takeovers[0]:.2f} s, median {statistics.median(takeovers):.2f} s, "
            f"max {max(takeovers):.2f} s over {len(takeovers)} kills (goal: within one lease "
            f"period of the kill, {LEASE_SECONDS} s, and the takeover's own write, "
            f"{TAKEOVER_WRITE_SECONDS} s: {verdict(within)})"
        )
    print(
        f"  {len(killed_at)} SIGKILLs (after {', '.join(map(str, killed_at))} posts) while "
        f"{len(texts)} queued alerts were delivered: {len(lost)} lost, {len(twice)} posted "
        f"twice, {sum(posted.values())} posts in all (goal 0 lost, 0 twice: "
        f"{verdict(not lost and not twice)})"
    )


# -- the run ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=365, help="daily snapshots of the store")
    parser.add_argument("--count", type=int, default=1000, help="commands under load")
    parser.add_argument("--concurrency", type=int, default=50, help="in flight at once")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs during delivery")
    parser.add_argument("--runs", type=int, default=300, help="timed runs of `top`")
    parser.add_argument("--quick", action="store_true", help="10 days, 300 commands, 5 kills")
    args = parser.parse_args(argv)
    if args.quick:
        args.days, args.count, args.kills, args.runs = 10, 300, 5, 100
    bindir = find_bindir()
    if bindir is None:
        parser.error("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    load = os.getloadavg()
    print(
        f"PostgreSQL benchmark on {os.cpu_count()} cores ({bindir}); load average before "
        f"the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="openmodels-bench-pg-"))
    cluster = Cluster.start(bindir, fast=False)
    try:
        step("store: writing the history on both engines")
        sqlite, postgresql = store_figures(args.days, cluster, folder, args.runs)
        figures = acks_under_load(
            {
                "one replica on SQLite": [sqlite.location],
                "two replicas on PostgreSQL": [postgresql.location] * 2,
            },
            args.count,
            args.concurrency,
            folder,
        )
        (p50_s, p99_s), (p50_p, p99_p) = figures.values()
        print(
            f"\nacks: {args.count} signed commands, {args.concurrency} at a time "
            f"({', '.join(bench_load.COMMANDS)} in turn), ms p50 / p99: one replica on "
            f"SQLite {p50_s:.1f} / {p99_s:.1f}; two replicas on PostgreSQL, commands spread "
            f"over both, {p50_p:.1f} / {p99_p:.1f} (p99 {p99_p / p99_s:.2f}x; goal <= "
            f"{ACK_VS_SQLITE}x: {verdict(p99_p <= ACK_VS_SQLITE * p99_s)})"
        )
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE replicas")
        step("failover: replicas delivering, the lease holder killed")
        kills_during_delivery(cluster.url("replicas"), args.kills, folder)
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()
    print(
        f"\nwall time {time.monotonic() - started:.0f}s; load average after the run "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
