"""A team's first day: one collection from the fake Hub, and what the store and every
answer make of the day-one estimate it writes beside it.

The Hub on 17 Jan 2026 at 06:00 (all-time; 30-day), worked by hand:
- Qwen/Qwen2.5-7B-Instruct 310M; 30M (created 2024): 280M on 18 Dec 2025
- Qwen/Qwen3-8B 250M; 40M (created 2025): 210M
- Qwen/Qwen3-Next 9M; 9M, created on 1 Jan 2026: did not exist on 18 Dec, left out
- Qwen/Qwen-odd 1.5M; 2M (created 2024): -0.5M, counted as zero (one model floored)
- meta-llama/Llama-3.1-8B-Instruct 400M; 20M: 380M
- meta-llama/Llama-3.2-1B 150M; 12M: 138M
Qwen 570.5M now, 490M on 18 Dec (+80.5M); Llama 550M now, 518M then (+32M).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.home_view import Membership, home_view, read_home
from commands.render import render_text
from openmodels.alerts import check_overtakes
from openmodels.charts import ESTIMATE_MARKER, plan_chart
from openmodels.cli import main
from openmodels.collector import collect_snapshot
from openmodels.digest import build_digest
from openmodels.families import parse_families
from openmodels.hub import HubClient
from openmodels.launch_finder import launches_between
from storage import queries as q
from storage.estimates import estimate_notes
from tests.fakes import hub_model
from tests.slack_helpers import all_strings

M = 1_000_000
DAY_ONE = datetime(2026, 1, 17, 6, 0, tzinfo=UTC)
THEN = "2025-12-18T06:00:00Z"
FAMILIES = """
[families.qwen]
label = "Qwen"
region = "China"
orgs = ["Qwen"]

