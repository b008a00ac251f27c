"""family_series: named families or every family, whole history or a recent stretch."""

from __future__ import annotations

import pytest

from storage import queries as q
from tests.builders import growing_store


@pytest.fixture
def db(new_store):
    with growing_store(new_store("g")).reading() as db:
        yield db


def test_every_family_reads_the_same_points_as_naming_them(db):
    named = q.family_series(db, ["qwen", "llama", "deepseek"])

    every = q.family_series(db, None)

    assert every == named
    assert every["qwen"][0] == ("2026-01-01T06:00:00Z", 190_000)
    assert every["qwen"][-1] == ("2026-01-10T06:00:00Z", 262_000)


def test_since_keeps_the_snapshots_taken_at_or_after_it(db):
    recent = q.family_series(db, ["llama"], since="2026-01-08T06:00:00Z")
    every_recent = q.family_series(db, None, since="2026-01-08T06:00:00Z")

    assert recent == {
        "llama": [
            ("2026-01-08T06:00:00Z", 207_000),
            ("2026-01-09T06:00:00Z", 208_000),
            ("2026-01-10T06:00:00Z", 209_000),
        ]
    }
    assert every_recent["llama"] == recent["llama"]
    assert set(every_recent) == {"qwen", "llama", "deepseek"}


def test_a_named_family_without_models_has_an_empty_series(db):
    assert q.family_series(db, ["kimi"]) == {"kimi": []}
    assert q.family_series(db, []) == {}
