"""Rendering an answer's Block Kit for a terminal: what `openmodels ask` prints. Pure."""

from __future__ import annotations

import re
import textwrap

from commands.answer import Answer
from commands.blocks import CONTINUED

_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^<>|]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")


def plain(mrkdwn: str) -> str:
    """Slack mrkdwn to plain text: links become their labels, emphasis marks go."""
    text = _LINK.sub(lambda m: m.group(2), mrkdwn)
    text = _BARE_LINK.sub(lambda m: m.group(1), text)
    text = _BOLD.sub(lambda m: m.group(1), text)
    text = _ITALIC.sub(lambda m: m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_text(answer: Answer, width: int = 100) -> str:
    out: list[str] = []
    for block in answer.blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            out += [title, "=" * min(len(title), width)]
        elif kind == "section":
            if str(block.get("block_id", "")).startswith(CONTINUED) and out and not out[-1]:
                out.pop()  # a list spread over sections reads as one
            if "text" in block:
                out.append(plain(block["text"]["text"]))
            for f in block.get("fields", []):
                lines = plain(f["text"]).split("\n")
                out.append("  " + lines[0])
                out += ["      " + line for line in lines[1:]]
        elif kind == "context":
            for element in block["elements"]:
                out += textwrap.wrap(plain(element.get("text", "")), width, initial_indent="-- ")
        elif kind == "divider":
            out.append("-" * 20)
        elif kind == "image":
            out.append(f"[chart: {block.get('alt_text', '')}]")
        out.append("")
    if answer.chart is not None:
        out.append(f"[chart: {answer.chart.alt_text}]")
    return "\n".join(out).rstrip() + "\n"
