"""Charts as PNG bytes, drawn with matplotlib's object API on the Agg canvas.

Drawing has two steps. `plan_chart` decides everything a reader sees as plain data
(the pieces of each line and how each is drawn, the axes' limits and ticks, the title's
lines, the value beside each line's end, where the legend goes, the notes): it is pure,
and the tests read it. `chart_figure` draws a plan; only the placement of the labels of
crossings and projected passes, which needs the text's measured size, is decided while
drawing.

What a plan guarantees, whatever the series:
- a series of one point is a point, with a note saying it is the only one so far, and
  the x-axis spans days around it, never years;
- the title is wrapped, never cut; the legend sits below the plot, never over the data;
- the x-axis names its months and, at its first tick and at each new year, the year;
- views of counts that rise and fall (30-day downloads, weekly gains, shares) start at
  zero, so a drift of a tenth never looks like a collapse;
- a line is drawn apart where it counts afresh (◆), a point of the day-one estimate is
  hollow and the stretch from it dashed, and no crossing is judged across either;
- a forecast pass is a dashed projection up to the crossing, with its 80% range.

No pyplot: its global figure registry is not safe from Slack handler threads.
matplotlib is imported lazily so text answers start without paying for it.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from openmodels.chart_spec import (
    SHARE,
    TOTAL,
    WEEKLY,
    ChartSpec,
    Point,
    Projection,
    Value,
    judged,
)
from openmodels.crossings import Crossing, crossings
from openmodels.numbers import human

if TYPE_CHECKING:
    from matplotlib.figure import Figure


# The version of how charts look: part of each chart's identity (chart_spec.chart_key), so
# charts kept from an earlier drawing are never shown once it changes. Bump it with any
# change to what render_chart draws.
STYLE = "3"
# Colour-blind-safe palette (Okabe–Ito), enough for compare's six families.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARK_COLOUR = "#333333"
BREAK_MARKER = "D"  # where a line starts counting afresh
ESTIMATE_MARKER = "o"  # hollow: a point of the day-one estimate
POINT_MARKER = "o"  # filled: a series of one point
DOT_MARKER = "."  # each snapshot of a line of few: where it was really counted
FEW_POINTS = 12
MAX_LABELLED_CROSSINGS = 8  # beyond this a chart shows the marks, not a label for each
TITLE_WIDTH = 60  # characters of the bold title per line in an 8-inch figure
NOTE_WIDTH = 105  # characters of the small grey note per line
LEGEND = "outside lower center"  # below the plot: never over a line
MAX_XTICKS = 8

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True)
class Piece:
    """One stretch of a line, drawn in one style."""

    label: str  # the series it belongs to
    colour: str
    points: list[Point]
    dashed: bool = False  # from a point of the estimate
    steps: bool = False  # weekly gains: each value holds until the next point
    start_marker: str | None = None  # BREAK_MARKER, ESTIMATE_MARKER or POINT_MARKER
    legend: bool = False  # the piece that names the series in the legend
    dots: bool = False  # a dot at each point counted (a line of few points)


@dataclass(frozen=True)
class EndLabel:
    """A series' last value, written beside the plot at `y` (a fraction of its height)."""

    y: float
    text: str
    colour: str


@dataclass(frozen=True)
class ChartPlan:
    """Everything `chart_figure` draws, decided in advance."""

    title_lines: list[str]
    note_lines: list[str]
    ylabel: str
    pieces: list[Piece]
    xlim: tuple[str, str]  # timestamps
    ylim: tuple[float, float]
    xticks: list[tuple[str, str]]  # (timestamp, label)
    percent: bool  # values are fractions, shown as percentages
    end_labels: list[EndLabel]
    legend: str  # where the legend goes (matplotlib's `loc`), LEGEND
    legend_columns: int
    crossings: list[Crossing] = field(default_factory=list)
    projections: list[Projection] = field(default_factory=list)
    colours: dict[str, str] = field(default_factory=dict)  # series label -> its colour
    estimated: frozenset[str] = frozenset()  # times of the estimate's points


