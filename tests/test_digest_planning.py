"""The weekly digest: sent when rankings changed since the last digest a channel received,
keyed by the scheduled slot it belongs to however late it runs; its overtakes follow the
alert rules, and it says the period its changes cover."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs import Services, digest_job, scheduled_jobs
from bot.outbox_sender import deliver
from bot.scheduler import JobRunner
from bot.slack_client import make_web_client
from commands.blocks import check_limits
from commands.digest_message import digest_message
from commands.render import plain
from openmodels.config import Config
from openmodels.digest import build_digest, plan_digests
from openmodels.families import load_families, parse_families
from openmodels.hub import HubClient
from storage import outbox as ob
from storage import subscriptions as subs
from storage.snapshots import write_snapshot
from tests.builders import DAY0, family_day, record
from tests.slack_helpers import tiny_png

FAMILIES = load_families()
MONDAY = DAY0 + timedelta(days=4)  # 2026-01-05 06:00 is a Monday
SLOT = MONDAY  # the digest scheduled for Monday 06:00


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def store(new_store):
    store = new_store("s")
    with store.writing() as db:
        subs.subscribe(db, "T1", "C1", "digest", (), "2026-01-01T00:00:00Z")
        subs.subscribe(db, "T1", "C2", "digest", (), "2026-01-01T00:00:00Z")
        subs.subscribe(db, "T1", "C3", "alerts", (), "2026-01-01T00:00:00Z")
    return store


def planned(store, now, *, slot, **options):
    """Plan the digests as the bot does, with its words."""
    return plan_digests(store, FAMILIES, now, slot=slot, message=digest_message, **options)


def digests(store):
    with store.reading() as db:
        return [i for i in ob.all_items(db) if i.kind == "digest"]


def delivered(store, slack):
    """Run the outbox sender against the local Slack, as the bot does after planning."""
    return deliver(
        store,
        make_web_client("xoxb-test", slack.api_url),
        render=tiny_png,
        clock=lambda: datetime.now(UTC),
        pause=lambda _s: None,
    )


def posted(slack, channel):
    """The messages posted in `channel` (not the shares of the digest's chart)."""
    return [
        m["text"]
        for m in slack.channel_messages.get(channel, [])
        if "text" in m and not m.get("files")
    ]


def test_a_channel_gets_its_first_digest(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 4, qwen=120, llama=110)
    plan = planned(store, MONDAY, slot=SLOT)
    assert plan.queued == ["C1", "C2"]
    items = digests(store)
    assert [i.event for i in items] == ["digest:2026-01-05T06:00:00Z"] * 2
    payload = items[0].payload
    assert check_limits(payload["blocks"]) == []
    text = "\n".join(plain(b["text"]["text"]) for b in payload["blocks"] if "text" in b)
    assert "1. ▲1 Qwen  120 (50.0%) +30" in text
    assert "Qwen passed Llama in all-time downloads" in text
    assert "Biggest mover: Qwen, +30 all-time downloads since 1 Jan (+33.3%), now 120." in text
    assert payload["chart"]["series"]["Qwen"][-1] == ["2026-01-05T06:00:00Z", 120]


def test_running_the_digest_again_for_the_same_slot_queues_nothing(store):
    family_day(store, 0, qwen=90, llama=100)
    planned(store, MONDAY, slot=SLOT)
    family_day(store, 1, qwen=130, llama=100)  # even with a changed ranking
    again = planned(store, MONDAY + timedelta(hours=3), slot=SLOT)
    assert again.queued == []
    assert again.skipped[0] == ("C1", "digest for 2026-01-05T06:00:00Z already queued")
    assert len(digests(store)) == 2


def test_an_unchanged_ranking_since_the_delivered_digest_sends_nothing_and_says_why(
    store, slack, caplog
):
    caplog.set_level(logging.INFO)
    family_day(store, 0, qwen=120, llama=100)
    planned(store, MONDAY, slot=SLOT)
    delivered(store, slack)
    family_day(store, 7, qwen=150, llama=110)  # figures grew, order held
    plan = planned(store, MONDAY + timedelta(days=7), slot=SLOT + timedelta(days=7))
    assert plan.queued == []
    assert plan.skipped == [
        ("C1", "rankings unchanged since the last digest"),
        ("C2", "rankings unchanged since the last digest"),
    ]
    assert "rankings unchanged" in caplog.text


def test_a_changed_ranking_next_week_is_sent(store):
    family_day(store, 0, qwen=90, llama=100)
    planned(store, MONDAY, slot=SLOT)
    family_day(store, 7, qwen=150, llama=110)
    next_week = planned(store, MONDAY + timedelta(days=7), slot=SLOT + timedelta(days=7))
    assert next_week.queued == ["C1", "C2"]


def test_no_snapshots_means_no_digest(store):
    plan = planned(store, MONDAY, slot=SLOT)
    assert plan.queued == [] and plan.skipped[0][1] == "no snapshots yet"


# -- the week's overtakes follow the alert rules; the period is said -----------------


def digest_text(store, confirm=1):
    with store.reading() as db:
        digest = build_digest(db, FAMILIES, MONDAY, confirm=confirm)
    assert digest is not None
    lines = []
    for block in digest_message(digest, FAMILIES)["blocks"]:
        if "text" in block:
            lines.append(plain(block["text"]["text"]))
        lines += [plain(e.get("text", "")) for e in block.get("elements", [])]
    return "\n".join(lines)


def test_the_weeks_overtakes_leave_out_a_family_whose_figures_went_backwards(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 7, qwen=95, llama=40)  # one of llama's organisations vanished

    text = digest_text(store)

    assert "passed" not in text
    assert "Overtakes this week\nNone: the order held." in text


@pytest.mark.parametrize(
    ("after_the_tie", "expected"),
    [
        ((130, 115), "None: the order held."),  # ahead, level, ahead: no overtake
        ((115, 130), "• Llama passed Qwen in all-time downloads"),  # ahead, level, behind
    ],
)
def test_a_tie_at_the_start_of_the_week_is_neither_order(store, after_the_tie, expected):
    family_day(store, 0, qwen=100, llama=90)
    family_day(store, 7, qwen=110, llama=110)  # the week's baseline: level
    qwen, llama = after_the_tie
    family_day(store, 14, qwen=qwen, llama=llama)

    text = digest_text(store)

    assert expected in text
    assert "Qwen passed Llama" not in text


def test_the_weeks_overtakes_wait_for_the_alerts_confirmation(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 6, qwen=95, llama=100)
    family_day(store, 7, qwen=105, llama=100)  # ahead in one snapshot only

    assert "Qwen passed Llama in all-time downloads" in digest_text(store, confirm=1)
    assert "passed" not in digest_text(store, confirm=2)


NARROW = 'orgs = ["google"]\nmatch = ["gemma*"]'
WIDE = 'orgs = ["google"]\nmatch = ["gemma*", "codegemma*"]'


def definitions(gemma_rules):
    toml = f'[families.gemma]\n{gemma_rules}\n[families.llama]\norgs = ["meta-llama"]'
    return parse_families(toml, "families.toml").definitions()


def test_a_changed_families_file_makes_no_overtake_and_is_never_the_biggest_mover(store):
    llama = record("meta-llama/Llama-3-8B", "llama", 300, d30=30)
    write_snapshot(
        store,
        DAY0,
        "hub",
        [record("google/gemma-2b", "gemma", 100, d30=10), llama],
        definitions(NARROW),
    )
    widened = [
        record("google/gemma-2b", "gemma", 101, d30=10),
        record("google/codegemma-7b", "gemma", 500, d30=50),
        record("meta-llama/Llama-3-8B", "llama", 310, d30=32),
    ]
    write_snapshot(store, DAY0 + timedelta(days=7), "hub", widened, definitions(WIDE))

    text = digest_text(store)

    assert "passed" not in text
    assert "Biggest mover: Llama, +10 all-time downloads this week (+3.3%), now 310." in text
    # No move in the ranking either: Gemma's step is not a pass, its figure not a change.
    assert "1. Gemma  601 (66.0%) (definition changed on 8 Jan: no change to show yet)" in text
    assert "2. = Llama  310 (34.0%) +10" in text


@pytest.mark.parametrize(
    ("days_apart", "heading"),
    [(7, "Overtakes this week"), (4, "Overtakes since 1 Jan"), (10, "Overtakes since 1 Jan")],
)
def test_the_overtakes_heading_says_the_period_it_covers(store, days_apart, heading):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, days_apart, qwen=120, llama=110)

    text = digest_text(store)

    assert f"{heading}\n• Qwen passed Llama in all-time downloads" in text


