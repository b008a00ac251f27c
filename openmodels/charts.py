"""Charts as PNG bytes, drawn with matplotlib's object API on the Agg canvas.

No pyplot: its global figure registry is not safe from Slack handler threads.
matplotlib is imported lazily so text answers start without paying for it.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from openmodels.crossings import Crossing, crossings
from openmodels.numbers import human

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from openmodels.chart_spec import ChartSpec

# The version of how charts look: part of each chart's identity (chart_spec.chart_key), so
# charts kept from an earlier drawing are never shown once it changes. Bump it with any
# change to what render_chart draws.
STYLE = "1"
# Colour-blind-safe palette (Okabe–Ito), enough for compare's six families.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARK_COLOUR = "#333333"
BREAK_MARKER = "D"  # where a line starts counting by another definition
MAX_LABELLED_CROSSINGS = 8  # beyond this a chart shows the marks, not a label for each


def render_chart(spec: ChartSpec, dpi: int = 144) -> bytes:
    """Draw one line per series (or per runner of a race) of `spec`; the PNG bytes."""
    buffer = io.BytesIO()
    figure = race_figure(spec, dpi) if spec.race else chart_figure(spec, dpi)
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": "openmodels"})
    return buffer.getvalue()


def chart_figure(spec: ChartSpec, dpi: int = 144) -> Figure:
    """The chart of `spec` as a matplotlib Figure on the Agg canvas, not yet saved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    ends: list[tuple[float, str, str]] = []  # (last value, label text, colour)
    for i, (label, points) in enumerate(spec.series.items()):
        if not points:
            continue
        colour = PALETTE[i % len(PALETTE)]
        # A line counted by another definition from a snapshot on is drawn apart there,
        # the new piece's first point marked: the step between them is no growth.
        for j, piece in enumerate(spec.segments(label)):
            # Full timestamps, so snapshots of one day stay apart and crossings sit on
            # the lines.
            xs = date2num([datetime.fromisoformat(t) for t, _ in piece])
            values = [v for _, v in piece]
            axes.plot(xs, values, label=label if j == 0 else "_nolegend_", color=colour,
                      linewidth=2.2)  # fmt: skip
            if j:
                axes.plot(
                    xs[:1],
                    values[:1],
                    marker=BREAK_MARKER,
                    markersize=7,
                    markerfacecolor="white",
                    markeredgecolor=colour,
                    markeredgewidth=1.8,
                    linestyle="none",
                    zorder=5,
                )
        ends.append((float(points[-1][1]), human(points[-1][1]), colour))
    drawn = len(ends)
    if ends:
        _label_ends(axes, ends)
    else:
        axes.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=axes.transAxes)
    axes.xaxis_date()
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    _dress(
        figure,
        axes,
        spec,
        "cumulative downloads" if spec.metric == "all_time" else "downloads, last 30 days",
        " · ◆ definition changed (the step is not growth)" if spec.breaks else "",
    )
    if drawn:
        axes.legend(loc="upper left", frameon=False)
        # Last: placing the labels measures the finished layout.
        _mark_crossings(axes, crossings(spec.series, spec.breaks), date2num)
    return figure


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


# Where a crossing's label may go, as offsets in points from the mark, in order of
# preference: above-left and below-right of a crossing are clear of lines that rise.
_LABEL_SPOTS = [
    (dx * sign, dy * sign, ha, va)
    for dy in (10, 40)
    for sign in (1, -1)
    for dx, ha, va in (
        (-8, "right", "bottom"),
        (8, "left", "bottom"),
    )
]


