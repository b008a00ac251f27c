"""Forecasts: when a trailing family passes the one ahead, with an 80% range, or why not.

Figures are worked by hand where the arithmetic allows; the synthetic lines have a
known crossing day that the projection and its range must hold.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from openmodels.forecast import (
    Change,
    Forecast,
    NoForecast,
    Reason,
    adjacent_forecasts,
    fit_pace,
    forecast_pass,
    pass_range,
    t_quantile_90,
)

DAY0 = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)


def at(day: float) -> str:
    return (DAY0 + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")


def line(values: list[int], step: float = 1.0, start: float = 0.0) -> list[tuple[str, int]]:
    return [(at(start + i * step), v) for i, v in enumerate(values)]


def t_cdf(t: float, df: int, steps: int = 4000) -> float:
    """Student's t CDF by Simpson's rule on the density: the table's independent check."""
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def density(x: float) -> float:
        return math.exp(log_c) * (1 + x * x / df) ** (-(df + 1) / 2)

    h = t / steps
    total = density(0) + density(t)
    total += sum((4 if i % 2 else 2) * density(i * h) for i in range(1, steps))
    return 0.5 + total * h / 3


@pytest.mark.parametrize("df", [1, 2, 3, 5, 10, 13, 30, 31, 40, 60, 120, 1000])
def test_t_quantile_is_the_90th_percentile(df):
    assert t_cdf(t_quantile_90(df), df) == pytest.approx(0.90, abs=2e-5)


def test_the_pace_is_the_whole_change_over_the_whole_span_by_hand():
    # Gaps 100, 90, 78, 70, 60 on days -4..0: the drift is (60 - 100) / 4 = -10 a day.
    # Steps -10, -12, -8, -10 leave residuals 0, -2, 2, 0: s² = 8 / (4 - 1), and the
    # drift's standard error is s / sqrt(4 days).
    pace = fit_pace([-4, -3, -2, -1, 0], [100, 90, 78, 70, 60])

    assert pace.slope == pytest.approx(-10.0)
    assert pace.swing == pytest.approx(math.sqrt(8 / 3))
    assert pace.slope_se == pytest.approx(math.sqrt(8 / 3) / 2)
    assert pace.df == 3
    low, high = pace.slope_interval()
    assert low == pytest.approx(-10 - 1.637744 * math.sqrt(8 / 3) / 2)
    assert high == pytest.approx(-10 + 1.637744 * math.sqrt(8 / 3) / 2)


def test_uneven_steps_weigh_by_their_length():
    # Two days then one: a random walk's step varies in proportion to its length.
    pace = fit_pace([-3, -1, 0], [30, 10, 0])

    assert pace.slope == pytest.approx(-10.0)
    assert pace.swing == 0  # both steps are exactly the drift times their length


def test_a_closing_gap_is_projected_with_its_range_by_hand():
    # Gaps 100K, 90K, 78K, 70K, 60K on five days: closing 10K a day, so the 60K left
    # take 6 days. The drift's standard error is s/2 with s² = 8M/3 (the steps' spread,
    # see above), q = t(0.90, 3) = 1.637744. The range's ends are where
    # (10,000·t − 60,000)² = q²·(se²·t² + s²·t): the roots of
    # a·t² − b·t + 60,000² with a = 10,000² − q²·se² = 98,211,863 and
    # b = 2·10,000·60,000 + q²·s² = 1,207,152,548: 5.090 and 7.201 days.
    leader = line([1_000_000 + 50_000 * d for d in range(5)])
    gaps = [100_000, 90_000, 78_000, 70_000, 60_000]
    trailer = [(t, v - g) for (t, v), g in zip(leader, gaps, strict=True)]

    outlook = forecast_pass("llama", leader, "qwen", trailer)

    assert isinstance(outlook, Forecast)
    assert (outlook.leader, outlook.trailer, outlook.gap) == ("llama", "qwen", 60_000)
    assert outlook.trend.snapshots == 5
    assert outlook.trend.closing == pytest.approx(10_000)
    assert outlook.days == pytest.approx(6.0)
    assert outlook.low_days == pytest.approx(5.0904, abs=1e-4)
    assert outlook.high_days == pytest.approx(7.2009, abs=1e-4)
    assert outlook.range_days() == (5, 8)
    assert outlook.moment() == DAY0 + timedelta(days=10)


