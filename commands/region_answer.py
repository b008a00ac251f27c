"""The `regions` answer: families summed by region, with a chart of regions over time."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from commands import blocks as bk
from commands.answer import Answer
from commands.changes import aside_reason
from commands.chart_views import Line, lines_chart, projection
from commands.common import NoData, lead_sentence
from commands.forecast_answer import counted_from, forecast_line, no_forecast_line
from commands.format import METRIC_NAMES, arrow, escape, family_link, human, percent, signed
from commands.parser import Regions
from commands.ranking_answers import standings_footer
from openmodels.comparability import Why
from openmodels.forecast import (
    WINDOW_DAYS,
    Forecast,
    NoForecast,
    Outlook,
    Reason,
    adjacent_forecasts,
)
from openmodels.periods import change_period
from openmodels.regions import OTHER, region_members, region_names
from openmodels.standings import Standings, read_standings, region_standings
from openmodels.timeline import region_runs
from storage import queries as q
from storage.snapshots import format_timestamp, parse_timestamp
from storage.sql import Connection

if TYPE_CHECKING:
    from commands.answers import AnswerContext

MEMBERS_SHOWN = 12  # families named under each region; the rest are counted


def regions_answer(db: Connection, ctx: AnswerContext, command: Regions) -> Answer:
    """Each region's total, share and change, its families, and a chart over time.

    A region's change adds up its families' comparable changes and names those set
    aside; its forecast fits only the snapshots every one of its families may use."""
    timeline = ctx.timelines.read(db)
    standings = read_standings(db, command.metric, timeline)
    if standings is None:
        raise NoData
    latest, baseline = standings.latest, standings.baseline
    metric_name = METRIC_NAMES[command.metric]
    names = region_names(ctx.families)
    current = q.values_at(db, latest.id, command.metric)
    regional = region_standings(db, standings, names, command.metric)
    ranking, aside = regional.ranking, regional.aside
    members = region_members(current, names)

    # The forecasts fit the families in the latest snapshot, summed by region.
    window = format_timestamp(parse_timestamp(latest.taken_at) - timedelta(days=WINDOW_DAYS))
    in_latest = q.family_series(db, sorted(current), "all_time", since=window)

    blocks: list[bk.Block] = [bk.header(f"Regions by {metric_name}")]
    summary = ""
    if len(ranking) >= 2:
        first, second = ranking[0], ranking[1]
        summary = lead_sentence(
            escape(first.family), escape(second.family), first.value, second.value, metric_name
        )
    # A pass is projected on all-time totals only: 30-day figures rise and fall.
    outlooks: list[Outlook] = []
    runs = region_runs(timeline, in_latest, names, latest)
    if command.metric == "all_time":
        outlooks = adjacent_forecasts(
            [r.family for r in ranking], runs.series, changed=runs.changed, fell=runs.fell
        )
    since = counted_from(latest)
    passes = [forecast_line(str, o, since) for o in outlooks if isinstance(o, Forecast)]
    # A definition change that leaves a region too short a run to fit is said, not hidden.
    held_back = [
        no_forecast_line(str, o, ctx.families.label)
        for o in outlooks
        if isinstance(o, NoForecast) and o.reason is Reason.REDEFINED
    ]
    if summary:
        blocks.append(bk.section("\n".join([summary, *passes, *held_back])))
    period = change_period(latest.date, baseline.date) if baseline else None
    for r in ranking:
        change = ""
        if r.value_change is not None:
            moved = f" {arrow(r.rank_change)}" if r.rank_change else ""
            change = f" · {signed(r.value_change)}{moved}"
            if r.share_change is not None:
                change += f" · share {points(r.share_change)}"
        families = members.get(r.family, [])
        named = [f"{family_link(ctx.families, f)} {human(v)}" for f, v in families[:MEMBERS_SHOWN]]
        if len(families) > MEMBERS_SHOWN:
            named.append(f"_and {len(families) - MEMBERS_SHOWN} more_")
        text = f"{r.rank}. *{escape(r.family)}*  {human(r.value)} · {percent(r.share)}{change}\n"
        text += " · ".join(named)
        left_out = aside.get(r.family, {})
        if left_out and period is not None:
            text += "\n_" + _aside(ctx, standings, left_out, period) + "_"
        blocks.append(bk.section(text))
    notes = [f"Families without a region count under {OTHER}."] if OTHER in members else []
    if aside and period is not None:
        notes.append(
            "A region's change counts only its families counted alike at both ends; its "
            "share moves are among those families."
        )
    blocks.append(standings_footer(standings, *notes))

    chart = lines_chart(
        db,
        timeline,
        latest,
        [
            Line(
                r.family,
                tuple(f for f, _ in members.get(r.family, [])),
                tuple(ctx.families.label(f) for f, _ in members.get(r.family, [])),
            )
            for r in ranking
        ],
        title="Regions",
        filename=f"openmodels-regions{'-30d' if command.metric == '30d' else ''}"
        f"{'' if command.view == 'total' else '-' + command.view}-{latest.date}.png",
        metric=command.metric,
        view=command.view,
        projections=[
            projection(o, {r.family: r.family for r in ranking}, runs.series)
            for o in outlooks
            if isinstance(o, Forecast)
        ],
    )
    text = f"Regions by {metric_name} ({latest.date}): " + ", ".join(
        f"{escape(r.family)} {human(r.value)} ({percent(r.share)})" for r in ranking
    )
    if summary:
        text = " ".join([summary, *passes, *held_back]).replace("*", "") + " " + text
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)


def points(share_change: float) -> str:
    """A change of share in percentage points: '+1.2 pts', '-0.4 pts', '0.0 pts'."""
    value = share_change * 100
    return f"{value:+.1f} pts" if round(value, 1) else "0.0 pts"


def _aside(ctx: AnswerContext, standings: Standings, left_out: dict[str, Why], period: str) -> str:
    """'Not in its change: Aurora (definition changed on 15 Feb)'."""
    parts = [
        f"{escape(ctx.families.label(family))} "
        f"({aside_reason(standings.bases[family], period, standings.latest.taken_at)})"
        for family in left_out
    ]
    return "Not in its change: " + ", ".join(parts)
