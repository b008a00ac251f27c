"""Block Kit builders that keep every message within Slack's documented limits.

`slack_sdk` does not check all of them (not the 50-block cap, not field length), so
each builder cuts its own input and `check_limits` verifies a whole message.
"""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ALT_TEXT = 2000
MAX_MESSAGE_TEXT = 3000  # the top-level fallback text; Slack truncates around 40k

Block = dict[str, Any]


def cut(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": cut(text, MAX_HEADER_TEXT)}}


def section(text: str, fields: list[str] | None = None, accessory: Block | None = None) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION_TEXT)},
    }
    if fields:
        block["fields"] = [
            {"type": "mrkdwn", "text": cut(f, MAX_FIELD_TEXT)} for f in fields[:MAX_FIELDS]
        ]
    if accessory is not None:
        block["accessory"] = accessory
    return block


MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255


def button(action_id: str, text: str, value: str) -> Block:
    """A button element (for a section's accessory or an actions block)."""
    return {
        "type": "button",
        "action_id": action_id[:MAX_ACTION_ID],
        "text": {"type": "plain_text", "text": cut(text, MAX_BUTTON_TEXT)},
        "value": cut(value, MAX_BUTTON_VALUE),
    }


def fields_section(fields: list[str]) -> Block:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": cut(f, MAX_FIELD_TEXT)} for f in fields[:MAX_FIELDS]],
    }


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": cut(t, MAX_SECTION_TEXT)}
            for t in texts[:MAX_CONTEXT_ELEMENTS]
        ],
    }


def divider() -> Block:
    return {"type": "divider"}


def image_file(file_id: str, alt_text: str, title: str | None = None) -> Block:
    """An image block showing a file already uploaded to Slack."""
    block: Block = {
        "type": "image",
        "slack_file": {"id": file_id},
        "alt_text": cut(alt_text, MAX_ALT_TEXT),
    }
    if title:
        block["title"] = {"type": "plain_text", "text": cut(title, 2000)}
    return block


def share_button(value: str) -> Block:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "share_in_channel",
                "text": {"type": "plain_text", "text": "Share in channel"},
                "value": cut(value, 2000),
            }
        ],
    }


def bulleted(lines: list[str], limit: int = MAX_SECTION_TEXT, noun: str = "more") -> str:
    """Join lines into one section text; if they don't fit, cut and say how many were left out."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        remaining = len(lines) - i
        note = f"_…and {remaining} {noun} not shown_"
        if used + len(line) + 1 + len(note) + 1 > limit:
            out.append(f"_…and {remaining} {noun} not shown_")
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def check_limits(blocks: list[Block]) -> list[str]:
    """Every way `blocks` breaks a Block Kit limit; empty when the message is valid."""
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks > {MAX_BLOCKS}")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "header" and len(block["text"]["text"]) > MAX_HEADER_TEXT:
            problems.append(f"block {i}: header longer than {MAX_HEADER_TEXT}")
        if kind == "section":
            if "text" in block and len(block["text"]["text"]) > MAX_SECTION_TEXT:
                problems.append(f"block {i}: section text longer than {MAX_SECTION_TEXT}")
            fields = block.get("fields", [])
            if len(fields) > MAX_FIELDS:
                problems.append(f"block {i}: {len(fields)} fields > {MAX_FIELDS}")
            for f in fields:
                if len(f["text"]) > MAX_FIELD_TEXT:
                    problems.append(f"block {i}: field longer than {MAX_FIELD_TEXT}")
            if "text" not in block and not fields:
                problems.append(f"block {i}: section without text or fields")
        if kind == "context" and len(block["elements"]) > MAX_CONTEXT_ELEMENTS:
            problems.append(f"block {i}: context with more than {MAX_CONTEXT_ELEMENTS} elements")
        if kind == "image" and len(block.get("alt_text", "")) > MAX_ALT_TEXT:
            problems.append(f"block {i}: alt text longer than {MAX_ALT_TEXT}")
    return problems


def fit(blocks: list[Block]) -> list[Block]:
    """Keep at most 50 blocks, replacing the overflow with a note that says so."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    kept = blocks[: MAX_BLOCKS - 1]
    return [*kept, context(f"_…{len(blocks) - len(kept)} more blocks not shown_")]
