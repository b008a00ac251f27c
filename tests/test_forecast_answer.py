"""The `forecast` answer and the forecast lines of `compare`, with figures worked by hand.

Five daily snapshots (2026-01-01 .. 2026-01-05). Llama has 1,000,000 + 50,000d all-time
downloads; Qwen trails by 100K, 90K, 78K, 70K, 60K; DeepSeek has 10,000 + 100d. The
gap Llama-Qwen closes by 10,000 a day (40,000 over 4 days), so the last 60,000 take
six days: 2026-01-11. Its 80% range, from the pace's uncertainty and the day-to-day
swings (worked in tests/test_forecast.py), is 5.09 to 7.20 days: "range 5–8".
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.render import render_text
from openmodels.families import load_families
from storage import open_store
from storage.snapshots import write_snapshot
from tests.builders import DAY0, growing_store, record, store_with

GAPS = [100_000, 90_000, 78_000, 70_000, 60_000]


def day(d: int) -> list:
    llama = 1_000_000 + 50_000 * d
    return [
        record("meta-llama/l", "llama", llama),
        record("Qwen/q", "qwen", llama - GAPS[d]),
        record("deepseek-ai/d", "deepseek", 10_000 + 100 * d),
    ]


@pytest.fixture
def ctx(new_store):
    store = store_with(new_store("f"), (day(d) for d in range(5)))
    return AnswerContext(store=store, families=load_families())


PASS = "Qwen is on course to pass Llama around 2026-01-11 (in 6 days; range 5–8)."


def test_forecast_lists_the_pairs_on_course_to_swap(ctx):
    result = answer_text("forecast", ctx)
    out = render_text(result)

    assert result.text == PASS
    assert "Forecast: passes due within 180 days" in out
    assert (
        f"• {PASS}\n   gap 60.0K, closing by 10.0K a day over the last 4 days, 5 snapshots" in out
    )
    assert "The other pair: 1 gap is widening or holding." in out
    method = "its pace over the comparable snapshots of the last 14 days; a range holds"
    assert method in str(result.blocks)


def test_forecast_says_briefly_why_no_pair_is_on_course(new_store):
    ctx = AnswerContext(store=growing_store(new_store("g")), families=load_families())

    result = answer_text("forecast", ctx)

    assert result.text == (
        "No family is on course to pass the one ahead of it within 180 days. "
        "Of the 2 neighbouring pairs, 2 gaps are widening or holding."
    )


def test_forecast_needs_history(new_store):
    store = store_with(new_store("s"), (day(d) for d in range(3)))

    result = answer_text("forecast", AnswerContext(store=store, families=load_families()))

    assert "Of the 2 neighbouring pairs, 2 lack the history." in result.text


def test_a_straight_line_history_is_forecast(tmp_path):
    # Imported history is often exactly straight: Qwen closes 827,037 a day on Llama for
    # twelve days and is 54 days behind at the end. No swing at all is still a forecast.
    def straight(d: int) -> list:
        llama = 700_642_630 + 398_055 * d
        return [
            record("meta-llama/l", "llama", llama),
            record("Qwen/q", "qwen", llama - 827_037 * (54 + 11 - d)),
            record("deepseek-ai/d", "deepseek", 10_000 + 100 * d),
        ]

    store = store_with(tmp_path / "s.db", (straight(d) for d in range(12)))

    result = answer_text("forecast", AnswerContext(store=store, families=load_families()))

    assert result.text == "Qwen is on course to pass Llama around 2026-03-07 (in 54 days)."


def test_compare_adds_the_forecast_for_two_families(ctx):
    result = answer_text("compare llama qwen", ctx)
    out = render_text(result)

    assert result.text == f"Llama leads Qwen by 60.0K all-time downloads (1.05×). {PASS}"
    assert (f"{PASS} (gap 60.0K, closing by 10.0K a day over the last 4 days, 5 snapshots)") in out


def test_compare_forecasts_each_adjacent_pair_in_rank_order(ctx):
    out = render_text(answer_text("compare deepseek qwen llama", ctx))

    # Ranked Llama, Qwen, DeepSeek: Qwen passes Llama; DeepSeek falls further behind Qwen,
    # whose 60,000 a day outpace DeepSeek's 100.
    assert PASS in out
    assert (
        "DeepSeek is not gaining on Qwen: the gap grew by 59.9K a day over the last 4 days." in out
    )


def test_compare_says_why_when_there_is_no_forecast(new_store):
    ctx = AnswerContext(store=growing_store(new_store("g")), families=load_families())

    result = answer_text("compare qwen llama", ctx)

    assert result.text == "Qwen leads Llama by 53.0K all-time downloads (1.25×)."
    assert (
        "Llama is not gaining on Qwen: the gap grew by 7.0K a day over the last 9 days."
        in render_text(result)
    )


def test_compare_by_30_days_speaks_of_30_day_downloads_only(ctx):
    # Passes are projected on all-time downloads: a 30-day answer leaves them to that one.
    out = render_text(answer_text("compare deepseek qwen llama --30d", ctx))

    assert "on course" not in out and "By all-time downloads" not in out
    assert "No forecast" not in out and "gap" not in out


@pytest.mark.parametrize("text", ["regions", "movers", "forecast", "regions --30d"])
def test_an_empty_store_says_how_to_collect(new_store, text):
    empty = AnswerContext(store=new_store("e"), families=load_families())

    assert "No snapshots yet. Run `openmodels collect`" in answer_text(text, empty).text


@pytest.mark.parametrize("text", ["forecast", "compare qwen llama deepseek", "regions"])
def test_answers_stay_within_block_kit_limits(ctx, text):
    assert check_limits(answer_text(text, ctx).blocks) == []


def test_a_single_snapshot_forecasts_nothing_and_says_so(new_store):
    store = store_with(new_store("one"), [day(0)])

    result = answer_text("forecast", AnswerContext(store=store, families=load_families()))

    assert "2 lack the history" in result.text


def test_after_an_upgrade_the_forecast_says_definitions_were_first_recorded(tmp_path):
    # The first three snapshots were taken by an openmodels that recorded no
    # definitions; the two since record them: too few comparable ones for a forecast.
    store = open_store(tmp_path / "u.db")
    for d in range(5):
        definitions = load_families().definitions() if d >= 3 else None
        write_snapshot(store, DAY0 + timedelta(days=d), "hub", day(d), definitions)

    out = render_text(
        answer_text("compare qwen llama", AnswerContext(store=store, families=load_families()))
    )

    assert (
        "No forecast for Qwen and Llama yet. Qwen's definition was first recorded on "
        "2026-01-04: a forecast needs 5 snapshots since; with a snapshot a day, the first can "
        "come on 2026-01-08."
    ) in out.replace("\n", " ")