def render_chart(spec: ChartSpec, dpi: int = 144) -> bytes:
    """Draw `spec` (its lines, or a race's runners) and return the PNG bytes."""
    buffer = io.BytesIO()
    figure = race_figure(spec, dpi) if spec.race else chart_figure(spec, dpi)
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": "openmodels"})
    return buffer.getvalue()


# -- the plan ---------------------------------------------------------------------------------


def plan_chart(spec: ChartSpec) -> ChartPlan:
    """What a chart of `spec` shows, decided without drawing. Pure."""
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(spec.series)}
    estimated = set(spec.estimated)
    pieces: list[Piece] = []
    singles: list[str] = []
    for label, points in spec.series.items():
        if not points:
            continue
        if len(points) == 1:
            singles.append(label)
        pieces += _pieces(spec, label, colours[label], estimated)
    projections = spec.projections if spec.view == TOTAL else []
    xlim = _xlim(spec, projections)
    ylim = _ylim(spec, projections)
    percent = spec.view == SHARE
    ends = [
        (float(points[-1][1]), _value_text(points[-1][1], percent), colours[label])
        for label, points in spec.series.items()
        if points
    ]
    drawn = [label for label, points in spec.series.items() if points]
    return ChartPlan(
        title_lines=textwrap.wrap(spec.title, TITLE_WIDTH) or [""],
        note_lines=textwrap.wrap(_note(spec, singles, projections), NOTE_WIDTH),
        ylabel=_ylabel(spec),
        pieces=pieces,
        xlim=xlim,
        ylim=ylim,
        xticks=date_ticks(*xlim),
        percent=percent,
        end_labels=end_labels(ends, ylim),
        legend=LEGEND,
        legend_columns=min(len(drawn), 6) or 1,
        crossings=_crossings(spec, estimated),
        projections=projections,
        colours=colours,
        estimated=frozenset(estimated),
    )


def _pieces(spec: ChartSpec, label: str, colour: str, estimated: set[str]) -> list[Piece]:
    """`label`'s line in the pieces drawn: apart at each break (the piece after it marked
    at its start); from a point of the estimate to the next point, dashed (the point
    hollow); a segment of a single point, a point."""
    steps = spec.view == WEEKLY
    dots = len(spec.series.get(label, ())) <= FEW_POINTS
    found: list[Piece] = []
    for j, segment in enumerate(spec.segments(label)):
        runs: list[tuple[bool, list[Point]]] = []  # (dashed, points), in order
        for k in range(len(segment) - 1):
            dashed = segment[k][0] in estimated
            if runs and runs[-1][0] == dashed:
                runs[-1][1].append(segment[k + 1])
            else:
                runs.append((dashed, [segment[k], segment[k + 1]]))
        if not runs:
            lone = segment[0][0] in estimated
            marker = ESTIMATE_MARKER if lone else BREAK_MARKER if j else POINT_MARKER
            found.append(Piece(label, colour, segment, dashed=lone, start_marker=marker))
            continue
        for i, (dashed, points) in enumerate(runs):
            start = ESTIMATE_MARKER if dashed else BREAK_MARKER if j and i == 0 else None
            found.append(Piece(label, colour, points, dashed, steps, start, dots=dots))
    if found:
        found[0] = replace(found[0], legend=True)
    return found


def _crossings(spec: ChartSpec, estimated: set[str]) -> list[Crossing]:
    """Where the lines cross, in a view of totals: only between points that may be judged
    (`judged`: neither estimated nor missing data), never across a break."""
    if spec.view != TOTAL:
        return []
    return crossings(judged(spec.series, estimated, spec.unsure), spec.breaks)  # type: ignore[arg-type]


def _source(spec: ChartSpec) -> str:
    # The sample speaks in its own time, as its answers do.
    if spec.sample:
        return f"SAMPLE DATA as of {spec.snapshot_date} (synthetic)"
    return f"Hugging Face Hub, snapshot {spec.snapshot_date}"


