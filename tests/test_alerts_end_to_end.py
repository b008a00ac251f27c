"""`openmodels collect` from cron: an overtake on the fake Hub reaches each subscribed
channel of the local Slack exactly once."""

from __future__ import annotations

import pytest

from openmodels.cli import main
from storage import open_store
from storage import subscriptions as subs
from tests.fakes import hub_model
from tests.slack_helpers import channel_texts, run_cli_against


def day(hub, qwen: int, llama: int) -> None:
    # 30-day counts keep Llama ahead, so only the all-time order changes.
    hub.replace("Qwen", hub_model("Qwen/Qwen3-8B", downloads=10, all_time=qwen))
    hub.replace("meta-llama", hub_model("meta-llama/Llama-3.1-8B", downloads=50, all_time=llama))


@pytest.fixture
def env(fake_hub, slack, store_location, monkeypatch):
    db = store_location("openmodels")
    store = open_store(db)
    with store.writing() as conn:
        subs.subscribe(conn, "T1", "C_ALERTS", "alerts", (), "2026-01-01T00:00:00Z")
        subs.subscribe(conn, "T1", "C_QWEN", "alerts", ("qwen",), "2026-01-01T00:00:00Z")
        subs.subscribe(conn, "T1", "C_DEEPSEEK", "alerts", ("deepseek",), "2026-01-01T00:00:00Z")
        subs.subscribe(conn, "T1", "C_DIGEST", "digest", (), "2026-01-01T00:00:00Z")
    run_cli_against(monkeypatch, db, fake_hub, slack)
    return monkeypatch


EXPECTED = {
    "C_ALERTS": ["Qwen passed Llama in all-time downloads: 701.2M vs 699.8M"],
    "C_QWEN": ["Qwen passed Llama in all-time downloads: 701.2M vs 699.8M"],
}


def test_an_overtake_reaches_each_alert_channel_once(fake_hub, slack, env, capsys):
    day(fake_hub, qwen=690_000_000, llama=699_000_000)
    assert main(["collect"]) == 0
    assert channel_texts(slack) == {}

    day(fake_hub, qwen=701_200_000, llama=699_800_000)
    assert main(["collect"]) == 0
    assert channel_texts(slack) == EXPECTED
    assert "overtake: Qwen passed Llama (all_time)" in capsys.readouterr().out

    assert main(["collect"]) == 0  # a third run on the same data
    assert channel_texts(slack) == EXPECTED


def test_a_restart_between_snapshot_and_delivery_still_delivers_once(fake_hub, slack, env, capsys):
    day(fake_hub, qwen=690_000_000, llama=699_000_000)
    main(["collect"])
    day(fake_hub, qwen=701_200_000, llama=699_800_000)
    env.delenv("SLACK_BOT_TOKEN")  # this run dies before delivering: alerts stay queued
    assert main(["collect"]) == 0
    assert "2 alerts queued" in capsys.readouterr().out
    assert channel_texts(slack) == {}

    env.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")  # the next run delivers them
    assert main(["collect"]) == 0
    assert main(["collect"]) == 0
    assert channel_texts(slack) == EXPECTED
