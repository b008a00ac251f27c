"""Pieces answers share: the no-data signal, the snapshot footer, a chart's alt text
and the definition changes it marks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from commands import blocks as bk
from commands.format import count, human
from openmodels.chart_spec import SHARE, TOTAL, WEEKLY, Projection, judged, split_at
from openmodels.comparability import Break, Why
from openmodels.crossings import crossings
from storage import queries as q
from storage.estimates import EstimateNote

# Said in Slack as at a terminal, so it names no command-line tool: `openmodels ask`
# adds that hint on its own (openmodels.cli). The sample speaks in its own time.
SAMPLE_NOTE = "*sample data as of {date}* (synthetic), not live figures from the Hugging Face Hub"


ESTIMATED = "estimated from the Hub's 30-day counts"
# What a break in a family's line was, after "Aurora's": said in chart notes and forecasts.
BREAK_WHAT = {
    Why.REDEFINED: "definition changed",
    Why.UNRECORDED: "definition was first recorded",
    Why.DROPPED: "count fell for good",
    Why.RETURNED: "missing models came back",
}


class NoData(Exception):
    """The store holds no snapshot yet."""


def estimate_label(notes: Iterable[EstimateNote]) -> str:
    """'estimated from the Hub's 30-day counts', and how many models it counted as zero
    (their 30-day count above their all-time count), when any."""
    floored = sum(note.floored for note in notes)
    if not floored:
        return ESTIMATED
    return (
        f"{ESTIMATED} ({count(floored, 'model')} with more downloads in 30 days than of "
        "all time counted as zero)"
    )


def footer(
    snapshot: q.Snapshot,
    baseline: q.Snapshot | None = None,
    *notes: str,
    estimate: EstimateNote | None = None,
) -> bk.Block:
    """Which snapshots the figures come from, the source, and any `notes`. A baseline
    from the day-one estimate (`estimate`, its note) is labelled as such."""
    parts = [f"Snapshot {snapshot.date}"]
    if baseline is not None and baseline.is_estimate:
        parts.append(
            f"changes since {baseline.date}, "
            + estimate_label([estimate] if estimate is not None else [])
        )
    elif baseline is not None:
        parts.append(f"changes since {baseline.date}")
    parts.append(
        "Source: Hugging Face Hub download counts"
        + (" (imported history)" if snapshot.is_history else "")
    )
    texts = [" · ".join(parts), *notes]
    if snapshot.is_sample:
        texts.append(SAMPLE_NOTE.format(date=snapshot.date))
    return bk.context(*texts)


@dataclass(frozen=True)
class ChartMarks:
    """The breaks a chart marks (a definition changed, a count fell for good): per line
    label, the times from which it is counted afresh (`ChartSpec.breaks`), and a sentence
    naming each."""

    breaks: dict[str, list[str]] = field(default_factory=dict)
    sentences: list[str] = field(default_factory=list)


def chart_marks(
    found: Mapping[str, Sequence[tuple[str, Break]]],
    series: Mapping[str, Sequence[tuple[str, int]]],
) -> ChartMarks:
    """The breaks to mark: for each line label, its (family label, break) pairs (a
    region's line carries its families'), those inside the line's plotted points."""
    breaks: dict[str, list[str]] = {}
    redefined: list[str] = []
    recorded: dict[str, list[str]] = {}  # date -> lines first recording definitions then
    for line, pairs in found.items():
        points = series.get(line) or []
        shown = {t for t, _ in points[1:]}
        for who, b in pairs:
            if b.at.taken_at not in shown:
                continue
            breaks.setdefault(line, [])
            if b.at.taken_at not in breaks[line]:
                breaks[line].append(b.at.taken_at)
            if b.why is Why.UNRECORDED:
                recorded.setdefault(b.at.date, []).append(line)
            else:
                where = "" if who == line else f"{line}: "
                redefined.append(f"{where}{who}'s {BREAK_WHAT[b.why]} on {b.at.date}")
    sentences = redefined + [
        f"definitions first recorded on {day} ({', '.join(dict.fromkeys(lines))})"
        for day, lines in sorted(recorded.items())
    ]
    return ChartMarks({line: sorted(times) for line, times in breaks.items()}, sentences)


def chart_alt_text(
    series: Mapping[str, Sequence[tuple[str, float]]],
    date: str,
    what: str,
    marks: ChartMarks | None = None,
    *,
    view: str = TOTAL,
    estimated: Sequence[str] = (),
    estimate: str = "",
    projections: Sequence[Projection] = (),
    unsure: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Alt text for a chart: each line's first and last point, where lines cross (never
    across a marked break, nor from a point of the estimate or a line's missing data,
    `unsure`), the breaks marked, the points estimated and the passes projected."""
    marks = marks or ChartMarks()
    value = _ALT_VALUE.get(view, human_value)

    def span(points: Sequence[tuple[str, float]]) -> str:
        if len(points) == 1:
            return f"{value(points[0][1])} on {points[0][0][:10]}"
        return (
            f"from {value(points[0][1])} on {points[0][0][:10]} "
            f"to {value(points[-1][1])} on {points[-1][0][:10]}"
        )

    # A line drawn apart is described piece by piece: no span reads across a break.
    parts = [
        f"{label} "
        + ", then counted afresh, ".join(
            span(piece) for piece in split_at(points, marks.breaks.get(label, []))
        )
        for label, points in series.items()
        if points
    ]
    kind = "Step chart" if view == WEEKLY else "Line chart"
    text = f"{kind} of {what} up to {date}: " + "; ".join(parts) + "."
    if view == TOTAL:
        found = crossings(judged(series, estimated, unsure or {}), marks.breaks)  # type: ignore[arg-type]
        passes = [f"{c.passer} passed {c.passed} on {c.date}" for c in found]
        if passes:
            text += " " + "; ".join(passes) + "."
    if estimated:
        days = ", ".join(t[:10] for t in estimated)
        text += f" The points of {days} are {estimate or ESTIMATED}."
    for p in projections:
        text += (
            f" Dashed ahead: {p.trailer} on course to pass {p.leader} around {p.at[:10]} "
            f"(80% range {p.low[:10]} to {p.high[:10]})."
        )
    return text + marks_sentence(marks)


def human_value(value: float) -> str:
    return human(round(value))


_ALT_VALUE = {
    WEEKLY: lambda v: f"{human(round(v))} a week",
    SHARE: lambda v: f"{v * 100:.1f}%",
}


def marks_sentence(marks: ChartMarks) -> str:
    """' Marked where a line counts by other rules, …: Aurora's definition changed on
    2026-02-15.' for a chart's alt text; '' with nothing marked."""
    if not marks.sentences:
        return ""
    return (
        " Marked where a line counts by other rules, a step that is not growth: "
        + "; ".join(marks.sentences)
        + "."
    )


def lead_sentence(first: str, second: str, first_value: int, second_value: int, what: str) -> str:
    """'*Qwen* leads *Llama* by 53.0K all-time downloads (1.25×).', or on a tie '*Qwen* and
    *Llama* are level at 900 all-time downloads.' (no one leads by 0). `first` and
    `second` are labels already escaped; `what` names the metric."""
    if first_value == second_value:
        return f"*{first}* and *{second}* are level at {human(first_value)} {what}."
    ratio = f" ({first_value / second_value:.2f}×)" if second_value else ""
    return f"*{first}* leads *{second}* by {human(first_value - second_value)} {what}{ratio}."
