"""Collecting a snapshot from a fake Hub: totals, atomicity, faults, progress, and the CLI."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openmodels.cli import main
from openmodels.collector import classify, collect_snapshot
from openmodels.errors import HubError, OpenModelsError
from openmodels.families import Families, parse_families
from openmodels.hub import HubClient, HubModel
from openmodels.progress import TerminalProgress, progress_line
from storage import Store
from storage.queries import latest_snapshot, totals_at
from storage.snapshots import FamilyTotal, ModelRecord, write_snapshot
from tests.builders import dump
from tests.fakes import FakeHub, hub_model

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

FAMILIES_TOML = """
[families.qwen]
orgs = ["Qwen"]

[families.gemma]
orgs = ["google"]
match = ["gemma*"]

[families.nemotron]
orgs = ["nvidia"]
match = ["*nemotron*"]

[families.glm]
orgs = ["zai-org", "THUDM"]

[families.llama]
orgs = ["meta-llama"]
"""

# Hand-summed from `arrange_hub` below: (30d, all time, likes, models) per family.
EXPECTED_TOTALS = [
    FamilyTotal("gemma", 1_100, 3_500, 18, 3),
    FamilyTotal("glm", 500, 600, 5, 1),
    FamilyTotal("llama", 3_000, 11_500, 48, 3),
    FamilyTotal("nemotron", 400, 1_550, 8, 2),
    FamilyTotal("qwen", 2_250, 10_460, 28, 5),
]


@pytest.fixture
def families() -> Families:
    return parse_families(FAMILIES_TOML, "test families")


def arrange_hub(hub: FakeHub) -> FakeHub:
    """Six orgs, listed in pages of three; one renamed org lists nothing."""
    hub.add(
        "Qwen",
        hub_model("Qwen/Qwen2.5-7B-Instruct", 1_000, 5_000, 10),
        hub_model("Qwen/Qwen2.5-72B", 200, 3_000, 5),
        hub_model("Qwen/Qwen3-8B", 700, 1_500, 8),
        hub_model("Qwen/Qwen3-0.6B", 50, 60, 1),
        hub_model("Qwen/QwQ-32B", 300, 900, 4),
    )
    hub.add(
        "google",
        hub_model("google/gemma-2-9b", 400, 2_000, 6),
        hub_model("google/t5-small", 9_000, 90_000, 50),  # not Gemma: skipped
        hub_model("google/gemma-3-27b-it", 600, 800, 9),
        hub_model("google/vit-base-patch16-224", 5_000, 40_000, 20),  # skipped
        hub_model("google/gemma-7b", 100, 700, 3),
    )
    hub.add(
        "nvidia",
        hub_model("nvidia/Llama-3.1-Nemotron-70B-Instruct-HF", 250, 1_200, 7),
        hub_model("nvidia/parakeet-tdt-0.6b-v2", 800, 900, 2),  # skipped
        hub_model("nvidia/Nemotron-H-8B", 150, 350, 1),
    )
    hub.add("zai-org", hub_model("zai-org/GLM-4.5", 500, 600, 5))
    hub.add("THUDM")  # renamed to zai-org: lists nothing
    hub.add(
        "meta-llama",
        hub_model("meta-llama/Llama-3.1-8B-Instruct", 2_000, 8_000, 30),
        hub_model("meta-llama/Llama-3.2-1B", 300, 1_000, 6),
        hub_model("meta-llama/Llama-3.3-70B-Instruct", 700, 2_500, 12),
        hub_model("meta-llama/Llama-3.2-1B", 300, 1_000, 6),  # listed again on page 2
    )
    return hub


def model(repo_id: str, d30: int = 0, all_time: int = 0, likes: int = 0) -> HubModel:
    return HubModel(repo_id, d30, all_time, likes, None, "text-generation", ())


# -- classification (pure) ----------------------------------------------------------


def test_classify_keeps_owned_models_and_skips_the_rest(families):
    listings = [
        ("google", [model("google/gemma-2-9b", 4, 20), model("google/t5-small", 90, 900)]),
        ("nvidia", [model("nvidia/Nemotron-H-8B", 1, 3), model("nvidia/parakeet-tdt", 8, 9)]),
        ("Qwen", [model("Qwen/Qwen3-8B", 7, 15, likes=2)]),
    ]

    records = classify(listings, families)

    assert records == [
        ModelRecord("google/gemma-2-9b", "gemma", 4, 20, 0, None, "text-generation"),
        ModelRecord("nvidia/Nemotron-H-8B", "nemotron", 1, 3, 0, None, "text-generation"),
        ModelRecord("Qwen/Qwen3-8B", "qwen", 7, 15, 2, None, "text-generation"),
    ]


def test_classify_counts_a_model_listed_twice_once(families):
    listings = [("Qwen", [model("Qwen/Qwen3-8B", 7, 15), model("Qwen/Qwen3-8B", 8, 16)])]

    records = classify(listings, families)

    assert [(r.repo_id, r.downloads_30d) for r in records] == [("Qwen/Qwen3-8B", 7)]


def test_classify_with_no_models_gives_no_records(families):
    assert classify([("THUDM", [])], families) == []


# -- collection from the fake Hub ----------------------------------------------------


def test_family_totals_equal_the_hand_summed_listing(fake_hub, families, tmp_store):
    arrange_hub(fake_hub)

    result = collect_snapshot(families, HubClient(fake_hub.url), tmp_store, now=NOW)

    assert result.totals == EXPECTED_TOTALS
    assert result.model_count == 14
    assert result.taken_at == "2026-03-02T06:00:00Z"
    with tmp_store.reading() as db:
        latest = latest_snapshot(db)
        assert latest is not None
        assert (latest.id, latest.source, latest.model_count) == (result.snapshot_id, "hub", 14)
        assert sorted(totals_at(db, latest.id).values(), key=lambda t: t.family) == (
            EXPECTED_TOTALS
        )


def test_each_org_is_one_paged_listing(fake_hub, families, tmp_store):
    arrange_hub(fake_hub)

    collect_snapshot(families, HubClient(fake_hub.url), tmp_store, now=NOW)

    pages = {org: len(fake_hub.requests_for(org)) for org in families.orgs()}
    assert pages == {"Qwen": 2, "google": 2, "nvidia": 1, "zai-org": 1, "THUDM": 1, "meta-llama": 2}
    assert {r.path for r in fake_hub.requests} == {"/api/models"}


def test_a_rate_limited_org_is_retried_and_the_snapshot_written(
    fake_hub, instant_sleep, families, tmp_store
):
    arrange_hub(fake_hub).inject("google", rate_limited=2, retry_after=5)

    result = collect_snapshot(families, HubClient(fake_hub.url), tmp_store, now=NOW)

    assert result.totals == EXPECTED_TOTALS
    assert instant_sleep == [6.0, 6.0]  # Retry-After 5, plus huggingface_hub's 1s margin


@pytest.fixture
def store_with_history(tmp_store: Store) -> Store:
    """A store already holding one earlier snapshot."""
    earlier = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    write_snapshot(tmp_store, earlier, "hub", [ModelRecord("Qwen/Qwen3-8B", "qwen", 600, 1_400)])
    return tmp_store


def test_an_org_failing_on_its_third_page_leaves_the_store_as_it_was(
    fake_hub, families, store_with_history
):
    arrange_hub(fake_hub).add("Qwen", *(hub_model(f"Qwen/extra-{i}", 1, 1) for i in range(6)))
    fake_hub.inject("Qwen", fail_page=3)  # 11 models: pages 1 and 2 answer, 3 never does
    before = dump(store_with_history)

    with pytest.raises(HubError, match=r"^Hub listing for 'Qwen' failed: HTTP 500 from"):
        collect_snapshot(families, HubClient(fake_hub.url), store_with_history, now=NOW)

    assert dump(store_with_history) == before
    assert len(fake_hub.requests_for("Qwen")) == 2 + 6  # page 3 tried six times


@pytest.mark.parametrize(
    ("faults", "reason"),
    [
        ({"malformed": True}, "malformed JSON"),
        ({"rate_limited": 10}, "HTTP 429 from"),
        ({"server_errors": 10}, "HTTP 500 from"),
    ],
    ids=["malformed-json", "rate-limited-for-good", "500-for-good"],
)
def test_a_failing_org_writes_nothing(fake_hub, families, store_with_history, faults, reason):
    arrange_hub(fake_hub).inject("meta-llama", **faults)
    before = dump(store_with_history)

    with pytest.raises(HubError) as caught:
        collect_snapshot(families, HubClient(fake_hub.url), store_with_history, now=NOW)

    assert caught.value.org == "meta-llama"
    assert reason in str(caught.value)
    assert dump(store_with_history) == before


def test_a_stalled_hub_fails_with_a_clear_error_instead_of_hanging(fake_hub, families, tmp_store):
    arrange_hub(fake_hub).inject("nvidia", stall=60)

    with pytest.raises(HubError, match=r"'nvidia' failed: timed out after 0\.2s"):
        collect_snapshot(families, HubClient(fake_hub.url, timeout=0.2), tmp_store, now=NOW)

    with tmp_store.reading() as db:
        assert latest_snapshot(db) is None


def test_after_a_failure_no_further_org_is_asked(fake_hub, families, tmp_store):
    arrange_hub(fake_hub).inject("Qwen", fail_page=1)

    with pytest.raises(HubError):
        collect_snapshot(families, HubClient(fake_hub.url), tmp_store, now=NOW, concurrency=1)

    assert {r.org for r in fake_hub.requests} == {"Qwen"}


@pytest.mark.parametrize("faults", [{"not_found": True}, {}], ids=["404", "empty"])
def test_an_org_without_models_is_no_failure(fake_hub, families, tmp_store, caplog, faults):
    arrange_hub(fake_hub).inject("THUDM", **faults)

    with caplog.at_level(logging.INFO):
        result = collect_snapshot(families, HubClient(fake_hub.url), tmp_store, now=NOW)

    assert result.totals == EXPECTED_TOTALS
    assert "org THUDM listed no models (renamed or removed?)" in caplog.text


def test_a_family_whose_only_org_lists_nothing_is_absent(fake_hub, families, tmp_store):
    arrange_hub(fake_hub).inject("meta-llama", not_found=True)

    result = collect_snapshot(families, HubClient(fake_hub.url), tmp_store, now=NOW)

    assert [t.family for t in result.totals] == ["gemma", "glm", "nemotron", "qwen"]


def test_a_hub_that_lists_nothing_at_all_writes_nothing(fake_hub, families, store_with_history):
    before = dump(store_with_history)  # fake_hub holds no models for any org

    with pytest.raises(OpenModelsError, match="listed no models of any tracked family"):
        collect_snapshot(families, HubClient(fake_hub.url), store_with_history, now=NOW)

    assert dump(store_with_history) == before


def test_each_org_is_summarised_in_the_log(fake_hub, families, tmp_store, caplog):
    arrange_hub(fake_hub)

    with caplog.at_level(logging.INFO, logger="openmodels.collector"):
        collect_snapshot(families, HubClient(fake_hub.url), tmp_store, now=NOW)

    assert "org Qwen: 5 models, 2,250 downloads (30d), 10,460 all time" in caplog.text
    assert "org google: 5 models, 15,100 downloads (30d), 133,500 all time" in caplog.text


# -- progress -----------------------------------------------------------------------


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def start(self, total_orgs: int) -> None:
        self.events.append(("start", total_orgs))

    def page(self, org: str, models_seen_total: int) -> None:
        self.events.append(("page", models_seen_total))

    def org_done(self, org: str) -> None:
        self.events.append(("done", org))

    def finish(self) -> None:
        self.events.append(("finish", None))


def test_progress_hears_of_every_page_and_org(fake_hub, families, tmp_store):
    arrange_hub(fake_hub)
    progress = RecordingProgress()

    collect_snapshot(
        families, HubClient(fake_hub.url), tmp_store, now=NOW, concurrency=1, progress=progress
    )

    kinds = [kind for kind, _ in progress.events]
    assert progress.events[0] == ("start", 6)
    assert progress.events[-1] == ("finish", None)
    assert sorted(org for kind, org in progress.events if kind == "done") == sorted(families.orgs())
    seen = [n for kind, n in progress.events if kind == "page"]
    assert seen == sorted(seen) and seen[-1] == 5 + 5 + 3 + 1 + 0 + 4  # every listed model
    assert kinds.count("finish") == 1


def test_progress_is_finished_even_when_collection_fails(fake_hub, families, tmp_store):
    arrange_hub(fake_hub).inject("Qwen", malformed=True)
    progress = RecordingProgress()

    with pytest.raises(HubError):
        collect_snapshot(families, HubClient(fake_hub.url), tmp_store, now=NOW, progress=progress)

    assert progress.events[-1] == ("finish", None)


@pytest.mark.parametrize(
    ("done", "total", "models", "line"),
    [
        (0, 14, 0, "orgs 0/14 done, 0 models seen"),
        (3, 14, 1234, "orgs 3/14 done, 1,234 models seen"),
    ],
)
def test_progress_line(done, total, models, line):
    assert progress_line(done, total, models) == line


def test_terminal_progress_rewrites_one_line():
    stream = io.StringIO()
    progress = TerminalProgress(stream)

    progress.start(2)
    progress.page("Qwen", 1_234)
    progress.org_done("Qwen")
    progress.page("google", 1_000)  # a late report never counts down
    progress.finish()

    assert stream.getvalue().split("\r")[1:] == [
        "orgs 0/2 done, 0 models seen",
        "orgs 0/2 done, 1,234 models seen",
        "orgs 1/2 done, 1,234 models seen",
        "orgs 1/2 done, 1,234 models seen\n",
    ]


# -- the command line ---------------------------------------------------------------


@pytest.fixture
def cli_env(fake_hub, tmp_path, monkeypatch) -> tuple[Path, Path]:
    for name in ("OPENMODELS_DB", "OPENMODELS_FAMILIES", "SLACK_BOT_TOKEN", "HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    families_file = tmp_path / "families.toml"
    families_file.write_text(FAMILIES_TOML, encoding="utf-8")
    return tmp_path / "cli.db", families_file


def test_cli_collect_prints_the_snapshot(fake_hub, cli_env, capsys):
    db, families_file = cli_env
    arrange_hub(fake_hub)

    code = main(["collect", "--db", str(db), "--families", str(families_file)])

    out, _ = capsys.readouterr()
    assert code == 0
    assert out.startswith("snapshot 1 taken at ")
    assert ": 14 models in 5 families -> " in out


def test_cli_collect_names_the_failing_org_without_a_traceback(fake_hub, cli_env, capsys):
    db, families_file = cli_env
    arrange_hub(fake_hub).inject("nvidia", fail_page=1)

    code = main(["collect", "--db", str(db), "--families", str(families_file)])

    out, err = capsys.readouterr()
    assert code == 1
    assert "openmodels: error: Hub listing for 'nvidia' failed: HTTP 500 from" in err
    assert "Traceback" not in err
    assert "snapshot" not in out
