"""Commands run from a terminal or cron load only what they use.

Each command runs in a fresh interpreter (as `openmodels …` does), and the test reads
which libraries it loaded: sqlite-utils (and the numpy it imports), matplotlib, the Slack
SDK and the Hub client are each loaded only by a command that uses them. The figures of
what that saves are benchmarks/bench_pace.py's; here only what is loaded is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openmodels.families import Families, Family
from tests.builders import growing_store
from tests.fakes import hub_model

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sqlite_utils", "numpy", "matplotlib", "slack_sdk", "slack_bolt", "huggingface_hub")
# Runs the real command line in a new interpreter, then names the heavy libraries loaded.
PROBE = f"""
import json, sys
from openmodels.cli import main
code = main(sys.argv[1:])
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
print("LOADED " + json.dumps({{"code": code, "loaded": loaded}}))
"""


def loaded_by(*argv: str, env: dict[str, str] | None = None) -> list[str]:
    """The heavy libraries `openmodels ARGV…` loads; the command must succeed."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    environment.pop("OPENMODELS_DB", None)
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    [line] = [line for line in done.stdout.splitlines() if line.startswith("LOADED ")]
    result = json.loads(line.removeprefix("LOADED "))
    assert result["code"] == 0, done.stderr
    return list(result["loaded"])


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    path = tmp_path / "team.db"
    growing_store(path)
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "top"],
        ["status"],
        ["ask", "family", "qwen"],
        ["ask", "sizes"],
        ["ask", "top", "--size", "5-10B"],
        ["ask", "model", "Qwen/Qwen3-8B"],
    ],
)
def test_answers_at_a_terminal_load_no_heavy_library(store_file, argv):
    assert loaded_by(*argv, "--db", str(store_file)) == []


def test_the_bundled_sample_is_answered_without_a_heavy_library(tmp_path):
    # No store given and none in the folder: the sample, as on a fresh machine.
    assert loaded_by("ask", "top", env={"HOME": str(tmp_path)}) == []


def test_an_import_loads_no_hub_client_nor_slack(store_file, tmp_path):
    history = tmp_path / "history.csv"
    history.write_text(
        "date,repo_id,downloads,downloads_all_time\n2025-06-01,Qwen/Qwen3-8B,10,100\n"
    )

    assert loaded_by("import", str(history), "--db", str(store_file)) == []


def test_a_collection_without_slack_loads_only_the_hub_client(store_file, fake_hub):
    fake_hub.add("Qwen", hub_model("Qwen/Qwen3-8B", downloads=10, all_time=100))

    loaded = loaded_by("collect", "--db", str(store_file), env={"HF_ENDPOINT": fake_hub.url})

    assert loaded == ["huggingface_hub"]


def test_a_new_store_is_migrated_by_sqlite_utils(tmp_path):
    # Migrations are sqlite-utils' work: the one thing a store's first use loads it for.
    assert "sqlite_utils" in loaded_by("status", "--db", str(tmp_path / "new.db"))


# -- finding a model's family through its organisation -------------------------------------


def test_a_model_goes_to_the_first_family_of_its_organisation_whose_globs_match():
    families = Families(
        (
            Family("gemma", "Gemma", ("google",), match=("*gemma*",)),
            Family("t5", "T5", ("Google",), match=("t5-*",)),
            Family("everything-google", "Google", ("GOOGLE",)),
            Family("nemotron", "Nemotron", ("nvidia",), match=("*nemotron*",)),
        ),
        "test",
    )

    assert families.family_of("google/codegemma-7b").key == "gemma"
    assert families.family_of("Google/T5-small").key == "t5"
    assert families.family_of("google/bert-base").key == "everything-google"
    # A glob of another organisation's family is never tried.
    assert families.family_of("google/nemotron-copy").key == "everything-google"
    assert families.family_of("nvidia/parakeet") is None
    assert families.family_of("meta-llama/Llama-3") is None


def test_the_index_finds_what_testing_every_family_in_turn_finds():
    from openmodels.families import load_families

    defaults = load_families()
    lines = (ROOT / "tests" / "data" / "hub_repo_ids.txt").read_text().splitlines()
    repo_ids = [line.split()[0] for line in lines if line.strip() and not line.startswith("#")]
    assert len(repo_ids) > 50
    for repo_id in repo_ids:
        for spelling in (repo_id, repo_id.upper(), repo_id.lower()):
            by_index = defaults.family_of(spelling)
            in_turn = next((f for f in defaults if f.owns(spelling)), None)
            assert by_index == in_turn, spelling
