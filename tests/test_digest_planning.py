"""The weekly digest: sent when rankings changed since a channel's last digest, else not;
its overtakes follow the alert rules, and it says the period its changes cover."""

import logging
from datetime import timedelta

import pytest

from commands.blocks import check_limits
from commands.render import plain
from openmodels.digest import build_digest, iso_week, plan_digests
from openmodels.families import load_families, parse_families
from storage import open_store
from storage import outbox as ob
from storage import subscriptions as subs
from storage.snapshots import write_snapshot
from tests.builders import DAY0, family_day, record

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


# -- the week's overtakes follow the alert rules; the period is said -----------------


def digest_text(store, confirm=1):
    with store.reading() as db:
        digest = build_digest(db, FAMILIES, MONDAY, confirm=confirm)
    assert digest is not None
    lines = []
    for block in digest.blocks:
        if "text" in block:
            lines.append(plain(block["text"]["text"]))
        lines += [plain(e.get("text", "")) for e in block.get("elements", [])]
    return "\n".join(lines)


def test_the_weeks_overtakes_leave_out_a_family_whose_figures_went_backwards(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 7, qwen=95, llama=40)  # one of llama's organisations vanished

    text = digest_text(store)

    assert "passed" not in text
    assert "Overtakes this week\nNone: the order held." in text


@pytest.mark.parametrize(
    ("after_the_tie", "expected"),
    [
        ((130, 115), "None: the order held."),  # ahead, level, ahead: no overtake
        ((115, 130), "• Llama passed Qwen in all-time downloads"),  # ahead, level, behind
    ],
)
def test_a_tie_at_the_start_of_the_week_is_neither_order(store, after_the_tie, expected):
    family_day(store, 0, qwen=100, llama=90)
    family_day(store, 7, qwen=110, llama=110)  # the week's baseline: level
    qwen, llama = after_the_tie
    family_day(store, 14, qwen=qwen, llama=llama)

    text = digest_text(store)

    assert expected in text
    assert "Qwen passed Llama" not in text


def test_the_weeks_overtakes_wait_for_the_alerts_confirmation(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 6, qwen=95, llama=100)
    family_day(store, 7, qwen=105, llama=100)  # ahead in one snapshot only

    assert "Qwen passed Llama in all-time downloads" in digest_text(store, confirm=1)
    assert "passed" not in digest_text(store, confirm=2)


NARROW = 'orgs = ["google"]\nmatch = ["gemma*"]'
WIDE = 'orgs = ["google"]\nmatch = ["gemma*", "codegemma*"]'


def definitions(gemma_rules):
    toml = f'[families.gemma]\n{gemma_rules}\n[families.llama]\norgs = ["meta-llama"]'
    return parse_families(toml, "families.toml").definitions()


def test_a_changed_families_file_makes_no_overtake_and_no_biggest_gainer(store):
    llama = record("meta-llama/Llama-3-8B", "llama", 300, d30=30)
    write_snapshot(
        store,
        DAY0,
        "hub",
        [record("google/gemma-2b", "gemma", 100, d30=10), llama],
        definitions(NARROW),
    )
    widened = [
        record("google/gemma-2b", "gemma", 101, d30=10),
        record("google/codegemma-7b", "gemma", 500, d30=50),
        record("meta-llama/Llama-3-8B", "llama", 310, d30=32),
    ]
    write_snapshot(store, DAY0 + timedelta(days=7), "hub", widened, definitions(WIDE))

    text = digest_text(store)

    assert "passed" not in text
    assert "Biggest gainer: Llama, 30-day downloads +2 since 2026-01-01" in text
    assert "1. ▲1 Gemma  601 (66.0%) (families file changed)" in text


@pytest.mark.parametrize(
    ("days_apart", "heading"),
    [(7, "Overtakes this week"), (4, "Overtakes since 1 Jan"), (10, "Overtakes since 1 Jan")],
)
def test_the_overtakes_heading_says_the_period_it_covers(store, days_apart, heading):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, days_apart, qwen=120, llama=110)

    text = digest_text(store)

    assert f"{heading}\n• Qwen passed Llama in all-time downloads" in text
