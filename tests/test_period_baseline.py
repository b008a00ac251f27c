"""A change over a period spans at least a day: two collections of the same morning are
no baseline for each other.

The store below was collected twice on 17 Jan 2026, at 06:00 and at 06:30. The second
collection found every model a little further on (Qwen +1.0M, Llama +0.5M), but half an
hour is no period: no answer may say "+1.0M since 17 Jan" as if it were a change over
time. Where there is no snapshot a day older, the answers say what they say with no
history; where the first collection's day-one estimate (30 days back) exists, changes run
from it and are labelled as estimated.

Figures at 06:00 (all-time; 30-day), and the estimate of 18 Dec (all-time minus 30-day):
- Qwen/Qwen3-8B 300M; 40M -> 260M on 18 Dec
- meta-llama/Llama-3.1-8B-Instruct 400M; 20M -> 380M
At 06:30: Qwen3-8B 301M, Llama 400.5M.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.digest_message import digest_message
from commands.home_view import Membership, home_view, read_home
from commands.render import render_text
from openmodels.collector import collect_snapshot
from openmodels.digest import build_digest
from openmodels.families import parse_families
from openmodels.hub import HubClient
from storage import queries as q
from storage.snapshots import format_timestamp, write_snapshot
from tests import test_day_one as day_one
from tests.builders import record
from tests.fakes import hub_model
from tests.slack_helpers import all_strings

M = 1_000_000
MORNING = datetime(2026, 1, 17, 6, 0, tzinfo=UTC)
HALF_AN_HOUR_LATER = MORNING + timedelta(minutes=30)
FAMILIES = parse_families(day_one.FAMILIES, "families.toml")  # Qwen (China), Llama (US)


def the_hub_at(fake_hub, qwen: int, llama: int):
    """The Hub listing both families' models with these all-time counts."""
    fake_hub.replace(
        "Qwen", hub_model("Qwen/Qwen3-8B", 40 * M, qwen, created_at="2025-04-29T00:00:00.000Z")
    )
    fake_hub.replace("meta-llama", hub_model("meta-llama/Llama-3.1-8B-Instruct", 20 * M, llama))
    return HubClient(fake_hub.url)


@pytest.fixture
def twice_this_morning(fake_hub, new_store):
    """A first collection (with its day-one estimate) and a second half an hour later."""
    store = new_store("team")
    collect_snapshot(FAMILIES, the_hub_at(fake_hub, 300 * M, 400 * M), store, now=MORNING)
    collect_snapshot(
        FAMILIES, the_hub_at(fake_hub, 301 * M, 400_500_000), store, now=HALF_AN_HOUR_LATER
    )
    return AnswerContext(store=store, families=FAMILIES)


@pytest.fixture
def no_history(new_store):
    """The same two snapshots without an estimate before them (as an import leaves them)."""
    store = new_store("team")
    for when, qwen, llama in [
        (MORNING, 300 * M, 400 * M),
        (HALF_AN_HOUR_LATER, 301 * M, 400_500_000),
    ]:
        write_snapshot(
            store,
            when,
            "hub",
            [
                record("Qwen/Qwen3-8B", "qwen", qwen, d30=40 * M),
                record("meta-llama/Llama-3.1-8B-Instruct", "llama", llama, d30=20 * M),
            ],
        )
    return AnswerContext(store=store, families=FAMILIES)


def out(command: str, ctx: AnswerContext) -> str:
    return render_text(answer_text(command, ctx))


def home_text(ctx: AnswerContext) -> str:
    facts = read_home(ctx.store, "T1", HALF_AN_HOUR_LATER)
    return "\n".join(all_strings(home_view(facts, ctx.families, Membership(), HALF_AN_HOUR_LATER)))


def digest_text(ctx: AnswerContext) -> tuple[q.Snapshot | None, str]:
    with ctx.store.reading() as db:
        digest = build_digest(db, ctx.families, HALF_AN_HOUR_LATER)
    assert digest is not None
    return digest.baseline, "\n".join(all_strings(digest_message(digest, ctx.families)))


