"""The `regions` answer on a store with hand-checkable figures.

Eight daily snapshots (2026-01-01 .. 2026-01-08), one model per family; on day d:
Qwen 300,000 + 10,000d and DeepSeek 100,000 + 1,000d (China), Llama 500,000 + 2,000d
and Gemma 50,000 + 500d (US), Mistral 40,000 + 100d (Europe). On the last day: US
567,500, China 477,000, Europe 40,700; total 1,085,200.
"""

from __future__ import annotations

import json

import pytest

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.render import render_text
from openmodels.families import load_families, parse_families
from tests.builders import record, store_with

GROWTH = {
    "Qwen/q": ("qwen", 300_000, 10_000),
    "deepseek-ai/d": ("deepseek", 100_000, 1_000),
    "meta-llama/l": ("llama", 500_000, 2_000),
    "google/gemma-g": ("gemma", 50_000, 500),
    "mistralai/m": ("mistral", 40_000, 100),
}


def day(d: int) -> list:
    return [
        record(repo, family, base + per_day * d, d30=per_day * 30)
        for repo, (family, base, per_day) in GROWTH.items()
    ]


@pytest.fixture
def store(new_store):
    return store_with(new_store("r"), (day(d) for d in range(8)))


@pytest.fixture
def ctx(store):
    return AnswerContext(store=store, families=load_families())


def test_each_region_has_its_total_share_change_and_families(ctx):
    out = render_text(answer_text("regions", ctx))

    assert "Regions by all-time downloads" in out
    # Shares a week ago: US 550,000, China 400,000, Europe 40,000 of 990,000.
    assert "1. US  567.5K · 52.3% · +17.5K · share -3.3 pts\nLlama 514.0K · Gemma 53.5K" in out
    assert (
        "2. China  477.0K · 44.0% · +77.0K · share +3.6 pts\nQwen 370.0K · DeepSeek 107.0K" in out
    )
    assert "3. Europe  40.7K · 3.8% · +700 · share -0.3 pts\nMistral 40.7K" in out
    assert "Snapshot 2026-01-08 · changes since 2026-01-01" in out


def test_the_headline_sets_the_leader_against_the_next_and_projects_the_pass(ctx):
    # The gap, 150,000 - 8,500d, is 90,500 on day 7: 10.6 days to close, on Jan 18.
    result = answer_text("regions", ctx)

    assert result.text.startswith(
        "US leads China by 90.5K all-time downloads (1.19×). "
        "China is on course to pass US around 2026-01-18 (in 11 days; range 10–11). "
        "Regions by all-time downloads (2026-01-08): US 567.5K (52.3%), China 477.0K (44.0%)"
    )


def test_the_chart_plots_each_region_as_the_sum_of_its_families(ctx):
    chart = answer_text("regions", ctx).chart

    assert chart is not None
    assert list(chart.series) == ["US", "China", "Europe"]
    assert chart.series["China"][0] == ("2026-01-01T06:00:00Z", 400_000)
    assert chart.series["China"][-1] == ("2026-01-08T06:00:00Z", 477_000)
    assert chart.metric == "all_time"
    assert chart.filename == "openmodels-regions-2026-01-08.png"
    assert "US from 550.0K on 2026-01-01 to 567.5K on 2026-01-08" in chart.alt_text


def test_regions_by_30_days_rank_the_rolling_window_and_project_nothing(ctx):
    result = answer_text("regions --30d", ctx)
    out = render_text(result)

    # 30-day figures: China 330,000 (Qwen 300K + DeepSeek 30K), US 75,000, Europe 3,000.
    assert "Regions by 30-day downloads" in out
    assert "1. China  330.0K · 80.9% · 0" in out
    assert "on course" not in out
    assert result.chart is not None and result.chart.metric == "30d"
    assert result.chart.filename == "openmodels-regions-30d-2026-01-08.png"


def test_a_crossing_of_regions_is_named_in_the_chart_text(new_store):
    # Day 0: China 30 < US 40; day 1: China 60 > US 50.
    store = store_with(
        new_store("x"),
        [
            [record("Qwen/q", "qwen", 30), record("meta-llama/l", "llama", 40)],
            [record("Qwen/q", "qwen", 60), record("meta-llama/l", "llama", 50)],
        ],
    )

    chart = answer_text("regions", AnswerContext(store=store, families=load_families())).chart

    assert chart is not None and chart.alt_text.endswith("China passed US on 2026-01-02.")


def test_families_without_a_region_count_under_other(store):
    families = parse_families(
        """
        [families.qwen]
        orgs = ["Qwen"]
        region = "Asia"
        [families.llama]
        orgs = ["meta-llama"]
        """,
        "custom.toml",
    )

    out = render_text(answer_text("regions", AnswerContext(store=store, families=families)))

    # DeepSeek, Gemma and Mistral are not in this file: they count under Other too.
    assert "1. Other  715.2K" in out
    assert "2. Asia  370.0K" in out
    assert "Families without a region count under Other." in out


def test_region_names_from_the_file_are_never_live_markup(store):
    families = parse_families(
        '[families.qwen]\norgs = ["Qwen"]\nregion = "<!channel>"\n', "hostile.toml"
    )

    result = answer_text("regions", AnswerContext(store=store, families=families))

    payload = json.dumps(result.payload())
    assert "<!channel>" not in payload and "&lt;!channel&gt;" in payload
    assert check_limits(result.blocks) == []
