"""Forecasts in words: the `forecast` answer, and the lines `compare` adds.

The projections themselves come from `openmodels.forecast`; this module only says
them: "Gemma is on course to pass DeepSeek around 2026-03-14 (in 21 days; range
15–30)", or why there is no date to give.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from commands import blocks as bk
from commands.answer import Answer, ChartSpec
from commands.chart_views import Line, lines_chart, projection
from commands.common import BREAK_WHAT, NoData, footer
from commands.format import count, escape, human
from commands.parser import Forecast as ForecastCommand
from openmodels.comparability import Why
from openmodels.digest import ranking_outlooks
from openmodels.forecast import (
    CONFIDENCE,
    HORIZON_DAYS,
    MIN_SNAPSHOTS,
    WINDOW_DAYS,
    Forecast,
    GapTrend,
    NoForecast,
    Outlook,
    Reason,
)
from openmodels.ranking import order
from openmodels.timeline import Timeline, family_runs
from storage import queries as q
from storage.snapshots import format_timestamp, parse_timestamp
from storage.sql import Connection

if TYPE_CHECKING:
    from commands.answers import AnswerContext

RANGE = f"{CONFIDENCE:.0%}"

Label = Callable[[str], str]  # key -> display name: a family's label, or a region as is


def pace(per_day: float) -> str:
    """'1.2M a day', '850 a day'."""
    return f"{human(abs(per_day))} a day"


def counted_from(latest: q.Snapshot) -> str | None:
    """What a forecast's days are counted from, when it must be said: the sample's last
    snapshot, long past ("the sample's last snapshot, 2026-01-17"); None for a live one."""
    return f"the sample's last snapshot, {latest.date}" if latest.is_sample else None


def forecast_line(label: Label, forecast: Forecast, since: str | None = None) -> str:
    """'*Gemma* is on course to pass *DeepSeek* around 2026-03-14 (in 21 days; range 15–30).'
    With `since` (`counted_from`), the days are said to be counted from it: '(21 days
    after the sample's last snapshot, 2026-01-17; range 15–30)'."""
    trailer, leader = escape(label(forecast.trailer)), escape(label(forecast.leader))
    when = forecast.moment().date().isoformat()
    days = max(1, round(forecast.days))
    low, high = forecast.range_days()
    spread = f"; range {low}–{high}" if low != high else ""
    after = f"{count(days, 'day')} after {since}" if since else f"in {count(days, 'day')}"
    return f"*{trailer}* is on course to pass *{leader}* around {when} ({after}{spread})."


def forecast_basis(forecast: Forecast) -> str:
    """What the projection rests on: the gap, the pace, and the window."""
    trend = forecast.trend
    return (
        f"gap {human(forecast.gap)}, closing by {pace(trend.closing)} over "
        f"{_window(trend)}, {trend.snapshots} snapshots"
    )


def no_forecast_line(label: Label, outlook: NoForecast, family: Label | None = None) -> str:
    """Why there is no date for this pair, in one sentence or two. `family` names the
    family whose definition changed (default: `label`, when the pair are families)."""
    trailer, leader = escape(label(outlook.trailer)), escape(label(outlook.leader))
    trend = outlook.trend
    if outlook.reason is Reason.WIDENING and trend is not None:
        if trend.slope == 0:
            return f"{trailer} is not gaining on {leader}: the gap held over {_window(trend)}."
        return (
            f"{trailer} is not gaining on {leader}: the gap grew by {pace(trend.slope)} "
            f"over {_window(trend)}."
        )
    if outlook.reason is Reason.TOO_FAR and trend is not None and outlook.days is not None:
        return (
            f"{trailer} is closing on {leader} by {pace(trend.closing)}, too slowly to pass "
            f"it within {HORIZON_DAYS} days "
            f"(about {count(round(outlook.days), 'day')} at this pace)."
        )
    if outlook.reason is Reason.TOO_NOISY and trend is not None:
        return (
            f"{trailer} is closing on {leader} by about {pace(trend.closing)}, but too "
            f"unevenly over {_window(trend)} to project a date."
        )
    if outlook.reason is Reason.BACKWARDS:
        return (
            f"No forecast for {trailer} and {leader}: a latest total is below an earlier one "
            "(missing data)."
        )
    if outlook.reason is Reason.REDEFINED and outlook.changed is not None:
        who = escape((family or label)(outlook.changed.family))
        what = BREAK_WHAT.get(outlook.changed.why, BREAK_WHAT[Why.REDEFINED])
        return (
            f"No forecast for {trailer} and {leader} yet. {who}'s {what} on "
            f"{outlook.changed.at[:10]}: a forecast needs {MIN_SNAPSHOTS} snapshots since"
            f"{_ready(outlook)}."
        )
    if outlook.reason is Reason.LEVEL:
        return f"{trailer} and {leader} are level."
    return (
        f"No forecast for {trailer} and {leader} yet: it takes {MIN_SNAPSHOTS} snapshots "
        f"over at least four of the last {WINDOW_DAYS} days{_ready(outlook)}."
    )


def _ready(outlook: NoForecast) -> str:
    """'; with a snapshot a day, the first can come on 2026-01-21', when known."""
    if outlook.ready is None:
        return ""
    return f"; with a snapshot a day, the first can come on {outlook.ready[:10]}"


def _window(trend: GapTrend) -> str:
    return f"the last {count(round(trend.span_days), 'day')}"


def compare_forecasts(
    label: Label, outlooks: Sequence[Outlook], since: str | None = None
) -> tuple[list[tuple[str, str]], list[str]]:
    """What `compare` adds: (sentence, basis) per forecast, and why other pairs have none.
    `since`: what the days are counted from, when it must be said (`counted_from`)."""
    found = [
        (forecast_line(label, o, since), forecast_basis(o))
        for o in outlooks
        if isinstance(o, Forecast)
    ]
    reasons = [no_forecast_line(label, o) for o in outlooks if isinstance(o, NoForecast)]
    return found, reasons


# How many neighbouring pairs have no forecast, and why: (one, several).
_REASON_COUNTS = {
    Reason.WIDENING: ("1 gap is widening or holding", "{n} gaps are widening or holding"),
    Reason.TOO_FAR: (
        f"1 is closing too slowly to swap within {HORIZON_DAYS} days",
        f"{{n}} are closing too slowly to swap within {HORIZON_DAYS} days",
    ),
    Reason.TOO_NOISY: ("1 moves too unevenly to project", "{n} move too unevenly to project"),
    Reason.TOO_SHORT: ("1 lacks the history", "{n} lack the history"),
    Reason.REDEFINED: (
        "1 lacks the history since {since}",
        "{n} lack the history since {since}",
    ),
    Reason.BACKWARDS: ("1 has a total below an earlier one", "{n} have totals below earlier ones"),
    Reason.LEVEL: ("1 is level", "{n} are level"),
}


# What shortened a comparable run, after "since": one entry per kind of break.
_SINCE = {
    Why.REDEFINED: "a definition changed",
    Why.UNRECORDED: "definitions were first recorded",
    Why.DROPPED: "a count fell for good",
    Why.RETURNED: "missing models came back",
}


def reason_summary(outlooks: Sequence[NoForecast]) -> str:
    """'7 gaps are widening or holding, 2 are closing too slowly…' for pairs without one;
    pairs too short of history since a break are counted by the kind of break."""
    counts = Counter((o.reason, _since(o)) for o in outlooks)
    parts = []
    for reason, (one, several) in _REASON_COUNTS.items():
        for (kind, since), n in sorted(counts.items(), key=lambda item: item[0][1]):
            if kind is reason:
                parts.append((one if n == 1 else several).format(n=n, since=since))
    return ", ".join(parts)


def no_pass_summary(others: Sequence[NoForecast]) -> str:
    """Why no neighbouring pair is on course to swap, and, when every one only lacks the
    history, the day the first forecast can come: as `forecast` and the Home tab say it."""
    text = f"No family is on course to pass the one ahead of it within {HORIZON_DAYS} days."
    if len(others) == 1:
        text += f" Of the one neighbouring pair, {reason_summary(others)}."
    elif others:
        text += f" Of the {len(others)} neighbouring pairs, {reason_summary(others)}."
    ready = [o.ready for o in others if o.reason is Reason.TOO_SHORT and o.ready]
    if ready and len(ready) == len(others):
        text += f" With a snapshot a day, the first forecast can come on {min(ready)[:10]}."
    return text


def _since(outlook: NoForecast) -> str:
    """What started the short run of a pair without a forecast for want of history since a
    break ('a count fell for good'); '' for any other reason."""
    if outlook.reason is not Reason.REDEFINED:
        return ""
    why = outlook.changed.why if outlook.changed is not None else Why.REDEFINED
    return _SINCE.get(why, _SINCE[Why.REDEFINED])


def forecast_answer(db: Connection, ctx: AnswerContext, command: ForecastCommand) -> Answer:
    """Every adjacent pair of the all-time ranking on course to swap within the horizon,
    and a chart of the soonest passes, projected."""
    latest = q.latest_snapshot(db)
    if latest is None:
        raise NoData
    timeline = ctx.timelines.read(db)
    ranking = [f for f, _ in order(q.values_at(db, latest.id, "all_time"))]
    outlooks = ranking_outlooks(db, latest, ranking, timeline)
    found = sorted((o for o in outlooks if isinstance(o, Forecast)), key=lambda f: f.days)
    others = [o for o in outlooks if isinstance(o, NoForecast)]
    since = counted_from(latest)
    header = bk.header(f"Forecast: passes due within {HORIZON_DAYS} days")
    method = (
        f"Each gap between neighbours in the all-time ranking, and its pace over the "
        f"comparable snapshots of the last {WINDOW_DAYS} days; a range holds the pass with "
        f"{RANGE} probability if the day-to-day swings go on as they were."
    )
    label = ctx.families.label
    if found:
        lines = [f"• {forecast_line(label, f, since)}\n   _{forecast_basis(f)}_" for f in found]
        body = bk.bulleted(lines, noun="forecasts")
        rest = ""
        if others:
            pairs = "The other pair" if len(others) == 1 else f"The other {len(others)} pairs"
            rest = f"{pairs}: {reason_summary(others)}."
        text = " ".join(forecast_line(label, f, since) for f in found).replace("*", "")
    else:
        body = no_pass_summary(others)
        rest = ""
        text = body
    # A definition change that leaves a pair too short a run to fit is said by name.
    redefined = [no_forecast_line(label, o) for o in others if o.reason is Reason.REDEFINED]
    if redefined:
        rest = " ".join([rest, *redefined]).strip()
        text = f"{text} {' '.join(redefined)}".replace("*", "")
    blocks = [header, bk.section(body)]
    if rest:
        blocks.append(bk.section(rest))
    blocks.append(footer(latest, None, method))
    chart = _forecast_chart(db, ctx, timeline, latest, found[:CHARTED]) if found else None
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)


CHARTED = 3  # passes drawn on the forecast's chart, the soonest first
CHART_DAYS = 30  # of history before the projections


def _forecast_chart(
    db: Connection,
    ctx: AnswerContext,
    timeline: Timeline,
    latest: q.Snapshot,
    found: Sequence[Forecast],
) -> ChartSpec:
    """The families of the soonest passes over the last month, each pass projected."""
    keys = list(dict.fromkeys(k for f in found for k in (f.leader, f.trailer)))
    labels = {k: ctx.families.label(k) for k in keys}
    window = format_timestamp(parse_timestamp(latest.taken_at) - timedelta(days=WINDOW_DAYS))
    runs = family_runs(timeline, q.family_series(db, keys, "all_time", since=window), latest)
    start = format_timestamp(parse_timestamp(latest.taken_at) - timedelta(days=CHART_DAYS))
    return lines_chart(
        db,
        timeline,
        latest,
        [Line(labels[k], (k,)) for k in keys],
        title="Projected passes",
        filename=f"openmodels-forecast-{latest.date}.png",
        projections=[projection(f, labels, runs.series) for f in found],
        since=start,
    )
