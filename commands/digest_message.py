"""The weekly digest in words and Block Kit, with its chart's description. Pure.

`openmodels.digest` decides what the week holds; this module says it. Each section
appears only when the content has something for it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from commands import blocks as bk
from commands.answer import ChartSpec
from commands.changes import instead
from commands.common import chart_marks, footer, marks_sentence
from commands.forecast_answer import counted_from, forecast_line
from commands.format import arrow, escape, family_link, hub_url, human, link, percent, signed
from commands.launches_answer import adoption_text
from commands.movers_answer import growth
from openmodels.comparability import Why
from openmodels.digest import CHART_DAYS
from openmodels.periods import change_period
from openmodels.sizes import by_key

if TYPE_CHECKING:
    from openmodels.digest import DigestContent, DigestLaunch
    from openmodels.families import Families

MAX_OVERTAKES_SHOWN = 20
MAX_LAUNCHES_SHOWN = 10
QUIET_NOTE = "Nothing changed in the rankings since the last digest."


def digest_message(
    content: DigestContent, families: Families, quiet: bool = False
) -> dict[str, Any]:
    """The digest's message: fallback text, blocks and the chart to share with it.

    `quiet`: the channel's rankings are the same as in the last digest it received
    (it gets the digest every week): the digest says so first.
    """
    latest, baseline = content.latest, content.baseline
    period = change_period(latest.date, baseline.date) if baseline else None
    headline = _headline(content, families)
    blocks: list[bk.Block] = [bk.header(f"openmodels weekly digest — {latest.date}")]
    blocks.append(bk.section(escape(f"{QUIET_NOTE} {headline}" if quiet else headline)))
    blocks.append(bk.section(_ranking(content, families)))
    overtakes, moves = _overtakes(content, families, period)
    blocks.append(bk.section(overtakes))
    for section in (
        regions_line(content, families),
        mover_line(content, families, period),
        forecast_section(content, families),
        launches_section(content.launches, families, period),
        best_launch_line(content, families),
        class_leaders_section(content, families, period),
    ):
        if section:
            blocks.append(bk.section(section))
    blocks.append(footer(latest, baseline))
    text = f"openmodels weekly digest ({latest.date}): {headline}"
    if quiet:
        text = f"openmodels weekly digest ({latest.date}): {QUIET_NOTE} {headline}"
    if moves:
        text += " " + "; ".join(moves[:3]) + "."
    return {
        "text": bk.cut(text, bk.MAX_MESSAGE_TEXT),
        "blocks": bk.fit(blocks),
        "chart": asdict(digest_chart(content, families)),
    }


def _headline(content: DigestContent, families: Families) -> str:
    leader = content.all_time[0] if content.all_time else None
    if leader is None:
        return "No families in the latest snapshot."
    return (
        f"{families.label(leader.family)} leads with {human(leader.value)} all-time downloads "
        f"({percent(leader.share)} of tracked families)."
    )


def _ranking(content: DigestContent, families: Families) -> str:
    lines = []
    for r in content.all_time:
        basis = content.bases.get(r.family)
        compared = basis is None or basis.why in (None, Why.NEW)
        change = ""
        if compared and r.value_change is not None:
            change = f" {signed(r.value_change)}"
        elif not compared and basis is not None:
            change = f" ({instead(r, basis, content.latest.taken_at)})"
        # The move in the ranking is only among families compared over the week (and
        # without a baseline, no family is "new": nothing was compared).
        moved = f"{arrow(r.rank_change)} " if compared and content.baseline else ""
        name = family_link(families, r.family)
        lines.append(f"{r.rank}. {moved}*{name}*  {human(r.value)} ({percent(r.share)}){change}")
    return "*All-time downloads*\n" + bk.bulleted(lines, limit=2900, noun="families")


def _overtakes(
    content: DigestContent, families: Families, period: str | None
) -> tuple[str, list[str]]:
    """The overtakes section, and each overtake as plain text for the fallback."""
    words = {"all_time": "all-time", "30d": "30-day"}
    moves = [
        f"{escape(families.label(o.passer))} passed {escape(families.label(o.passed))} "
        f"in {words[o.metric]} downloads"
        for o in content.overtakes
    ]
    if period is None:
        return "*Overtakes*\nNone yet: no collection a day older to compare with.", moves
    shown = "\n".join(f"• {m}" for m in moves[:MAX_OVERTAKES_SHOWN])
    text = f"*Overtakes {period}*\n" + (shown or "None: the order held.")
    if len(moves) > MAX_OVERTAKES_SHOWN:
        text += f"\n_…and {len(moves) - MAX_OVERTAKES_SHOWN} more not shown_"
    return text, moves


def regions_line(content: DigestContent, families: Families) -> str:
    """'*Regions:* US 47.3% (+16.9M) · China 45.7% (+28.2M ▲1)'; '' without regions.

    A region's change adds up its families' comparable changes; those set aside are
    named: 'China 45.7% (+7.0M without Aurora)'."""
    if not content.regions:
        return ""
    parts = []
    for r in content.regions:
        aside = content.regions_aside.get(r.family, {})
        left_out = ", ".join(escape(families.label(f)) for f in aside)
        change = ""
        if r.value_change is not None:
            moved = f" {arrow(r.rank_change)}" if r.rank_change else ""
            without = f" without {left_out}" if left_out else ""
            change = f" ({signed(r.value_change)}{moved}{without})"
        elif left_out:  # none of its families compares over the week
            change = f" (no change: {left_out} not comparable)"
        parts.append(f"{escape(r.family)} {percent(r.share)}{change}")
    return "*Regions:* " + " · ".join(parts)


def mover_line(content: DigestContent, families: Families, period: str | None) -> str:
    """The week's biggest mover in all-time downloads; '' when no family gained."""
    mover = content.mover
    if mover is None or period is None:
        return ""
    return (
        f"*Biggest mover:* {family_link(families, mover.family)}, "
        f"{signed(mover.gained)} all-time downloads {period} ({growth(mover.growth)}), "
        f"now {human(mover.after)}."
    )