[families.llama]
label = "Llama"
region = "US"
orgs = ["meta-llama"]
"""
WITH_KIMI = FAMILIES + (
    '\n[families.kimi]\nlabel = "Kimi"\nregion = "China"\norgs = ["moonshotai"]\n'
)
LABEL = (
    "estimated from the Hub's 30-day counts (1 model with more downloads in 30 days than "
    "of all time counted as zero)"
)


def the_hub(fake_hub):
    fake_hub.add(
        "Qwen",
        hub_model("Qwen/Qwen2.5-7B-Instruct", 30 * M, 310 * M, created_at="2024-09-16T12:00:00Z"),
        hub_model("Qwen/Qwen3-8B", 40 * M, 250 * M, created_at="2025-04-29T00:00:00.000Z"),
        hub_model("Qwen/Qwen3-Next", 9 * M, 9 * M, created_at="2026-01-01T00:00:00.000Z"),
        hub_model("Qwen/Qwen-odd", 2 * M, 1_500_000, created_at="2024-01-01T00:00:00.000Z"),
    )
    fake_hub.add(
        "meta-llama",
        hub_model("meta-llama/Llama-3.1-8B-Instruct", 20 * M, 400 * M),
        hub_model("meta-llama/Llama-3.2-1B", 12 * M, 150 * M),
    )
    fake_hub.add(
        "moonshotai",
        hub_model("moonshotai/Kimi-K2", 3 * M, 10 * M, created_at="2025-07-11T00:00:00.000Z"),
    )
    return fake_hub


def collect(store, fake_hub, families=FAMILIES, now=DAY_ONE):
    return collect_snapshot(
        parse_families(families, "families.toml"), HubClient(fake_hub.url), store, now=now
    )


@pytest.fixture
def day_one(fake_hub, new_store):
    store = new_store("team")
    collect(store, the_hub(fake_hub))
    return AnswerContext(store=store, families=parse_families(FAMILIES, "families.toml"))


# -- what the first collection writes ----------------------------------------------------------


def test_the_first_collection_writes_its_estimate_30_days_back(fake_hub, new_store):
    store = new_store("team")

    result = collect(store, the_hub(fake_hub))

    assert result.estimate is not None and result.estimate.floored == 1
    with store.reading() as db:
        snapshots = q.list_snapshots(db)
        assert [(s.source, s.taken_at) for s in snapshots] == [
            ("estimate", THEN),
            ("hub", "2026-01-17T06:00:00Z"),
        ]
        assert q.values_at(db, snapshots[0].id, "all_time") == {"qwen": 490 * M, "llama": 518 * M}
        # It knows all-time counts only: no 30-day figure of it is ever read.
        assert q.values_at(db, snapshots[0].id, "30d") == {}
        assert list(q.family_series(db, ["qwen"], "30d")["qwen"]) == [
            ("2026-01-17T06:00:00Z", 81 * M)
        ]
        assert q.figures_of(db, [snapshots[0].id])[snapshots[0].id]["30d"] == {}
        [note] = estimate_notes(db)
        assert (note.based_on, note.floored, note.whole) == (result.snapshot_id, 1, True)
        history = q.model_history(db, "Qwen/Qwen-odd")
        assert [(p.downloads_all_time, p.estimated, p.downloads_30d) for p in history] == [
            (0, True, None),
            (1_500_000, False, 2 * M),
        ]
        assert q.model_history(db, "Qwen/Qwen3-Next")[0].estimated is False  # not then


def test_a_later_collection_writes_no_estimate(fake_hub, new_store):
    store = new_store("team")
    collect(store, the_hub(fake_hub))

    again = collect(store, fake_hub, now=DAY_ONE + timedelta(days=1))

    assert again.estimate is None
    with store.reading() as db:
        assert [s.source for s in q.list_snapshots(db)] == ["estimate", "hub", "hub"]


def test_a_family_newly_added_gets_an_estimate_of_its_own(fake_hub, new_store):
    # Kimi joins the families file on the second day: the store holds no figure of it.
    store = new_store("team")
    collect(store, the_hub(fake_hub))

    added = collect(store, fake_hub, WITH_KIMI, now=DAY_ONE + timedelta(days=1))

    assert added.estimate is not None and added.estimate.families == {"kimi"}
    with store.reading() as db:
        partial = [n for n in estimate_notes(db) if not n.whole]
        assert [(n.taken_at, n.floored) for n in partial] == [("2025-12-19T06:00:00Z", 0)]
        assert q.values_at(db, partial[0].snapshot_id, "all_time") == {"kimi": 7 * M}
        latest = q.latest_snapshot(db)
        assert latest is not None
        # It holds only Kimi: never a baseline for the whole ranking.
        near = q.snapshot_near(db, latest, days=30)
        assert near is not None and near.taken_at == THEN


def test_a_widened_family_gets_no_estimate_it_compares_from_the_change(fake_hub, new_store):
    store = new_store("team")
    collect(store, the_hub(fake_hub))
    widened = FAMILIES.replace('orgs = ["Qwen"]', 'orgs = ["Qwen", "moonshotai"]')

    result = collect(store, fake_hub, widened, now=DAY_ONE + timedelta(days=1))
    ctx = AnswerContext(store=store, families=parse_families(widened, "families.toml"))
    out = render_text(answer_text("top", ctx))

    assert result.estimate is None
    assert "definition changed on 18 Jan: no change to show yet" in out
    chart = answer_text("compare qwen llama", ctx).chart
    assert chart is not None and chart.breaks == {"Qwen": ["2026-01-18T06:00:00Z"]}


# -- what the answers make of it -----------------------------------------------------------------


def test_compare_on_day_one_has_a_two_point_trend_labelled_as_estimated(day_one):
    result = answer_text("compare qwen llama", day_one)
    out = render_text(result)

    assert "Change: +80.5M since 18 Dec 2025 ▲1" in out
    assert "Change: +32.0M since 18 Dec 2025 ▼1" in out
    assert f"changes since 2025-12-18, {LABEL}" in out.replace("\n", " ").replace("-- ", "")
    chart = result.chart
    assert chart is not None
    assert chart.series == {
        "Qwen": [(THEN, 490 * M), ("2026-01-17T06:00:00Z", 570.5 * M)],
        "Llama": [(THEN, 518 * M), ("2026-01-17T06:00:00Z", 550 * M)],
    }
    assert chart.estimated == [THEN] and chart.estimate_label == LABEL
    # The order the estimate gives (Llama ahead then) is no overtake: no crossing drawn.
    plan = plan_chart(chart)
    assert plan.crossings == [] and "passed" not in chart.alt_text
    assert [(p.label, p.dashed, p.start_marker) for p in plan.pieces] == [
        ("Qwen", True, ESTIMATE_MARKER),
        ("Llama", True, ESTIMATE_MARKER),
    ]
    assert f"The points of 2025-12-18 are {LABEL}." in chart.alt_text
    assert check_limits(result.blocks) == []


def test_movers_over_30_days_rank_families_from_the_estimate(day_one):
    result = answer_text("movers 30", day_one)
    out = render_text(result)

    assert "1. Qwen  +80.5M · +16.4% (now 570.5M)" in out
    assert "2. Llama  +32.0M · +6.2% (now 550.0M)" in out
    assert "2025-12-18 → 2026-01-17" in out and LABEL in out.replace("\n", " ")
    # A model created in the period counts whole; one counted as zero then says so.
    assert "Qwen/Qwen3-Next (Qwen)  +9.0M · new" in out
    assert "Qwen/Qwen-odd (Qwen)  +1.5M · from 0" in out
    chart = result.chart
    assert chart is not None and chart.view == "weekly" and chart.estimated == [THEN]
    # One step per family, the month's average week: 80.5M in 30 days.
    assert chart.series["Qwen"] == [
        (THEN, pytest.approx(80.5 * M / 30 * 7)),
        ("2026-01-17T06:00:00Z", pytest.approx(80.5 * M / 30 * 7)),
    ]


def test_30_day_figures_have_no_baseline_on_day_one(day_one):
    out = render_text(answer_text("top --30d", day_one))

    assert "1. Qwen  81.0M · 71.7% · no figure a day older" in out
    assert "estimated" not in out


def test_forecasts_say_on_which_day_the_first_can_come(day_one):
    out = render_text(answer_text("forecast", day_one))

    assert "With a snapshot a day, the first forecast can come on 2026-01-21." in out


def test_the_estimate_never_alerts_launches_or_makes_a_digest(day_one):
    check = check_overtakes(day_one.store, day_one.families, message=lambda *_: {}, now=DAY_ONE)
    with day_one.store.reading() as db:
        launches = launches_between(db, DAY_ONE - timedelta(days=60), DAY_ONE)
        digest = build_digest(db, day_one.families, DAY_ONE)

    assert check.overtakes == [] and launches == []
    assert digest is not None and digest.baseline is None  # the estimate is no baseline
    assert digest.mover is None
    assert all(THEN not in [t for t, _ in points] for points in digest.chart_series.values())


def test_status_counts_the_estimate_apart(day_one):
    out = render_text(answer_text("status", day_one))

    assert "Snapshots: 2 (1 estimated from the Hub's 30-day counts)" in out


def test_a_model_says_it_is_tracked_since_its_first_collection(day_one):
    out = render_text(answer_text("model Qwen2.5-7B-Instruct", day_one))

    assert "Tracked since\n      2026-01-17 (1 snapshot)" in out
    assert "+30.0M all-time (estimated from the Hub's 30-day counts)" in out


def test_regions_on_day_one_sum_the_estimate_of_every_family(day_one):
    result = answer_text("regions", day_one)

    assert result.chart is not None
    assert result.chart.series["China"][0] == (THEN, 490 * M)
    assert "+80.5M" in render_text(result)


def test_a_family_newly_added_is_no_point_of_a_region_or_a_share(fake_hub, new_store):
    store = new_store("team")
    collect(store, the_hub(fake_hub))
    collect(store, fake_hub, WITH_KIMI, now=DAY_ONE + timedelta(days=1))
    ctx = AnswerContext(store=store, families=parse_families(WITH_KIMI, "families.toml"))

    regions = answer_text("regions", ctx).chart
    share = answer_text("compare kimi qwen --share", ctx).chart
    kimi = answer_text("family kimi", ctx).chart

    assert regions is not None and share is not None and kimi is not None
    # China on 19 Dec would be Kimi alone: not a point of its sum, nor of a share.
    assert "2025-12-19T06:00:00Z" not in dict(regions.series["China"])
    assert "2025-12-19T06:00:00Z" not in dict(share.series["Kimi"])
    # China adds Kimi up from 18 Jan: drawn apart there, said in the alt text.
    assert regions.breaks["China"] == ["2026-01-18T06:00:00Z"]
    assert "China adds up other families from 2026-01-18" in regions.alt_text
    # Kimi's own chart has its estimate: a two-point trend.
    assert kimi.series["Kimi"] == [
        ("2025-12-19T06:00:00Z", 7 * M),
        ("2026-01-18T06:00:00Z", 10 * M),
    ]
    assert kimi.estimated == ["2025-12-19T06:00:00Z"]


def test_at_a_terminal_the_first_collection_gives_a_trend_at_once(
    fake_hub, tmp_path, store_location, capsys, monkeypatch
):
    families = tmp_path / "families.toml"
    families.write_text(FAMILIES)
    monkeypatch.setenv("HF_ENDPOINT", the_hub(fake_hub).url)
    store = ["--db", store_location("team"), "--families", str(families)]

    assert main(["collect", *store]) == 0
    capsys.readouterr()
    assert main(["ask", *store, "compare", "qwen", "llama"]) == 0
    compared = capsys.readouterr().out
    assert main(["ask", *store, "movers", "30"]) == 0
    movers = capsys.readouterr().out

    # The collection is taken now: the estimate is of 30 days ago, whatever today is.
    assert re.search(r"Change: \+80\.5M since \d+ \w+( \d{4})? ▲1", compared)
    assert "[chart: Line chart of cumulative Hub downloads up to 2026-" in compared
    assert "1. Qwen  +80.5M · +16.4% (now 570.5M)" in movers
    assert "estimated from the Hub's 30-day counts" in movers.replace("\n", " ")


def test_the_home_tab_labels_its_changes_as_estimated(day_one):
    facts = read_home(day_one.store, "T1", DAY_ONE)
    view = home_view(facts, day_one.families, Membership(), DAY_ONE)

    text = " ".join(all_strings(view))
    assert "+80.5M" in text and "change since 18 Dec 2025" in text
    assert f"changes since 2025-12-18, {LABEL}" in text


def test_the_home_tab_says_when_the_first_forecast_can_come(day_one):
    facts = read_home(day_one.store, "T1", DAY_ONE)
    view = home_view(facts, day_one.families, Membership(), DAY_ONE)

    text = " ".join(all_strings(view))
    assert (
        "*Nearest overtake:* No family is on course to pass the one ahead of it within 180 "
        "days. Of the one neighbouring pair, 1 lacks the history. With a snapshot a day, the "
        "first forecast can come on 2026-01-21."
    ) in text
