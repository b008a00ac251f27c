"""What a chart shows, read from its plan (`openmodels.charts.plan_chart`), not its pixels:
points, pieces, limits, ticks, title lines, legend, notes."""

from __future__ import annotations

import pytest

from openmodels.chart_spec import SHARE, TOTAL, WEEKLY, ChartSpec, Projection
from openmodels.charts import (
    BREAK_MARKER,
    ESTIMATE_MARKER,
    LEGEND,
    POINT_MARKER,
    TITLE_WIDTH,
    chart_figure,
    date_ticks,
    plan_chart,
)


def spec(series, **extra) -> ChartSpec:
    fields = {
        "title": "Qwen vs Llama: cumulative downloads",
        "series": series,
        "metric": "all_time",
        "snapshot_date": "2026-01-17",
        "alt_text": "alt",
        "filename": "c.png",
    }
    return ChartSpec(**(fields | extra))


def day(d: int, month: int = 1) -> str:
    return f"2026-{month:02d}-{d:02d}T06:00:00Z"


def test_a_series_of_one_point_is_a_point_with_a_note_on_an_axis_of_days():
    plan = plan_chart(spec({"Qwen": [(day(17), 702_400_000)]}))

    [piece] = plan.pieces
    assert (piece.points, piece.start_marker) == ([(day(17), 702_400_000)], POINT_MARKER)
    assert plan.xlim == ("2026-01-14T06:00:00Z", "2026-01-20T06:00:00Z")  # days, not years
    assert plan.ylim[0] < 702_400_000 < plan.ylim[1]
    assert "one snapshot so far (17 Jan 2026)" in " ".join(plan.note_lines)
    assert all(0 <= label.y <= 1 for label in plan.end_labels)  # its value on the plot


def test_a_long_title_is_wrapped_never_cut():
    title = "Qwen vs Llama vs DeepSeek vs Gemma vs Mistral vs Phi: downloads in the last 30 days"

    plan = plan_chart(spec({"Qwen": [(day(1), 1), (day(2), 2)]}, title=title))

    assert plan.title_lines == [
        "Qwen vs Llama vs DeepSeek vs Gemma vs Mistral vs Phi:",
        "downloads in the last 30 days",
    ]
    assert all(len(line) <= TITLE_WIDTH for line in plan.title_lines)
    drawn = chart_figure(spec({"Qwen": [(day(1), 1), (day(2), 2)]}, title=title))
    assert drawn.get_suptitle() == "\n".join(plan.title_lines)


@pytest.mark.parametrize("view", [TOTAL, WEEKLY, SHARE])
def test_the_legend_goes_below_the_plot_never_over_the_data(view):
    plan = plan_chart(spec({"Qwen": [(day(1), 1), (day(9), 2)]}, view=view))

    assert plan.legend == LEGEND == "outside lower center"
    [legend] = chart_figure(spec({"Qwen": [(day(1), 1), (day(9), 2)]}, view=view)).legends
    assert legend.get_texts()[0].get_text() == "Qwen"


def test_the_x_axis_names_its_months_and_the_year():
    # Four months of snapshots: one tick a month, the year on the first and on January.
    assert [label for _, label in date_ticks("2025-09-16T00:00:00Z", "2026-01-21T00:00:00Z")] == [
        "Oct 2025",
        "Nov",
        "Dec",
        "Jan 2026",
    ]
    # A week: one tick a day, each with its month, the first with the year.
    labels = [label for _, label in date_ticks("2026-01-14T06:00:00Z", "2026-01-20T06:00:00Z")]
    assert labels == ["15 Jan 2026", "16 Jan", "17 Jan", "18 Jan", "19 Jan", "20 Jan"]
    # A month: weekly ticks on Mondays.
    labels = [label for _, label in date_ticks("2025-12-15T00:00:00Z", "2026-01-17T00:00:00Z")]
    assert labels == ["15 Dec 2025", "22 Dec", "29 Dec", "5 Jan 2026", "12 Jan"]


