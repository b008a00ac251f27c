"""Charts render to PNG bytes without pyplot, for any series (even empty ones)."""

import io
import threading

from commands.answer import ChartSpec
from openmodels.charts import render_chart


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
