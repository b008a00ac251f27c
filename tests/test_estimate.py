"""The day-one estimate, worked by hand: a snapshot on 17 Jan 2026 at 06:00 UTC gives
each model's all-time count on 18 Dec 2025 at 06:00, its all-time count minus its 30-day
count."""

from __future__ import annotations

from datetime import UTC, datetime

from openmodels.estimate import estimate_before, fresh_families
from tests.builders import record

TAKEN = datetime(2026, 1, 17, 6, 0, tzinfo=UTC)
THEN = datetime(2025, 12, 18, 6, 0, tzinfo=UTC)


def test_each_model_is_its_all_time_count_less_its_30_day_count():
    records = [
        record("Qwen/a", "qwen", 1_000, d30=300, likes=9, derivatives=4),
        record("meta-llama/b", "llama", 500, d30=500),  # every download in the 30 days
    ]

    estimate = estimate_before(records, TAKEN)

    assert estimate.taken_at == THEN
    assert [(r.repo_id, r.downloads_all_time) for r in estimate.records] == [
        ("Qwen/a", 700),
        ("meta-llama/b", 0),
    ]
    assert estimate.floored == 0
    # Only all-time counts are known 30 days back.
    assert {(r.downloads_30d, r.likes, r.derivatives) for r in estimate.records} == {(0, 0, None)}


def test_a_model_created_within_the_30_days_is_left_out():
    records = [
        record("Qwen/old", "qwen", 1_000, d30=100, created_at="2025-06-01T00:00:00.000Z"),
        # Created on 1 Jan: it did not exist on 18 Dec, whatever its counts say.
        record("Qwen/new", "qwen", 400, d30=400, created_at="2026-01-01T12:00:00.000Z"),
        # Created a second after 18 Dec 06:00: left out as well.
        record("Qwen/edge", "qwen", 50, d30=10, created_at="2025-12-18T06:00:01.000Z"),
        # Created at that very moment: it existed.
        record("Qwen/at", "qwen", 70, d30=20, created_at="2025-12-18T06:00:00.000Z"),
    ]

    estimate = estimate_before(records, TAKEN)

    assert [(r.repo_id, r.downloads_all_time) for r in estimate.records] == [
        ("Qwen/old", 900),
        ("Qwen/at", 50),
    ]


def test_a_30_day_count_above_the_all_time_count_is_floored_at_zero_and_counted():
    records = [
        record("Qwen/a", "qwen", 1_000, d30=300),
        # The Hub's two counts disagree: 1,200 in 30 days of 1,150 ever. Not -50.
        record("Qwen/b", "qwen", 1_150, d30=1_200, created_at="2024-03-01T00:00:00.000Z"),
        record("meta-llama/c", "llama", 10, d30=11),
    ]

    estimate = estimate_before(records, TAKEN)

    assert [(r.repo_id, r.downloads_all_time) for r in estimate.records] == [
        ("Qwen/a", 700),
        ("Qwen/b", 0),
        ("meta-llama/c", 0),
    ]
    assert estimate.floored == 2


def test_only_the_families_asked_for_are_estimated():
    records = [record("Qwen/a", "qwen", 1_000, d30=300), record("meta-llama/b", "llama", 80)]

    estimate = estimate_before(records, TAKEN, families={"llama"})

    assert [r.repo_id for r in estimate.records] == ["meta-llama/b"]
    assert estimate.families == {"llama"}


def test_the_families_to_estimate_are_those_without_a_figure_in_the_30_days():
    # A first collection: nothing counted lately, every family is estimated.
    assert fresh_families({"qwen", "llama"}, set()) == {"qwen", "llama"}
    # Kimi newly added to the families file: only it.
    assert fresh_families({"qwen", "llama", "kimi"}, {"qwen", "llama"}) == {"kimi"}
    # Qwen widened: counted lately (by its old definition), so not estimated again.
    assert fresh_families({"qwen", "llama"}, {"qwen", "llama", "gemma"}) == set()