def _note(spec: ChartSpec, singles: list[str], projections: list[Projection]) -> str:
    parts = [_source(spec)]
    if spec.breaks:
        parts.append("◆ counted afresh from here (the step is not growth)")
    if spec.estimated:
        parts.append(f"○ {spec.estimate_label or 'estimated'}, dashed from there")
    if projections:
        parts.append("dashed ahead: projected pass, with its 80% range")
    days = {spec.series[label][0][0][:10] for label in singles}
    if singles and len(days) == 1 and len(singles) == len([p for p in spec.series.values() if p]):
        parts.append(f"one snapshot so far ({_day(spec.series[singles[0]][0][0], True)})")
    else:
        for label in singles:
            [(t, _)] = spec.series[label]
            parts.append(f"{label}: one snapshot so far ({_day(t, with_year=True)})")
    return " · ".join(parts)


def _ylabel(spec: ChartSpec) -> str:
    if spec.view == WEEKLY:
        return "all-time downloads gained per week"
    if spec.view == SHARE:
        return "share of all tracked downloads"
    return "cumulative downloads" if spec.metric == "all_time" else "downloads, last 30 days"


def _xlim(spec: ChartSpec, projections: list[Projection]) -> tuple[str, str]:
    times = [t for points in spec.series.values() for t, _ in points]
    times += [p.high for p in projections]
    if not times:
        latest = f"{spec.snapshot_date}T00:00:00Z"
        times = [latest]
    first, last = _parse(min(times)), _parse(max(times))
    pad = max((last - first) * 0.04, timedelta(days=1))
    if first == last:
        pad = timedelta(days=3)
    return _stamp(first - pad), _stamp(last + pad)


def _ylim(spec: ChartSpec, projections: list[Projection]) -> tuple[float, float]:
    values = [float(v) for points in spec.series.values() for _, v in points]
    for p in projections:
        days = (_parse(p.at) - _parse(p.start)).total_seconds() / 86_400
        values.append(float(p.leader_value) + p.leader_pace * days)
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    from_zero = spec.view in (WEEKLY, SHARE) or spec.metric != "all_time"
    if from_zero:
        low = min(low, 0.0)  # a weekly loss would go below zero
        top = high if high > 0 else 1.0
        return low * 1.1, top * 1.12
    span = high - low
    pad = span * 0.08 if span else max(abs(high) * 0.05, 1.0)
    return max(0.0, low - pad), high + pad


def end_labels(
    ends: list[tuple[float, str, str]], ylim: tuple[float, float], gap: float = 0.06
) -> list[EndLabel]:
    """Each line's last value beside the plot, at its height, nudged apart so none
    overlap and kept within the plot's height."""
    low, high = ylim
    span = (high - low) or 1.0
    placed: list[EndLabel] = []
    for value, text, colour in sorted(ends):
        y = min(max((value - low) / span, 0.0), 1.0)
        if placed and y - placed[-1].y < gap:
            y = placed[-1].y + gap
        placed.append(EndLabel(y, text, colour))
    overflow = max(0.0, placed[-1].y - 1.0) if placed else 0.0
    return [EndLabel(max(0.0, e.y - overflow), e.text, e.colour) for e in placed]


def date_ticks(start: str, end: str) -> list[tuple[str, str]]:
    """Ticks for an x-axis from `start` to `end` (timestamps): days, weeks or months, at
    most MAX_XTICKS, each naming its month; the first, and the first of each new year,
    name the year too."""
    first, last = _parse(start), _parse(end)
    days = (last - first).total_seconds() / 86_400
    ticks: list[datetime] = []
    for step in (1, 2, 7, 14):
        if days / step <= MAX_XTICKS:
            day = datetime(first.year, first.month, first.day, tzinfo=UTC)
            if day < first:
                day += timedelta(days=1)
            if step >= 7:  # weeks start on Mondays
                day += timedelta(days=(7 - day.weekday()) % 7)
            while day <= last:
                ticks.append(day)
                day += timedelta(days=step)
            break
    else:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        step = next((s for s in (1, 2, 3, 6, 12) if months / s <= MAX_XTICKS), 24)
        year, month = first.year, first.month
        if first > datetime(year, month, 1, tzinfo=UTC):
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        while datetime(year, month, 1, tzinfo=UTC) <= last:
            if (month - 1) % step == 0 or step > 12:
                ticks.append(datetime(year, month, 1, tzinfo=UTC))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    labels = []
    for i, tick in enumerate(ticks):
        new_year = i == 0 or tick.year != ticks[i - 1].year
        monthly = days / 14 > MAX_XTICKS
        text = _MONTHS[tick.month - 1] if monthly else f"{tick.day} {_MONTHS[tick.month - 1]}"
        labels.append((_stamp(tick), f"{text} {tick.year}" if new_year else text))
    return labels


