"""Charts render to PNG bytes without pyplot, for any series (even empty ones), and mark
where lines cross."""

import io
import threading
from datetime import UTC, datetime

import pytest
from matplotlib.dates import num2date

from commands.answer import ChartSpec
from openmodels.charts import chart_figure, render_chart


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