# -- the last digest is the last one delivered ---------------------------------------------


def last_digest(store, channel):
    with store.reading() as db:
        return subs.get(db, "T1", channel, "digest").last_digest


def test_a_digest_counts_as_the_last_one_only_once_delivered(store, slack):
    family_day(store, 0, qwen=120, llama=100)
    plan = planned(store, MONDAY, slot=SLOT)
    assert last_digest(store, "C1") is None  # queued, not yet in Slack

    delivered(store, slack)

    assert plan.digest is not None
    assert last_digest(store, "C1") == last_digest(store, "C2") == plan.digest.rankings


def test_a_digest_the_channel_refused_does_not_hold_back_the_next(store, slack):
    family_day(store, 0, qwen=120, llama=100)
    planned(store, MONDAY, slot=SLOT)
    slack.fail("chat.postMessage", "not_in_channel")  # the bot was removed from C1
    assert delivered(store, slack).failing_channels == ["C1"]
    with store.writing() as db:  # someone invites the bot back and subscribes again
        subs.subscribe(db, "T1", "C1", "digest", (), "2026-01-06T00:00:00Z")

    family_day(store, 7, qwen=150, llama=110)  # same order as the digest C1 never got
    plan = planned(store, MONDAY + timedelta(days=7), slot=SLOT + timedelta(days=7))
    delivered(store, slack)

    assert plan.queued == ["C1"]
    assert plan.skipped == [("C2", "rankings unchanged since the last digest")]
    assert len(posted(slack, "C1")) == 1 and len(posted(slack, "C2")) == 1


