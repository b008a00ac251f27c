"""Block Kit builders that keep every message and view within Slack's documented limits.

`slack_sdk` does not check all of them (not the 50-block cap, not field length), so
each builder cuts its own input, `check_limits` verifies a whole message and
`check_view_limits` a home tab or modal, which allow 100 blocks instead of 50
(https://docs.slack.dev/reference/views/modal-views, .../views/home-tab-views).
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
# Views (a home tab, a modal): https://docs.slack.dev/reference/views/modal-views
MAX_VIEW_BLOCKS = 100
MAX_MODAL_TITLE = 24  # also the close and submit buttons' texts
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
# Interactive elements (https://docs.slack.dev/reference/block-kit/block-elements and
# .../block-kit/blocks/actions-block, .../composition-objects/option-object).
MAX_ACTIONS_ELEMENTS = 25
MAX_ACTION_ID = 255
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER = 150

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


def plain_text(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit)}


def button(text: str, action_id: str, value: str) -> Block:
    """A button element. `value` is never cut (it is what the click runs): a caller
    whose value is longer than MAX_BUTTON_VALUE must leave the button out."""
    return {
        "type": "button",
        "action_id": action_id,
        "text": plain_text(text, MAX_BUTTON_TEXT),
        "value": value,
    }


def static_select(placeholder: str, action_id: str, options: list[tuple[str, str]]) -> Block:
    """A select menu of (label, value) options, at most Slack's 100; values that do not
    fit an option's 150 characters are left out rather than cut."""
    kept = [(label, value) for label, value in options if len(value) <= MAX_OPTION_VALUE]
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": plain_text(placeholder, MAX_PLACEHOLDER),
        "options": [
            {"text": plain_text(label, MAX_OPTION_TEXT), "value": value}
            for label, value in kept[:MAX_OPTIONS]
        ],
    }


def actions(*elements: Block) -> Block:
    return {"type": "actions", "elements": list(elements[:MAX_ACTIONS_ELEMENTS])}


Noun = str | tuple[str, str]  # what a list holds: plural, or (singular, plural)
CONTINUED = "continued:"  # the block_id prefix of a section that continues a list


def _left_out(n: int, noun: Noun) -> str:
    """'_…and 5 families not shown_'."""
    if isinstance(noun, tuple):
        noun = noun[0] if n == 1 else noun[1]
    return f"_…and {n} {noun} not shown_"


