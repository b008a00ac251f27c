"""Which alerts are queued after a snapshot, for which channels, and only once."""

from datetime import timedelta

import pytest

from openmodels.alerts import check_overtakes
from openmodels.families import load_families
from storage import open_store
from storage import outbox as ob
from storage import subscriptions as subs
from tests.builders import DAY0, family_day

FAMILIES = load_families()


@pytest.fixture
def store(tmp_path):
    store = open_store(tmp_path / "s.db")
    with store.writing() as db:
        subs.subscribe(db, "T1", "C_ALL", "alerts", (), "2026-01-01T00:00:00Z")
        subs.subscribe(db, "T1", "C_QWEN", "alerts", ("qwen",), "2026-01-01T00:00:00Z")
        subs.subscribe(db, "T1", "C_DEEP", "alerts", ("deepseek",), "2026-01-01T00:00:00Z")
        subs.subscribe(db, "T1", "C_DIGEST", "digest", (), "2026-01-01T00:00:00Z")
    return store


def check(store, confirm=1):
    return check_overtakes(store, FAMILIES, confirm=confirm, now=DAY0 + timedelta(days=30))


def queued(store):
    with store.reading() as db:
        return [(i.channel_id, i.event, i.payload["text"]) for i in ob.all_items(db)]


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
    text = "Qwen passed Llama in all-time downloads: 701.2M vs 699.8M"
    items = queued(store)
    assert (("C_ALL", "overtake:all_time:qwen>llama:s2", text)) in items
    assert {c for c, _, _ in items} == {"C_ALL", "C_QWEN"}  # not deepseek's, not digest's
    assert len(items) == 4


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
