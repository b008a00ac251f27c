"""The overtake rules on hand-written totals: ties, confirmation, made-up checks, and
figures that do not compare like with like."""

import pytest

from openmodels.comparability import Counted, Figures, falls
from openmodels.overtakes import Overtake, Point, replay

V1 = '{"match":["gemma*"],"orgs":["google"],"yields_to":[]}'
V2 = '{"match":["codegemma*","gemma*"],"orgs":["google"],"yields_to":[]}'


def points_of(values, definitions=None):
    """One Point per dict of figures by metric, a day apart, its anomalies found by the
    comparability rule from the all-time figures."""
    definitions = definitions or [{}] * len(values)
    found = falls([Figures(v["all_time"], d) for v, d in zip(values, definitions, strict=True)])
    return [
        Point(
            v,
            Counted(
                i,
                f"2026-01-{i + 1:02d}T06:00:00Z",
                "hub",
                d,
                frozenset(v["all_time"]),
                frozenset(f.family for f in fell),
            ),
        )
        for i, (v, d, fell) in enumerate(zip(values, definitions, found, strict=True))
    ]


def days(*totals, definitions=None):
    """One Point per dict of all-time totals (the 30-day figures are left out)."""
    return points_of([{"all_time": t} for t in totals], definitions)


def passes(points, start=None, confirm=1, orders=None):
    """(passer, passed) of the overtakes judged in points[start:] (default: the last)."""
    start = len(points) - 1 if start is None else start
    found = replay(points, start, confirm=confirm, orders=orders, metrics=("all_time",))
    return [(o.passer, o.passed) for o in found.overtakes]


def test_a_family_that_moves_ahead_is_an_overtake_with_the_newest_figures():
    points = days({"qwen": 90, "llama": 100}, {"qwen": 110, "llama": 105})

    found = replay(points, 1, metrics=("all_time",)).overtakes

    assert found == [Overtake("all_time", "qwen", "llama", 110, 105)]


def test_jumping_two_places_gives_one_overtake_per_family_passed():
    points = days({"a": 10, "b": 20, "c": 30}, {"a": 40, "b": 25, "c": 35})

    assert passes(points) == [("a", "b"), ("a", "c")]


@pytest.mark.parametrize(
    "totals",
    [
        [{"qwen": 90, "llama": 100}, {"qwen": 100, "llama": 100}],  # drawing level is not passing
        [{"qwen": 110, "llama": 100}, {"qwen": 120, "llama": 100}],  # already ahead
        [{"qwen": 90}, {"qwen": 110, "llama": 100}],  # llama absent before: a first order
        [{"qwen": 90, "llama": 100}],  # the first snapshot settles, never announces
    ],
)
def test_no_overtake_without_a_strict_change_of_a_settled_order(totals):
    assert passes(days(*totals), start=0) == []


@pytest.mark.parametrize("confirm", [1, 2, 3])
def test_passing_through_a_tie_is_one_overtake_once_confirmed(confirm):
    behind, tie = {"a": 90, "b": 100}, {"a": 100, "b": 100}
    ahead = [{"a": 110 + i, "b": 100} for i in range(confirm)]
    points = days(behind, tie, *ahead)

    judged_one_by_one = [passes(points[: i + 1], confirm=confirm) for i in range(len(points))]

    assert judged_one_by_one == [[]] * (len(points) - 1) + [[("a", "b")]]  # once, at the last


@pytest.mark.parametrize(
    "totals",
    [
        [{"a": 90, "b": 100}, {"a": 100, "b": 100}, {"a": 95, "b": 100}],  # tie, then back
        [{"a": 110, "b": 100}, {"a": 100, "b": 100}, {"a": 120, "b": 100}],  # ahead all along
        [{"a": 100, "b": 100}, {"a": 110, "b": 100}],  # tied from the start: a first order
    ],
)
def test_a_tie_is_neither_order(totals):
    assert passes(days(*totals), start=1) == []


