"""Small builders for stores with known, hand-checkable contents."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from openmodels.families import Families, parse_families
from storage import Store, open_store
from storage.port import applied_migrations, column_names, table_names
from storage.snapshots import ModelRecord, write_snapshot

DAY0 = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
# What a broken constraint raises, on either engine.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


def record(
    repo_id: str, family: str, all_time: int, d30: int = 0, likes: int = 0, **extra: object
) -> ModelRecord:
    return ModelRecord(
        repo_id=repo_id,
        family=family,
        downloads_30d=d30,
        downloads_all_time=all_time,
        likes=likes,
        created_at=extra.get("created_at"),  # type: ignore[arg-type]
        pipeline_tag=extra.get("pipeline_tag"),  # type: ignore[arg-type]
        derivatives=extra.get("derivatives"),  # type: ignore[arg-type]
    )


def store_with(
    where: Path | Store, days: Iterable[list[ModelRecord]], start: datetime = DAY0
) -> Store:
    """A store (at a new SQLite file `where`, or the empty store `where`) with one
    snapshot per item of `days`, one day apart."""
    store = where if isinstance(where, Store) else open_store(where)
    for i, records in enumerate(days):
        write_snapshot(store, start + timedelta(days=i), "hub", records)
    return store


def growing_store(path: Path | Store, days: int = 10) -> Store:
    """Qwen (two models) overtakes Llama on day 3; DeepSeek trails. Figures are linear in d.

    Day d: Qwen/Qwen3-8B 100,000 + 5,000d; Qwen/Qwen2.5-7B 90,000 + 3,000d;
    meta-llama/Llama-3.1-8B 200,000 + 1,000d; deepseek-ai/DeepSeek-R1 50,000 + 500d.
    """
    return store_with(
        path,
        (
            [
                record(
                    "Qwen/Qwen3-8B",
                    "qwen",
                    100_000 + 5_000 * d,
                    d30=1_000 * d,
                    likes=5,
                    pipeline_tag="text-generation",
                    created_at="2025-04-29T00:00:00.000Z",
                ),
                record("Qwen/Qwen2.5-7B", "qwen", 90_000 + 3_000 * d, d30=700 * d, likes=4),
                record("meta-llama/Llama-3.1-8B", "llama", 200_000 + 1_000 * d, d30=2_000, likes=9),
                record("deepseek-ai/DeepSeek-R1", "deepseek", 50_000 + 500 * d, d30=500, likes=7),
            ]
            for d in range(days)
        ),
    )


def family_day(
    store: Store, n: int, qwen: int, llama: int, source: str = "hub", deepseek: int = 10
) -> None:
    """Snapshot `n` days after DAY0 with one model each for Qwen, Llama and DeepSeek,
    whose all-time figures are given (30-day figures are a tenth of them)."""
    write_snapshot(
        store,
        DAY0 + timedelta(days=n),
        source,
        [
            record("Qwen/a", "qwen", qwen, d30=qwen // 10),
            record("meta-llama/b", "llama", llama, d30=llama // 10),
            record("deepseek-ai/c", "deepseek", deepseek, d30=1),
        ],
    )


def write_lock_is_free(store: Store) -> bool:
    """Whether another process could start writing to `store` at once."""
    if store.engine_name == "sqlite":
        conn = sqlite3.connect(store.path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            conn.close()
    from storage.engines.postgres import LOCK_SPACE

    with psycopg.connect(store.location, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", [LOCK_SPACE]
        ).fetchone()
        if row and row[0]:
            conn.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", [LOCK_SPACE])
        return bool(row and row[0])


def waits_for_lock(store: Store, within: float = 10.0) -> bool:
    """Whether someone waits for one of `store`'s named locks (`Store.locked`), looked
    for until `within` seconds have passed: PostgreSQL lists an advisory lock not yet
    granted; Linux lists a flock waited for on the file beside a SQLite store
    (/proc/locks, its waiters marked `->`)."""
    deadline = time.monotonic() + within
    while True:
        if _lock_waiters(store):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def _lock_waiters(store: Store) -> int:
    if store.engine_name == "sqlite":
        from storage.engines.sqlite import LOCK_SUFFIX

        held = Path(f"{store.path}{LOCK_SUFFIX}")
        if not held.exists():
            return 0
        inode = held.stat().st_ino
        lines = Path("/proc/locks").read_text().splitlines()
        return sum(" -> FLOCK " in f" {line} " and f":{inode} " in line for line in lines)
    from storage.engines.postgres import LOCK_SPACE

    with psycopg.connect(store.location, autocommit=True) as conn:
        row = conn.execute(
            """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
               AND classid = %s AND database = (SELECT oid FROM pg_database
                                                WHERE datname = current_database())""",
            [LOCK_SPACE + 2],
        ).fetchone()
    return int(row[0]) if row else 0


def dump(store: Store) -> list[str]:
    """Every table's columns and rows, and the migrations recorded, on either engine:
    equal dumps mean equal stores."""
    lines = []
    with store.reading() as db:
        lines += [f"migration {name}" for name, _ in applied_migrations(db)]
        for table in table_names(db):
            columns = ", ".join(column_names(db, table))
            lines.append(f"table {table} ({columns})")
            # Sorted here: the engines put NULLs at opposite ends of an ORDER BY.
            rows = db.execute(f"SELECT {columns} FROM {table}")
            lines += sorted(repr(tuple(row)) for row in rows)
    return lines


# -- a families file widened in the middle of the week --------------------------------------

AURORA_START = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
AURORA_FAMILIES = """
[families.aurora]
label = "Aurora"
region = "China"
orgs = ["aurora"{community}]

[families.borealis]
label = "Borealis"
region = "US"
orgs = ["borealis"]

