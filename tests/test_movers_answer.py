"""The `movers` answer, and the query behind its model list, on hand-checkable stores.

tests.builders.growing_store holds ten daily snapshots (2026-01-01 .. 2026-01-10); on
day d: Qwen/Qwen3-8B 100,000 + 5,000d and Qwen/Qwen2.5-7B 90,000 + 3,000d (Qwen),
meta-llama/Llama-3.1-8B 200,000 + 1,000d, deepseek-ai/DeepSeek-R1 50,000 + 500d.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.render import render_text
from openmodels.families import load_families, parse_families
from storage import open_store
from storage import queries as q
from storage.snapshots import write_snapshot
from tests.builders import DAY0, growing_store, record, store_with


@pytest.fixture
def ctx(new_store):
    return AnswerContext(store=growing_store(new_store("g")), families=load_families())


def rendered(text, ctx):
    return render_text(answer_text(text, ctx))


def test_families_are_ranked_by_all_time_downloads_gained_in_seven_days(ctx):
    out = rendered("movers", ctx)

    # 2026-01-03 (day 2) -> 2026-01-10 (day 9): Qwen +56,000 on 206,000 = +27.2%.
    assert "Movers: all-time downloads gained in 7 days" in out
    assert "Qwen gained most: +56.0K (+27.2%). 2026-01-03 → 2026-01-10" in out
    assert "1. Qwen  +56.0K · +27.2% (now 262.0K)" in out
    assert "2. Llama  +7.0K · +3.5% (now 209.0K)" in out
    assert "3. DeepSeek  +3.5K · +6.9% (now 54.5K)" in out
    assert "Snapshot 2026-01-10 · changes since 2026-01-03" in out


def test_the_ten_models_that_gained_most_are_listed(ctx):
    out = rendered("movers", ctx)

    assert (
        "Models that gained most\n"
        "1. Qwen/Qwen3-8B (Qwen)  +35.0K · +31.8%\n"
        "2. Qwen/Qwen2.5-7B (Qwen)  +21.0K · +21.9%\n"
        "3. meta-llama/Llama-3.1-8B (Llama)  +7.0K · +3.5%\n"
        "4. deepseek-ai/DeepSeek-R1 (DeepSeek)  +3.5K · +6.9%"
    ) in out


def test_the_fastest_grower_is_named_when_it_is_not_the_biggest_gainer(new_store):
    store = store_with(
        new_store("f"),
        [
            [record("Qwen/a", "qwen", 1_000_000), record("moonshotai/k", "kimi", 1_000)],
            [record("Qwen/a", "qwen", 1_100_000), record("moonshotai/k", "kimi", 1_500)],
        ],
    )

    out = rendered("movers --days 1", AnswerContext(store=store, families=load_families()))

    assert "Qwen gained most: +100.0K (+10.0%). Kimi grew fastest: +50.0%." in out
    assert "Movers: all-time downloads gained in 1 day" in out


def test_without_a_snapshot_n_days_back_the_period_is_said_exactly(ctx):
    out = rendered("movers --days 30", ctx)

    assert "Movers: all-time downloads gained since 2026-01-01" in out
    assert (
        "2026-01-01 → 2026-01-10, 9 days: the store has no snapshot from 30 days before the latest"
    ) in out
    assert "1. Qwen  +72.0K · +37.9% (now 262.0K)" in out


@pytest.fixture
def launch_store(new_store):
    """Day 0 and day 7. On day 7 Qwen/new (created on day 4) and Qwen/old (created a year
    earlier, first listed now) appear, and DeepSeek is tracked for the first time."""
    store = new_store("l")
    write_snapshot(
        store,
        DAY0,
        "hub",
        [record("Qwen/a", "qwen", 1_000), record("meta-llama/b", "llama", 2_000)],
    )
    write_snapshot(
        store,
        DAY0.replace(day=8),
        "hub",
        [
            record("Qwen/a", "qwen", 1_500),
            record("meta-llama/b", "llama", 2_100),
            record("Qwen/new", "qwen", 800, created_at="2026-01-05T10:00:00.000Z"),
            record("Qwen/old", "qwen", 5_000, created_at="2025-01-01T10:00:00.000Z"),
            record("deepseek-ai/c", "deepseek", 300),
        ],
    )
    return store


def test_models_first_seen_count_only_if_created_in_the_period(launch_store):
    with launch_store.reading() as db:
        before, after = q.list_snapshots(db)

        gains = q.model_gains(db, before, after)

    assert [(g.repo_id, g.before, g.after, g.gained) for g in gains] == [
        ("Qwen/new", None, 800, 800),
        ("Qwen/a", 1_000, 1_500, 500),
        ("meta-llama/b", 2_000, 2_100, 100),
    ]


def test_a_family_new_to_the_store_is_not_ranked_and_says_why(launch_store):
    out = rendered("movers", AnswerContext(store=launch_store, families=load_families()))

    assert "1. Qwen  +6.3K · +630.0% (now 7.3K)" in out
    assert "2. Llama  +100 · +5.0% (now 2.1K)" in out
    assert "Not ranked: DeepSeek (new since 2026-01-01)" in out
    assert "1. Qwen/new (Qwen)  +800 · new" in out


def test_families_redefined_in_the_period_are_set_aside_with_their_models(new_store):
    # Day 7 counts Qwen by a wider definition (a second organisation) than day 0.
    narrow = parse_families(
        '[families.qwen]\norgs = ["Qwen"]\n[families.llama]\norgs = ["meta-llama"]\n', "a"
    )
    wide = parse_families(
        '[families.qwen]\norgs = ["Qwen", "qwen-extra"]\n[families.llama]\norgs = ["meta-llama"]\n',
        "b",
    )
    store = new_store("r")
    write_snapshot(
        store,
        DAY0,
        "hub",
        [record("Qwen/a", "qwen", 1_000), record("meta-llama/b", "llama", 2_000)],
        narrow.definitions(),
    )
    write_snapshot(
        store,
        DAY0.replace(day=8),
        "hub",
        [
            record("Qwen/a", "qwen", 1_500),
            record("qwen-extra/c", "qwen", 9_000),
            record("meta-llama/b", "llama", 2_100),
        ],
        wide.definitions(),
    )

    out = rendered("movers", AnswerContext(store=store, families=wide))

    assert "1. llama  +100" in out
    assert "qwen (definition changed on 8 Jan)" in out
    assert "Qwen/" not in out and "qwen-extra/" not in out


def upgraded_store(path, recorded_from: int):
    """growing_store's figures, its snapshots recording the families' definitions only
    from day `recorded_from` on, as after an upgrade from an openmodels that did not."""
    defaults = load_families().definitions()
    store = open_store(path)
    for d in range(10):
        write_snapshot(
            store,
            DAY0 + timedelta(days=d),
            "hub",
            [
                record("Qwen/Qwen3-8B", "qwen", 100_000 + 5_000 * d),
                record("meta-llama/Llama-3.1-8B", "llama", 200_000 + 1_000 * d),
            ],
            defaults if d >= recorded_from else None,
        )
    return store


def test_after_an_upgrade_gains_are_counted_from_the_first_snapshot_recording_definitions(
    tmp_path,
):
    ctx = AnswerContext(store=upgraded_store(tmp_path / "u.db", 6), families=load_families())

    out = rendered("movers", ctx)
    blocks = str(answer_text("movers", ctx).blocks)

    assert "Movers: all-time downloads gained since 2026-01-07" in out
    assert "2026-01-07 → 2026-01-10, 3 days: older snapshots are not comparable (below)" in out
    assert "Snapshots before 2026-01-07 do not record the rules each family" in blocks
    assert "gains are counted from 2026-01-07." in blocks
    assert "1. Qwen  +15.0K" in out and "2. Llama  +3.0K" in out
    assert "definition changed" not in out


def test_a_family_redefined_after_the_upgrade_is_still_set_aside_by_name(tmp_path):
    store = upgraded_store(tmp_path / "u.db", 6)
    wider = parse_families(
        '[families.qwen]\norgs = ["Qwen", "qwen-extra"]\n[families.llama]\norgs = ["meta-llama"]\n',
        "wider",
    )
    write_snapshot(
        store,
        DAY0 + timedelta(days=10),
        "hub",
        [
            record("Qwen/Qwen3-8B", "qwen", 160_000),
            record("qwen-extra/c", "qwen", 9_000),
            record("meta-llama/Llama-3.1-8B", "llama", 211_000),
        ],
        {**load_families().definitions(), **wider.definitions()},
    )

    out = rendered("movers", AnswerContext(store=store, families=load_families()))

    assert "gains are counted from 2026-01-07" in str(
        answer_text("movers", AnswerContext(store=store, families=load_families())).blocks
    )
    assert "1. Llama  +5.0K" in out
    assert "Qwen (definition changed on 11 Jan)" in out


def test_when_only_the_latest_records_definitions_one_line_says_why_none_is_ranked(tmp_path):
    ctx = AnswerContext(store=upgraded_store(tmp_path / "u.db", 9), families=load_families())

    blocks = str(answer_text("movers", ctx).blocks)

    assert "None to rank." in blocks
    assert "Snapshots before 2026-01-10 do not record" in blocks
    assert "families are ranked again from the next snapshot" in blocks
    assert "definition changed" not in blocks and "Not ranked" not in blocks


def test_one_snapshot_is_not_enough_and_says_so(new_store):
    store = store_with(new_store("one"), [[record("Qwen/a", "qwen", 10)]])

    result = answer_text("movers", AnswerContext(store=store, families=load_families()))

    assert "the store has none a day older than its latest, from 2026-01-01" in result.text
    assert not result.error


def test_the_answer_stays_within_block_kit_limits(ctx):
    assert check_limits(answer_text("movers --days 365 --public", ctx).blocks) == []
