"""The digest's sections, each only when there is something to say: regions, the week's
biggest mover, the nearest forecast pass and the week's launches; and quiet weeks for
channels subscribed with --always. Exact figures on small real stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands.blocks import check_limits
from commands.digest_message import QUIET_NOTE, digest_message
from commands.render import plain
from openmodels.digest import DigestLaunch, build_digest, plan_digests
from openmodels.families import load_families, parse_families
from storage import outbox as ob
from storage import subscriptions as subs
from storage.snapshots import write_snapshot
from tests.builders import DAY0, family_day, record

FAMILIES = load_families()
WEEK = DAY0 + timedelta(days=7)  # 2026-01-08 06:00


@pytest.fixture
def store(new_store):
    return new_store("s")


def lines(store, families=FAMILIES, launches=(), quiet=False) -> list[str]:
    """The digest's blocks as plain text, a line per block (a context's elements too)."""
    with store.reading() as db:
        content = build_digest(db, families, WEEK, launches=launches)
    assert content is not None
    message = digest_message(content, families, quiet)
    assert check_limits(message["blocks"]) == []
    found = []
    for block in message["blocks"]:
        if "text" in block:
            found.append(plain(block["text"]["text"]))
        found += [plain(e["text"]) for e in block.get("elements", [])]
    return found


def starting(found: list[str], prefix: str) -> list[str]:
    return [line for line in found if line.startswith(prefix)]


# -- regions ---------------------------------------------------------------------------


def test_the_regions_line_gives_each_regions_share_and_change(store):
    family_day(store, 0, qwen=90, llama=100)  # China 100 (Qwen 90, DeepSeek 10), US 100
    family_day(store, 7, qwen=120, llama=110)  # China 130, US 110

    assert starting(lines(store), "Regions:") == ["Regions: China 54.2% (+30) · US 45.8% (+10)"]


def test_the_regions_line_marks_regions_that_changed_places(store):
    family_day(store, 0, qwen=80, llama=100, deepseek=10)  # China 90, US 100
    family_day(store, 7, qwen=120, llama=110, deepseek=10)  # China 130, US 110

    assert starting(lines(store), "Regions:") == [
        "Regions: China 54.2% (+40 ▲1) · US 45.8% (+10 ▼1)"
    ]


def test_a_region_none_of_whose_families_compares_shows_no_change_and_says_why(store):
    # Both of China's families are counted by other rules on day 7 than on day 0.
    narrow = {"qwen": "q1", "deepseek": "d1", "llama": "l1"}
    wide = {"qwen": "q2", "deepseek": "d2", "llama": "l1"}
    for day, defined, qwen in ((0, narrow, 90), (7, wide, 500)):
        write_snapshot(
            store,
            DAY0 + timedelta(days=day),
            "hub",
            [
                record("Qwen/a", "qwen", qwen),
                record("deepseek-ai/c", "deepseek", 10),
                record("meta-llama/b", "llama", 100 + day),
            ],
            defined,
        )

    # China 500 + 10 = 510, US 107: of 617, 82.7% and 17.3%.
    assert starting(lines(store), "Regions:") == [
        "Regions: China 82.7% (no change: DeepSeek, Qwen not comparable) · US 17.3% (+7)"
    ]


def test_families_without_regions_give_no_regions_line(store):
    plain_families = parse_families(
        '[families.qwen]\norgs = ["Qwen"]\n[families.llama]\norgs = ["meta-llama"]\n'
        '[families.deepseek]\norgs = ["deepseek-ai"]',
        "families.toml",
    )
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 7, qwen=120, llama=110)

    assert starting(lines(store, plain_families), "Regions") == []


# -- the biggest mover -------------------------------------------------------------------


def test_the_biggest_mover_is_the_largest_all_time_gain_of_the_week(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 7, qwen=120, llama=110)

    assert starting(lines(store), "Biggest mover") == [
        "Biggest mover: Qwen, +30 all-time downloads this week (+33.3%), now 120."
    ]


def test_a_family_whose_total_fell_is_never_the_biggest_mover(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 3, qwen=95, llama=40)  # an organisation of Llama vanished
    family_day(store, 7, qwen=96, llama=60)  # still missing: below its 100, an anomaly

    assert starting(lines(store), "Biggest mover") == [
        "Biggest mover: Qwen, +6 all-time downloads this week (+6.7%), now 96."
    ]


def test_a_fall_in_the_week_that_recovered_leaves_the_weeks_gain_standing(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 3, qwen=95, llama=40)  # missing for a day
    family_day(store, 7, qwen=96, llama=120)  # whole again: both ends compare

    assert starting(lines(store), "Biggest mover") == [
        "Biggest mover: Llama, +20 all-time downloads this week (+20.0%), now 120."
    ]


def test_no_gain_means_no_biggest_mover(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 7, qwen=90, llama=100)

    assert starting(lines(store), "Biggest mover") == []


# -- the nearest forecast ---------------------------------------------------------------


def test_the_nearest_pass_is_forecast(store):
    # The gap Llama - Qwen closes by 8 a day: 80 at the start, 24 on day 7, 0 on day 10.
    for d in range(8):
        family_day(store, d, qwen=40 + 10 * d, llama=120 + 2 * d)

    assert starting(lines(store), "Next pass") == [
        "Next pass: Qwen is on course to pass Llama around 2026-01-11 (in 3 days)."
    ]


def test_a_widening_gap_gives_no_forecast(store):
    for d in range(8):
        family_day(store, d, qwen=40 + 2 * d, llama=120 + 10 * d)

    assert starting(lines(store), "Next pass") == []


# -- launches ---------------------------------------------------------------------------


def launch(repo_id: str, downloads: int, family: str = "qwen") -> DigestLaunch:
    return DigestLaunch(repo_id, family, "2026-01-06T06:00:00Z", downloads)


def test_the_weeks_launches_are_listed_most_downloaded_first(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 7, qwen=120, llama=110)
    launches = [launch("Qwen/Qwen3-Small", 900), launch("meta-llama/Llama-5", 12_300, "llama")]

    found = lines(store, launches=launches)

    [section] = starting(found, "Launches")
    assert section == (
        "Launches this week\n"
        "• meta-llama/Llama-5 (Llama), first seen 2026-01-06: 12.3K downloads\n"
        "• Qwen/Qwen3-Small (Qwen), first seen 2026-01-06: 900 downloads"
    )


def test_many_launches_are_cut_at_ten_and_counted(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 7, qwen=120, llama=110)

    [section] = starting(lines(store, launches=[launch(f"Qwen/m{i}", i) for i in range(13)]), "La")

    assert section.count("• ") == 10 and section.endswith("…and 3 more")


def test_no_launches_no_launches_section(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 7, qwen=120, llama=110)

    assert starting(lines(store), "Launches") == []


def test_the_planner_passes_the_launches_into_every_channels_digest(store):
    with store.writing() as db:
        subs.subscribe(db, "T1", "C1", "digest", (), "2026-01-01T00:00:00Z")
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 7, qwen=120, llama=110)

    plan_digests(
        store,
        FAMILIES,
        WEEK,
        slot=WEEK,
        message=digest_message,
        launches=[launch("Qwen/Qwen3-Small", 900)],
    )

    with store.reading() as db:
        [item] = ob.all_items(db)
    texts = [b["text"]["text"] for b in item.payload["blocks"] if "text" in b]
    assert any(t.startswith("*Launches this week*") for t in texts)


# -- quiet weeks -------------------------------------------------------------------------


def test_a_channel_subscribed_always_gets_a_quiet_week_saying_nothing_changed(store):
    family_day(store, 0, qwen=120, llama=100)
    with store.writing() as db:
        subs.subscribe(db, "T1", "C_ALWAYS", "digest", (), "2026-01-01T00:00:00Z", always=True)
        subs.subscribe(db, "T1", "C_CHANGES", "digest", (), "2026-01-01T00:00:00Z")
        for channel in ("C_ALWAYS", "C_CHANGES"):  # both received last week's digest
            subs.set_last_digest(
                db,
                "T1",
                channel,
                {"all_time": ["qwen", "llama", "deepseek"], "30d": ["qwen", "llama", "deepseek"]},
            )
    family_day(store, 7, qwen=150, llama=110)  # figures grew, order held

    plan = plan_digests(store, FAMILIES, WEEK, slot=WEEK, message=digest_message)

    assert plan.queued == ["C_ALWAYS"]
    assert plan.skipped == [("C_CHANGES", "rankings unchanged since the last digest")]
    with store.reading() as db:
        [item] = ob.all_items(db)
    assert item.payload["text"].startswith(
        f"openmodels weekly digest (2026-01-08): {QUIET_NOTE} Qwen leads with 150"
    )
    headline = item.payload["blocks"][1]["text"]["text"]
    assert headline.startswith("Nothing changed in the rankings since the last digest.")


def test_an_always_channel_gets_the_usual_digest_when_the_rankings_changed(store):
    with store.writing() as db:
        subs.subscribe(db, "T1", "C_ALWAYS", "digest", (), "2026-01-01T00:00:00Z", always=True)
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 7, qwen=120, llama=110)

    plan_digests(store, FAMILIES, WEEK, slot=WEEK, message=digest_message)

    with store.reading() as db:
        [item] = ob.all_items(db)
    assert QUIET_NOTE not in item.payload["text"]
