"""What a collection says while the Hub fails, and what huggingface_hub asks of the Hub
that is not ours: each retry once, in one line naming the organisation; one line per
failing organisation at the end; its agent harness registry fetched once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from openmodels.cli import main
from openmodels.collector import collect_snapshot
from openmodels.errors import HubErrors
from openmodels.families import parse_families
from openmodels.hub import HubClient
from storage import open_store
from tests.fakes import hub_model
from tests.reliability.helpers import openmodels, program_env

FAMILIES = """
[families.qwen]
orgs = ["Qwen"]
[families.llama]
orgs = ["meta-llama"]
"""
NOW = datetime(2026, 1, 17, 6, 0, tzinfo=UTC)


def both_failing(fake_hub):
    fake_hub.add("Qwen", hub_model("Qwen/Qwen3-8B", 700, 1_500))
    fake_hub.add("meta-llama", hub_model("meta-llama/Llama-3-8B", 700, 1_500))
    fake_hub.inject("Qwen", server_errors=100)
    fake_hub.inject("meta-llama", server_errors=100)
    return fake_hub


def test_each_retry_is_logged_once_in_one_line_naming_the_organisation(
    fake_hub, tmp_path, caplog, capsys
):
    hub = HubClient(both_failing(fake_hub).url)
    caplog.set_level(logging.INFO)

    with pytest.raises(HubErrors) as raised:
        collect_snapshot(
            parse_families(FAMILIES, "test"), hub, open_store(tmp_path / "s.db"), now=NOW
        )

    said = [r.getMessage() for r in caplog.records if r.name.startswith(("huggingface", "httpx"))]
    for org in ("Qwen", "meta-llama"):
        mine = [m for m in said if f"'{org}'" in m]
        assert mine == [
            f"Hub listing for '{org}': HTTP 500 from GET {fake_hub.url}/api/models; "
            f"retry {n} of 5 in {wait}s"
            for n, wait in zip(range(1, 6), (1, 2, 4, 8, 8), strict=True)
        ]
    assert len(said) == 10  # nothing else: no second line per retry, no request lines
    # huggingface_hub's own handler printed nothing beside ours.
    assert "Retrying" not in capsys.readouterr().err
    assert sorted(e.org for e in raised.value.failures) == ["Qwen", "meta-llama"]


def test_a_failed_collection_ends_with_one_line_per_failing_organisation(
    fake_hub, tmp_path, capsys, monkeypatch
):
    families = tmp_path / "families.toml"
    families.write_text(FAMILIES)
    monkeypatch.setenv("HF_ENDPOINT", both_failing(fake_hub).url)

    code = main(["collect", "--db", str(tmp_path / "s.db"), "--families", str(families)])

    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert code == 1
    assert sorted(errors) == [
        f"openmodels: error: Hub listing for '{org}' failed: HTTP 500 from "
        f"{fake_hub.url}/api/models?author={org}"
        for org in ("Qwen", "meta-llama")
    ]


def test_the_agent_harness_registry_is_fetched_once_and_kept_a_day(fake_hub, tmp_path):
    # huggingface_hub fetches it while making headers, at most once a day per HF_HOME.
    fake_hub.add("Qwen", hub_model("Qwen/Qwen3-8B", 700, 1_500))
    fake_hub.add("meta-llama", hub_model("meta-llama/Llama-3-8B", 700, 1_500))
    families = tmp_path / "families.toml"
    families.write_text(FAMILIES)
    env = program_env(
        HF_ENDPOINT=fake_hub.url,
        HF_HOME=str(tmp_path / "hf"),
        OPENMODELS_FAMILIES=str(families),
        OPENMODELS_DERIVATIVES_TOP="0",
    )

    first = openmodels("collect", "--db", str(tmp_path / "s.db"), env=env)
    asked_first = len(fake_hub.agent_harness_requests())
    second = openmodels("collect", "--db", str(tmp_path / "s.db"), env=env)

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert asked_first == 1  # not once per organisation's thread
    assert len(fake_hub.agent_harness_requests()) == 1  # the second read it from HF_HOME
    assert (tmp_path / "hf" / ".agent_harnesses.json").exists()
