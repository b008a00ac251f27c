"""Forecasts: when will a trailing family pass the one ahead of it? Pure functions.

The method, and why:

* **What is fitted.** The gap (leader's all-time downloads minus the trailer's) over
  the snapshots of the last `WINDOW_DAYS` days, by ordinary least squares against
  time in days. Fitting the gap rather than each line gives the same slope (least
  squares is linear, so the difference of two fits is the fit of the difference)
  but an honest uncertainty: the two lines' day-to-day swings are correlated (a
  holiday dips both), and only the gap's own residuals measure what matters. A
  window of two weeks spans two weekly cycles, so weekend dips even out.
* **Where the line starts.** At the gap observed in the latest snapshot, not the
  fitted one: all-time counts are exact tallies, not noisy readings of a hidden
  line. What is uncertain is the pace at which the gap closes, so the projection is
  `gap / pace`, `pace = -slope`.
* **The 80% range.** From the slope's t-interval, `slope ± t(0.90, n-2) · se`, with
  `se = s / sqrt(Sxx)` and `s² = SSE / (n-2)`: the range of days is `gap` divided by
  the fastest and the slowest pace in that interval. When the interval reaches zero
  (a closing pace not told apart from no closing at all) the data is too noisy to
  name a date, and no forecast is given. The residuals of a cumulative series are
  correlated, so the range is a guide to how steady the recent pace was, not a
  guarantee about the future.
* **When there is none.** The gap widening or holding; fewer than `MIN_SNAPSHOTS`
  snapshots, or spanning under `MIN_SPAN_DAYS` days; a figure falling inside the
  window (missing data, see `overtakes.anomalies`); a projection beyond the horizon,
  since two weeks of pace say little about next year. Each comes back as a
  `NoForecast` with its reason.

The t quantiles come from a table (df 1 to 30) and a Cornish–Fisher expansion
beyond it, so the standard library is enough.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from statistics import NormalDist

WINDOW_DAYS = 14
MIN_SNAPSHOTS = 5
MIN_SPAN_DAYS = 4.0  # what five daily snapshots span
HORIZON_DAYS = 180
CONFIDENCE = 0.80

Point = tuple[str, int]  # (ISO 8601 UTC timestamp, all-time downloads)

# t quantiles at 0.90 (two-sided 80%) for 1..30 degrees of freedom.
_T90 = (
    3.077684, 1.885618, 1.637744, 1.533206, 1.475884, 1.439756, 1.414924, 1.396815,
    1.383029, 1.372184, 1.363430, 1.356217, 1.350171, 1.345030, 1.340606, 1.336757,
    1.333379, 1.330391, 1.327728, 1.325341, 1.323188, 1.321237, 1.319460, 1.317836,
    1.316345, 1.314972, 1.313703, 1.312527, 1.311434, 1.310415,
)  # fmt: skip


def t_quantile_90(df: int) -> float:
    """The 0.90 quantile of Student's t with `df` degrees of freedom (df >= 1).

    Exact to six decimals from the table up to 30; beyond, the Cornish–Fisher
    expansion in 1/df around the normal quantile, within 1e-5 of the true value.
    """
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T90):
        return _T90[df - 1]
    z = NormalDist().inv_cdf(0.90)
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


class Reason(StrEnum):
    """Why there is no forecast for a pair."""

    WIDENING = "widening"  # the gap grew or held over the window
    TOO_SHORT = "too short"  # too few snapshots in the window, or too short a span
    TOO_NOISY = "too noisy"  # the 80% range of the closing pace includes zero
    TOO_FAR = "too far"  # closing, but the projection lies beyond the horizon
    BACKWARDS = "backwards"  # a figure fell inside the window: missing data
    LEVEL = "level"  # no gap: the two are level in the latest snapshot


@dataclass(frozen=True)
class Line:
    """A least-squares line y = intercept + slope·x, with the slope's standard error."""

    slope: float
    intercept: float
    slope_se: float
    n: int

    def slope_interval(self) -> tuple[float, float]:
        """The 80% t-interval of the slope (n >= 3)."""
        half = t_quantile_90(self.n - 2) * self.slope_se
        return self.slope - half, self.slope + half


def fit_line(xs: Sequence[float], ys: Sequence[float]) -> Line:
    """Ordinary least squares of `ys` on `xs` (at least three points, two distinct xs)."""
    n = len(xs)
    if n != len(ys) or n < 3:
        raise ValueError("need at least three points")
    x_mean = sum(xs) / n
    y_mean = sum(ys) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("need at least two distinct x values")
    sxy = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = y_mean - slope * x_mean
    sse = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return Line(slope, intercept, math.sqrt(sse / (n - 2) / sxx), n)


@dataclass(frozen=True)
class GapTrend:
    """How the gap moved over the window: its fitted pace per day and that pace's range."""

    snapshots: int
    first: str  # timestamp of the window's first snapshot
    last: str  # timestamp of the latest snapshot, where the projection starts
    slope: float  # gap change per day; negative = closing
    slope_low: float  # 80% interval of the slope
    slope_high: float

    @property
    def span_days(self) -> float:
        return _days_between(self.first, self.last)

    @property
    def closing(self) -> float:
        """Downloads a day by which the trailer gains on the leader (negative: falls back)."""
        return -self.slope