def test_confirmation_needs_the_new_order_to_hold_in_every_snapshot_of_the_window():
    flip_back = days({"a": 1, "b": 2}, {"a": 3, "b": 2}, {"a": 3, "b": 4})
    held = days({"a": 1, "b": 2}, {"a": 3, "b": 2}, {"a": 5, "b": 4})

    assert passes(flip_back, start=1, confirm=2) == []
    assert passes(held[:2], start=1, confirm=2) == []  # one snapshot ahead is not enough
    assert passes(held, start=2, confirm=2) == [("a", "b")]


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        ([{"a": 1, "b": 2}, {"a": 3, "b": 2}, {"a": 4, "b": 3}], [("a", "b")]),
        ([{"a": 1, "b": 2}, {"a": 3, "b": 2}, {"a": 3, "b": 4}, {"a": 5, "b": 4}], [("a", "b")]),
        ([{"a": 1, "b": 2}, {"a": 3, "b": 2}, {"a": 3, "b": 4}], []),  # passed and passed back
    ],
)
def test_snapshots_judged_together_give_one_overtake_per_pair_whose_order_changed(totals, expected):
    assert passes(days(*totals), start=1) == expected


def test_stored_orders_are_what_a_pair_is_judged_against():
    # b was settled ahead before a tie long ago; the context holds only the tie.
    points = days({"a": 100, "b": 100}, {"a": 110, "b": 100})

    assert passes(points, start=1, orders={("all_time", "a", "b"): "b"}) == [("a", "b")]
    assert passes(points, start=1, orders={}) == []  # nothing settled: a first order


def test_a_family_going_backwards_takes_part_in_no_overtake_and_is_settled_afresh():
    # b's organisation vanished from one listing: its figure fell from 100 to 50.
    points = days({"a": 90, "b": 100}, {"a": 95, "b": 50}, {"a": 96, "b": 51})

    assert passes(points, start=1) == []  # across the fall
    assert passes(points, start=2) == []  # after it, a ahead is the settled order
    assert passes(points, start=1, confirm=2) == []


def test_a_recovery_from_missing_data_is_no_overtake():
    # b's listing is partial for two snapshots, then whole again: back ahead of a, which
    # it never really fell behind. Its figures stay anomalies until back above 100.
    points = days({"a": 90, "b": 100}, {"a": 95, "b": 50}, {"a": 96, "b": 51}, {"a": 97, "b": 103})

    assert passes(points, start=3) == []
    assert passes(points, start=1) == []


def test_a_changed_definition_draws_no_overtake_until_figures_compare_like_with_like():
    # Widening gemma's glob adds models: its total jumps past b's with no real growth.
    definitions = [{"gemma": V1}, {"gemma": V2}, {"gemma": V2}, {"gemma": V2}]
    totals = [{"gemma": 90, "b": 100}, {"gemma": 150, "b": 101}, {"gemma": 151, "b": 160}]
    points = days(*totals, {"gemma": 170, "b": 161}, definitions=definitions)

    assert passes(points[:2], start=1) == []  # across the change
    assert passes(points[:3], start=2) == [("b", "gemma")]  # a real pass after it
    assert passes(points, start=1) == []  # judged together: gemma was settled afresh, then b
    assert passes(points, start=3) == [("gemma", "b")]  # passes back under the same rules


def test_a_definition_change_of_one_family_leaves_the_others_judged():
    definitions = [{"gemma": V1}, {"gemma": V2}]
    points = days(
        {"gemma": 90, "a": 100, "b": 95},
        {"gemma": 150, "a": 100, "b": 101},
        definitions=definitions,
    )

    assert passes(points) == [("b", "a")]


def test_unrecorded_definitions_then_recorded_ones_compare_nothing():
    # Snapshots from before definitions were recorded, then the first that records them:
    # nothing says the rules were the same, so nothing is drawn across.
    points = days({"a": 90, "b": 100}, {"a": 150, "b": 100}, definitions=[{}, {"a": V1, "b": V2}])
    unrecorded = days({"a": 90, "b": 100}, {"a": 150, "b": 100}, definitions=[{}, {}])

    assert passes(points) == []
    assert passes(unrecorded) == [("a", "b")]


def test_both_metrics_are_judged_all_time_first():
    points = points_of(
        [
            {"all_time": {"a": 1, "b": 2}, "30d": {"a": 1, "b": 2}},
            {"all_time": {"a": 3, "b": 2}, "30d": {"a": 3, "b": 2}},
        ]
    )

    assert [o.metric for o in replay(points, 1).overtakes] == ["all_time", "30d"]


def test_the_confirmation_must_be_at_least_one():
    with pytest.raises(ValueError, match="at least 1"):
        replay(days({"a": 1}), 0, confirm=0)