@pytest.mark.parametrize(
    ("metric", "view"), [("30d", TOTAL), ("all_time", WEEKLY), ("all_time", SHARE)]
)
def test_counts_that_rise_and_fall_are_drawn_from_zero(metric, view):
    # Llama's 30-day downloads drifting 57M -> 51M: a tenth, not a collapse.
    plan = plan_chart(
        spec({"Llama": [(day(1), 57_000_000), (day(17), 51_000_000)]}, metric=metric, view=view)
    )

    assert plan.ylim[0] == 0
    assert plan.ylim[1] > 57_000_000


def test_cumulative_lines_may_zoom_but_never_below_zero():
    plan = plan_chart(spec({"Qwen": [(day(1), 100), (day(17), 110)]}))

    assert 0 <= plan.ylim[0] < 100 and plan.ylim[1] > 110


def test_end_labels_stay_apart_and_on_the_plot():
    plan = plan_chart(spec({"A": [(day(1), 1), (day(2), 100)], "B": [(day(1), 1), (day(2), 99)]}))

    [low, high] = sorted(label.y for label in plan.end_labels)
    assert low >= 0 and high <= 1 and high - low >= 0.06


def test_a_point_of_the_estimate_is_hollow_and_the_stretch_from_it_dashed():
    plan = plan_chart(
        spec(
            {"Qwen": [("2025-12-18T06:00:00Z", 490), (day(17), 570), (day(18), 573)]},
            estimated=["2025-12-18T06:00:00Z"],
            estimate_label="estimated from the Hub's 30-day counts",
        )
    )

    assert [(len(p.points), p.dashed, p.start_marker) for p in plan.pieces] == [
        (2, True, ESTIMATE_MARKER),
        (2, False, None),
    ]
    assert "○ estimated from the Hub's 30-day counts" in " ".join(plan.note_lines)


# DeepSeek, growing faster, is projected to pass Gemma around 8 May: where the dashed
# projections of the two lines meet.
GEMMA_AND_DEEPSEEK = {
    "Gemma": [(day(3), 191_400_000), (day(17), 195_600_000)],
    "DeepSeek": [(day(3), 180_100_000), (day(17), 185_600_000)],
}
DEEPSEEK_PASSES_GEMMA = Projection(
    leader="Gemma",
    trailer="DeepSeek",
    start=day(17),
    leader_value=195_600_000,
    trailer_value=185_600_000,
    leader_pace=300_000.0,
    trailer_pace=390_700.0,
    at="2026-05-08T06:00:00Z",
    low="2026-05-01T06:00:00Z",
    high="2026-05-16T06:00:00Z",
)


def test_a_projected_pass_extends_the_axis_to_its_range_in_totals_only():
    projection, series = DEEPSEEK_PASSES_GEMMA, GEMMA_AND_DEEPSEEK

    total = plan_chart(spec(series, projections=[projection]))
    weekly = plan_chart(spec(series, projections=[projection], view=WEEKLY))

    assert total.projections == [projection] and weekly.projections == []
    assert total.xlim[1] > "2026-05-16" > weekly.xlim[1]
    # The lines meet at the pass: 195.6M + 0.3M a day for 111 days.
    assert total.ylim[1] > 195_600_000 + 300_000 * 111
    assert "projected pass, with its 80% range" in " ".join(total.note_lines)


@pytest.mark.parametrize("view", [TOTAL, WEEKLY, SHARE])
def test_a_break_survives_in_every_view(view):
    plan = plan_chart(
        spec(
            {"Aurora": [(day(1), 10), (day(8), 20), (day(15), 60), (day(22), 70)]},
            breaks={"Aurora": [day(15)]},
            view=view,
        )
    )

    assert [p.start_marker for p in plan.pieces] == [None, BREAK_MARKER]
    assert "◆ counted afresh from here" in " ".join(plan.note_lines)