def test_without_swings_the_range_is_the_paces_interval_alone():
    # Pace uncertainty only: where the swing term vanishes, the ends are gap / (c ± q·se).
    pace = fit_pace([-4, -3, -2, -1, 0], [100, 90, 78, 70, 60])
    still = type(pace)(pace.slope, pace.slope_se, 0.0, pace.steps)

    low, high = pass_range(60, still)

    half = 1.637744 * math.sqrt(8 / 3) / 2
    assert low == pytest.approx(60 / (10 + half))
    assert high == pytest.approx(60 / (10 - half))


@pytest.mark.parametrize("wiggle", [0, 1_000, 3_000, 8_000])
def test_lines_with_a_known_crossing_day_are_projected_within_the_range(wiggle):
    # Leader 5.0M + 40K a day; trailer 4.0M + 60K a day: the lines meet on day 50.
    # The trailer wobbles ±wiggle on alternate days (uncorrelated with time), and the
    # last of the 15 daily snapshots is day 14, so the pass is 36 days ahead.
    leader = line([5_000_000 + 40_000 * d for d in range(15)])
    trailer = line([4_000_000 + 60_000 * d + (wiggle if d % 2 else -wiggle) for d in range(15)])

    outlook = forecast_pass("a", leader, "b", trailer)

    assert isinstance(outlook, Forecast)
    assert outlook.low_days <= 36 <= outlook.high_days
    assert outlook.days == pytest.approx(36, abs=0.5)
    assert outlook.moment().date() == (DAY0 + timedelta(days=50)).date()


def test_gaps_closing_at_an_exactly_constant_rate_are_projected():
    # A straight line (imported history often is one) has no swing at all: the range's
    # quadratic then has a double root, which rounding must not push below zero. A
    # seeded sweep over many such lines: about one in eight used to hit that rounding.
    rng = random.Random(20260117)
    for _ in range(2_000):
        days = rng.randint(5, 15)
        start, pace = rng.randint(10**6, 10**10), rng.randint(0, 10**7)
        closing, days_left = rng.randint(1, 10**6), rng.randint(1, 180)
        leader = line([start + pace * d for d in range(days)])
        trailer = line(
            [start + pace * d - closing * (days_left + days - 1 - d) for d in range(days)]
        )

        outlook = forecast_pass("a", leader, "b", trailer)

        case = (days, start, pace, closing, days_left)
        assert isinstance(outlook, Forecast), case
        assert outlook.days == pytest.approx(days_left), case
        assert outlook.low_days == pytest.approx(days_left), case
        assert outlook.high_days == pytest.approx(days_left), case


def test_only_the_last_14_days_are_fitted():
    # For 20 days the trailer falls behind; over the last 15 it closes 10K a day.
    leader = line([1_000_000 + 20_000 * d for d in range(35)])
    trailer = line(
        [500_000 + (10_000 * d if d < 20 else 200_000 + 30_000 * (d - 20)) for d in range(35)]
    )

    outlook = forecast_pass("a", leader, "b", trailer)

    assert isinstance(outlook, Forecast)
    assert outlook.trend.snapshots == 15  # days 20..34: 14 days back, both ends included
    assert outlook.trend.closing == pytest.approx(10_000)
    # Gap on day 34: 1,680,000 - 1,120,000 = 560,000, closing 10K a day: 56 days.
    assert outlook.days == pytest.approx(56)


def test_diverging_lines_have_no_forecast():
    leader = line([1_000_000 + 30_000 * d for d in range(15)])
    trailer = line([900_000 + 20_000 * d for d in range(15)])

    outlook = forecast_pass("a", leader, "b", trailer)

    assert isinstance(outlook, NoForecast)
    assert outlook.reason is Reason.WIDENING
    assert outlook.trend is not None and outlook.trend.slope == pytest.approx(10_000)


def test_a_gap_that_holds_has_no_forecast():
    leader = line([1_000 + 10 * d for d in range(6)])
    trailer = line([900 + 10 * d for d in range(6)])

    outlook = forecast_pass("a", leader, "b", trailer)

    assert isinstance(outlook, NoForecast) and outlook.reason is Reason.WIDENING


def test_a_pace_lost_in_noise_has_no_forecast():
    # Closing 1K a day on average, but the trailer swings ±50K from one day to the next.
    leader = line([10_000_000 + 100_000 * d for d in range(15)])
    trailer = line([9_000_000 + 101_000 * d + (50_000 if d % 2 else -50_000) for d in range(15)])

    outlook = forecast_pass("a", leader, "b", trailer)

    assert isinstance(outlook, NoForecast)
    assert outlook.reason is Reason.TOO_NOISY
    assert outlook.trend is not None and outlook.trend.closing == pytest.approx(1_000)


