"""Overtake and anomaly arithmetic on hand-written totals."""

import pytest

from openmodels.overtakes import Anomaly, Overtake, anomalies, flips, overtakes


def test_a_family_that_moves_ahead_is_an_overtake():
    window = [{"qwen": 90, "llama": 100}, {"qwen": 110, "llama": 105}]
    assert overtakes(window, "all_time") == [Overtake("all_time", "qwen", "llama", 110, 105)]


def test_jumping_two_places_gives_one_overtake_per_family_passed():
    window = [
        {"a": 10, "b": 20, "c": 30},
        {"a": 40, "b": 25, "c": 35},
    ]
    assert [(o.passer, o.passed) for o in overtakes(window, "30d")] == [("a", "b"), ("a", "c")]


@pytest.mark.parametrize(
    "window",
    [
        [{"qwen": 100, "llama": 100}, {"qwen": 110, "llama": 100}],  # a tie is not "ahead"
        [{"qwen": 90, "llama": 100}, {"qwen": 100, "llama": 100}],  # drawing level is not passing
        [{"qwen": 110, "llama": 100}, {"qwen": 120, "llama": 100}],  # already ahead
        [{"qwen": 90}, {"qwen": 110, "llama": 100}],  # llama absent before
        [{"qwen": 90, "llama": 100}],  # a single snapshot
    ],
)
def test_no_overtake_without_a_strict_change_of_order(window):
    assert overtakes(window, "all_time") == []


def test_confirmation_needs_the_new_order_to_hold_in_every_later_snapshot():
    flip_back = [{"a": 1, "b": 2}, {"a": 3, "b": 2}, {"a": 3, "b": 4}]
    held = [{"a": 1, "b": 2}, {"a": 3, "b": 2}, {"a": 5, "b": 4}]
    assert overtakes(flip_back, "all_time") == []
    assert [(o.passer, o.passed) for o in overtakes(held, "all_time")] == [("a", "b")]


def test_untrusted_families_take_part_in_no_overtake():
    window = [{"qwen": 90, "llama": 100}, {"qwen": 110, "llama": 50}]
    assert overtakes(window, "all_time", untrusted=frozenset({"llama"})) == []


def test_anomalies_are_falls_and_disappearances_of_cumulative_counts():
    before = {"qwen": 100, "glm": 50, "kimi": 10}
    after = {"qwen": 120, "glm": 0, "llama": 5}
    assert anomalies(before, after) == [
        Anomaly("glm", "all_time", 50, 0),
        Anomaly("kimi", "all_time", 10, None),
    ]


def test_flips_lists_pairs_whose_order_reversed():
    assert flips(["llama", "qwen", "deepseek"], ["qwen", "deepseek", "llama"]) == [
        ("qwen", "llama"),
        ("deepseek", "llama"),
    ]
