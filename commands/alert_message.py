"""Overtake alerts in words and Block Kit: one message for all the overtakes a snapshot
produced that a channel wants, each pair with a "Mute this pair here" button. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from commands import blocks as bk
from commands.format import METRIC_NAMES, escape, family_link, human

if TYPE_CHECKING:
    from openmodels.families import Families
    from openmodels.overtakes import Overtake
    from storage.queries import Snapshot

MUTE_ACTION = "mute_pair"
UNMUTE_ACTION = "unmute_pair"
MUTE_LABEL = "Mute this pair here"
# One section per pair, between a heading and a footer, within Block Kit's 50 blocks.
MAX_PAIRS_SHOWN = 45


def pair_value(a: str, b: str) -> str:
    """A button's value naming the pair of families `a` and `b`, whichever order."""
    first, second = sorted((a, b))
    return f"{first}|{second}"


def parse_pair_value(value: str) -> tuple[str, str] | None:
    """The pair a button's value names, or None if it names none (sorted keys)."""
    parts = value.split("|")
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        return None
    first, second = sorted(parts)
    return first, second


def overtake_line(o: Overtake, families: Families) -> str:
    """'Qwen passed Llama in all-time downloads: 701.2M vs 699.8M' (plain text)."""
    return (
        f"{families.label(o.passer)} passed {families.label(o.passed)} in "
        f"{METRIC_NAMES[o.metric]}: {human(o.passer_value)} vs {human(o.passed_value)}"
    )


def _mrkdwn_line(o: Overtake, families: Families) -> str:
    return (
        f"*{family_link(families, o.passer)}* passed *{family_link(families, o.passed)}* in "
        f"{METRIC_NAMES[o.metric]}: *{human(o.passer_value)}* vs {human(o.passed_value)}"
    )


def alert_message(
    overtakes: Sequence[Overtake], families: Families, snapshot: Snapshot
) -> dict[str, Any]:
    """The message for every overtake of one snapshot a channel wants: one section per
    pair of families (both metrics, if both changed), each with a mute button."""
    if not overtakes:
        raise ValueError("an alert needs at least one overtake")
    by_pair: dict[str, list[Overtake]] = {}
    for o in overtakes:
        by_pair.setdefault(pair_value(o.passer, o.passed), []).append(o)
    lines = [overtake_line(o, families) for o in overtakes]
    if len(overtakes) == 1:
        text = lines[0]
    else:
        text = f"{len(overtakes)} overtakes in the snapshot of {snapshot.date}: " + "; ".join(lines)
    blocks: list[bk.Block] = []
    if len(overtakes) > 1:
        blocks.append(
            bk.section(
                f":rotating_light: *{len(overtakes)} overtakes* in the snapshot of {snapshot.date}"
            )
        )
    shown = list(by_pair.items())[:MAX_PAIRS_SHOWN]
    for value, found in shown:
        body = "\n".join(_mrkdwn_line(o, families) for o in found)
        if len(overtakes) == 1:
            body = ":rotating_light: " + body
        blocks.append(bk.section(body, accessory=bk.button(MUTE_LABEL, MUTE_ACTION, value)))
    hidden = len(by_pair) - len(shown)
    first = overtakes[0]
    compare = f"`/openmodels compare {first.passer} {first.passed}` for the chart"
    notes = [f"Snapshot {snapshot.date} · {compare}"]
    if hidden:
        notes.append(f"_…and {hidden} more pairs not shown_")
    blocks.append(bk.context(*notes))
    return {"text": bk.cut(escape(text), bk.MAX_MESSAGE_TEXT), "blocks": blocks}
