"""Answers to each command, read from a real SQLite store with hand-checkable figures.

The store (tests.builders.growing_store) holds ten daily snapshots; on the last one
Qwen has 262,000 all-time downloads (two models), Llama 209,000, DeepSeek 54,500.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.answers import FIRST_COLLECTION_RETRY, FIRST_COLLECTION_RUNNING, NO_COLLECTION
from commands.blocks import check_limits
from commands.changes import NO_BASELINE
from commands.render import render_text
from commands.subscriptions import Channel
from openmodels.families import load_families
from openmodels.locate import sample_store_path
from storage import jobs as job_runs
from storage import open_store
from storage.snapshots import write_snapshot
from tests.builders import DAY0, growing_store, record, store_with


@pytest.fixture
def ctx(new_store):
    return AnswerContext(store=growing_store(new_store("s")), families=load_families())


def rendered(text, ctx):
    return render_text(answer_text(text, ctx))


def test_top_ranks_families_with_share_and_weekly_change(ctx):
    out = rendered("top", ctx)
    assert "1. Qwen  262.0K · 49.9% · +56.0K this week" in out
    assert "2. Llama  209.0K · 39.8% · +7.0K this week" in out
    assert "3. DeepSeek  54.5K · 10.4% · +3.5K this week" in out
    assert "Snapshot 2026-01-10 · changes since 2026-01-03" in out


def test_top_compares_the_leader_with_the_rest_combined(ctx):
    # 209.0K + 54.5K after Qwen's 262.0K.
    assert "Qwen alone: 262.0K; the next two together: 263.5K." in rendered("top", ctx)


def test_top_n_says_how_many_were_left_out(ctx):
    out = rendered("top 2", ctx)
    assert "DeepSeek" not in out.split("Qwen alone")[0]
    assert "1 more tracked family not shown" in out


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("top", "Qwen alone: 1.1K; the next one: 900."),
        ("top 1", "Top 1 model family by all-time downloads"),
        ("family llama --models", "Llama: top 1 model by all-time downloads"),
        ("model meta-llama/b", "2026-01-01 (1 snapshot)"),
        ("movers --days 1", "the store has none a day older than its latest"),
    ],
)
def test_one_of_anything_is_said_in_the_singular(new_store, text, said):
    # Two snapshots on the same day, Llama's one model only in the second: one family
    # after the leader, one model, one snapshot of it, and no snapshot a day back (so
    # nothing to move over).
    store = new_store("s")
    write_snapshot(store, DAY0, "hub", [record("Qwen/a", "qwen", 1_000)])
    write_snapshot(
        store,
        DAY0 + timedelta(hours=6),
        "hub",
        [record("Qwen/a", "qwen", 1_100), record("meta-llama/b", "llama", 900)],
    )

    result = answer_text(text, AnswerContext(store=store, families=load_families()))

    assert said in result.text + "\n" + render_text(result)


def test_top_30d_ranks_by_the_rolling_window(ctx):
    out = rendered("top --30d", ctx)
    assert "by 30-day downloads" in out
    assert "1. Qwen  15.3K" in out


def test_rank_change_is_shown_with_an_arrow(new_store):
    # Day 0: Llama ahead; day 7: Qwen ahead -> Qwen moved up one place.
    store = new_store("s")
    write_snapshot(
        store, DAY0, "hub", [record("Qwen/a", "qwen", 10), record("meta-llama/b", "llama", 20)]
    )
    later = DAY0.replace(day=8)
    write_snapshot(
        store, later, "hub", [record("Qwen/a", "qwen", 40), record("meta-llama/b", "llama", 25)]
    )
    out = rendered("top", AnswerContext(store=store, families=load_families()))
    assert "1. Qwen  40 · 61.5% · +30 this week ▲1" in out
    assert "2. Llama  25 · 38.5% · +5 this week ▼1" in out


def test_compare_summarises_and_carries_a_chart(ctx):
    result = answer_text("compare qwen llama", ctx)
    assert result.text == "Qwen leads Llama by 53.0K all-time downloads (1.25×)."
    assert result.chart is not None
    assert list(result.chart.series) == ["Qwen", "Llama"]
    assert len(result.chart.series["Qwen"]) == 10
    assert result.chart.series["Qwen"][-1] == ("2026-01-10T06:00:00Z", 262_000)
    assert "Qwen from 190.0K on 2026-01-01 to 262.0K on 2026-01-10" in result.chart.alt_text


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("compare llama deepseek --30d", "DeepSeek and Llama are level at 500 30-day downloads."),
        ("regions --30d", "China and US are level at 500 30-day downloads."),
    ],
)
def test_a_tie_is_said_to_be_level_not_a_lead_of_nothing(new_store, text, said):
    store = store_with(
        new_store("s"),
        [
            [
                record("meta-llama/b", "llama", 900, d30=500),
                record("deepseek-ai/c", "deepseek", 800, d30=500),
            ]
        ],
    )

    result = answer_text(text, AnswerContext(store=store, families=load_families()))

    assert result.text.startswith(said)
    assert "leads" not in render_text(result)


@pytest.mark.parametrize("text", ["help --public", "--public help", "top --public"])
def test_public_shows_the_answer_to_the_channel(ctx, text):
    assert answer_text(text, ctx).payload()["response_type"] == "in_channel"


def test_compare_of_families_never_in_the_store_draws_no_empty_chart(ctx):
    result = answer_text("compare gemma phi", ctx)

    assert not result.error
    assert result.chart is None
    assert render_text(result).count("no models in this snapshot") == 2


def test_compare_accepts_aliases_and_labels(ctx):
    assert answer_text("compare Alibaba META", ctx).text.startswith("Qwen leads Llama")


def test_unknown_family_suggests_the_closest_and_lists_all(ctx):
    result = answer_text("compare qwn llama", ctx)
    assert result.error
    assert "Unknown family 'qwn' — did you mean qwen?" in result.text
    assert "Families: qwen, llama, deepseek" in result.text


def test_a_family_named_twice_is_refused(ctx):
    assert "Qwen is named twice" in answer_text("compare qwen alibaba", ctx).text


def test_a_family_without_models_in_the_snapshot_is_said_so(ctx):
    assert "no models in this snapshot" in rendered("compare qwen kimi", ctx)


def test_family_lists_its_top_models_with_hub_links(ctx):
    result = answer_text("family qwen", ctx)
    payload = json.dumps(result.payload())
    assert "<https://huggingface.co/Qwen/Qwen3-8B|Qwen/Qwen3-8B>" in payload
    out = render_text(result)
    assert out.index("Qwen/Qwen3-8B") < out.index("Qwen/Qwen2.5-7B")
    assert result.chart is not None and list(result.chart.series) == ["Qwen"]


def test_model_detail_is_case_insensitive(ctx):
    out = rendered("model qwen/qwen3-8b", ctx)
    assert "Qwen/Qwen3-8B" in out
    assert "145.0K" in out and "text-generation" in out
    assert "+35.0K all-time" in out  # against the snapshot of 2026-01-03


def test_a_model_first_seen_after_the_weeks_baseline_gives_its_change_since_then(new_store):
    # Days 0-9; Qwen/new appears on day 5 with 100 and gains 50 a day: 300 on day 9.
    store = store_with(
        new_store("s"),
        (
            [record("meta-llama/b", "llama", 900 + d)]
            + ([record("Qwen/new", "qwen", 100 + 50 * (d - 5))] if d >= 5 else [])
            for d in range(10)
        ),
    )

    out = rendered("model Qwen/new", AnswerContext(store=store, families=load_families()))

    assert "Since 6 Jan\n      +200 all-time" in out  # from 100 when first seen, to 300
    assert NO_BASELINE not in out


def test_unknown_model_suggests_similar_names(ctx):
    result = answer_text("model Qwen/Qwen3", ctx)
    assert result.error
    assert "Did you mean: `Qwen/Qwen3-8B`" in result.text


def test_an_empty_store_says_how_to_collect(new_store):
    empty = AnswerContext(store=new_store("e"), families=load_families())
    for text in ("top", "compare qwen llama", "family qwen", "model a/b"):
        result = answer_text(text, empty)
        assert "No snapshots yet. Run `openmodels collect`" in result.text


# -- an empty store, in Slack: what the bot is doing about it -----------------------------

SLACK = Channel("T1", "C1", "U1")
NOW = datetime(2026, 2, 1, 6, 1, tzinfo=UTC)


def empty_in_slack(new_store, *, collects, run=None):
    """An empty store answered in Slack; `run` records the collect job's state first."""
    store = new_store("e")
    if run is not None:
        with store.writing() as db:
            run(db)
    return AnswerContext(
        store=store, families=load_families(), channel=SLACK, now=lambda: NOW, collects=collects
    )


