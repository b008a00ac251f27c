"""The `regions` answer: families summed by region, with a chart of regions over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands import blocks as bk
from commands.answer import Answer, ChartSpec
from commands.changes import aside_reason
from commands.common import NoData, chart_alt_text, chart_marks, footer, lead_sentence
from commands.forecast_answer import forecast_line, no_forecast_line
from commands.format import METRIC_NAMES, arrow, escape, family_link, human, percent, signed
from commands.parser import Regions
from openmodels.comparability import Why
from openmodels.forecast import Forecast, NoForecast, Reason, adjacent_forecasts
from openmodels.periods import change_period
from openmodels.regions import OTHER, region_members, region_names, region_series
from openmodels.standings import Standings, read_standings, region_standings
from openmodels.timeline import region_runs
from storage import queries as q
from storage.connection import Database

if TYPE_CHECKING:
    from commands.answers import AnswerContext

MEMBERS_SHOWN = 12  # families named under each region; the rest are counted


def regions_answer(db: Database, ctx: AnswerContext, command: Regions) -> Answer:
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

    # Every family's series in one read; the chart sums those in the latest snapshot.
    every = q.family_series(db, None, command.metric)
    in_latest = {f: every[f] for f in current if f in every}
    series = region_series(in_latest, names)
    plotted = {r.family: series.get(r.family, []) for r in ranking}

    blocks: list[bk.Block] = [bk.header(f"Regions by {metric_name}")]
    summary = ""
    if len(ranking) >= 2:
        first, second = ranking[0], ranking[1]
        summary = lead_sentence(
            escape(first.family), escape(second.family), first.value, second.value, metric_name
        )
    # A pass is projected on all-time totals only: 30-day figures rise and fall.
    outlooks = []
    if command.metric == "all_time":
        runs = region_runs(timeline, in_latest, names, latest)
        outlooks = adjacent_forecasts(
            [r.family for r in ranking], runs.series, changed=runs.changed, fell=runs.fell
        )
    passes = [forecast_line(str, o) for o in outlooks if isinstance(o, Forecast)]
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
    blocks.append(footer(latest, baseline, *notes))

    what = "cumulative downloads" if command.metric == "all_time" else "30-day downloads"
    marks = chart_marks(
        {
            region: [
                (ctx.families.label(f), b)
                for f, _ in members.get(region, [])
                for b in timeline.breaks(f)
            ]
            for region in plotted
        },
        plotted,
    )
    chart = ChartSpec(
        title=f"Regions: {what}",
        series=plotted,
        metric=command.metric,
        snapshot_date=latest.date,
        alt_text=chart_alt_text(plotted, latest.date, f"Hub {what} by region", marks),
        filename=(
            f"openmodels-regions{'-30d' if command.metric == '30d' else ''}-{latest.date}.png"
        ),
        sample=latest.is_sample,
        breaks=marks.breaks,
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
