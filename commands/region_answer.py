"""The `regions` answer: families summed by region, with a chart of regions over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands import blocks as bk
from commands.answer import Answer, ChartSpec
from commands.common import NoData, chart_alt_text, footer, lead_sentence
from commands.forecast_answer import forecast_line
from commands.format import METRIC_NAMES, arrow, escape, family_link, human, percent, signed
from commands.parser import Regions
from openmodels.forecast import Forecast, adjacent_forecasts
from openmodels.ranking import rank_families
from openmodels.regions import OTHER, region_members, region_names, region_series, region_totals
from storage import queries as q
from storage.connection import Database

if TYPE_CHECKING:
    from commands.answers import AnswerContext

MEMBERS_SHOWN = 12  # families named under each region; the rest are counted


def regions_answer(db: Database, ctx: AnswerContext, command: Regions) -> Answer:
    """Each region's total, share and change, its families, and a chart over time."""
    latest = q.latest_snapshot(db)
    if latest is None:
        raise NoData
    baseline = q.snapshot_near(db, latest, days=7)
    metric_name = METRIC_NAMES[command.metric]
    names = region_names(ctx.families)
    current = q.values_at(db, latest.id, command.metric)
    before = q.values_at(db, baseline.id, command.metric) if baseline else None
    ranking = rank_families(
        region_totals(current, names), region_totals(before, names) if before else None
    )
    members = region_members(current, names)

    # Every family's series in one read; the chart sums those in the latest snapshot.
    every = q.family_series(db, None, command.metric)
    series = region_series({f: every[f] for f in current if f in every}, names)
    plotted = {r.family: series.get(r.family, []) for r in ranking}

    blocks: list[bk.Block] = [bk.header(f"Regions by {metric_name}")]
    summary = ""
    if len(ranking) >= 2:
        first, second = ranking[0], ranking[1]
        summary = lead_sentence(
            escape(first.family), escape(second.family), first.value, second.value, metric_name
        )
    # A pass is projected on all-time totals only: 30-day figures rise and fall.
    forecasts = (
        [
            o
            for o in adjacent_forecasts([r.family for r in ranking], plotted)
            if isinstance(o, Forecast)
        ]
        if command.metric == "all_time"
        else []
    )
    passes = [forecast_line(str, f) for f in forecasts]
    if summary:
        blocks.append(bk.section("\n".join([summary, *passes])))
    for r in ranking:
        change = ""
        if r.value_change is not None:
            moved = f" {arrow(r.rank_change)}" if r.rank_change else ""
            change = f" · {signed(r.value_change)}{moved}"
        families = members.get(r.family, [])
        named = [f"{family_link(ctx.families, f)} {human(v)}" for f, v in families[:MEMBERS_SHOWN]]
        if len(families) > MEMBERS_SHOWN:
            named.append(f"_and {len(families) - MEMBERS_SHOWN} more_")
        blocks.append(
            bk.section(
                f"{r.rank}. *{escape(r.family)}*  {human(r.value)} · {percent(r.share)}{change}\n"
                + " · ".join(named)
            )
        )
    notes = [f"Families without a region count under {OTHER}."] if OTHER in members else []
    blocks.append(footer(latest, baseline, *notes))

    what = "cumulative downloads" if command.metric == "all_time" else "30-day downloads"
    chart = ChartSpec(
        title=f"Regions: {what}",
        series=plotted,
        metric=command.metric,
        snapshot_date=latest.date,
        alt_text=chart_alt_text(plotted, latest.date, f"Hub {what} by region"),
        filename=(
            f"openmodels-regions{'-30d' if command.metric == '30d' else ''}-{latest.date}.png"
        ),
        sample=latest.is_sample,
    )
    text = f"Regions by {metric_name} ({latest.date}): " + ", ".join(
        f"{escape(r.family)} {human(r.value)} ({percent(r.share)})" for r in ranking
    )
    if summary:
        text = " ".join([summary, *passes]).replace("*", "") + " " + text
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)
