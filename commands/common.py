"""Pieces answers share: the no-data signal, the snapshot footer, a chart's alt text
and the definition changes it marks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from commands import blocks as bk
from commands.format import human
from openmodels.comparability import Break, Why
from openmodels.crossings import crossings
from storage import queries as q

# Said in Slack as at a terminal, so it names no command-line tool: `openmodels ask`
# adds that hint on its own (openmodels.cli).
SAMPLE_NOTE = "*sample data* (synthetic), not live figures from the Hugging Face Hub"


class NoData(Exception):
    """The store holds no snapshot yet."""


def footer(snapshot: q.Snapshot, baseline: q.Snapshot | None = None, *notes: str) -> bk.Block:
    """Which snapshots the figures come from, the source, and any `notes`."""
    parts = [f"Snapshot {snapshot.date}"]
    if baseline is not None:
        parts.append(f"changes since {baseline.date}")
    parts.append(
        "Source: Hugging Face Hub download counts"
        + (" (imported history)" if snapshot.is_history else "")
    )
    texts = [" · ".join(parts), *notes]
    if snapshot.is_sample:
        texts.append(SAMPLE_NOTE)
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
                what = "count fell for good" if b.why is Why.DROPPED else "definition changed"
                redefined.append(f"{where}{who}'s {what} on {b.at.date}")
    sentences = redefined + [
        f"definitions first recorded on {day} ({', '.join(dict.fromkeys(lines))})"
        for day, lines in sorted(recorded.items())
    ]
    return ChartMarks({line: sorted(times) for line, times in breaks.items()}, sentences)


def chart_alt_text(
    series: dict[str, list[tuple[str, int]]], date: str, what: str, marks: ChartMarks | None = None
) -> str:
    """Alt text for a line chart: each line's first and last point, where lines cross
    (never across a marked definition change), and the changes marked."""
    marks = marks or ChartMarks()
    parts = [
        f"{label} from {human(points[0][1])} on {points[0][0][:10]} "
        f"to {human(points[-1][1])} on {points[-1][0][:10]}"
        for label, points in series.items()
        if points
    ]
    text = f"Line chart of {what} up to {date}: " + "; ".join(parts) + "."
    passes = [f"{c.passer} passed {c.passed} on {c.date}" for c in crossings(series, marks.breaks)]
    if passes:
        text += " " + "; ".join(passes) + "."
    return text + marks_sentence(marks)


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
