"""Forecasts: when will a trailing family pass the one ahead of it? Pure functions.

The method, and why:

* **What is fitted.** The gap (leader's all-time downloads minus the trailer's) over
  the comparable snapshots of the last `WINDOW_DAYS` days: those since the last change
  of either family's definition, without anomalies (the caller asks
  `openmodels.comparability` which they are and passes only those). A cumulative
  count is a running sum of daily downloads, so the gap is read as a random walk
  with a drift: each step between snapshots is the drift times its length, plus a
  swing. The drift (the pace at which the gap closes) is the gap's change over the
  run divided by its length; the swings' spread comes from the steps themselves.
  Fitting the gap, not each line, gives the right spread: the two lines' swings are
  correlated (a holiday dips both). A window of two weeks spans two weekly cycles,
  so weekend dips even out in the pace.
* **Where the line starts.** At the gap observed in the latest snapshot: all-time
  counts are exact tallies, not noisy readings of a hidden line.
* **What the 80% range means.** The days within which the pass falls with 80%
  probability if the next weeks swing as the run's did. Two things move the date:
  the pace itself is uncertain (its standard error, from `n` steps), and the swings
  still to come push the gap about, more the further away the pass. At `t` days the
  gap is expected at `gap - pace·t` with variance `se²·t² + s²·t`; the range is the
  two days at which the gap's 80% band (t quantile, `n - 1` degrees of freedom)
  reaches zero. Checked, not assumed: on 400 synthetic pairs with day-to-day noise of
  20-50% and a weekly cycle, the range holds the day the pass really happens in 70-90%
  of forecasts (tests/test_forecast_calibration.py). It is no promise about a change
  of trend: two weeks of pace say little about next quarter.
* **When there is none.** The gap widening or holding; the pace's 80% interval
  reaching zero (a closing not told apart from none: no date); fewer than
  `MIN_SNAPSHOTS` comparable snapshots, or spanning under `MIN_SPAN_DAYS` days (said
  apart when a definition changed within the window); a family's latest figure an
  anomaly; a projection beyond the horizon, since two weeks of pace say little about
  next year. Each comes back as a `NoForecast` with its reason.

The t quantiles come from a table (df 1 to 30) and a Cornish–Fisher expansion
beyond it, so the standard library is enough.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from statistics import NormalDist

from openmodels.comparability import Why
from openmodels.periods import DRIFT

WINDOW_DAYS = 14
MIN_SNAPSHOTS = 5
# What five daily snapshots span, less a daily collection's drift (openmodels.periods).
MIN_SPAN_DAYS = 4.0 - DRIFT / timedelta(days=1)
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
    REDEFINED = "redefined"  # too short a run since a family's break (definition, fall)
    TOO_NOISY = "too noisy"  # the 80% range of the closing pace includes zero
    TOO_FAR = "too far"  # closing, but the projection lies beyond the horizon
    BACKWARDS = "backwards"  # a family's latest figure is an anomaly: missing data
    LEVEL = "level"  # no gap: the two are level in the latest snapshot


@dataclass(frozen=True)
class Pace:
    """How a gap moved over a run of snapshots, read as a random walk with a drift."""

    slope: float  # the drift: gap change per day (negative: closing)
    slope_se: float  # its standard error
    swing: float  # the steps' spread around the drift, per square root of a day
    steps: int  # steps between snapshots fitted

    @property
    def df(self) -> int:
        return self.steps - 1

    def slope_interval(self) -> tuple[float, float]:
        """The 80% t-interval of the drift."""
        half = t_quantile_90(self.df) * self.slope_se
        return self.slope - half, self.slope + half


def fit_pace(days: Sequence[float], gaps: Sequence[float]) -> Pace:
    """The drift and swing of `gaps` at times `days` (increasing; at least three points).

    Each step's expected change is the drift times its length and its variance is
    proportional to its length, so the drift is the whole change over the whole span
    and the swing is estimated from the steps' weighted residuals.
    """
    if len(days) != len(gaps) or len(days) < 3:
        raise ValueError("need at least three points")
    span = days[-1] - days[0]
    if span <= 0 or any(b <= a for a, b in pairwise(days)):
        raise ValueError("times must increase")
    slope = (gaps[-1] - gaps[0]) / span
    steps = len(days) - 1
    squares = sum(
        ((g1 - g0) - slope * (d1 - d0)) ** 2 / (d1 - d0)
        for (d0, g0), (d1, g1) in pairwise(zip(days, gaps, strict=True))
    )
    swing = math.sqrt(squares / (steps - 1))
    return Pace(slope, swing / math.sqrt(span), swing, steps)


def pass_range(gap: float, pace: Pace) -> tuple[float, float]:
    """The 80% range, in days, of when a gap of `gap` closing at `pace` reaches zero.

    At `t` days the gap is expected at `gap - c·t` (c the closing pace) with variance
    `se²·t² + s²·t`; the range's ends are the two days where `(c·t - gap)²` equals
    `q²` times that variance, the roots of a quadratic. `pace` must close faster than
    its own 80% interval allows for none (`c > q·se`), so both roots are positive.
    """
    q = t_quantile_90(pace.df)
    closing = -pace.slope
    a = closing**2 - (q * pace.slope_se) ** 2
    if a <= 0:
        raise ValueError("the pace's 80% interval reaches zero")
    b = 2 * closing * gap + (q * pace.swing) ** 2
    # With no swing and no pace uncertainty (a gap closing at an exactly constant rate)
    # the discriminant is zero, and rounding can leave it a hair below: a double root.
    root = math.sqrt(max(0.0, b * b - 4 * a * gap * gap))
    # (b - root) / 2a, written so that it keeps its digits when the swing is small.
    return 2 * gap * gap / (b + root), (b + root) / (2 * a)


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

    def range_days(self) -> tuple[int, int]:
        """The 80% range in whole days, as it is stated: widened to whole days."""
        return math.floor(self.low_days), math.ceil(self.high_days)


def own_paces(
    forecast: Forecast, leader_points: Sequence[Point], trailer_points: Sequence[Point]
) -> tuple[float, float]:
    """Each family's own pace (downloads a day) over the forecast's window, from its first
    snapshot to the latest: drawn ahead from the latest figures, the two lines meet
    where the forecast projects the pass, since the gap closes by their difference."""
    span = forecast.trend.span_days
    ahead, behind = dict(leader_points), dict(trailer_points)
    first, last = forecast.trend.first, forecast.trend.last
    return (
        (ahead[last] - ahead[first]) / span,
        (behind[last] - behind[first]) / span,
    )


@dataclass(frozen=True)
class NoForecast:
    """No date can be projected for this pair, and why."""

    leader: str
    trailer: str
    reason: Reason
    gap: int | None  # in the latest snapshot both families appear in
    trend: GapTrend | None = None  # the fit, when one was made
    days: float | None = None  # the projection, when it was beyond the horizon
    # For REDEFINED: whose definition changed (a family, or a region's family), and when.
    changed: Change | None = None
    # For TOO_SHORT and REDEFINED: when a forecast can first come if a snapshot is taken
    # each day from the latest on (a timestamp).
    ready: str | None = None


@dataclass(frozen=True)
class Change:
    """A break that shortens a series' comparable run: `family`'s, from the snapshot
    taken at `at` (for a region, one of its families'). `why` says which: REDEFINED (its
    definition changed), UNRECORDED (the first snapshot to record definitions at all,
    after ones that recorded none), DROPPED (its count fell for good)."""

    family: str
    at: str
    why: Why = Why.REDEFINED


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

    The points must be comparable ones (`openmodels.comparability.comparable_run`).
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
    changed: Sequence[Change] = (),
    ages: dict[tuple[str, str], float] | None = None,
) -> Outlook:
    """`forecast_pass` on lookups; `changed`: the pair's definition changes, for saying
    why a run is short; `ages` caches (snapshot, latest) -> days between."""
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
    if len(window) < max(3, min_snapshots) or -xs[0] < min_span_days:
        ready = ready_on(window, last, min_snapshots, min_span_days)
        recent = [c for c in changed if _days_between(c.at, last) < window_days]
        if recent:
            latest_change = max(recent, key=lambda c: (c.at, c.family))
            return NoForecast(
                leader, trailer, Reason.REDEFINED, gap, changed=latest_change, ready=ready
            )
        return NoForecast(leader, trailer, Reason.TOO_SHORT, gap, ready=ready)
    pace = fit_pace(xs, [ahead[t] - behind[t] for t in window])
    low, high = pace.slope_interval()
    trend = GapTrend(len(window), window[0], last, pace.slope, low, high)
    if pace.slope >= 0:
        return NoForecast(leader, trailer, Reason.WIDENING, gap, trend)
    if high >= 0:
        return NoForecast(leader, trailer, Reason.TOO_NOISY, gap, trend)
    days = gap / -pace.slope
    if days > horizon_days:
        return NoForecast(leader, trailer, Reason.TOO_FAR, gap, trend, days)
    early, late = pass_range(gap, pace)
    return Forecast(leader, trailer, gap, trend, days, early, late)


def ready_on(
    window: Sequence[str],
    last: str,
    min_snapshots: int = MIN_SNAPSHOTS,
    min_span_days: float = MIN_SPAN_DAYS,
) -> str:
    """When a forecast can first come, if a snapshot is taken each day after `last`:
    `window` holds the times of the pair's comparable snapshots so far (at most a
    window's worth, oldest first). Enough of them, spanning enough days, are needed."""
    more = max(0, max(3, min_snapshots) - len(window))
    at = _parse(last) + timedelta(days=more)
    if window:
        at = max(at, _parse(window[0]) + timedelta(days=min_span_days))
    else:
        at = max(at, _parse(last) + timedelta(days=min_span_days))
    return at.isoformat().replace("+00:00", "Z")


