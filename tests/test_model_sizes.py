"""Model sizes collected from a fake Hub, kept per model, summed by size class."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openmodels.collector import collect_snapshot
from openmodels.families import parse_families
from openmodels.history_import import import_history
from openmodels.hub import HubClient
from openmodels.sizes import (
    ALL_CLASSES,
    CLASSES,
    FROM_FILE,
    FROM_HUB,
    FROM_NAME,
    UNKNOWN,
    ModelSize,
)
from storage import Store
from storage import model_sizes as ms
from storage import queries as q
from storage.snapshots import write_snapshot
from tests.builders import record
from tests.fakes import FakeHub, hub_model

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
B = 1_000_000_000
FAMILIES = parse_families(
    """
[families.qwen]
orgs = ["Qwen"]

[families.kimi]
orgs = ["moonshotai"]
sizes = { "Kimi-K2-*" = "1T" }
""",
    "sized families",
)
BOUNDS = [(c.key, c.low or 0) for c in CLASSES]


def arrange(hub: FakeHub) -> FakeHub:
    """Seven Qwen models (three pages of three) and two Kimi models."""
    hub.add(
        "Qwen",
        hub_model("Qwen/Qwen3-8B", 100, 1_000, safetensors={"BF16": 8_190_735_360}),
        hub_model("Qwen/Qwen3-0.6B", 50, 400),  # no Hub count: read from the name
        hub_model("Qwen/QwQ-32B", 30, 300, safetensors={"BF16": 32_763_876_352}),
        hub_model("Qwen/Qwen3-30B-A3B", 20, 200),
        hub_model(
            "Qwen/Qwen2.5-72B-Instruct-AWQ",
            10,
            100,
            safetensors={"I32": 10_200_000_000, "F16": 1_900_000_000},
        ),
        hub_model("Qwen/Qwen-VL", 5, 50),  # nothing to go by
        hub_model("Qwen/Qwen3-4B", 1, 10, safetensors={"BF16": 4_022_468_096}),
    )
    hub.add(
        "moonshotai",
        hub_model("moonshotai/Kimi-K2-Instruct", 40, 800, safetensors={"BF16": 1_026_000_000_000}),
        hub_model("moonshotai/Kimi-VL-A3B-Instruct", 4, 40),
    )
    return hub


def sizes(store: Store) -> dict[str, ms.SizeRow | None]:
    with store.reading() as db:
        ids = [r[0] for r in db.execute("SELECT repo_id FROM models ORDER BY repo_id")]
        return {repo_id: ms.size_of(db, repo_id) for repo_id in ids}


def test_a_collection_keeps_each_models_size_and_where_it_came_from(fake_hub, tmp_store):
    arrange(fake_hub)

    collect_snapshot(FAMILIES, HubClient(fake_hub.url), tmp_store, now=NOW)

    assert sizes(tmp_store) == {
        "Qwen/QwQ-32B": ms.SizeRow(32_763_876_352, None, FROM_HUB),
        "Qwen/Qwen-VL": ms.SizeRow(None, None, UNKNOWN),
        "Qwen/Qwen2.5-72B-Instruct-AWQ": ms.SizeRow(72 * B, None, FROM_NAME),  # packed count
        "Qwen/Qwen3-0.6B": ms.SizeRow(600_000_000, None, FROM_NAME),
        "Qwen/Qwen3-30B-A3B": ms.SizeRow(30 * B, 3 * B, FROM_NAME),
        "Qwen/Qwen3-4B": ms.SizeRow(4_022_468_096, None, FROM_HUB),
        "Qwen/Qwen3-8B": ms.SizeRow(8_190_735_360, None, FROM_HUB),
        "moonshotai/Kimi-K2-Instruct": ms.SizeRow(1_000 * B, None, FROM_FILE),  # by hand wins
        "moonshotai/Kimi-VL-A3B-Instruct": ms.SizeRow(None, 3 * B, UNKNOWN),
    }


def test_sizes_cost_no_extra_hub_request(fake_hub, tmp_store):
    arrange(fake_hub)

    collect_snapshot(FAMILIES, HubClient(fake_hub.url), tmp_store, now=NOW)

    # One paged listing per organisation, as many pages as without sizes, and no
    # request to any single model's route.
    assert len(fake_hub.requests_for("Qwen")) == math.ceil(7 / fake_hub.page_size) == 3
    assert len(fake_hub.requests_for("moonshotai")) == 1
    assert {r.path for r in fake_hub.requests} == {"/api/models"}
    assert all("safetensors" in r.values("expand") for r in fake_hub.requests)


def test_a_size_is_kept_per_model_and_follows_the_latest_reading(fake_hub, tmp_store):
    arrange(fake_hub)
    collect_snapshot(FAMILIES, HubClient(fake_hub.url), tmp_store, now=NOW)
    fake_hub.replace(
        "Qwen", hub_model("Qwen/Qwen3-0.6B", 60, 500, safetensors={"BF16": 751_632_384})
    )

    collect_snapshot(FAMILIES, HubClient(fake_hub.url), tmp_store, now=NOW + timedelta(days=1))

    with tmp_store.reading() as db:
        rows = db.execute("SELECT count(*) FROM model_sizes").fetchone()[0]
        assert ms.size_of(db, "Qwen/Qwen3-0.6B") == ms.SizeRow(751_632_384, None, FROM_HUB)
    assert rows == 9  # one per model, whatever the snapshots


def test_a_snapshot_records_only_the_sizes_new_or_changed():
    stored = {
        "Qwen/a": ms.SizeRow(7 * B, None, FROM_HUB),
        "Qwen/b": ms.SizeRow(None, None, UNKNOWN),
        "Qwen/c": ms.SizeRow(30 * B, 3 * B, FROM_NAME),
        "Qwen/d": None,  # stored before sizes were kept
    }
    listed = {
        "Qwen/a": ModelSize(7 * B, FROM_HUB),  # as it was
        "Qwen/b": ModelSize(8 * B, FROM_NAME),  # newly read
        "Qwen/c": ModelSize(30 * B, FROM_NAME),  # its active parameters no longer known
        "Qwen/d": ModelSize(None, UNKNOWN),
        "Qwen/e": ModelSize(B, FROM_HUB),  # a model new to the store
    }

    changed = ms.changed_sizes(listed, stored)

    assert changed == {r: listed[r] for r in ("Qwen/b", "Qwen/c", "Qwen/d", "Qwen/e")}


def test_models_stored_before_sizes_were_kept_get_one_from_their_name(fake_hub, tmp_store):
    write_snapshot(tmp_store, NOW - timedelta(days=1), "hub", [record("Qwen/Qwen2-7B", "qwen", 9)])
    assert sizes(tmp_store) == {"Qwen/Qwen2-7B": None}
    arrange(fake_hub)

    collect_snapshot(FAMILIES, HubClient(fake_hub.url), tmp_store, now=NOW)

    assert sizes(tmp_store)["Qwen/Qwen2-7B"] == ms.SizeRow(7 * B, None, FROM_NAME)


def test_imported_history_sizes_new_models_by_name_and_keeps_the_hubs_counts(
    fake_hub, tmp_store, tmp_path: Path
):
    arrange(fake_hub)
    collect_snapshot(FAMILIES, HubClient(fake_hub.url), tmp_store, now=NOW)
    history = tmp_path / "history.csv"
    history.write_text(
        "date,repo_id,downloads,downloads_all_time\n"
        "2026-02-01,Qwen/Qwen3-8B,10,900\n"
        "2026-02-01,Qwen/Qwen2.5-14B-Instruct,5,90\n"
    )

    import_history(history, tmp_store, FAMILIES, now=NOW)

    found = sizes(tmp_store)
    assert found["Qwen/Qwen3-8B"] == ms.SizeRow(8_190_735_360, None, FROM_HUB)
    assert found["Qwen/Qwen2.5-14B-Instruct"] == ms.SizeRow(14 * B, None, FROM_NAME)


def test_downloads_are_summed_by_family_class_and_source(fake_hub, tmp_store):
    arrange(fake_hub)
    collect_snapshot(FAMILIES, HubClient(fake_hub.url), tmp_store, now=NOW)

    with tmp_store.reading() as db:
        latest = q.latest_snapshot(db)
        assert latest is not None
        found = ms.class_downloads(db, [latest.id], BOUNDS)[latest.id]
        only_kimi = ms.class_downloads(db, [latest.id], BOUNDS, ["kimi"])[latest.id]

    summed = {(d.family, d.size_class, d.source): (d.downloads_all_time, d.downloads_30d)
              for d in found}  # fmt: skip
    assert summed == {
        ("qwen", "5-10b", FROM_HUB): (1_000, 100),
        ("qwen", "under-1b", FROM_NAME): (400, 50),
        ("qwen", "10-50b", FROM_HUB): (300, 30),
        ("qwen", "10-50b", FROM_NAME): (200, 20),
        ("qwen", "50-100b", FROM_NAME): (100, 10),
        ("qwen", UNKNOWN, UNKNOWN): (50, 5),
        ("qwen", "1-5b", FROM_HUB): (10, 1),
        ("kimi", "250b+", FROM_FILE): (800, 40),
        ("kimi", UNKNOWN, UNKNOWN): (40, 4),
    }
    assert {d.family for d in only_kimi} == {"kimi"}
    assert {c.key for c in ALL_CLASSES} >= {d.size_class for d in found}