def running(db):
    job_runs.start(
        db,
        "collect",
        owner="host:1",
        slot="2026-02-01T06:00:00Z",
        now="2026-02-01T06:00:00Z",
        lease_expires="2026-02-01T06:05:00Z",
        failures=0,
    )


def failed_once(db):
    running(db)
    job_runs.failed(
        db,
        "collect",
        "host:1",
        "2026-02-01T06:00:00Z",
        "2026-02-01T06:00:30Z",
        "HubError: 503",
        "2026-02-01T06:05:30Z",
    )


@pytest.mark.parametrize(
    ("collects", "run", "message"),
    [
        (True, None, FIRST_COLLECTION_RUNNING),  # never run: the scheduler starts it at once
        (True, running, FIRST_COLLECTION_RUNNING),
        (False, running, FIRST_COLLECTION_RUNNING),  # another process's scheduler runs it
        (
            True,
            failed_once,
            FIRST_COLLECTION_RETRY.format(at="2026-02-01T06:05:30Z"),
        ),
        (False, None, NO_COLLECTION),
        (False, failed_once, NO_COLLECTION),
    ],
)
@pytest.mark.parametrize("text", ["top", "qwen llama", "movers", "status"])
def test_an_empty_store_in_slack_says_what_the_bot_is_doing(
    new_store, collects, run, message, text
):
    result = answer_text(text, empty_in_slack(new_store, collects=collects, run=run))

    assert message in result.text
    assert "openmodels collect" not in result.text


