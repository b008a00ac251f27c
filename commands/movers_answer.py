"""The `movers` answer: families and models by all-time downloads gained in N days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from commands import blocks as bk
from commands.answer import Answer
from commands.changes import aside_reason
from commands.chart_views import Line, lines_chart
from commands.common import NoData, footer
from commands.format import count, escape, family_link, hub_url, human, link, signed
from commands.parser import Movers
from openmodels.chart_spec import WEEKLY
from openmodels.comparability import COUNTED_AFRESH, Why
from openmodels.movers import SetAside, family_movers
from openmodels.timeline import Timeline
from storage import queries as q
from storage.estimates import estimate_note
from storage.snapshots import format_timestamp, parse_timestamp
from storage.sql import Connection

if TYPE_CHECKING:
    from commands.answers import AnswerContext

TOP_MODELS = 10
CHARTED = 5  # families on the movers' chart of weekly gains
# The chart's weeks: at least this many, so the period's gains stand against the weeks
# before them (over a week alone, each family's line would be one flat step).
CHART_WEEKS = 8

UNRECORDED = (
    "Snapshots before {date} do not record the rules each family was counted by (an "
    "older openmodels took them), so nothing is compared with them: {consequence}."
)


def growth(fraction: float | None) -> str:
    """'+3.6%', '+1,250%'; 'new' when there was nothing to grow from."""
    if fraction is None:
        return "new"
    value = fraction * 100
    return f"{value:+,.0f}%" if abs(value) >= 1000 else f"{value:+.1f}%"


def period(
    latest: q.Snapshot, baseline: q.Snapshot, days: int, *, why: str | None = None
) -> tuple[str, str]:
    """(short, exact) wording of the period compared: the snapshot dates it really spans.

    ('in 7 days', '2026-01-10 → 2026-01-17'), or when no snapshot is exactly `days`
    back, ('since 2026-01-12', '2026-01-12 → 2026-01-17, 5 days: …'). `why` replaces
    the reason given for the shorter period, when it is not a missing snapshot.
    """
    span = (date.fromisoformat(latest.date) - date.fromisoformat(baseline.date)).days
    dates = f"{baseline.date} → {latest.date}"
    if span == days:
        return f"in {days} days" if days != 1 else "in 1 day", dates
    length = "the same day" if span == 0 else count(span, "day")
    return (
        f"since {baseline.date}",
        f"{dates}, {length}: "
        + (why or f"the store has no snapshot from {count(days, 'day')} before the latest"),
    )


def movers_answer(db: Connection, ctx: AnswerContext, command: Movers) -> Answer:
    """Families ranked by all-time downloads gained, and the models that gained most."""
    latest = q.latest_snapshot(db)
    if latest is None:
        raise NoData
    baseline = q.snapshot_near(db, latest, days=command.days)
    if baseline is None:
        text = (
            "Movers compare two snapshots at least a day apart; the store has none a day "
            f"older than its latest, from {latest.date}. Ask again after the next day's "
            "collection."
        )
        return Answer(text=text, blocks=[bk.section(text), footer(latest)], public=command.public)
    timeline = ctx.timelines.read(db)
    unrecorded = ""
    comparable = True  # the baseline recorded definitions, or predates them as the latest does
    if timeline.at(latest).definitions and not timeline.at(baseline).definitions:
        # The baseline was taken by an openmodels that did not record by which rules it
        # counted, so no family compares with it. Gains are counted from the first
        # snapshot that did, when there is one before the latest, and the answer says so.
        recorded = q.first_snapshot_with_definitions(db, after=baseline, before=latest)
        if recorded is not None:
            baseline = recorded
            consequence = f"gains are counted from {baseline.date}"
        else:
            comparable = False
            consequence = "families are ranked again from the next snapshot"
        unrecorded = UNRECORDED.format(
            date=baseline.date if recorded else latest.date, consequence=consequence
        )
    before = q.values_at(db, baseline.id, "all_time")
    after = q.values_at(db, latest.id, "all_time")
    aside = timeline.set_aside(baseline, latest, {*before, *after})
    movers = family_movers(before, after, aside)
    redefined = frozenset(f for f, why in aside.items() if why in (Why.REDEFINED, Why.UNRECORDED))
    models = q.model_gains(db, baseline, latest, TOP_MODELS, exclude_families=redefined)
    why = "older snapshots are not comparable (below)" if unrecorded else None
    short, exact = period(latest, baseline, command.days, why=why)

    label = ctx.families.label
    blocks: list[bk.Block] = [bk.header(f"Movers: all-time downloads gained {short}")]
    headline = []
    if movers.ranked and movers.ranked[0].gained > 0:
        top = movers.ranked[0]
        headline.append(
            f"*{escape(label(top.family))}* gained most: {signed(top.gained)} "
            f"({growth(top.growth)})."
        )
    fastest = movers.fastest
    if fastest is not None and movers.ranked and fastest != movers.ranked[0]:
        headline.append(
            f"*{escape(label(fastest.family))}* grew fastest: {growth(fastest.growth)}."
        )
    blocks.append(bk.section(" ".join([*headline, f"_{exact}_"])))
    if unrecorded:
        blocks.append(bk.context(unrecorded))

    lines = [
        f"{i}. *{family_link(ctx.families, g.family)}*  {signed(g.gained)} · "
        f"{growth(g.growth)} (now {human(g.after)})"
        for i, g in enumerate(movers.ranked, 1)
    ]
    families_text = "*Families*\n" + (
        bk.bulleted(lines, limit=2900, noun="families") if lines else "None to rank."
    )
    # With nothing recorded to compare with, the note says why for every family at once.
    set_aside = [s for s in movers.set_aside if comparable or s.reason is not Why.UNRECORDED]
    if set_aside:
        reasons = ", ".join(
            f"{escape(label(s.family))} ({_aside(db, timeline, s, baseline, latest)})"
            for s in set_aside
        )
        families_text += f"\n_Not ranked: {reasons}_"
    blocks.append(bk.section(bk.cut(families_text, bk.MAX_SECTION_TEXT)))

    model_lines = [
        f"{i}. {link(hub_url(m.repo_id), m.repo_id)} ({escape(label(m.family))})  "
        f"{signed(m.gained)} · {growth(m.growth) if m.before is None or m.before else 'from 0'}"
        for i, m in enumerate(models, 1)
    ]
    blocks.append(
        bk.section(
            "*Models that gained most*\n"
            + (bk.bulleted(model_lines, limit=2900, noun="models") if model_lines else "None.")
        )
    )
    estimate = estimate_note(db, baseline.id) if baseline.is_estimate else None
    blocks.append(footer(latest, baseline, estimate=estimate))
    chart = None
    if movers.ranked:
        shown = movers.ranked[:CHARTED]
        chart = lines_chart(
            db,
            timeline,
            latest,
            [Line(label(g.family), (g.family,)) for g in shown],
            title=f"Movers {short}",
            filename=f"openmodels-movers-{command.days}d-{latest.date}.png",
            view=WEEKLY,
            since=min(baseline.taken_at, _weeks_before(latest, CHART_WEEKS)),
        )
    text = f"Movers {short} ({exact}): " + ", ".join(
        f"{escape(label(g.family))} {signed(g.gained)} ({growth(g.growth)})"
        for g in movers.ranked[:5]
    )
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)


def _weeks_before(latest: q.Snapshot, weeks: int) -> str:
    return format_timestamp(parse_timestamp(latest.taken_at) - timedelta(weeks=weeks))


def _aside(
    db: Connection, timeline: Timeline, s: SetAside, baseline: q.Snapshot, latest: q.Snapshot
) -> str:
    """Why a family is not ranked; for one redefined in the period, its gain since."""
    basis = timeline.basis(s.family, baseline, latest)
    text = aside_reason(basis, f"since {baseline.date}", latest.taken_at)
    if s.reason in COUNTED_AFRESH and basis.start is not None:
        values = q.values_of(db, [basis.start.id, latest.id], "all_time")
        gained = values[latest.id][s.family] - values[basis.start.id][s.family]
        text += f": {signed(gained)} since"
    return text