@dataclass(frozen=True)
class Forecast:
    """The trailer is on course to pass the leader `days` after the latest snapshot."""

    leader: str
    trailer: str
    gap: int  # in the latest snapshot
    trend: GapTrend
    days: float
    low_days: float  # the 80% range
    high_days: float

    def moment(self) -> datetime:
        """The projected time of the pass."""
        return _parse(self.trend.last) + timedelta(days=self.days)


@dataclass(frozen=True)
class NoForecast:
    """No date can be projected for this pair, and why."""

    leader: str
    trailer: str
    reason: Reason
    gap: int | None  # in the latest snapshot both families appear in
    trend: GapTrend | None = None  # the fit, when one was made
    days: float | None = None  # the projection, when it was beyond the horizon


Outlook = Forecast | NoForecast


def forecast_pass(
    leader: str,
    leader_points: Sequence[Point],
    trailer: str,
    trailer_points: Sequence[Point],
    *,
    window_days: float = WINDOW_DAYS,
    min_snapshots: int = MIN_SNAPSHOTS,
    min_span_days: float = MIN_SPAN_DAYS,
    horizon_days: float = HORIZON_DAYS,
) -> Outlook:
    """When `trailer` passes `leader`, from the snapshots of the last `window_days`.

    Only snapshots holding both families count. `leader` must not be behind in the
    latest of them (ValueError otherwise: the caller orders the pair by the ranking).
    """
    return _forecast(
        leader,
        dict(leader_points),
        trailer,
        dict(trailer_points),
        window_days=window_days,
        min_snapshots=min_snapshots,
        min_span_days=min_span_days,
        horizon_days=horizon_days,
    )


def _forecast(
    leader: str,
    ahead: Mapping[str, int],
    trailer: str,
    behind: Mapping[str, int],
    *,
    window_days: float,
    min_snapshots: int,
    min_span_days: float,
    horizon_days: float,
    ages: dict[tuple[str, str], float] | None = None,
) -> Outlook:
    """`forecast_pass` on lookups; `ages` caches (snapshot, latest) -> days between."""
    ages = {} if ages is None else ages
    common = sorted(ahead.keys() & behind.keys())
    if not common:
        return NoForecast(leader, trailer, Reason.TOO_SHORT, None)
    last = common[-1]
    gap = ahead[last] - behind[last]
    if gap < 0:
        raise ValueError(f"{leader} is behind {trailer} at {last}")
    if gap == 0:
        return NoForecast(leader, trailer, Reason.LEVEL, 0)
    # Days before the latest snapshot, walking back only as far as the window reaches.
    window: list[str] = []
    xs: list[float] = []
    for t in reversed(common):
        age = ages.get((t, last))
        if age is None:
            age = ages[t, last] = _days_between(t, last)
        if age > window_days:
            break
        window.append(t)
        xs.append(-age)
    window.reverse()
    xs.reverse()
    for series in (ahead, behind):
        values = [series[t] for t in window]
        if any(b < a for a, b in pairwise(values)):
            return NoForecast(leader, trailer, Reason.BACKWARDS, gap)
    if len(window) < max(3, min_snapshots) or -xs[0] < min_span_days:
        return NoForecast(leader, trailer, Reason.TOO_SHORT, gap)
    line = fit_line(xs, [ahead[t] - behind[t] for t in window])
    low, high = line.slope_interval()
    trend = GapTrend(len(window), window[0], last, line.slope, low, high)
    if line.slope >= 0:
        return NoForecast(leader, trailer, Reason.WIDENING, gap, trend)
    if high >= 0:
        return NoForecast(leader, trailer, Reason.TOO_NOISY, gap, trend)
    days = gap / -line.slope
    if days > horizon_days:
        return NoForecast(leader, trailer, Reason.TOO_FAR, gap, trend, days)
    return Forecast(leader, trailer, gap, trend, days, gap / -low, gap / -high)


def adjacent_forecasts(
    order: Sequence[str],
    series: Mapping[str, Sequence[Point]],
    *,
    window_days: float = WINDOW_DAYS,
    horizon_days: float = HORIZON_DAYS,
) -> list[Outlook]:
    """An outlook for each adjacent pair of `order` (leader first), in rank order."""
    lookup = {family: dict(series.get(family, ())) for family in order}
    ages: dict[tuple[str, str], float] = {}  # the pairs of one ranking share snapshots
    return [
        _forecast(
            a,
            lookup[a],
            b,
            lookup[b],
            window_days=window_days,
            min_snapshots=MIN_SNAPSHOTS,
            min_span_days=MIN_SPAN_DAYS,
            horizon_days=horizon_days,
            ages=ages,
        )
        for a, b in pairwise(order)
    ]


@lru_cache(maxsize=8192)
def _parse(timestamp: str) -> datetime:
    # Every pair re-reads its families' timestamps: parse each once.
    return datetime.fromisoformat(timestamp)


def _days_between(earlier: str, later: str) -> float:
    return (_parse(later) - _parse(earlier)).total_seconds() / 86_400
