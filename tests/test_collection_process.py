"""`serve`'s collections run in processes of their own: the snapshot is committed and its
derivative counts recorded as in-process, the children's log lines arrive in this
process's logging, and a failure is raised here with nothing written."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

import pytest

from bot.collection import collect_in_own_process
from bot.jobs import Services, collect_job
from openmodels.config import Config
from openmodels.errors import HubError
from openmodels.families import parse_families
from openmodels.hub import HubClient
from storage import open_store
from storage import queries as q
from tests.fakes import hub_model

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
FAMILIES = parse_families('[families.qwen]\norgs = ["Qwen"]\n', "test families")


def arrange(fake_hub):
    fake_hub.add(
        "Qwen",
        hub_model("Qwen/Qwen3-8B", 700, 1_500, 8),
        hub_model("Qwen/Qwen2.5-7B-Instruct", 1_000, 5_000, 10),
        hub_model("Qwen/QwQ-32B", 300, 900, 4),
        hub_model("Qwen/Qwen3-0.6B", 50, 60, 1),
    )
    return fake_hub


def test_a_snapshot_taken_in_its_own_process_is_committed_and_logged_here(
    fake_hub, tmp_path, caplog
):
    config = Config(db=str(tmp_path / "s.db"), hf_endpoint=arrange(fake_hub).url)
    caplog.set_level(logging.INFO)

    result = collect_in_own_process(config, FAMILIES, NOW)

    assert result.model_count == 4 and result.totals[0].downloads_all_time == 7_460
    with open_store(tmp_path / "s.db").reading() as db:
        latest = q.latest_snapshot(db)
        assert latest is not None and latest.id == result.snapshot_id
        assert q.totals_at(db, latest.id)["qwen"].model_count == 4
    [logged] = [r for r in caplog.records if r.getMessage().startswith("snapshot ")]
    assert logged.name == "openmodels.collector" and logged.process != os.getpid()


def test_a_collection_failing_in_its_own_process_raises_here_and_writes_nothing(fake_hub, tmp_path):
    config = Config(db=str(tmp_path / "s.db"), hf_endpoint=arrange(fake_hub).url)
    fake_hub.inject("Qwen", malformed=True)

    with pytest.raises(HubError, match="malformed JSON") as raised:
        collect_in_own_process(config, FAMILIES, NOW)

    assert raised.value.org == "Qwen"
    with open_store(tmp_path / "s.db").reading() as db:
        assert q.latest_snapshot(db) is None


def test_serves_collect_job_takes_the_snapshot_and_its_derivative_counts_apart(
    fake_hub, tmp_path, caplog
):
    fake_hub.add(
        "Qwen",
        hub_model("Qwen/Qwen3-8B", 700, 1_500, 8, children={"finetune": 30, "quantized": 12}),
        hub_model("Qwen/QwQ-32B", 300, 900, 4, children={"adapter": 5}),
    )
    config = Config(db=str(tmp_path / "s.db"), hf_endpoint=fake_hub.url, derivatives_top=2)
    store = open_store(config.db)
    services = Services(
        config=config,
        families=FAMILIES,
        store=store,
        hub=HubClient(fake_hub.url),  # not used: each child builds its own from `config`
        slack=None,
        render=lambda spec: b"",
        collect_apart=True,
    )
    caplog.set_level(logging.INFO)

    result, _check = collect_job(services, NOW)

    with store.reading() as db:
        assert q.latest_snapshot(db).id == result.snapshot_id
        assert q.totals_at(db, result.snapshot_id)["qwen"].derivatives == 42 + 5
    snapshot = {r.process for r in caplog.records if r.name == "openmodels.collector"}
    counts = {r.process for r in caplog.records if r.name == "openmodels.derivative_counts"}
    assert len(snapshot) == len(counts) == 1  # logged here, from a child each
    assert os.getpid() not in snapshot | counts and snapshot != counts
