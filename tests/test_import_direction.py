"""Data flows one way: Hub client -> collector -> store -> queries -> answers, digests and
alerts -> Slack. The core decides what happened as plain data; `commands/` puts it into
words and Block Kit; `bot/` talks to Slack. So the core never imports `commands/` or
`bot/`, `storage/` knows nothing of Slack, the Hub or the words, and only
`openmodels/hub.py` imports `huggingface_hub`. Entry points (`openmodels/cli.py`, `bot/`)
may import anything, except that the stand-in for Slack (`localslack/`) is a simulator,
not the bot: only the console and demo (`bot/console.py`) run the bot against it, and it
never imports the bot.

Every import counts, including those inside functions and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ENTRY_POINTS = {"openmodels/cli.py"}


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(folder: str) -> list[str]:
    return sorted(
        str(p.relative_to(REPO))
        for p in (REPO / folder).rglob("*.py")
        if str(p.relative_to(REPO)) not in ENTRY_POINTS
    )


def top_level(module: str) -> str:
    return module.split(".", 1)[0]


@pytest.mark.parametrize("source", sources("openmodels"))
def test_the_core_never_imports_words_or_slack(source):
    imports = imported_modules(REPO / source)

    assert {m for m in imports if top_level(m) in {"commands", "bot"}} == set()
    assert {m for m in imports if top_level(m) in {"slack_sdk", "slack_bolt"}} == set()


@pytest.mark.parametrize("source", sources("storage"))
def test_the_store_knows_nothing_of_slack_the_hub_or_the_words(source):
    imports = imported_modules(REPO / source)
    forbidden = {"commands", "bot", "slack_sdk", "slack_bolt", "huggingface_hub"}

    assert {m for m in imports if top_level(m) in forbidden} == set()
    assert "openmodels.hub" not in imports


def test_only_the_hub_client_imports_huggingface_hub():
    importers = [
        source
        for folder in ("openmodels", "storage", "commands", "bot")
        for source in sources(folder)
        if any(top_level(m) == "huggingface_hub" for m in imported_modules(REPO / source))
    ]

    assert importers == ["openmodels/hub.py"]


@pytest.mark.parametrize("source", sources("bot"))
def test_the_bot_runs_against_the_slack_stand_in_only_in_its_console(source):
    imports = imported_modules(REPO / source)
    uses_stand_in = any(top_level(m) == "localslack" for m in imports)

    assert uses_stand_in == (source == "bot/console.py")


@pytest.mark.parametrize("source", sources("localslack"))
def test_the_slack_stand_in_never_imports_the_bot(source):
    imports = imported_modules(REPO / source)

    assert {m for m in imports if top_level(m) == "bot"} == set()


def test_the_check_sees_imports_inside_functions_and_type_checking(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from commands.answer import ChartSpec\n"
        "def f():\n    import bot.jobs\n"
    )

    assert {"commands.answer", "bot.jobs"} <= imported_modules(sample)