def _value_text(value: Value, percent: bool) -> str:
    return f"{value * 100:.1f}%" if percent else human(round(value))


def _day(timestamp: str, with_year: bool = False) -> str:
    moment = _parse(timestamp)
    text = f"{moment.day} {_MONTHS[moment.month - 1]}"
    return f"{text} {moment.year}" if with_year else text


def _parse(timestamp: str) -> datetime:
    parsed = datetime.fromisoformat(timestamp)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- drawing ------------------------------------------------------------------------------------


def chart_figure(spec: ChartSpec, dpi: int = 144) -> Figure:
    """The chart of `spec` as a matplotlib Figure on the Agg canvas, not yet saved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import date2num
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter

    plan = plan_chart(spec)

    def x(timestamp: str) -> float:
        return float(date2num(_parse(timestamp)))

    figure = Figure(figsize=(8, 4.5 + 0.25 * (len(plan.title_lines) - 1)), dpi=dpi)
    figure.set_layout_engine("constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for piece in plan.pieces:
        xs = [x(t) for t, _ in piece.points]
        ys = [float(v) for _, v in piece.points]
        axes.plot(
            xs,
            ys,
            color=piece.colour,
            linewidth=2.2,
            linestyle="--" if piece.dashed else "-",
            drawstyle="steps-post" if piece.steps else "default",
        )
        if piece.dots:  # every point counted: not the estimate's, which is hollow
            counted = [(px, py) for (t, _), px, py in zip(piece.points, xs, ys, strict=True)
                       if t not in plan.estimated]  # fmt: skip
            axes.plot([px for px, _ in counted], [py for _, py in counted], marker=DOT_MARKER,
                      markersize=9, color=piece.colour, linestyle="none", zorder=4)  # fmt: skip
        if piece.start_marker is not None:
            filled = piece.start_marker == POINT_MARKER and not piece.dashed
            axes.plot(
                xs[:1],
                ys[:1],
                marker=piece.start_marker,
                markersize=8 if filled else 7,
                markerfacecolor=piece.colour if filled else "white",
                markeredgecolor=piece.colour,
                markeredgewidth=1.8,
                linestyle="none",
                zorder=5,
            )
    for projection in plan.projections:
        _draw_projection(axes, projection, plan.colours, x)
    if not plan.pieces:
        axes.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlim(x(plan.xlim[0]), x(plan.xlim[1]))
    axes.set_ylim(*plan.ylim)
    axes.xaxis.set_major_locator(FixedLocator([x(t) for t, _ in plan.xticks]))
    axes.set_xticklabels([label for _, label in plan.xticks])
    if plan.percent:
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v * 100:.0f}%"))
    else:
        axes.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _pos: human(v).replace(".0", "") if v else "0")
        )
    axes.set_ylabel(plan.ylabel)
    axes.grid(True, alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    figure.suptitle("\n".join(plan.title_lines), x=0.01, ha="left", fontsize=13,
                    fontweight="bold")  # fmt: skip
    axes.set_title("\n".join(plan.note_lines), loc="left", fontsize=8.5, color="#555555")
    for label in plan.end_labels:
        axes.text(1.01, label.y, label.text, transform=axes.transAxes, va="center", fontsize=9,
                  color=label.colour)  # fmt: skip
    if plan.pieces:
        # One plain line per series: a dashed first piece (from the estimate) or a single
        # point would otherwise name the whole series by its exception.
        handles = [
            Line2D([], [], color=plan.colours[p.label], linewidth=2.2)
            for p in plan.pieces
            if p.legend
        ]
        labels = [p.label for p in plan.pieces if p.legend]
        placed: dict[str, Any] = {"loc": plan.legend, "ncols": plan.legend_columns}
        figure.legend(handles, labels, frameon=False, **placed)
    marks = [_Mark(c.at, c.value, [f"{c.passer} passes {c.passed}"], c.date)
             for c in plan.crossings]  # fmt: skip
    marks += [_projection_mark(p) for p in plan.projections]
    # Last: placing the labels measures the finished layout.
    _mark(axes, marks, date2num)
    return figure


@dataclass(frozen=True)
class _Mark:
    """A ringed point and its label: `lines`, then `tail` (marks with the same tail, the
    crossings first seen on one day, share one label)."""

    at: datetime
    value: float
    lines: list[str]
    tail: str


def _projection_mark(p: Projection) -> _Mark:
    days = (_parse(p.at) - _parse(p.start)).total_seconds() / 86_400
    value = float(p.leader_value) + p.leader_pace * days
    lines = [f"{p.trailer} passes {p.leader}", f"around {_day(p.at, with_year=True)}"]
    return _Mark(_parse(p.at), value, lines, f"80% range: {_day(p.low)} – {_day(p.high)}")


def _draw_projection(axes: Any, p: Projection, colours: dict[str, str], x: Any) -> None:
    """Both lines ahead at their own pace, dashed, to where they meet; a bar for the 80%
    range of the day they meet."""
    days = (_parse(p.at) - _parse(p.start)).total_seconds() / 86_400
    meet = float(p.leader_value) + p.leader_pace * days
    for who, value in ((p.leader, p.leader_value), (p.trailer, p.trailer_value)):
        axes.plot([x(p.start), x(p.at)], [float(value), meet], linestyle=(0, (4, 3)),
                  linewidth=1.6, color=colours.get(who, MARK_COLOUR), alpha=0.9)  # fmt: skip
    axes.plot([x(p.low), x(p.high)], [meet, meet], color=MARK_COLOUR, linewidth=4, alpha=0.35,
              solid_capstyle="butt")  # fmt: skip


# Where a mark's label may go, in order of preference: beside the mark, as offsets in
# points (above-left and below-right of a crossing are clear of lines that rise), then,
# with a thin line to the mark, in a corner of the plot (axes fractions), for a mark
# where the lines leave no room beside it, as at a projected pass, where they meet.
_LABEL_SPOTS: list[tuple[float, float, str, str, str]] = [
    *(
        spot
        for dy in (10, 40)
        for spot in (
            (-8, dy, "offset points", "right", "bottom"),
            (8, -dy, "offset points", "left", "top"),
            (8, dy, "offset points", "left", "bottom"),
            (-8, -dy, "offset points", "right", "top"),
        )
    ),
    (0.02, 0.97, "axes fraction", "left", "top"),
    (0.98, 0.03, "axes fraction", "right", "bottom"),
    (0.98, 0.97, "axes fraction", "right", "top"),
    (0.02, 0.03, "axes fraction", "left", "bottom"),
]
# A label in a corner, away from its mark, has a thin line to it.
_LEADER = {"arrowstyle": "-", "color": MARK_COLOUR, "linewidth": 0.6, "alpha": 0.6}


def _mark(axes: Any, found: list[_Mark], to_x: Any) -> None:
    """Ring each mark (a crossing, a projected pass) and label it.

    Marks with the same tail (crossings first seen on the same day) share one label.
    Each label goes in the first spot of `_LABEL_SPOTS` that stays inside the plot, clear
    of every drawn line (the data, projections, ranges and rings) and of the labels
    already placed; failing that, in the spot that crosses the fewest. The layout is
    fixed first and the labels kept out of it, so they never squeeze the plot.
    """
    if not found:
        return
    for mark in found:
        axes.plot(
            [float(to_x(mark.at))],
            [mark.value],
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
    paths = _line_paths(axes)
    taken: list[Any] = []
    groups: dict[str, list[_Mark]] = {}
    for mark in found:
        groups.setdefault(mark.tail, []).append(mark)
    for tail, group in list(groups.items())[:MAX_LABELLED_CROSSINGS]:
        lines = [line for mark in group[:3] for line in mark.lines]
        if len(group) > 3:
            lines.append(f"and {len(group) - 3} more")
        first = group[0]
        best: tuple[int, Any] | None = None
        for preference, (dx, dy, coords, ha, va) in enumerate(_LABEL_SPOTS):
            label = axes.annotate(
                "\n".join([*lines, tail]),
                xy=(float(to_x(first.at)), first.value),
                xytext=(dx, dy),
                textcoords=coords,
                ha=ha,
                va=va,
                fontsize=8,
                color=MARK_COLOUR,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"},
                arrowprops=_LEADER if coords == "axes fraction" else None,
                zorder=6,
                in_layout=False,
            )
            box = label_box(label, renderer).expanded(1.05, 1.1)
            inside = (
                box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                and box.y1 <= frame.y1
            )  # fmt: skip
            crossed = sum(path.intersects_bbox(box, filled=False) for path in paths)
            score = (0 if inside else 100_000) + 1_000 * sum(box.overlaps(t) for t in taken)
            score += 100 * crossed + preference
            if best is None or score < best[0]:
                if best is not None:
                    best[1].remove()
                best = (score, label)
            else:
                label.remove()
            if score == preference:  # clear: no later spot can do better
                break
        if best is not None:
            taken.append(label_box(best[1], renderer))


def label_box(label: Any, renderer: Any) -> Any:
    """Where a label's text and its white box cover the figure, in display coordinates."""
    label.get_window_extent(renderer)  # lays the text out where it now stands
    label.update_bbox_position_size(renderer)
    return label.get_bbox_patch().get_window_extent(renderer)


