"""Reading our Markdown documents the way a test needs them: fenced code blocks (the
commands a page shows) apart from the prose around them (its links and headings)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class CodeBlock:
    language: str  # as written after the fence: "sh", "ini", "" when none
    text: str
    after: str  # the prose between the previous block (or the page's start) and this one


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every fenced code block of `markdown`, in order."""
    blocks = []
    start = 0
    for match in _FENCE.finditer(markdown):
        blocks.append(CodeBlock(match[1], match[2], markdown[start : match.start()]))
        start = match.end()
    return blocks


def prose(markdown: str) -> str:
    """`markdown` without its fenced code blocks, whose brackets and hashes are code."""
    return _FENCE.sub("", markdown)


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the page's headings: lowercased, punctuation dropped,
    spaces made hyphens (`## What \\`serve\\` does` is `#what-serve-does`)."""
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", prose(markdown), re.MULTILINE):
        text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
        anchors.add(text.replace(" ", "-"))
    return anchors