[families.cirrus]
label = "Cirrus"
region = "US"
orgs = ["cirrus"]

[families.dawn]
label = "Dawn"
region = "China"
orgs = ["dawn"]
"""


def aurora_families(widened: bool = True) -> Families:
    """The families of `aurora_store`: from 15 Feb on, Aurora also counts aurora-community."""
    community = ', "aurora-community"' if widened else ""
    return parse_families(AURORA_FAMILIES.format(community=community), "families.toml")


def aurora_store(path: Path | Store, last_day: int = 20) -> Store:
    """Daily snapshots from 1 Feb 2026 (day 0) to day `last_day` (default 21 Feb).

    On day d (all-time downloads; 30-day figures are 30 days of the daily growth):
    aurora/aurora-7b 50M + 1M·d, and from day 14 (15 Feb), when the families file
    widened Aurora, aurora-community/aurora-7b-ft 30M, old downloads growing 0 a day;
    borealis/borealis-8b 100M + 1M·d; cirrus/cirrus-3b 77.4M + 0.2M·d;
    dawn/dawn-1b 20M + 0.1M·d. Regions: China (Aurora, Dawn), US (Borealis, Cirrus).
    On 14 Feb (day 13): Borealis 113M, Cirrus 80M, Aurora 63M, Dawn 21.3M.
    On 21 Feb (day 20): Borealis 120M, Aurora 100M (70M + 30M), Cirrus 81.4M, Dawn 22M.
    """
    store = path if isinstance(path, Store) else open_store(path)
    narrow, wide = aurora_families(False).definitions(), aurora_families().definitions()
    m = 1_000_000
    for d in range(last_day + 1):
        records = [
            record("aurora/aurora-7b", "aurora", 50 * m + d * m, d30=30 * m),
            record("borealis/borealis-8b", "borealis", 100 * m + d * m, d30=30 * m),
            record("cirrus/cirrus-3b", "cirrus", 77_400_000 + 200_000 * d, d30=6 * m),
            record("dawn/dawn-1b", "dawn", 20 * m + 100_000 * d, d30=3 * m),
        ]
        if d >= 14:
            records.append(record("aurora-community/aurora-7b-ft", "aurora", 30 * m))
        write_snapshot(
            store, AURORA_START + timedelta(days=d), "hub", records, wide if d >= 14 else narrow
        )
    return store


def slack_installation(team: str = "T2", enterprise: str | None = None) -> Any:
    """An install of the app in `team` as slack_sdk's installation store keeps it: a bot
    token that rotates, expiring in an hour, installed a minute ago."""
    from slack_sdk.oauth.installation_store import Installation

    return Installation(
        app_id="A1",
        enterprise_id=enterprise,
        team_id=team,
        team_name=f"Workspace {team}",
        bot_token=f"xoxb-{team}",
        bot_id="B1",
        bot_user_id="U0BOT",
        bot_scopes=["chat:write", "commands"],
        bot_refresh_token=f"xoxe-{team}",
        bot_token_expires_at=int(time.time()) + 3600,
        user_id="U2",
        installed_at=time.time() - 60,
    )


# -- many families, for answers that must spread a long list ------------------------------------


def many_families(n: int, label: str = "Family {i:03d}") -> Families:
    """`n` families `f000`, `f001`, … labelled by `label` (formatted with `i`), each the
    organisation `org-NNN` of the Hub, alternately in China and the US."""
    tables = [
        f'[families.f{i:03d}]\nlabel = "{label.format(i=i)}"\n'
        f'region = "{"China" if i % 2 else "US"}"\norgs = ["org-{i:03d}"]\n'
        for i in range(n)
    ]
    return parse_families("\n".join(tables), "families.toml")


def many_families_store(path: Path, n: int, days: int = 2) -> Store:
    """One model `org-NNN/model` per family of `many_families(n)`, daily from DAY0;
    family i has 1,000,000·(n - i) + 1,000·d all-time downloads on day d, so `f000` leads."""
    return store_with(
        path,
        (
            [
                record(f"org-{i:03d}/model", f"f{i:03d}", 1_000_000 * (n - i) + 1_000 * d)
                for i in range(n)
            ]
            for d in range(days)
        ),
    )


# -- an organisation the Hub did not list for a few days ------------------------------------

M = 1_000_000
RENAMED_FAMILIES = parse_families(
    '[families.aurora]\nlabel = "Aurora"\nregion = "China"\norgs = ["aurora", "aurora-labs"]\n'
    '[families.borealis]\nlabel = "Borealis"\nregion = "US"\norgs = ["borealis"]\n',
    "families.toml",
)


def missing_org_store(
    path: Path | Store, last_day: int, missing: Collection[int] = range(7, 10), small: int = 50 * M
) -> Store:
    """Daily live snapshots from 1 Jan 2026 (day 0) to day `last_day`.

    Aurora counts two organisations: aurora/a 60M + 1M·d and aurora-labs/big, a flat
    `small` (50M) that the Hub does not list on the days of `missing` (days 7-9, 8-10
    Jan), as it lists no repositories of an organisation being renamed. Borealis:
    borealis/b 100M + 1M·d. On day 6, Aurora 116M, Borealis 106M. (`path`: a new SQLite
    file, or an empty store.)
    """
    store = path if isinstance(path, Store) else open_store(path)
    for d in range(last_day + 1):
        records = [
            record("aurora/a", "aurora", 60 * M + d * M, d30=30 * M),
            record("borealis/b", "borealis", 100 * M + d * M, d30=30 * M),
        ]
        if d not in missing:
            records.append(record("aurora-labs/big", "aurora", small, d30=0))
        write_snapshot(
            store, DAY0 + timedelta(days=d), "hub", records, RENAMED_FAMILIES.definitions()
        )
    return store
