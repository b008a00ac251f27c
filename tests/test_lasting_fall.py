"""Every answer on a store where a family lost a model for good.

Daily snapshots from 1 Jan 2026 (day 0): Qwen/a 100M + 1M·d and Qwen/b 50M, which is
deleted on day 4 (5 Jan): Qwen falls from 153M (day 3) to 104M and grows on from there,
109M on day 9 (10 Jan). Llama grows 0.5M a day from 120M: 124.5M on day 9. Until day 5
the fall is missing data as far as anyone can tell; from day 6 (the third snapshot
below 153M) it is a loss for good and Qwen is counted afresh from 5 Jan: +5.0M since
then on day 9, and its gap to Llama closes by 0.5M a day over six snapshots.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.render import render_text
from openmodels.alerts import check_overtakes
from openmodels.families import parse_families
from storage.snapshots import write_snapshot
from tests.builders import DAY0, record

FAMILIES = parse_families(
    '[families.qwen]\nlabel = "Qwen"\norgs = ["Qwen"]\n'
    '[families.llama]\nlabel = "Llama"\norgs = ["meta-llama"]\n',
    "test",
)
M = 1_000_000


def store_until(store, last_day):
    for d in range(last_day + 1):
        records = [
            record("Qwen/a", "qwen", 100 * M + d * M, d30=30 * M),
            record("meta-llama/c", "llama", 120 * M + d * M // 2, d30=15 * M),
        ]
        if d < 4:
            records.append(record("Qwen/b", "qwen", 50 * M, d30=M))
        write_snapshot(store, DAY0 + timedelta(days=d), "hub", records, FAMILIES.definitions())
    return store


@pytest.fixture
def ctx(new_store):
    return AnswerContext(store_until(new_store("s"), 9), FAMILIES)


def test_top_gives_the_change_since_the_fall_said_as_such(ctx):
    out = render_text(answer_text("top", ctx))

    assert "Llama  124.5M · 53.3% · +3.5M this week" in out
    assert "Qwen  109.0M · 46.7% · +5.0M since 5 Jan, when its count fell" in out


def test_two_snapshots_into_the_fall_it_is_still_missing_data(new_store):
    ctx = AnswerContext(store_until(new_store("s"), 5), FAMILIES)

    out = render_text(answer_text("top", ctx))

    assert "total below an earlier one (missing data): no change to show" in out


def test_movers_set_qwen_aside_with_its_gain_since_the_fall(ctx):
    out = render_text(answer_text("movers", ctx))

    assert "Qwen (count fell for good on 5 Jan: +5.0M since)" in out
    assert "1. Llama  +3.5M" in out


def test_a_forecast_is_fitted_on_the_snapshots_since_the_fall(ctx):
    out = render_text(answer_text("compare qwen llama", ctx))

    # Gap 15.5M on 10 Jan, closing by 0.5M a day since 5 Jan (six snapshots).
    assert "Qwen is on course to pass Llama around 2026-02-10 (in 31 days)" in out
    assert "closing by 500.0K a day over the last 5 days, 6 snapshots" in out


def test_the_chart_draws_qwen_apart_at_the_fall_and_says_why(ctx):
    chart = answer_text("compare qwen llama", ctx).chart

    assert chart is not None
    assert chart.breaks == {"Qwen": ["2026-01-05T06:00:00Z"]}
    assert "Qwen's count fell for good on 2026-01-05" in chart.alt_text


def test_no_alert_is_drawn_across_the_fall(new_store):
    # Llama is ahead of Qwen since the fall (122M against 104M on 5 Jan), behind before.
    store = store_until(new_store("s"), 9)

    check = check_overtakes(store, FAMILIES, message=lambda *_: {}, now=DAY0 + timedelta(days=10))

    assert check.overtakes == []


def test_the_forecast_summary_names_the_fall_as_the_reason_for_no_forecast(new_store):
    # On 8 Jan, three snapshots since the fall of 5 Jan: five are needed.
    ctx = AnswerContext(store_until(new_store("s"), 7), FAMILIES)

    out = render_text(answer_text("forecast", ctx))

    assert "Of the one neighbouring pair, 1 lacks the history since a count fell for good." in out
    assert "definition changed" not in out
