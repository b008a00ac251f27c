"""Charts as PNG bytes, drawn with matplotlib's object API on the Agg canvas.

No pyplot: its global figure registry is not safe from Slack handler threads.
matplotlib is imported lazily so text answers start without paying for it.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from commands.format import human

if TYPE_CHECKING:
    from commands.answer import ChartSpec

# Colour-blind-safe palette (Okabe–Ito), enough for compare's six families.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def render_chart(spec: ChartSpec, dpi: int = 144) -> bytes:
    """Draw one line per series of `spec` and return the PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(8, 4.5), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    ends: list[tuple[float, str, str]] = []  # (last value, label text, colour)
    for i, (label, points) in enumerate(spec.series.items()):
        if not points:
            continue
        dates = [datetime.strptime(t[:10], "%Y-%m-%d") for t, _ in points]
        values = [v for _, v in points]
        axes.plot(
            date2num(dates),
            values,
            label=label,
            color=PALETTE[i % len(PALETTE)],
            linewidth=2.2,
        )
        ends.append((float(values[-1]), human(values[-1]), PALETTE[i % len(PALETTE)]))
    drawn = len(ends)
    if ends:
        _label_ends(axes, ends)
    else:
        axes.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=axes.transAxes)
    axes.xaxis_date()
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: human(v).replace(".0", "")))
    axes.set_ylabel(
        "cumulative downloads" if spec.metric == "all_time" else "downloads, last 30 days"
    )
    axes.grid(True, alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    figure.suptitle(spec.title, x=0.01, ha="left", fontsize=13, fontweight="bold")
    note = f"Hugging Face Hub, snapshot {spec.snapshot_date}"
    if spec.sample:
        note += " · SAMPLE DATA (synthetic)"
    axes.set_title(note, loc="left", fontsize=9, color="#555555")
    if drawn:
        axes.legend(loc="upper left", frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": "openmodels"})
    return buffer.getvalue()


def _label_ends(axes: Any, ends: list[tuple[float, str, str]], gap: float = 0.05) -> None:
    """Write each line's last value beside the plot, nudged apart so none overlap."""
    low, high = axes.get_ylim()
    span = (high - low) or 1.0
    placed: list[tuple[float, str, str]] = []
    for value, text, colour in sorted(ends):
        y = (value - low) / span
        if placed and y - placed[-1][0] < gap:
            y = placed[-1][0] + gap
        placed.append((y, text, colour))
    overflow = placed[-1][0] - 1.0 if placed else 0.0
    for y, text, colour in placed:
        y = y - max(0.0, overflow)
        axes.text(1.01, y, text, transform=axes.transAxes, va="center", fontsize=9, color=colour)
