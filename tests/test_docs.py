"""The README is the front door: short, the two commands first; every link between our
documents leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.markdown import code_blocks, heading_anchors, prose

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCUMENTS = sorted([README, ROOT / "RELIABILITY.md", *(ROOT / "docs").glob("*.md")])
MAX_README_BYTES = 15_000

# [text](target): a target without spaces, outside code blocks and code spans.
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_readme_stays_a_front_door():
    assert len(README.read_bytes()) < MAX_README_BYTES, "move reference material to docs/"


def test_the_readmes_first_commands_are_the_two_commands():
    first = code_blocks(README.read_text())[0]

    commands = [line.split("#")[0].strip() for line in first.text.splitlines()]

    assert commands == ["./dev demo", "./dev test"]


def links(document: Path) -> list[str]:
    text = re.sub(r"`[^`\n]*`", "", prose(document.read_text()))
    return [target for target in _LINK.findall(text) if not re.match(r"\w+:", target)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_link_between_documents_leads_to_a_file_and_heading(document):
    broken = []
    for target in links(document):
        path_part, _, anchor = target.partition("#")
        destination = (document.parent / path_part).resolve() if path_part else document
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in heading_anchors(destination.read_text()):
            broken.append(f"{target}: no heading #{anchor} in {destination.name}")

    assert broken == []


def test_the_links_are_found():
    # The check above is only as good as its reading of links.
    assert "docs/deploy.md" in links(README)
    assert "operations.md#defining-families" in links(ROOT / "docs" / "commands.md")