def test_the_bundled_sample_in_slack_names_no_command_line_tool():
    store = open_store(sample_store_path(), sample=True)
    ctx = AnswerContext(store=store, families=load_families(), channel=SLACK)
    for text in ("top", "qwen", "status", "subscribe digest", "regions", "forecast"):
        payload = json.dumps(answer_text(text, ctx).payload())
        assert "sample data" in payload or "bundled sample" in payload, text
        assert "openmodels collect" not in payload and "OPENMODELS_DB" not in payload, text


def test_status_counts_snapshots(ctx):
    out = rendered("status", ctx)
    assert "Snapshots: 10" in out
    assert "First: 2026-01-01T06:00:00Z · Latest: 2026-01-10T06:00:00Z" in out


def test_sample_data_is_labelled_in_every_answer(new_store):
    store = new_store("s")
    write_snapshot(
        store, DAY0, "sample", [record("Qwen/a", "qwen", 10), record("meta-llama/b", "llama", 5)]
    )
    ctx = AnswerContext(store=store, families=load_families())
    for text in ("top", "compare qwen llama", "family qwen", "model Qwen/a", "status"):
        assert "sample data" in rendered(text, ctx), text


def test_subscriptions_need_a_channel(ctx):
    assert "Slack channel" in answer_text("subscribe digest", ctx).text


@pytest.mark.parametrize(
    "text",
    [
        "compare <!channel> qwen",
        "family <@U123>",
        "family <!here|here>",
        "model <!everyone>/x",
        "<!channel>",
        "top <@U1>",
        "compare qwen <#C123|general>",
    ],
)
def test_slack_markup_in_arguments_is_never_echoed_live(ctx, text):
    payload = json.dumps(answer_text(text, ctx).payload())
    assert "<!" not in payload and "<@" not in payload and "<#" not in payload


