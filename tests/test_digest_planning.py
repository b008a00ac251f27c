"""The weekly digest: sent when rankings changed since a channel's last digest, else not."""

import logging
from datetime import timedelta

import pytest

from commands.blocks import check_limits
from commands.render import plain
from openmodels.digest import iso_week, plan_digests
from openmodels.families import load_families
from storage import open_store
from storage import outbox as ob
from storage import subscriptions as subs
from tests.builders import DAY0, family_day

FAMILIES = load_families()
MONDAY = DAY0 + timedelta(days=4)  # 2026-01-05 is a Monday


@pytest.fixture
def store(tmp_path):
    store = open_store(tmp_path / "s.db")
    with store.writing() as db:
        subs.subscribe(db, "T1", "C1", "digest", (), "2026-01-01T00:00:00Z")
        subs.subscribe(db, "T1", "C2", "digest", (), "2026-01-01T00:00:00Z")
        subs.subscribe(db, "T1", "C3", "alerts", (), "2026-01-01T00:00:00Z")
    return store


def digests(store):
    with store.reading() as db:
        return [i for i in ob.all_items(db) if i.kind == "digest"]


def test_a_channel_gets_its_first_digest(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 4, qwen=120, llama=110)
    plan = plan_digests(store, FAMILIES, MONDAY)
    assert plan.queued == ["C1", "C2"]
    items = digests(store)
    assert [i.event for i in items] == [f"digest:{iso_week(MONDAY)}"] * 2
    payload = items[0].payload
    assert check_limits(payload["blocks"]) == []
    text = "\n".join(plain(b["text"]["text"]) for b in payload["blocks"] if "text" in b)
    assert "1. ▲1 Qwen  120 (50.0%) +30" in text
    assert "Qwen passed Llama in all-time downloads" in text
    assert "Biggest gainer: Qwen, 30-day downloads +3" in text
    assert payload["chart"]["series"]["Qwen"][-1] == ["2026-01-05T06:00:00Z", 120]


def test_running_the_digest_again_in_the_same_week_queues_nothing(store):
    family_day(store, 0, qwen=90, llama=100)
    plan_digests(store, FAMILIES, MONDAY)
    family_day(store, 1, qwen=130, llama=100)  # even with a changed ranking
    again = plan_digests(store, FAMILIES, MONDAY + timedelta(hours=3))
    assert again.queued == []
    assert len(digests(store)) == 2


def test_an_unchanged_ranking_sends_nothing_and_says_why(store, caplog):
    caplog.set_level(logging.INFO)
    family_day(store, 0, qwen=120, llama=100)
    plan_digests(store, FAMILIES, MONDAY)
    family_day(store, 7, qwen=150, llama=110)  # figures grew, order held
    plan = plan_digests(store, FAMILIES, MONDAY + timedelta(days=7))
    assert plan.queued == []
    assert plan.skipped == [
        ("C1", "rankings unchanged since the last digest"),
        ("C2", "rankings unchanged since the last digest"),
    ]
    assert "rankings unchanged" in caplog.text


def test_a_changed_ranking_next_week_is_sent(store):
    family_day(store, 0, qwen=90, llama=100)
    plan_digests(store, FAMILIES, MONDAY)
    family_day(store, 7, qwen=150, llama=110)
    assert plan_digests(store, FAMILIES, MONDAY + timedelta(days=7)).queued == ["C1", "C2"]


def test_no_snapshots_means_no_digest(store):
    plan = plan_digests(store, FAMILIES, MONDAY)
    assert plan.queued == [] and plan.skipped[0][1] == "no snapshots yet"
