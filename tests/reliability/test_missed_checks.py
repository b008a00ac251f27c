"""Promise: an overtake is announced exactly once even when the process taking the
snapshot dies between committing it and checking it for overtakes.

`openmodels collect` is killed (os._exit, as kill -9) right after the snapshot commits;
the next collection's check makes up the missed one. Real programs, the fake Hub and
the local Slack, all on 127.0.0.1.
"""

from __future__ import annotations

import pytest

from storage import open_store
from storage import subscriptions as subs
from storage.port import row_count
from tests.fakes import hub_model
from tests.reliability.helpers import openmodels, program_env

FAMILIES = """
[families.qwen]
label = "Qwen"
orgs = ["Qwen"]

[families.llama]
label = "Llama"
orgs = ["meta-llama"]
"""


@pytest.fixture
def paths(tmp_path, store_location):
    db, families = store_location("s"), tmp_path / "families.toml"
    families.write_text(FAMILIES)
    with open_store(db).writing() as conn:
        subs.subscribe(conn, "T1", "C_ALERTS", "alerts", (), "2026-01-01T00:00:00Z")
    return db, families


def day(hub, qwen: int, llama: int) -> None:
    # 30-day counts keep Llama ahead, so only the all-time order can change.
    hub.replace("Qwen", hub_model("Qwen/Qwen3-8B", downloads=10, all_time=qwen))
    hub.replace("meta-llama", hub_model("meta-llama/Llama-3.1-8B", downloads=50, all_time=llama))


def collect(paths, hub, slack, failpoint=None):
    db, families = paths
    extra = {
        "HF_ENDPOINT": hub.url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.api_url,
    }
    if failpoint:
        extra["OPENMODELS_FAILPOINT"] = failpoint
    return openmodels(
        "collect", "--db", str(db), "--families", str(families), env=program_env(**extra)
    )


def texts(slack):
    return [m["text"] for ms in slack.channel_messages.values() for m in ms]


def counts(db):
    """Live snapshots (the first collection also writes its day-one estimate) and checks."""
    with open_store(db).reading() as conn:
        return [
            int(conn.execute("SELECT count(*) FROM snapshots WHERE source = 'hub'").fetchone()[0]),
            row_count(conn, "alert_checks"),
        ]


def test_a_kill_between_snapshot_and_check_still_announces_the_overtake_once(
    fake_hub, slack, paths
):
    day(fake_hub, qwen=690_000_000, llama=699_000_000)
    assert collect(paths, fake_hub, slack).returncode == 0

    day(fake_hub, qwen=700_500_000, llama=699_800_000)  # Qwen passes Llama
    killed = collect(paths, fake_hub, slack, failpoint="after_snapshot")
    assert killed.returncode == 137, killed.stderr
    assert counts(paths[0]) == [2, 1]  # the snapshot committed; its check never ran
    assert texts(slack) == []

    day(fake_hub, qwen=701_200_000, llama=699_900_000)
    made_up = collect(paths, fake_hub, slack)
    assert made_up.returncode == 0, made_up.stderr
    assert collect(paths, fake_hub, slack).returncode == 0  # and once more: nothing new

    assert texts(slack) == ["Qwen passed Llama in all-time downloads: 701.2M vs 699.9M"]
    assert counts(paths[0]) == [4, 4]
