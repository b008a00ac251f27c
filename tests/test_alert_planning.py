"""Which alerts are queued after a snapshot, for which channels, and only once: made up
when a check never ran, through ties, never across a changed families file."""

import logging
from datetime import timedelta

import pytest

from commands.alert_message import alert_message
from openmodels.alerts import check_overtakes
from openmodels.collector import collect_snapshot
from openmodels.families import load_families, parse_families
from openmodels.hub import HubClient
from storage import outbox as ob
from storage import subscriptions as subs
from storage.snapshots import write_snapshot
from tests.builders import DAY0, family_day, record
from tests.fakes import hub_model

FAMILIES = load_families()
BOTH = ("all_time", "30d")


@pytest.fixture
def store(new_store):
    store = new_store("s")
    with store.writing() as db:
        subs.subscribe(db, "T1", "C_ALL", "alerts", (), "2026-01-01T00:00:00Z", metrics=BOTH)
        subs.subscribe(db, "T1", "C_QWEN", "alerts", ("qwen",), "2026-01-01T00:00:00Z")
        subs.subscribe(db, "T1", "C_DEEP", "alerts", ("deepseek",), "2026-01-01T00:00:00Z")
        subs.subscribe(db, "T1", "C_DIGEST", "digest", (), "2026-01-01T00:00:00Z")
    return store


def check(store, confirm=1):
    return check_overtakes(
        store, FAMILIES, message=alert_message, confirm=confirm, now=DAY0 + timedelta(days=30)
    )


def queued(store):
    with store.reading() as db:
        return [(i.channel_id, i.event, i.payload["text"]) for i in ob.all_items(db)]


def announced(store):
    """(channel, event, overtakes as (metric, passer, passed)) of every queued message."""
    with store.reading() as db:
        return [
            (i.channel_id, i.event, [tuple(o) for o in i.payload["overtakes"]])
            for i in ob.all_items(db)
        ]


def test_the_first_snapshot_never_alerts(store):
    family_day(store, 0, qwen=90, llama=100)
    assert check(store).reason == "first snapshot"
    assert queued(store) == []


def test_an_overtake_is_queued_once_per_interested_channel(store):
    family_day(store, 0, qwen=90, llama=100)
    check(store)
    family_day(store, 1, qwen=701_200_000, llama=699_800_000)
    result = check(store)
    assert [(o.metric, o.passer, o.passed) for o in result.overtakes] == [
        ("all_time", "qwen", "llama"),
        ("30d", "qwen", "llama"),
    ]
    assert queued(store) == [  # not deepseek's channel, not the digest's
        (
            "C_ALL",
            "overtakes:s2",
            "2 overtakes in the snapshot of 2026-01-02: "
            "Qwen passed Llama in all-time downloads: 701.2M vs 699.8M; "
            "Qwen passed Llama in 30-day downloads: 70.1M vs 70.0M",
        ),
        ("C_QWEN", "overtakes:s2", "Qwen passed Llama in all-time downloads: 701.2M vs 699.8M"),
    ]


def test_checking_the_same_snapshot_again_queues_nothing(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 1, qwen=110, llama=100)
    check(store)
    before = queued(store)
    assert check(store).reason == "already checked"
    assert queued(store) == before


def test_sample_data_never_alerts(store):
    family_day(store, 0, qwen=90, llama=100, source="sample")
    family_day(store, 1, qwen=110, llama=100, source="sample")
    assert check(store).reason == "sample data never alerts"
    assert queued(store) == []


def test_a_family_going_backwards_is_flagged_and_draws_no_alert(store, caplog):
    family_day(store, 0, qwen=90, llama=100)
    family_day(
        store, 1, qwen=95, llama=40
    )  # llama's org "collapsed": missing data, not a real fall
    result = check(store)
    assert [a.family for a in result.anomalies] == ["llama"]
    assert result.overtakes == []
    assert queued(store) == []
    assert "llama: all-time downloads went backwards (100 -> 40)" in caplog.text


def test_confirmation_waits_for_the_order_to_hold(store):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 1, qwen=110, llama=100)
    assert check(store, confirm=2).overtakes == []
    family_day(store, 2, qwen=120, llama=105)
    assert [o.passer for o in check(store, confirm=2).overtakes] == ["qwen", "qwen"]