@pytest.mark.parametrize(
    "text",
    [
        "",
        "top",
        "top 50 --30d",
        "top 50 --derivatives",
        "compare qwen llama deepseek gemma phi glm",
        "family qwen",
        "model Qwen/Qwen3-8B",
        "status",
        "help",
        "nonsense",
        "x" * 5000,
    ],
)
def test_every_answer_is_within_block_kit_limits(ctx, text):
    result = answer_text(text, ctx)
    assert result.blocks
    assert check_limits(result.blocks) == []


# -- the period a change covers ------------------------------------------------------------


def short_history(new_store, days_apart):
    """Two snapshots `days_apart` days apart: Qwen 10 -> 40, Llama 20 -> 25 (all time)."""
    store = new_store("s")
    for day, (qwen, llama) in ((0, (10, 20)), (days_apart, (40, 25))):
        write_snapshot(
            store,
            DAY0 + timedelta(days=day),
            "hub",
            [record("Qwen/a", "qwen", qwen, d30=qwen), record("meta-llama/b", "llama", llama)],
        )
    return AnswerContext(store=store, families=load_families())


@pytest.mark.parametrize(
    ("days_apart", "period"), [(3, "since 1 Jan"), (7, "this week"), (12, "since 1 Jan")]
)
def test_a_change_says_this_week_only_for_seven_days(new_store, days_apart, period):
    ctx = short_history(new_store, days_apart)

    assert f"1. Qwen  40 · 61.5% · +30 {period} ▲1" in rendered("top", ctx)
    assert f"Change: +30 {period} ▲1" in rendered("compare qwen llama", ctx)
    assert f"Change\n      +30 {period} ▲1" in rendered("family qwen", ctx)
    assert f"{period[0].upper()}{period[1:]}\n      +30 all-time" in rendered("model Qwen/a", ctx)


def test_a_change_from_last_year_names_the_year(new_store):
    store = new_store("s")
    for when, qwen in ((datetime(2025, 12, 28, 6, tzinfo=UTC), 10), (DAY0, 40)):
        write_snapshot(store, when, "hub", [record("Qwen/a", "qwen", qwen)])
    ctx = AnswerContext(store=store, families=load_families())

    assert "+30 since 28 Dec 2025" in rendered("top", ctx)


@pytest.mark.parametrize("command", ["compare qwen llama --30d", "family qwen --30d"])
def test_charts_with_30d_plot_the_30_day_downloads(ctx, command):
    chart = answer_text(command, ctx).chart
    assert chart is not None

    assert chart.metric == "30d"
    assert chart.title.endswith(": downloads in the last 30 days")
    assert chart.series["Qwen"][-1] == ("2026-01-10T06:00:00Z", 15_300)
    assert "Line chart of Hub downloads in the last 30 days" in chart.alt_text
    assert "Qwen from 0 on 2026-01-01 to 15.3K on 2026-01-10" in chart.alt_text


def test_charts_without_30d_stay_cumulative(ctx):
    chart = answer_text("compare qwen llama", ctx).chart
    assert chart is not None
    assert (chart.metric, chart.title) == ("all_time", "Qwen vs Llama: cumulative downloads")


def test_the_movers_chart_sets_the_periods_gains_against_the_eight_weeks_before(tmp_path):
    # 70 daily snapshots; Qwen gains 8,000 a day, so 56,000 in every week.
    ctx = AnswerContext(store=growing_store(tmp_path / "s.db", days=70), families=load_families())
    latest = DAY0 + timedelta(days=69)

    chart = answer_text("movers 3", ctx).chart

    assert chart is not None and chart.view == "weekly"
    points = chart.series["Qwen"]
    assert points[0][0] == f"{latest - timedelta(weeks=8):%Y-%m-%dT%H:%M:%SZ}"
    assert points[-1][0] == f"{latest:%Y-%m-%dT%H:%M:%SZ}"
    assert {value for _, value in points} == {56_000}


def test_movers_over_more_than_eight_weeks_chart_the_whole_period(tmp_path):
    ctx = AnswerContext(store=growing_store(tmp_path / "s.db", days=70), families=load_families())

    chart = answer_text("movers 90", ctx).chart

    assert chart is not None and chart.series["Qwen"][0][0] == f"{DAY0:%Y-%m-%dT%H:%M:%SZ}"
