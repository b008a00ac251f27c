"""Promise: whatever the Hub does, no half snapshot is written, no alert is drawn from
missing or shrinking data, and each fault leaves one clear log line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from commands.alert_message import alert_message
from openmodels.alerts import check_overtakes
from openmodels.collector import collect_snapshot
from openmodels.errors import HubError
from openmodels.families import parse_families
from openmodels.hub import HubClient
from storage import outbox as ob
from storage import subscriptions as subs
from tests.builders import dump
from tests.fakes import hub_model

FAMILIES = parse_families(
    """
[families.qwen]
orgs = ["Qwen"]
[families.llama]
orgs = ["meta-llama"]
[families.glm]
orgs = ["zai-org", "THUDM"]
""",
    "test families",
)
DAY1 = datetime(2026, 1, 5, 6, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def arrange(hub, qwen=(100, 200), llama=(310,), glm=(50,)):
    hub.replace(
        "Qwen", *(hub_model(f"Qwen/q{i}", downloads=1, all_time=n) for i, n in enumerate(qwen))
    )
    hub.replace(
        "meta-llama",
        *(hub_model(f"meta-llama/l{i}", downloads=2, all_time=n) for i, n in enumerate(llama)),
    )
    hub.replace(
        "zai-org", *(hub_model(f"zai-org/g{i}", downloads=3, all_time=n) for i, n in enumerate(glm))
    )


@pytest.fixture
def world(fake_hub, tmp_store):
    with tmp_store.writing() as db:
        subs.subscribe(db, "T1", "C1", "alerts", (), "2026-01-01T00:00:00Z")
    arrange(fake_hub)
    collect_snapshot(FAMILIES, HubClient(fake_hub.url, timeout=0.2), tmp_store, now=DAY1)
    check_overtakes(tmp_store, FAMILIES, message=alert_message, now=DAY1)
    return fake_hub, tmp_store


def queued(store):
    with store.reading() as db:
        return [i.event for i in ob.all_items(db)]


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({"rate_limited": 10, "retry_after": 1}, "HTTP 429"),
        ({"server_errors": 10}, "HTTP 500"),
        ({"stall": 1.0}, "timed out"),
        ({"malformed": True}, "malformed JSON"),
        ({"fail_page": 1}, "HTTP 500"),
    ],
)
def test_a_failing_org_writes_nothing_and_names_itself(world, faults, message, caplog):
    hub, store = world
    before = dump(store)
    hub.inject("meta-llama", **faults)
    with pytest.raises(HubError) as caught:
        collect_snapshot(
            FAMILIES, HubClient(hub.url, timeout=0.2), store, now=DAY1 + timedelta(days=1)
        )
    assert "meta-llama" in str(caught.value) and message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert dump(store) == before


def test_a_vanished_org_is_flagged_and_draws_no_alert(world, caplog):
    hub, store = world
    hub.inject("meta-llama", not_found=True)  # Llama "collapses" to nothing
    hub.replace("Qwen", hub_model("Qwen/q0", all_time=100), hub_model("Qwen/q1", all_time=250))
    with caplog.at_level(logging.INFO):
        collect_snapshot(FAMILIES, HubClient(hub.url), store, now=DAY1 + timedelta(days=1))
        result = check_overtakes(
            store, FAMILIES, message=alert_message, now=DAY1 + timedelta(days=1)
        )
    assert [(a.family, a.current) for a in result.anomalies] == [("llama", None)]
    assert queued(store) == []
    assert "org meta-llama listed no models (renamed or removed?)" in caplog.text


def test_lost_and_gained_models_and_a_falling_count_are_logged_not_alerted(world, caplog):
    hub, store = world
    # Qwen loses q1 (200) and gains q2 (260): its total passes Llama's only because of
    # a new model, which is real. GLM's only model falls from 50 to 40: a Hub correction.
    arrange(hub, qwen=(100, 0, 260), llama=(311,), glm=(40,))
    hub.replace("Qwen", hub_model("Qwen/q0", all_time=100), hub_model("Qwen/q2", all_time=260))
    with caplog.at_level(logging.INFO):
        collect_snapshot(FAMILIES, HubClient(hub.url), store, now=DAY1 + timedelta(days=1))
        result = check_overtakes(
            store, FAMILIES, message=alert_message, now=DAY1 + timedelta(days=1)
        )
    assert "qwen: 1 models new since the previous snapshot" in caplog.text
    assert "qwen: 1 models no longer listed since the previous snapshot" in caplog.text
    assert "zai-org/g0: all-time downloads went down (50 -> 40)" in caplog.text
    assert [a.family for a in result.anomalies] == ["glm"]
    assert [(o.passer, o.passed) for o in result.overtakes] == [("qwen", "llama")]
    assert all("glm" not in e for e in queued(store))
