"""The answer value every command produces, for Slack and for the terminal alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from commands.blocks import MAX_MESSAGE_TEXT, Block, cut

# A plain value the core builds too (the digest's chart); kept importable from here.
from openmodels.chart_spec import ChartSpec as ChartSpec


@dataclass(frozen=True)
class Answer:
    """A reply: fallback text, Block Kit blocks, visibility and an optional chart."""

    text: str
    blocks: list[Block]
    public: bool = False
    chart: ChartSpec | None = None
    error: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # Safe to post again for the whole channel ("Share in channel"): answers that only
    # read. A subscription change or the bot's status never is.
    shareable: bool = False
    # Buttons for the next step (commands.next_steps), shown under a private answer in
    # Slack; not part of `blocks`, which the terminal and a shared answer show.
    next_steps: Block | None = None
    # Questions the answer suggests asking next, as (button label, command text): the
    # buttons for them join `next_steps`.
    suggestions: tuple[tuple[str, str], ...] = ()

    def payload(self) -> dict[str, Any]:
        """The message body Slack receives (without the chart, which is uploaded apart)."""
        return {
            "response_type": "in_channel" if self.public else "ephemeral",
            "text": cut(self.text, MAX_MESSAGE_TEXT),
            "blocks": self.blocks,
        }