def forecast_section(content: DigestContent, families: Families) -> str:
    """The nearest projected pass; '' when no pair is on course to swap. On the sample,
    its days are counted from the sample's last snapshot, and say so."""
    if content.forecast is None:
        return ""
    since = counted_from(content.latest)
    return "*Next pass:* " + forecast_line(families.label, content.forecast, since)


def launches_section(
    launches: tuple[DigestLaunch, ...], families: Families, period: str | None
) -> str:
    """The week's launches, most downloaded first; '' when there were none."""
    if not launches:
        return ""
    ranked = sorted(launches, key=lambda launch: (-launch.downloads, launch.repo_id))
    lines = [
        f"• {link(hub_url(launch.repo_id), launch.repo_id)} "
        f"({escape(families.label(launch.family))}), first seen {launch.first_seen[:10]}: "
        f"{human(launch.downloads)} downloads"
        for launch in ranked[:MAX_LAUNCHES_SHOWN]
    ]
    if len(ranked) > MAX_LAUNCHES_SHOWN:
        lines.append(f"_…and {len(ranked) - MAX_LAUNCHES_SHOWN} more_")
    title = f"*Launches {period}*" if period else "*Launches*"
    return title + "\n" + bk.bulleted(lines, limit=2900, noun="launches")


def best_launch_line(content: DigestContent, families: Families) -> str:
    """The week's best start for its size; '' when no launch started ahead of its class."""
    best = content.best_launch
    if best is None or best.adoption is None:
        return ""
    return (
        f"*Best start for its size:* {link(hub_url(best.repo_id), best.repo_id)} "
        f"({escape(families.label(best.family))}), {adoption_text(best.adoption)}."
    )


def class_leaders_section(content: DigestContent, families: Families, period: str | None) -> str:
    """The size classes whose leading family changed; '' when none did."""
    if not content.class_leaders or period is None:
        return ""
    words = {"all_time": "all-time", "30d": "30-day"}
    lines = [
        f"• {escape(families.label(c.leader))} took the lead among "
        f"{by_key(c.size_class).models} from {escape(families.label(c.former))} in "
        f"{words[c.metric]} downloads ({human(c.leader_value)} vs {human(c.former_value)})"
        for c in content.class_leaders
    ]
    return f"*New leaders by model size {period}*\n" + "\n".join(lines)


def digest_chart(content: DigestContent, families: Families) -> ChartSpec:
    """The chart shared with the digest: the leaders' cumulative downloads, each
    definition change marked on its line."""
    latest = content.latest
    series = {families.label(f): points for f, points in content.chart_series.items()}
    marks = chart_marks(
        {
            families.label(f): [(families.label(f), b) for b in found]
            for f, found in content.chart_breaks.items()
        },
        series,
    )
    alt_text = (
        f"Line chart of cumulative Hub downloads over {CHART_DAYS} days up to {latest.date} "
        "for " + ", ".join(f"{k} ({human(v[-1][1])})" for k, v in series.items() if v) + "."
    )
    return ChartSpec(
        title="Top families: cumulative downloads",
        series=series,
        metric="all_time",
        snapshot_date=latest.date,
        alt_text=alt_text + marks_sentence(marks),
        filename=f"openmodels-digest-{content.week}.png",
        sample=latest.is_sample,
        breaks=marks.breaks,
        unsure={families.label(f): times for f, times in content.chart_unsure.items()},
    )