def _line_paths(axes: Any) -> list[Any]:
    """Every drawn line (and lone point) of `axes` as a path in display coordinates."""
    from matplotlib.path import Path

    return [
        Path(axes.transData.transform(line.get_xydata()))
        for line in axes.get_lines()
        if len(line.get_xydata())
    ]


def race_figure(spec: ChartSpec, dpi: int = 144) -> Figure:
    """A race of `spec`: each runner's downloads since first seen by days since first
    seen, day 0 aligned, with a dashed mark at the age the race is judged at. Dressed as
    every chart: its title wrapped, the legend below, the values beside the ends."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    title = textwrap.wrap(spec.title, TITLE_WIDTH) or [""]
    figure = Figure(figsize=(8, 4.5 + 0.25 * (len(title) - 1)), dpi=dpi)
    figure.set_layout_engine("constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    ends: list[tuple[float, str, str]] = []
    handles: list[Any] = []
    for i, (label, points) in enumerate(spec.race.items()):
        if not points:
            continue
        colour = PALETTE[i % len(PALETTE)]
        axes.plot([x for x, _ in points], [v for _, v in points], color=colour, linewidth=2.2,
                  marker=POINT_MARKER if len(points) == 1 else None)  # fmt: skip
        ends.append((float(points[-1][1]), human(points[-1][1]), colour))
        handles.append((Line2D([], [], color=colour, linewidth=2.2), label))
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
    axes.set_ylim(bottom=min(0.0, axes.get_ylim()[0]))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("days since first seen")
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _pos: human(v).replace(".0", "") if v else "0")
    )
    axes.set_ylabel("downloads since first seen")
    axes.grid(True, alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    figure.suptitle("\n".join(title), x=0.01, ha="left", fontsize=13, fontweight="bold")
    axes.set_title(f"{_source(spec)} · day 0: first seen", loc="left", fontsize=8.5,
                   color="#555555")  # fmt: skip
    if ends:
        for end in end_labels(ends, axes.get_ylim()):
            axes.text(1.01, end.y, end.text, transform=axes.transAxes, va="center",
                      fontsize=9, color=end.colour)  # fmt: skip
        placed: dict[str, Any] = {"loc": LEGEND, "ncols": min(len(handles), 6)}
        figure.legend([h for h, _ in handles], [n for _, n in handles], frameon=False, **placed)
    else:
        axes.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=axes.transAxes)
    return figure
