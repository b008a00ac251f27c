"""Every answer on a store whose families file widened a family inside the week.

`tests.builders.aurora_store`: on 15 Feb the families file widened Aurora to also count
aurora-community (30M of old downloads, growing 0 a day), while Aurora's own model and
Borealis each grew 1M a day, Cirrus 0.2M and Dawn 0.1M. On 21 Feb, the latest snapshot:
Borealis 120M, Aurora 100M (70M + 30M), Cirrus 81.4M, Dawn 22M; a week before (14 Feb):
113M, 63M, 80M, 21.3M. Counting the step, Aurora gained 37M this week, passed Cirrus,
closed 30M on Borealis and made China grow; none of that happened. What did: Aurora
gained 6M since 15 Feb (100M - 94M), Borealis 7M, Cirrus 1.4M, Dawn 0.7M, and the gap
between Borealis and Aurora has held at 20M since 15 Feb.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.digest_message import digest_message
from commands.home_view import Membership, home_view, read_home
from commands.render import plain, render_text
from openmodels.alerts import check_overtakes
from openmodels.charts import BREAK_MARKER, chart_figure, plan_chart
from openmodels.digest import build_digest
from storage import subscriptions as subs
from tests.builders import aurora_families, aurora_store

FAMILIES = aurora_families()
CHANGED = "+6.0M since 15 Feb, when its definition changed"
NOW = datetime(2026, 2, 22, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return aurora_store(tmp_path_factory.mktemp("aurora") / "a.db")


@pytest.fixture(scope="module")
def ctx(store):
    return AnswerContext(store=store, families=FAMILIES)


@pytest.fixture(scope="module")
def early(tmp_path_factory):
    """The same store on 18 Feb: four snapshots since the change (15 to 18 Feb)."""
    store = aurora_store(tmp_path_factory.mktemp("early") / "a.db", last_day=17)
    return AnswerContext(store=store, families=FAMILIES)


def rendered(text: str, ctx: AnswerContext) -> str:
    result = answer_text(text, ctx)
    assert check_limits(result.blocks) == []
    return render_text(result)


def never_claims_aurora_passes(text: str) -> None:
    assert "Aurora is on course" not in text
    assert "Aurora passed" not in text and "Aurora passes" not in text
    assert "+37.0M" not in text and "+30" not in text


# -- top, compare, family ---------------------------------------------------------------------


def test_top_gives_auroras_change_since_its_redefinition_and_moves_no_one(ctx):
    out = rendered("top", ctx)

    # Shares of 323.4M: 120 / 323.4 = 37.1%, 100 / 323.4 = 30.9%, 25.2%, 6.8%.
    assert "1. Borealis  120.0M · 37.1% · +7.0M this week\n" in out
    assert f"2. Aurora  100.0M · 30.9% · {CHANGED}\n" in out
    # Counting the step, Aurora passed Cirrus (63M -> 100M against 80M -> 81.4M): no arrow.
    assert "3. Cirrus  81.4M · 25.2% · +1.4M this week\n" in out
    assert "4. Dawn  22.0M · 6.8% · +700.0K this week\n" in out
    assert "▲" not in out and "▼" not in out
    never_claims_aurora_passes(out)


def test_on_the_day_of_the_change_top_has_no_figure_for_aurora(tmp_path):
    ctx = AnswerContext(store=aurora_store(tmp_path / "a.db", last_day=14), families=FAMILIES)

    out = rendered("top", ctx)

    assert "2. Aurora  94.0M · 30.4% · definition changed on 15 Feb: no change to show yet" in out


def test_compare_says_the_gap_held_and_marks_the_change_on_the_chart(ctx):
    result = answer_text("compare aurora borealis", ctx)
    out = render_text(result)

    assert result.text == "Borealis leads Aurora by 20.0M all-time downloads (1.20×)."
    assert f"Change: {CHANGED}" in out
    assert "Change: +7.0M this week" in out
    # Since 15 Feb the gap is 20M in each of the 7 snapshots: it holds.
    assert "Aurora is not gaining on Borealis: the gap held over the last 6 days." in out
    never_claims_aurora_passes(out)
    chart = result.chart
    assert chart is not None
    assert chart.breaks == {"Aurora": ["2026-02-15T06:00:00Z"]}
    # Aurora's line in two pieces: 1-14 Feb (50M to 63M), 15-21 Feb (94M to 100M).
    before, after = chart.segments("Aurora")
    assert [before[0], before[-1]] == [
        ("2026-02-01T06:00:00Z", 50_000_000),
        ("2026-02-14T06:00:00Z", 63_000_000),
    ]
    assert [after[0], after[-1]] == [
        ("2026-02-15T06:00:00Z", 94_000_000),
        ("2026-02-21T06:00:00Z", 100_000_000),
    ]
    assert chart.segments("Borealis") == [chart.series["Borealis"]]
    assert chart.alt_text.endswith(
        "Marked where a line counts by other rules, a step that is not growth: "
        "Aurora's definition changed on 2026-02-15."
    )


def test_four_snapshots_after_the_change_are_too_few_for_a_forecast_and_it_says_why(early):
    out = rendered("compare aurora borealis", early)

    assert (
        "No forecast for Aurora and Borealis yet. Aurora's definition changed on 2026-02-15: "
        "a forecast needs 5 snapshots since; with a snapshot a day, the first can come on "
        "2026-02-19."
    ) in out.replace("\n", " ")
    assert "Change: +3.0M since 15 Feb, when its definition changed" in out  # 97M - 94M
    never_claims_aurora_passes(out)


def test_family_gives_the_change_since_the_redefinition_and_marks_it(ctx):
    result = answer_text("family aurora", ctx)
    out = render_text(result)

    assert f"Change\n      {CHANGED}" in out
    assert "Rank\n      #2 of 4 by all-time downloads" in out
    assert result.chart is not None
    assert result.chart.breaks == {"Aurora": ["2026-02-15T06:00:00Z"]}
    assert "Aurora's definition changed on 2026-02-15" in result.chart.alt_text


# -- regions, movers, forecast, new --------------------------------------------------------


def test_regions_add_up_comparable_changes_and_name_the_family_set_aside(ctx):
    result = answer_text("regions", ctx)
    out = render_text(result)

    # US: Borealis +7.0M and Cirrus +1.4M. China: Dawn +0.7M; Aurora set aside.
    # Shares among the families compared: US 201.4 / 223.4 = 90.15% now, 193.0 / 214.3 =
    # 90.06% a week ago: +0.1 points; China the opposite.
    assert "1. US  201.4M · 62.3% · +8.4M · share +0.1 pts\nBorealis 120.0M · Cirrus 81.4M" in out
    assert "2. China  122.0M · 37.7% · +700.0K · share -0.1 pts\nAurora 100.0M · Dawn 22.0M" in out
    assert "Not in its change: Aurora (definition changed on 15 Feb)" in out
    # Since 15 Feb China gains 1.1M a day to US's 1.2M: no pass to project.
    assert "on course" not in out
    assert result.chart is not None
    assert result.chart.breaks == {"China": ["2026-02-15T06:00:00Z"]}
    assert "China: Aurora's definition changed on 2026-02-15" in result.chart.alt_text


def test_a_region_forecast_needs_five_snapshots_since_any_of_its_families_changed(early):
    out = rendered("regions", early)

    assert (
        "No forecast for China and US yet. Aurora's definition changed on 2026-02-15: "
        "a forecast needs 5 snapshots since; with a snapshot a day, the first can come on "
        "2026-02-19."
    ) in out.replace("\n", " ")


def test_movers_set_aurora_aside_with_its_gain_since_the_change(ctx):
    out = rendered("movers", ctx)

    assert "1. Borealis  +7.0M · +6.2% (now 120.0M)" in out  # 7 / 113
    assert "2. Cirrus  +1.4M · +1.8% (now 81.4M)" in out  # 1.4 / 80
    assert "3. Dawn  +700.0K · +3.3% (now 22.0M)" in out  # 0.7 / 21.3
    assert "Not ranked: Aurora (definition changed on 15 Feb: +6.0M since)" in out
    assert "aurora-community/" not in out and "aurora/" not in out


def test_no_forecast_claims_a_pass(ctx):
    out = rendered("forecast", ctx)

    assert "No family is on course to pass the one ahead of it within 180 days." in out
    assert "3 gaps are widening or holding" in out


def test_the_forecast_names_the_change_that_left_too_short_a_run(early):
    out = rendered("forecast", early).replace("\n", " ")

    assert "2 lack the history since a definition changed" in out
    assert "No forecast for Cirrus and Aurora yet. Aurora's definition changed on 2026-02-15" in out


def test_the_newly_counted_model_is_no_launch(ctx):
    out = rendered("new --days 14", ctx)

    assert "aurora-community" not in out
    assert "No launches in the last 14 days" in out


# -- the digest, App Home, alerts -------------------------------------------------------------


def test_the_digest_shows_no_step_as_growth(store):
    with store.reading() as db:
        content = build_digest(db, FAMILIES, NOW)
    assert content is not None
    message = digest_message(content, FAMILIES)
    assert check_limits(message["blocks"]) == []
    lines = [plain(b["text"]["text"]) for b in message["blocks"] if "text" in b]
    text = "\n".join(lines)

    assert "1. = Borealis  120.0M (37.1%) +7.0M" in text
    assert f"2. Aurora  100.0M (30.9%) ({CHANGED})" in text
    assert "3. = Cirrus  81.4M (25.2%) +1.4M" in text
    assert "Overtakes this week\nNone: the order held." in text
    assert "Regions: US 62.3% (+8.4M) · China 37.7% (+700.0K without Aurora)" in text
    assert (
        "Biggest mover: Borealis, +7.0M all-time downloads this week (+6.2%), now 120.0M." in text
    )
    assert "Next pass" not in text
    never_claims_aurora_passes(text)
    assert message["chart"]["breaks"] == {"Aurora": ["2026-02-15T06:00:00Z"]}
    assert "Aurora's definition changed on 2026-02-15" in message["chart"]["alt_text"]


def test_the_app_home_leaderboard_shows_the_change_since_the_redefinition(store):
    view = home_view(read_home(store, "T1", NOW), FAMILIES, Membership(), NOW)
    text = "\n".join(plain(b["text"]["text"]) for b in view["blocks"] if "text" in b)

    assert "1. Borealis  120.0M · 37.1% · +7.0M\n" in text
    assert f"2. Aurora  100.0M · 30.9% · {CHANGED}\n" in text
    assert (
        "Nearest overtake: No family is on course to pass the one ahead of it within 180 "
        "days. Of the 3 neighbouring pairs, 3 gaps are widening or holding."
    ) in text
    never_claims_aurora_passes(text)


def test_no_alert_is_drawn_across_the_change(tmp_path):
    store = aurora_store(tmp_path / "a.db")
    with store.writing() as db:
        subs.subscribe(db, "T1", "C1", "alerts", (), "2026-01-01T00:00:00Z")

    found = check_overtakes(store, FAMILIES, message=lambda *_: {"text": ""}, now=NOW)

    assert found.overtakes == []  # Aurora's step past Cirrus is no overtake
    assert found.queued == 0


# -- the chart as drawn -------------------------------------------------------------------------


def test_the_drawn_chart_marks_the_change_and_draws_no_line_across_it(ctx):
    chart = answer_text("compare aurora borealis", ctx).chart
    assert chart is not None

    plan = plan_chart(chart)
    figure = chart_figure(chart)

    # Aurora in two pieces (1-14 Feb, 15-21 Feb), the second marked at its start; Borealis
    # in one; only the first piece of each line is in the legend.
    assert [(p.label, len(p.points), p.start_marker, p.legend) for p in plan.pieces] == [
        ("Aurora", 14, None, True),
        ("Aurora", 7, BREAK_MARKER, False),
        ("Borealis", 21, None, True),
    ]
    assert plan.pieces[1].points[0] == ("2026-02-15T06:00:00Z", 94_000_000)
    markers = [line for line in figure.axes[0].get_lines() if line.get_marker() == BREAK_MARKER]
    assert [list(m.get_ydata()) for m in markers] == [[94_000_000]]
    [legend] = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == ["Aurora", "Borealis"]
    assert "counted afresh" in " ".join(plan.note_lines)


def test_the_weekly_view_measures_no_gain_across_the_change(ctx):
    chart = answer_text("compare aurora borealis --weekly", ctx).chart
    assert chart is not None

    # Aurora gains 1M a day on each side of 15 Feb: 7M a week, never the 30M step.
    assert chart.breaks["Aurora"] == ["2026-02-15T06:00:00Z"]
    assert max(v for _, v in chart.series["Aurora"]) == pytest.approx(7_000_000)
    assert "Aurora is counted afresh from 2026-02-15" in chart.alt_text


def test_the_share_view_draws_every_line_apart_where_the_total_changed(ctx):
    chart = answer_text("compare aurora borealis --share", ctx).chart
    assert chart is not None

    assert chart.breaks == {
        "Aurora": ["2026-02-15T06:00:00Z"],
        "Borealis": ["2026-02-15T06:00:00Z"],
    }
    assert "the tracked total changed what it counts on 2026-02-15" in chart.alt_text
