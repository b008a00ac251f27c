"""Pieces answers share: the no-data signal, the snapshot footer, a chart's alt text."""

from __future__ import annotations

from commands import blocks as bk
from commands.format import human
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


def chart_alt_text(series: dict[str, list[tuple[str, int]]], date: str, what: str) -> str:
    """Alt text for a line chart: each line's first and last point, and where lines cross."""
    parts = [
        f"{label} from {human(points[0][1])} on {points[0][0][:10]} "
        f"to {human(points[-1][1])} on {points[-1][0][:10]}"
        for label, points in series.items()
        if points
    ]
    text = f"Line chart of {what} up to {date}: " + "; ".join(parts) + "."
    passes = [f"{c.passer} passed {c.passed} on {c.date}" for c in crossings(series)]
    if passes:
        text += " " + "; ".join(passes) + "."
    return text


def lead_sentence(first: str, second: str, first_value: int, second_value: int, what: str) -> str:
    """'*Qwen* leads *Llama* by 53.0K all-time downloads (1.25×).', or on a tie '*Qwen* and
    *Llama* are level at 900 all-time downloads.' (no one leads by 0). `first` and
    `second` are labels already escaped; `what` names the metric."""
    if first_value == second_value:
        return f"*{first}* and *{second}* are level at {human(first_value)} {what}."
    ratio = f" ({first_value / second_value:.2f}×)" if second_value else ""
    return f"*{first}* leads *{second}* by {human(first_value - second_value)} {what}{ratio}."