def adjacent_forecasts(
    order: Sequence[str],
    series: Mapping[str, Sequence[Point]],
    *,
    changed: Mapping[str, Change] | None = None,
    fell: Collection[str] = (),
    window_days: float = WINDOW_DAYS,
    horizon_days: float = HORIZON_DAYS,
) -> list[Outlook]:
    """An outlook for each adjacent pair of `order` (leader first), in rank order.

    `series` holds each key's comparable points (since its last definition change, no
    anomalies); `changed`, the key's last definition change, if any; `fell`, the keys
    whose latest figure is an anomaly (no forecast for their pairs).
    """
    changed = changed or {}
    lookup = {family: dict(series.get(family, ())) for family in order}
    ages: dict[tuple[str, str], float] = {}  # the pairs of one ranking share snapshots
    outlooks: list[Outlook] = []
    for a, b in pairwise(order):
        if a in fell or b in fell:
            outlooks.append(NoForecast(a, b, Reason.BACKWARDS, None))
            continue
        outlooks.append(
            _forecast(
                a,
                lookup[a],
                b,
                lookup[b],
                window_days=window_days,
                min_snapshots=MIN_SNAPSHOTS,
                min_span_days=MIN_SPAN_DAYS,
                horizon_days=horizon_days,
                changed=[changed[k] for k in (a, b) if k in changed],
                ages=ages,
            )
        )
    return outlooks


@lru_cache(maxsize=8192)
def _parse(timestamp: str) -> datetime:
    # Every pair re-reads its families' timestamps: parse each once.
    return datetime.fromisoformat(timestamp)


def _days_between(earlier: str, later: str) -> float:
    return (_parse(later) - _parse(earlier)).total_seconds() / 86_400
