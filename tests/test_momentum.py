"""Weekly gains and shares over time, worked by hand."""

from __future__ import annotations

import pytest

from openmodels.momentum import membership_changes, runs, shares, weekly


def day(d: int) -> str:
    return f"2026-01-{d:02d}T06:00:00Z"


def test_daily_snapshots_give_weekly_gains_ending_at_the_latest():
    # 1M a day for 20 days (1 to 21 Jan), then 2M a day: gains of 7M, 7M and, last, 13M.
    points = [(day(d), d * 1_000_000 if d <= 15 else 15_000_000 + (d - 15) * 2_000_000)
              for d in range(1, 22)]  # fmt: skip

    steps = weekly(points)

    # Anchors 1, 7, 14, 21 Jan going back a week at a time; the first step is 6 days.
    assert steps.points == [
        (day(1), pytest.approx(7_000_000)),  # 6M in 6 days
        (day(7), pytest.approx(7_000_000)),
        (day(14), pytest.approx(13_000_000)),  # 14M on 14 Jan, 27M on 21 Jan
        (day(21), pytest.approx(13_000_000)),
    ]
    assert steps.starts == []


def test_an_estimate_30_days_back_gives_one_step_the_months_average_week():
    steps = weekly([("2025-12-18T06:00:00Z", 490_000_000), ("2026-01-17T06:00:00Z", 570_500_000)])

    # 80.5M in 30 days: 18.78M a week.
    assert steps.points == [
        ("2025-12-18T06:00:00Z", pytest.approx(80_500_000 / 30 * 7)),
        ("2026-01-17T06:00:00Z", pytest.approx(80_500_000 / 30 * 7)),
    ]


def test_no_gain_is_measured_across_a_break_or_from_an_anomaly():
    # Counted afresh from 15 Jan (a narrower definition: 60); 16 Jan is a partial listing.
    points = [(day(d), v) for d, v in [(1, 100), (8, 170), (15, 60), (16, 20), (23, 130)]]

    steps = weekly(points, breaks=[day(15)], skip=[day(16)])

    assert runs(points, [day(15)], [day(16)]) == [
        [(day(1), 100), (day(8), 170)],
        [(day(15), 60), (day(23), 130)],
    ]
    assert steps.points == [
        (day(1), pytest.approx(70)),
        (day(8), pytest.approx(70)),
        (day(15), pytest.approx(70 / 8 * 7)),  # 70 in 8 days
        (day(23), pytest.approx(70 / 8 * 7)),
    ]
    assert steps.starts == [day(15)]


def test_shares_are_of_every_tracked_family_and_break_where_the_total_changes():
    series = {
        "qwen": [(day(1), 60), (day(2), 70), (day(3), 80)],
        "llama": [(day(1), 40), (day(2), 30), (day(3), 40)],
        "kimi": [(day(3), 80)],  # added to the families file on 3 Jan
    }

    found, changes = shares(series, {"Qwen": ["qwen"], "China": ["qwen", "kimi"]})

    assert found["Qwen"] == [(day(1), 0.6), (day(2), 0.7), (day(3), 0.4)]
    assert found["China"] == [(day(1), 0.6), (day(2), 0.7), (day(3), 0.8)]
    assert changes == [day(3)]


def test_a_share_skips_the_times_asked_and_breaks_where_a_family_is_counted_afresh():
    series = {"qwen": [(day(1), 60), (day(2), 70), (day(3), 80)], "llama": [(day(1), 40),
              (day(2), 10), (day(3), 45)]}  # fmt: skip

    found, changes = shares(series, {"Qwen": ["qwen"]}, skip=[day(2)], breaks={"llama": [day(3)]})

    assert found["Qwen"] == [(day(1), 0.6), (day(3), pytest.approx(80 / 125))]
    assert changes == [day(3)]


def test_a_sum_steps_where_what_it_adds_up_changes():
    series = {"qwen": [(day(1), 1), (day(2), 2), (day(3), 3)], "kimi": [(day(3), 9)]}

    assert membership_changes(series) == [day(3)]
    assert membership_changes(series, skip=[day(3)]) == []