def test_failing_channels_get_no_new_alerts(store):
    with store.writing() as db:
        subs.mark_failing(db, "T1", "C_QWEN", "is_archived", "2026-01-02T00:00:00Z")
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 1, qwen=110, llama=100)
    check(store)
    assert {c for c, _, _ in queued(store)} == {"C_ALL"}


def test_status_shows_flagged_drops(store):
    from commands import AnswerContext, answer_text

    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 1, qwen=95, llama=40)
    check(store)
    text = answer_text("status", AnswerContext(store=store, families=FAMILIES)).text
    assert "Flagged (figures went backwards, no alerts drawn)" in text
    assert "• llama at 2026-01-02: 100 → 40" in text


# -- a check that never ran is made up by the next one ---------------------------------


@pytest.mark.parametrize("confirm", [1, 2])
def test_an_overtake_whose_check_never_ran_is_announced_at_the_next_check(store, confirm):
    family_day(store, 0, qwen=90, llama=100)
    check(store, confirm)
    family_day(store, 1, qwen=110, llama=100)  # committed; its check never ran
    family_day(store, 2, qwen=120, llama=105)

    result = check(store, confirm)

    assert [(o.metric, o.passer, o.passed) for o in result.overtakes] == [
        ("all_time", "qwen", "llama"),
        ("30d", "qwen", "llama"),
    ]
    both = [("all_time", "qwen", "llama"), ("30d", "qwen", "llama")]
    all_time = both[:1]
    assert announced(store) == [
        ("C_ALL", "overtakes:s3", both),
        ("C_QWEN", "overtakes:s3", all_time),
    ]
    family_day(store, 3, qwen=130, llama=106)
    assert check(store, confirm).overtakes == []
    assert len(queued(store)) == 2


@pytest.mark.parametrize("confirm", [1, 2])
def test_a_store_checked_before_orders_were_kept_settles_them_from_its_last_snapshots(
    store, confirm
):
    for day, qwen in enumerate([80, 90]):
        family_day(store, day, qwen=qwen, llama=100)
        check(store, confirm)
    with store.writing() as db:
        db.execute("DELETE FROM pair_orders")  # as an older openmodels left it
    for day in (2, 3):
        family_day(store, day, qwen=110 + day, llama=100)

    found = check(store, confirm).overtakes

    assert [(o.metric, o.passer) for o in found] == [("all_time", "qwen"), ("30d", "qwen")]


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        # Qwen passes, Llama passes back, Qwen passes again and holds: one change.
        ([(110, 100), (111, 112), (115, 113), (120, 114)], [("C_ALL", "overtakes:s5")]),
        # Passed, passed back, passed, passed back: no change.
        ([(110, 100), (111, 112), (115, 113), (116, 118)], []),
    ],
)
def test_missed_checks_give_one_alert_per_pair_whose_order_changed(store, days, expected):
    family_day(store, 0, qwen=90, llama=100, deepseek=200)
    check(store)
    for day, (qwen, llama) in enumerate(days, start=1):
        family_day(store, day, qwen=qwen, llama=llama, deepseek=200)

    check(store)

    assert [
        (c, e)
        for c, e, found in announced(store)
        if c == "C_ALL" and ("all_time", "qwen", "llama") in found
    ] == expected


def test_a_fall_in_a_snapshot_whose_check_never_ran_is_flagged_and_draws_no_alert(store):
    family_day(store, 0, qwen=90, llama=100)
    check(store)
    family_day(store, 1, qwen=95, llama=40)  # llama's org vanished; no check ran
    family_day(store, 2, qwen=96, llama=41)

    result = check(store)

    # Still below its 100 on day 2: missing data until it is back above it.
    assert [(a.family, a.previous, a.current) for a in result.anomalies] == [
        ("llama", 100, 40),
        ("llama", 100, 41),
    ]
    assert queued(store) == []
    with store.reading() as db:
        assert db.execute("SELECT snapshot_id, family FROM anomalies").fetchall() == [
            (2, "llama"),
            (3, "llama"),
        ]


# -- ties ---------------------------------------------------------------------------------