def _mark_crossings(axes: Any, found: list[Crossing], to_x: Any) -> None:
    """Ring each point where two lines cross, labelled with who passed whom and the date.

    Crossings first seen in the same snapshot share one label. Each label goes in
    the spot around its mark that covers the fewest line points and stays inside
    the plot, clear of the legend and of the labels already placed. The layout is
    fixed first and the labels kept out of it, so they never squeeze the plot.
    """
    import numpy as np

    if not found:
        return
    for c in found:
        axes.plot(
            [float(to_x(c.at))],
            [c.value],
            marker="o",
            markersize=7,
            markerfacecolor="white",
            markeredgecolor=MARK_COLOUR,
            markeredgewidth=1.5,
            zorder=5,
        )
    figure = axes.get_figure()
    figure.draw_without_rendering()  # settle the constrained layout before measuring
    renderer = figure.canvas.get_renderer()
    frame = axes.get_window_extent(renderer)
    points = _line_points(axes, np)
    taken = [axes.get_legend().get_window_extent(renderer)] if axes.get_legend() else []
    groups: dict[str, list[Crossing]] = {}
    for c in found:
        groups.setdefault(c.date, []).append(c)
    for day, group in list(groups.items())[:MAX_LABELLED_CROSSINGS]:
        lines = [f"{c.passer} passes {c.passed}" for c in group[:3]]
        if len(group) > 3:
            lines.append(f"and {len(group) - 3} more")
        first = group[0]
        best: tuple[float, Any] | None = None
        for dx, dy, ha, va in _LABEL_SPOTS:
            label = axes.annotate(
                "\n".join([*lines, day]),
                xy=(float(to_x(first.at)), first.value),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=8,
                color=MARK_COLOUR,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"},
                zorder=6,
                in_layout=False,
            )
            box = label.get_window_extent(renderer).expanded(1.1, 1.2)
            inside = (
                box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                and box.y1 <= frame.y1
            )  # fmt: skip
            covered = int(
                np.count_nonzero(
                    (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
                    & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
                )
            )  # fmt: skip
            score = (0 if inside else 10_000) + 1_000 * sum(box.overlaps(t) for t in taken)
            score += covered
            if best is None or score < best[0]:
                if best is not None:
                    best[1].remove()
                best = (score, label)
            else:
                label.remove()
        if best is not None:
            taken.append(best[1].get_window_extent(renderer))


def _line_points(axes: Any, np: Any, per_line: int = 400) -> Any:
    """Points along every drawn line, in display coordinates, dense enough to find overlaps."""
    chunks = [np.empty((0, 2))]
    for line in axes.get_lines():
        xy = axes.transData.transform(np.asarray(line.get_xydata(), dtype=float))
        if len(xy) < 2:
            continue
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        if along[-1] == 0:
            continue
        at = np.linspace(0.0, along[-1], per_line)
        chunks.append(
            np.column_stack([np.interp(at, along, xy[:, 0]), np.interp(at, along, xy[:, 1])])
        )
    return np.vstack(chunks)


def race_figure(spec: ChartSpec, dpi: int = 144) -> Figure:
    """A race of `spec`: each runner's downloads since first seen by days since first
    seen, day 0 aligned, with a dashed mark at the age the race is judged at."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 4.5), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    ends: list[tuple[float, str, str]] = []
    for i, (label, points) in enumerate(spec.race.items()):
        if not points:
            continue
        colour = PALETTE[i % len(PALETTE)]
        axes.plot([x for x, _ in points], [v for _, v in points], label=label, color=colour,
                  linewidth=2.2, marker="o" if len(points) == 1 else None)  # fmt: skip
        ends.append((float(points[-1][1]), human(points[-1][1]), colour))
    if ends:
        _label_ends(axes, ends)
        axes.legend(loc="upper left", frameon=False)
    else:
        axes.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=axes.transAxes)
    if spec.race_age is not None and spec.race_age > 0:
        axes.axvline(spec.race_age, color=MARK_COLOUR, linestyle="--", linewidth=1, alpha=0.6)
        axes.annotate(
            f"day {spec.race_age:g}",
            xy=(spec.race_age, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -4),
            textcoords="offset points",
            va="top",
            fontsize=8,
            color=MARK_COLOUR,
        )
    axes.set_xlim(left=0)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("days since first seen")
    _dress(figure, axes, spec, "downloads since first seen", " · day 0: first seen")
    return figure


def _dress(figure: Figure, axes: Any, spec: ChartSpec, ylabel: str, note: str) -> None:
    """What every chart wears: downloads on the y axis, a light grid, the title, and a
    line naming the source and snapshot (`note` added), and the sample when it is one."""
    from matplotlib.ticker import FuncFormatter

    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: human(v).replace(".0", "")))
    axes.set_ylabel(ylabel)
    axes.grid(True, alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    figure.suptitle(spec.title, x=0.01, ha="left", fontsize=13, fontweight="bold")
    source = f"Hugging Face Hub, snapshot {spec.snapshot_date}{note}"
    if spec.sample:
        source += " · SAMPLE DATA (synthetic)"
    axes.set_title(source, loc="left", fontsize=9, color="#555555")
