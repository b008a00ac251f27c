"""Charts render to PNG bytes without pyplot, for any series (even empty ones), and mark
where lines cross and where a projected pass lies, each label clear of the lines."""

import io
import threading
from dataclasses import replace
from datetime import UTC, datetime
from itertools import pairwise

import numpy as np
import pytest
from matplotlib.dates import num2date

from commands.answer import ChartSpec
from openmodels.charts import chart_figure, label_box, render_chart
from tests.test_chart_plan import DEEPSEEK_PASSES_GEMMA, GEMMA_AND_DEEPSEEK


def spec(series):
    return ChartSpec(
        title="Qwen vs Llama: cumulative downloads",
        series=series,
        metric="all_time",
        snapshot_date="2026-01-10",
        alt_text="alt",
        filename="c.png",
    )


def decode(png: bytes):
    from matplotlib.image import imread

    return imread(io.BytesIO(png), format="png")


def test_a_chart_is_a_png_of_readable_size():
    png = render_chart(
        spec(
            {
                "Qwen": [("2026-01-01T06:00:00Z", 190_000), ("2026-01-10T06:00:00Z", 262_000)],
                "Llama": [("2026-01-01T06:00:00Z", 200_000), ("2026-01-10T06:00:00Z", 209_000)],
            }
        )
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    height, width = decode(png).shape[:2]
    assert width >= 1000 and height >= 550


def test_an_empty_series_still_renders():
    assert render_chart(spec({"Qwen": []})).startswith(b"\x89PNG")


def test_charts_render_concurrently_from_threads():
    results: list[bytes] = []
    series = {"Qwen": [("2026-01-01T06:00:00Z", 1), ("2026-01-02T06:00:00Z", 2)]}
    threads = [
        threading.Thread(target=lambda: results.append(render_chart(spec(series))))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r.startswith(b"\x89PNG") for r in results)


def labels(figure):
    return [t.get_text() for t in figure.axes[0].texts if "passes" in t.get_text()]


def test_a_crossing_is_marked_with_who_passed_whom_and_the_date():
    figure = chart_figure(
        spec(
            {
                "Qwen": [
                    ("2026-01-01T06:00:00Z", 100),
                    ("2026-01-02T06:00:00Z", 150),
                    ("2026-01-03T06:00:00Z", 210),
                ],
                "Llama": [
                    ("2026-01-01T06:00:00Z", 120),
                    ("2026-01-02T06:00:00Z", 140),
                    ("2026-01-03T06:00:00Z", 160),
                ],
            }
        )
    )

    assert labels(figure) == ["Qwen passes Llama\n2026-01-02"]
    rings = [line for line in figure.axes[0].get_lines() if line.get_marker() == "o"]
    assert len(rings) == 1
    [x], [y] = rings[0].get_data()
    # Gaps -20 then +10: the segments meet two thirds of the way, at 22:00 on Jan 1.
    assert num2date(x) == datetime(2026, 1, 1, 22, 0, tzinfo=UTC)
    assert y == pytest.approx(100 + 50 * 2 / 3)


def test_lines_that_never_cross_carry_no_marks():
    figure = chart_figure(
        spec(
            {
                "Qwen": [("2026-01-01T06:00:00Z", 300), ("2026-01-10T06:00:00Z", 400)],
                "Llama": [("2026-01-01T06:00:00Z", 200), ("2026-01-10T06:00:00Z", 209)],
            }
        )
    )

    assert labels(figure) == []
    assert all(line.get_marker() != "o" for line in figure.axes[0].get_lines())


def test_crossings_on_the_same_day_share_a_label_inside_the_plot():
    times = [f"2026-01-0{d}T06:00:00Z" for d in range(1, 5)]
    figure = chart_figure(
        spec(
            {
                "A": list(zip(times, [100, 200, 300, 400], strict=True)),
                "B": list(zip(times, [150, 190, 210, 230], strict=True)),
                "C": list(zip(times, [160, 195, 215, 235], strict=True)),
            }
        )
    )

    assert labels(figure) == ["A passes B\nA passes C\n2026-01-02"]
    renderer = figure.canvas.get_renderer()
    frame = figure.axes[0].get_window_extent(renderer)
    [label] = [t for t in figure.axes[0].texts if "passes" in t.get_text()]
    box = label.get_window_extent(renderer)
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1
    assert frame.y0 <= box.y0 and box.y1 <= frame.y1


# A third family along the top of the plot, where the corner above the lines was empty.
WITH_A_LEADER_ON_TOP = {
    "Qwen": [("2026-01-03T06:00:00Z", 224_000_000), ("2026-01-17T06:00:00Z", 231_000_000)],
    **GEMMA_AND_DEEPSEEK,
}


def sampled(line, per_segment: int = 200):
    """Points along a drawn line in display coordinates, every segment densely."""
    xy = line.axes.transData.transform(np.asarray(line.get_xydata(), dtype=float))
    if len(xy) == 1:
        return xy
    steps = np.linspace(0.0, 1.0, per_segment)[:, None]
    return np.vstack([a + steps * (b - a) for a, b in pairwise(xy)])


@pytest.mark.parametrize("series", [GEMMA_AND_DEEPSEEK, WITH_A_LEADER_ON_TOP])
def test_a_projected_pass_is_labelled_clear_of_every_line(series):
    figure = chart_figure(
        replace(spec(series), snapshot_date="2026-01-17", projections=[DEEPSEEK_PASSES_GEMMA])
    )
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]

    [label] = [t for t in axes.texts if "passes" in t.get_text()]
    box = label_box(label, renderer)
    frame = axes.get_window_extent(renderer)
    assert label.get_text() == (
        "DeepSeek passes Gemma\naround 8 May 2026\n80% range: 1 May – 16 May"
    )
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    # Every line drawn (the data, both projections, the range bar, the ring) stays clear.
    for line in axes.get_lines():
        points = sampled(line)
        inside = (
            (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
            & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
        )  # fmt: skip
        assert not inside.any(), f"the label covers {line.get_label()}"