@pytest.mark.parametrize("confirm", [1, 2, 3])
def test_passing_through_a_tie_is_announced_once_confirmed(store, confirm):
    family_day(store, 0, qwen=90, llama=100)
    family_day(store, 1, qwen=100, llama=100)  # level: neither order
    found = [check(store, confirm).overtakes]
    for day in range(2, 2 + confirm):
        family_day(store, day, qwen=110 + day, llama=100)
        found.append(check(store, confirm).overtakes)

    assert [len(f) for f in found] == [0] * confirm + [2]  # both metrics, at the last
    assert [(e, o) for c, e, o in announced(store) if c == "C_ALL"] == [
        (f"overtakes:s{2 + confirm}", [("all_time", "qwen", "llama"), ("30d", "qwen", "llama")])
    ]


def test_drawing_level_and_falling_back_is_no_overtake(store):
    for day, qwen in enumerate([90, 100, 95, 100]):
        family_day(store, day, qwen=qwen, llama=100)
        check(store)

    assert queued(store) == []


# -- imported history ------------------------------------------------------------------


def test_imported_history_never_alerts_and_live_snapshots_are_compared_with_live_ones(store):
    family_day(store, 0, qwen=90, llama=100)
    check(store)
    family_day(store, 1, qwen=101, llama=100, source="import")  # history from another tool
    assert check(store).reason == "imported history never alerts"
    family_day(store, 2, qwen=102, llama=103)
    assert check(store).overtakes == []  # llama "passing" imported qwen is no overtake
    family_day(store, 3, qwen=130, llama=104)

    assert [(o.passer, o.passed) for o in check(store).overtakes] == [("qwen", "llama")] * 2


# -- a changed families file is not growth ---------------------------------------------

NARROW = """
[families.gemma]
orgs = ["google"]
match = ["gemma*"]
[families.llama]
orgs = ["meta-llama"]
"""
WIDE = NARROW.replace('match = ["gemma*"]', 'match = ["gemma*", "codegemma*"]')


def hub_day(hub, llama: int) -> None:
    hub.replace(
        "google",
        hub_model("google/gemma-2b", downloads=10, all_time=100),
        hub_model("google/codegemma-7b", downloads=50, all_time=500),
    )
    hub.replace("meta-llama", hub_model("meta-llama/Llama-3-8B", downloads=30, all_time=llama))


def collect_and_check(hub, store, toml: str, day: int):
    families = parse_families(toml, "families.toml")
    now = DAY0 + timedelta(days=day)
    collect_snapshot(families, HubClient(hub.url), store, now=now)
    return check_overtakes(store, families, message=alert_message, now=now)


def test_a_widened_glob_draws_no_alert_and_comparisons_resume_under_the_new_rules(
    fake_hub, store, caplog
):
    hub_day(fake_hub, llama=300)
    collect_and_check(fake_hub, store, NARROW, 0)  # gemma 100 (codegemma not counted)

    with caplog.at_level(logging.INFO):
        jumped = collect_and_check(fake_hub, store, WIDE, 1)  # gemma 600: past llama

    assert jumped.overtakes == []
    assert queued(store) == []
    assert (
        "gemma: families definition changed since the previous snapshot (orgs google; "
        "match gemma* -> orgs google; match codegemma*, gemma*)"
    ) in caplog.text
    hub_day(fake_hub, llama=700)
    passed = collect_and_check(fake_hub, store, WIDE, 2)  # real growth, same rules
    assert [(o.metric, o.passer, o.passed) for o in passed.overtakes] == [
        ("all_time", "llama", "gemma")
    ]


def test_the_first_snapshot_recording_definitions_draws_no_alert_on_an_older_store(
    fake_hub, store, caplog
):
    # An older openmodels recorded no definitions; the upgrade also widened a glob.
    write_snapshot(
        store,
        DAY0,
        "hub",
        [
            record("google/gemma-2b", "gemma", 100, d30=10),
            record("meta-llama/Llama-3-8B", "llama", 300, d30=30),
        ],
    )
    check(store)
    hub_day(fake_hub, llama=300)

    with caplog.at_level(logging.INFO):
        upgraded = collect_and_check(fake_hub, store, WIDE, 1)

    assert upgraded.overtakes == []
    assert "recorded no families definitions" in caplog.text
    hub_day(fake_hub, llama=700)
    assert [o.passer for o in collect_and_check(fake_hub, store, WIDE, 2).overtakes] == ["llama"]
