"""Crossings are judged only between figures that are not missing data.

The Hub did not list aurora-labs (50M of Aurora's 116M) on day 7 (8 Jan) alone: that
day Aurora reads 67M against Borealis's 107M. Aurora was ahead before and is ahead
after; a chart of totals draws the dip, but names no crossing through it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.digest_message import digest_chart
from openmodels.charts import plan_chart
from openmodels.digest import build_digest
from tests.builders import DAY0, RENAMED_FAMILIES, missing_org_store


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    path = tmp_path_factory.mktemp("gap") / "s.db"
    return AnswerContext(missing_org_store(path, 14, missing={7}), RENAMED_FAMILIES)


@pytest.mark.parametrize("question", ["compare aurora borealis", "regions"])
def test_no_crossing_is_named_through_a_day_of_missing_data(ctx, question):
    chart = answer_text(question, ctx).chart

    assert chart is not None
    assert "passed" not in chart.alt_text


def test_no_crossing_is_drawn_through_a_day_of_missing_data(ctx):
    chart = answer_text("compare aurora borealis", ctx).chart

    assert chart is not None
    assert plan_chart(chart).crossings == []


def test_the_digest_chart_draws_no_crossing_through_a_day_of_missing_data(ctx):
    with ctx.store.reading() as db:
        content = build_digest(db, RENAMED_FAMILIES, DAY0 + timedelta(days=15))

    assert content is not None
    assert plan_chart(digest_chart(content, RENAMED_FAMILIES)).crossings == []
