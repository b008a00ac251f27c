"""Movers: families ranked by all-time downloads gained, with those not ranked and why."""

from __future__ import annotations

import pytest

from openmodels.comparability import Counted, Why, set_aside
from openmodels.movers import Gain, SetAside, family_movers


def test_families_are_ranked_by_absolute_gain_with_their_growth():
    before = {"qwen": 600, "llama": 500, "kimi": 4}
    after = {"qwen": 660, "llama": 520, "kimi": 6}

    movers = family_movers(before, after, {})

    assert movers.ranked == [Gain("qwen", 600, 660), Gain("llama", 500, 520), Gain("kimi", 4, 6)]
    assert [g.gained for g in movers.ranked] == [60, 20, 2]
    assert [g.growth for g in movers.ranked] == pytest.approx([0.10, 0.04, 0.50])
    assert movers.fastest == Gain("kimi", 4, 6)
    assert movers.set_aside == []


def test_families_whose_gain_means_nothing_are_set_aside_with_the_rules_reason():
    before = {"qwen": 600, "llama": 500, "glm": 30, "phi": 80}
    after = {"qwen": 660, "llama": 490, "glm": 31, "new": 5}
    earlier = Counted(1, "2026-01-01T06:00:00Z", "hub", {"glm": "a"}, frozenset(before))
    later = Counted(
        2, "2026-01-08T06:00:00Z", "hub", {"glm": "b"}, frozenset(after), frozenset({"llama"})
    )

    movers = family_movers(before, after, set_aside(earlier, later, {*before, *after}))

    assert movers.ranked == [Gain("qwen", 600, 660)]
    assert movers.set_aside == [
        SetAside("glm", Why.REDEFINED),
        SetAside("llama", Why.FELL),
        SetAside("new", Why.NEW),
        SetAside("phi", Why.GONE),
    ]


def test_equal_gains_are_ordered_by_name_and_growth_needs_a_base():
    movers = family_movers({"b": 10, "a": 0}, {"b": 15, "a": 5}, {})

    assert [g.family for g in movers.ranked] == ["a", "b"]
    assert movers.ranked[0].growth is None
    assert movers.fastest == Gain("b", 10, 15)


def test_nobody_grew_means_no_fastest():
    assert family_movers({"a": 10}, {"a": 10}, {}).fastest is None