def test_a_digest_that_failed_for_good_does_not_hold_back_the_next(store):
    family_day(store, 0, qwen=120, llama=100)
    planned(store, MONDAY, slot=SLOT)
    with store.writing() as db:  # every attempt failed (Slack down for days)
        for item in ob.all_items(db):
            ob.mark_failed(db, item.id, "2026-01-07T00:00:00Z", "internal_error")

    family_day(store, 7, qwen=150, llama=110)
    plan = planned(store, MONDAY + timedelta(days=7), slot=SLOT + timedelta(days=7))

    assert plan.queued == ["C1", "C2"]


def test_a_digest_waiting_for_delivery_is_not_queued_again_with_the_same_rankings(store):
    family_day(store, 0, qwen=120, llama=100)
    planned(store, MONDAY, slot=SLOT)  # Slack unreachable: still pending
    family_day(store, 7, qwen=150, llama=110)

    plan = planned(store, MONDAY + timedelta(days=7), slot=SLOT + timedelta(days=7))

    assert plan.queued == []
    assert plan.skipped[0] == ("C1", "a digest with these rankings is waiting for delivery")


# -- the slot a digest belongs to ----------------------------------------------------------


def services(store, digest_at: str = "Sunday 18:00") -> Services:
    config = Config(db=store.location, digest_at=digest_at)
    return Services(
        config=config,
        families=FAMILIES,
        store=store,
        hub=HubClient("http://127.0.0.1:9"),  # never asked: the digest reads the store
        slack=None,  # queue only
        render=tiny_png,
    )


def test_a_digest_caught_up_late_does_not_take_the_place_of_the_next_one(store):
    # Sunday 18:00 digests; the bot was down over Sunday 2026-01-04 and catches up on
    # Monday, in the next ISO week, which the following Sunday's digest belongs to too.
    family_day(store, 0, qwen=90, llama=100)
    [digest] = [j for j in scheduled_jobs(services(store)) if j.name == "digest"]
    clock = [at("2026-01-03 12:00")]
    runner = JobRunner(store, [digest], clock=lambda: clock[0])
    assert runner.tick() == []  # first start: wait for the first slot

    clock[0] = at("2026-01-05 10:00")
    assert runner.tick() == ["digest"]
    family_day(store, 9, qwen=150, llama=110)  # Qwen passes Llama
    clock[0] = at("2026-01-11 18:00")
    assert runner.tick() == ["digest"]

    assert [i.event for i in digests(store) if i.channel_id == "C1"] == [
        "digest:2026-01-04T18:00:00Z",
        "digest:2026-01-11T18:00:00Z",
    ]


def test_a_manual_digest_belongs_to_the_most_recent_slot(store):
    family_day(store, 0, qwen=90, llama=100)
    wednesday = at("2026-01-07 15:00")

    first = digest_job(services(store), wednesday)
    again = digest_job(services(store), wednesday + timedelta(days=1))

    assert first.queued == ["C1", "C2"]
    assert again.skipped[0] == ("C1", "digest for 2026-01-04T18:00:00Z already queued")
    assert {i.event for i in digests(store)} == {"digest:2026-01-04T18:00:00Z"}


def test_the_scheduled_digest_lists_the_weeks_launches(store):
    # A Qwen model created on day 5 and first seen in the day-6 snapshot: the digest of
    # day 7 lists it, with the downloads it gathered since first seen.
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 4, qwen=95, llama=100)
    base = [record("meta-llama/b", "llama", 100), record("deepseek-ai/c", "deepseek", 10)]
    new = "2026-01-06T12:00:00.000Z"
    for day, launched in ((6, 40), (7, 70)):
        write_snapshot(
            store,
            DAY0 + timedelta(days=day),
            "hub",
            [
                record("Qwen/a", "qwen", 100),
                record("Qwen/Qwen4-1B", "qwen", launched, created_at=new),
                *base,
            ],
        )

    plan = digest_job(services(store), DAY0 + timedelta(days=7, hours=1))

    assert plan.queued == ["C1", "C2"]
    text = "\n".join(
        plain(block["text"]["text"])
        for block in digests(store)[0].payload["blocks"]
        if "text" in block and isinstance(block["text"], dict)
    )
    assert "Qwen/Qwen4-1B (Qwen), first seen 2026-01-07: 30 downloads" in text