@pytest.mark.parametrize(
    ("count", "step"),
    [(4, 1.0), (5, 0.5)],  # four daily snapshots; five over two days
    ids=["four-snapshots", "two-days"],
)
def test_too_little_history_has_no_forecast(count, step):
    leader = line([1_000 + 10 * d for d in range(count)], step=step)
    trailer = line([500 + 100 * d for d in range(count)], step=step)

    outlook = forecast_pass("a", leader, "b", trailer)

    assert isinstance(outlook, NoForecast) and outlook.reason is Reason.TOO_SHORT


def test_five_daily_snapshots_each_collected_a_little_earlier_are_enough():
    # Each day's collection ran two minutes earlier than the one before: 4 days less 8 min.
    days = [d - d * 2 / (24 * 60) for d in range(5)]
    leader = [(at(d), 1_000 + 10 * i) for i, d in enumerate(days)]
    trailer = [(at(d), 500 + 100 * i) for i, d in enumerate(days)]

    assert isinstance(forecast_pass("a", leader, "b", trailer), Forecast)


def test_a_projection_beyond_the_horizon_is_too_far():
    # 10M apart on day 14, closing 10K a day: 1,000 days.
    leader = line([20_000_000 + 20_000 * d for d in range(15)])
    trailer = line([9_860_000 + 30_000 * d for d in range(15)])

    outlook = forecast_pass("a", leader, "b", trailer)

    assert isinstance(outlook, NoForecast)
    assert outlook.reason is Reason.TOO_FAR
    assert outlook.days == pytest.approx(1_000)


def test_a_family_whose_latest_figure_fell_has_no_forecast():
    series = {"a": line([3_000 + 10 * d for d in range(8)]), "b": line([100 * d for d in range(8)])}

    [outlook] = adjacent_forecasts(["a", "b"], series, fell={"b"})

    assert isinstance(outlook, NoForecast) and outlook.reason is Reason.BACKWARDS


def test_a_run_cut_short_by_a_definition_change_says_whose_and_when():
    # Three comparable snapshots since b's definition changed on day 5: too few.
    series = {
        "a": line([3_000 + 10 * d for d in range(8)]),
        "b": line([1_000 + 100 * d for d in range(5, 8)], start=5),
    }
    change = Change("b", at(5))

    [outlook] = adjacent_forecasts(["a", "b"], series, changed={"b": change})

    assert isinstance(outlook, NoForecast)
    assert (outlook.reason, outlook.changed) == (Reason.REDEFINED, change)


def test_a_change_before_the_window_is_no_reason():
    series = {
        "a": line([3_000 + 10 * d for d in range(3)]),
        "b": line([1_000 + 100 * d for d in range(3)]),
    }

    [outlook] = adjacent_forecasts(["a", "b"], series, changed={"b": Change("b", at(-30))})

    assert isinstance(outlook, NoForecast) and outlook.reason is Reason.TOO_SHORT


def test_level_families_have_nothing_to_close():
    same = line([1_000 + 10 * d for d in range(6)])

    outlook = forecast_pass("a", same, "b", same)

    assert isinstance(outlook, NoForecast) and outlook.reason is Reason.LEVEL


def test_only_snapshots_holding_both_families_are_fitted():
    leader = line([1_000_000 + 20_000 * d for d in range(10)])
    # The trailer is missing from days 1, 3 and 5: six common snapshots remain.
    trailer = [(t, 600_000 + 60_000 * d) for d, (t, _) in enumerate(leader) if d not in (1, 3, 5)]

    outlook = forecast_pass("a", leader, "b", trailer)

    assert isinstance(outlook, Forecast)
    assert outlook.trend.snapshots == 7
    assert outlook.days == pytest.approx((1_180_000 - 1_140_000) / 40_000)


def test_the_leader_must_lead():
    with pytest.raises(ValueError, match="behind"):
        forecast_pass("a", line([1, 2]), "b", line([5, 6]))


def test_adjacent_pairs_are_forecast_in_rank_order():
    series = {
        "a": line([3_000_000 + 10_000 * d for d in range(8)]),
        "b": line([2_000_000 + 20_000 * d for d in range(8)]),
        "c": line([1_000_000 + 1_000 * d for d in range(8)]),
    }

    outlooks = adjacent_forecasts(["a", "b", "c"], series)

    assert [(o.leader, o.trailer) for o in outlooks] == [("a", "b"), ("b", "c")]
    assert isinstance(outlooks[0], Forecast)
    assert outlooks[0].days == pytest.approx((3_070_000 - 2_140_000) / 10_000)
    assert isinstance(outlooks[1], NoForecast) and outlooks[1].reason is Reason.WIDENING
