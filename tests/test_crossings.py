"""Crossings: where two plotted lines change order, worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from openmodels.crossings import crossings, pair_crossings

T = ["2026-01-01T06:00:00Z", "2026-01-02T06:00:00Z", "2026-01-03T06:00:00Z", "2026-01-04T06:00:00Z"]


def series(*values: int) -> list[tuple[str, int]]:
    return list(zip(T, values, strict=False))


def test_a_crossing_is_where_the_straight_segments_meet():
    # Gap a - b: -20 on day 2, +20 on day 3: the segments meet halfway, at 18:00,
    # where a (100 -> 140) is at 120.
    [c] = pair_crossings("a", series(90, 100, 140), "b", series(100, 120, 120))

    assert (c.passer, c.passed) == ("a", "b")
    assert c.at == datetime(2026, 1, 2, 18, 0, tzinfo=UTC)
    assert c.value == 120
    assert c.seen == T[2] and c.date == "2026-01-03"


def test_lines_that_touch_and_part_on_the_same_side_do_not_cross():
    assert pair_crossings("a", series(10, 20, 30), "b", series(5, 20, 25)) == []


def test_lines_level_for_a_while_cross_where_they_first_met():
    [c] = pair_crossings("a", series(10, 20, 30, 45), "b", series(15, 20, 30, 40))

    assert c.passer == "a"
    assert c.at == datetime(2026, 1, 2, 6, 0, tzinfo=UTC)
    assert c.value == 20
    assert c.seen == T[3]


def test_lines_that_start_level_have_not_crossed():
    assert pair_crossings("a", series(10, 20), "b", series(10, 15)) == []


def test_each_change_of_order_is_a_crossing():
    found = pair_crossings("a", series(1, 10, 1, 10), "b", series(5, 5, 5, 5))

    assert [(c.passer, c.date) for c in found] == [
        ("a", "2026-01-02"),
        ("b", "2026-01-03"),
        ("a", "2026-01-04"),
    ]


def test_only_snapshots_both_series_hold_are_compared():
    a = [(T[0], 10), (T[1], 30), (T[3], 50)]
    b = [(T[0], 20), (T[2], 10), (T[3], 40)]

    [c] = pair_crossings("a", a, "b", b)

    assert c.seen == T[3]
    # Segments from day 1 (gap -10) to day 4 (gap +10) meet halfway: day 2.5, at 30.
    assert c.at == datetime(2026, 1, 2, 18, 0, tzinfo=UTC)
    assert c.value == 30


def test_crossings_of_every_pair_come_in_time_order():
    found = crossings(
        {
            "a": series(10, 20, 30, 40),
            "b": series(15, 18, 21, 24),  # a passes b between day 1 and day 2
            "c": series(35, 34, 33, 32),  # a passes c between day 3 and day 4
        }
    )

    assert [(c.passer, c.passed, c.date) for c in found] == [
        ("a", "b", "2026-01-02"),
        ("a", "c", "2026-01-04"),
    ]