def _fill(
    lines: list[str], limit: int, noun: Noun, hidden: int = 0, sep: str = "\n"
) -> tuple[str, int]:
    """As many of `lines` as fit one text of `limit` characters with the note of what
    is left out (counting `hidden` too), and how many of them that is."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        after = len(lines) - i - 1 + hidden  # left out if this line is the last shown
        room = len(sep) + len(_left_out(len(lines) - i + hidden, noun)) if after else 0
        if used + len(line) + room > limit:
            break
        out.append(line)
        used += len(line) + len(sep)
    left = len(lines) - len(out) + hidden
    if left:
        out.append(_left_out(left, noun))
    return sep.join(out), len(out) - (1 if left else 0)


def bulleted(
    lines: list[str], limit: int = MAX_SECTION_TEXT, noun: Noun = "more", hidden: int = 0
) -> str:
    """Join lines into one section text; if they don't fit, cut and say how many were
    left out, with `hidden` more the caller left out before."""
    return _fill(lines, limit, noun, hidden)[0]


def packed(
    lines: list[str],
    noun: Noun = "more",
    limit: int = MAX_SECTION_TEXT,
    sections: int = 3,
    hidden: int = 0,
    sep: str = "\n",
) -> list[str]:
    """Lines packed into at most `sections` texts of `limit` characters, in order,
    joined by `sep`; the last says how many were left out, if any, counting `hidden`
    more the caller left out before (one count, as `bulleted` gives for one text)."""
    texts: list[str] = []
    rest = lines
    while len(texts) < sections - 1:
        text, shown = _fill(rest, limit, noun, hidden, sep)
        if shown == len(rest):
            return [*texts, text] if text else texts
        used, taken = 0, 0
        for line in rest:
            if used + len(line) > limit:
                break
            used, taken = used + len(line) + len(sep), taken + 1
        texts.append(sep.join(rest[: max(taken, 1)])[:limit])
        rest = rest[max(taken, 1) :]
    text = _fill(rest, limit, noun, hidden, sep)[0]
    return [*texts, text] if text else texts


def list_sections(
    lines: list[str], key: str, noun: Noun, sections: int = 3, hidden: int = 0
) -> list[Block]:
    """`lines` as one list spread over at most `sections` section blocks (`packed`);
    each after the first is marked as continuing list `key` (unique in its message),
    so that a terminal shows the list whole, without a gap where a section ends."""
    texts = packed(lines, noun, sections=sections, hidden=hidden)
    blocks = [section(text) for text in texts]
    for i, block in enumerate(blocks[1:], 1):
        block["block_id"] = f"{CONTINUED}{key}:{i}"
    return blocks


def check_limits(blocks: list[Block], max_blocks: int = MAX_BLOCKS) -> list[str]:
    """Every way `blocks` breaks a Block Kit limit; empty when the message is valid.

    `max_blocks` is a message's 50 by default; a view passes its own 100.
    """
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")
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
        if kind == "actions":
            problems += _actions_problems(i, block)
    return problems


def _actions_problems(i: int, block: Block) -> list[str]:
    problems: list[str] = []
    elements = block.get("elements") or []
    if not elements or len(elements) > MAX_ACTIONS_ELEMENTS:
        problems.append(f"block {i}: actions with {len(elements)} elements (1 to 25)")
    action_ids = [e.get("action_id") for e in elements if e.get("action_id")]
    if len(action_ids) != len(set(action_ids)):
        problems.append(f"block {i}: the same action_id twice in one block")
    for e in elements:
        if len(e.get("action_id") or "") > MAX_ACTION_ID:
            problems.append(f"block {i}: action_id longer than {MAX_ACTION_ID}")
        if e.get("type") == "button":
            if len(e["text"]["text"]) > MAX_BUTTON_TEXT:
                problems.append(f"block {i}: button text longer than {MAX_BUTTON_TEXT}")
            if len(e.get("value") or "") > MAX_BUTTON_VALUE:
                problems.append(f"block {i}: button value longer than {MAX_BUTTON_VALUE}")
        if e.get("type") == "static_select":
            options = e.get("options") or []
            if not 1 <= len(options) <= MAX_OPTIONS:
                problems.append(f"block {i}: select with {len(options)} options (1 to 100)")
            for option in options:
                if len(option["text"]["text"]) > MAX_OPTION_TEXT:
                    problems.append(f"block {i}: option text longer than {MAX_OPTION_TEXT}")
                if len(option["value"]) > MAX_OPTION_VALUE:
                    problems.append(f"block {i}: option value longer than {MAX_OPTION_VALUE}")
    return problems


def check_view_limits(view: dict[str, Any]) -> list[str]:
    """Every way a home tab or modal view breaks Slack's limits; empty when valid.

    A view holds up to 100 blocks, where a message holds 50; a modal needs a title
    of at most 24 characters (https://docs.slack.dev/reference/views/modal-views).
    """
    kind = view.get("type")
    problems: list[str] = []
    if kind not in {"home", "modal"}:
        return [f"view type {kind!r} is neither home nor modal"]
    if kind == "modal":
        title = (view.get("title") or {}).get("text")
        if not title:
            problems.append("modal without a title")
        elif len(title) > MAX_MODAL_TITLE:
            problems.append(f"modal title longer than {MAX_MODAL_TITLE}")
        for button_name in ("close", "submit"):
            text = (view.get(button_name) or {}).get("text") or ""
            if len(text) > MAX_MODAL_TITLE:
                problems.append(f"modal {button_name} text longer than {MAX_MODAL_TITLE}")
    if len(view.get("private_metadata") or "") > MAX_PRIVATE_METADATA:
        problems.append(f"private_metadata longer than {MAX_PRIVATE_METADATA}")
    if len(view.get("callback_id") or "") > MAX_CALLBACK_ID:
        problems.append(f"callback_id longer than {MAX_CALLBACK_ID}")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return [*problems, "view without blocks"]
    return problems + check_limits(blocks, max_blocks=MAX_VIEW_BLOCKS)


def fit(blocks: list[Block], max_blocks: int = MAX_BLOCKS) -> list[Block]:
    """Keep at most `max_blocks` (a message's 50 by default), replacing the overflow
    with a note that says so."""
    if len(blocks) <= max_blocks:
        return blocks
    kept = blocks[: max_blocks - 1]
    return [*kept, context(f"_…{len(blocks) - len(kept)} more blocks not shown_")]