# -- the rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours_before_latest", "baseline"),
    [
        ([0.5], None),  # the same morning: no period at all
        ([19], None),  # not yet a day
        ([23.9], 23.9),  # a day, though collected six minutes earlier than the day before
        ([24], 24),  # a day exactly
        ([24 * 30, 0.5], 24 * 30),  # the older one, though further from a week back
        ([24 * 9, 24 * 6, 2], 24 * 6),  # the one nearest a week back, as ever
    ],
)
def test_a_baseline_lies_at_least_a_day_before_the_latest(new_store, hours_before_latest, baseline):
    store = new_store("near")
    for hours in [*hours_before_latest, 0]:
        write_snapshot(
            store, MORNING - timedelta(hours=hours), "hub", [record("Qwen/A", "qwen", 100)]
        )

    with store.reading() as db:
        latest = q.latest_snapshot(db)
        assert latest is not None
        near = q.snapshot_near(db, latest, days=7)

    expected = None if baseline is None else format_timestamp(MORNING - timedelta(hours=baseline))
    assert (near.taken_at if near else None) == expected


# -- with the day-one estimate: changes run from it, labelled ----------------------------------


def test_top_family_and_compare_count_from_the_estimate_not_from_this_morning(
    twice_this_morning,
):
    top = out("top", twice_this_morning)
    family = out("family qwen", twice_this_morning)
    compare = out("compare qwen llama", twice_this_morning)

    assert "1. Llama  400.5M · 57.1% · +20.5M since 18 Dec 2025" in top
    assert "2. Qwen  301.0M · 42.9% · +41.0M since 18 Dec 2025" in top
    assert "Change\n      +41.0M since 18 Dec 2025" in family
    assert "Change: +41.0M since 18 Dec 2025" in compare
    for answer in (top, family, compare):
        assert "changes since 2025-12-18, estimated from the Hub's 30-day counts" in answer
        assert "since 17 Jan" not in answer and "+1.0M" not in answer


def test_regions_movers_and_a_model_count_from_the_estimate(twice_this_morning):
    regions = out("regions", twice_this_morning)
    movers = out("movers", twice_this_morning)
    model = out("model Qwen/Qwen3-8B", twice_this_morning)

    assert "1. US  400.5M · 57.1% · +20.5M · share -2.3 pts" in regions
    assert "2. China  301.0M · 42.9% · +41.0M · share +2.3 pts" in regions
    assert "1. Qwen  +41.0M · +15.8% (now 301.0M)" in movers
    assert "2025-12-18 → 2026-01-17, 30 days" in movers
    assert "+41.0M all-time (estimated from the Hub's 30-day counts)" in model


def test_30_day_figures_and_the_digest_have_no_baseline_this_morning(twice_this_morning):
    # The estimate knows all-time counts only, and never makes a digest.
    top = out("top --30d", twice_this_morning)
    baseline, digest = digest_text(twice_this_morning)

    assert "1. Qwen  40.0M · 66.7% · no figure a day older" in top
    assert "30-day downloads are a rolling count" not in top  # no change to explain
    assert baseline is None
    assert "None yet: no collection a day older to compare with." in digest
    assert "new" not in digest.split("*All-time downloads*")[1].split("*Overtakes*")[0]
    assert "+1.0M" not in digest and "Biggest mover" not in digest


def test_the_home_tab_counts_from_the_estimate(twice_this_morning):
    home = home_text(twice_this_morning)

    assert "*Leaderboard* — all-time downloads, change since 18 Dec 2025" in home
    assert "*<https://huggingface.co/Qwen|Qwen>*  301.0M · 42.9% · +41.0M" in home


# -- without any history: the answers say there is no change yet --------------------------------


def test_without_history_no_answer_shows_a_change(no_history):
    top = out("top", no_history)
    compare = out("compare qwen llama", no_history)
    family = out("family qwen", no_history)
    regions = out("regions", no_history)
    model = out("model Qwen/Qwen3-8B", no_history)
    home = home_text(no_history)
    _, digest = digest_text(no_history)

    assert "1. Llama  400.5M · 57.1% · no figure a day older" in top
    assert "Change: no figure a day older" in compare
    assert "Change\n      no figure a day older" in family
    assert "1. US  400.5M · 57.1%\n" in regions and "share" not in regions
    assert "Change\n      no figure a day older" in model
    assert "400.5M · 57.1% · no figure a day older" in home
    assert "None yet: no collection a day older to compare with." in digest
    for answer in (top, compare, family, regions, model, home, digest):
        assert "+1.0M" not in answer and "+500.0K" not in answer
        assert "changes since" not in answer


def test_movers_say_they_need_a_snapshot_a_day_older(no_history):
    movers = out("movers", no_history)

    assert movers.startswith(
        "Movers compare two snapshots at least a day apart; the store has none a day older "
        "than its latest, from 2026-01-17."
    )
