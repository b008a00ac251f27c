"""The `sizes` answer, a family's downloads by size, and the words for size classes.

The figures are decided by `openmodels.size_classes`; this module says them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands import blocks as bk
from commands.answer import Answer
from commands.common import NoData, footer
from commands.format import METRIC_NAMES, echo, escape, family_link, human, percent, share
from commands.parser import Sizes, UsageError, usage_line
from openmodels.size_classes import ClassFigures, read_class_figures, source_shares, summarize
from openmodels.sizes import (
    ALL_CLASSES,
    FROM_FILE,
    FROM_HUB,
    FROM_NAME,
    UNKNOWN,
    SizeClass,
    class_of,
    parse_class,
    parse_size,
    size_text,
)
from storage import queries as q
from storage.model_sizes import SizeRow
from storage.sql import Connection

if TYPE_CHECKING:
    from commands.answers import AnswerContext

SOURCE_WORDS = {
    FROM_HUB: "the Hub's safetensors count",
    FROM_NAME: "read from the model name",
    FROM_FILE: "set in the families file",
    UNKNOWN: "unknown",
}
CLASSES_NOTE = (
    "Size classes as the ATOM Project reports open-model adoption by: total parameters, "
    "from the Hub's safetensors count where it has one, else set in the families file or "
    "read from the model's name. `/openmodels top --size 1-5B` ranks the families of one class."
)


def size_class(text: str) -> SizeClass:
    """The class `--size TEXT` names, or a UsageError listing the classes."""
    found = parse_class(text)
    if found is None:
        keys = ", ".join(c.key for c in ALL_CLASSES)
        # A size ("7B") is no class (its answer would read as models of 7B alone), but
        # it says which class to ask for.
        parameters = parse_size(text) if text.strip()[-1:].isalpha() else None
        hint = (
            f" {size_text(parameters)} models are in `--size {class_of(parameters).key}`."
            if parameters is not None
            else ""
        )
        raise UsageError(
            f"'{echo(text, 40)}' is no size class.{hint} Classes: {keys}.", usage_line("top")
        )
    return found


def sizes_answer(db: Connection, ctx: AnswerContext, command: Sizes) -> Answer:
    """Each size class's downloads, share and leading family, and how sizes are known."""
    latest = q.latest_snapshot(db)
    if latest is None:
        raise NoData
    figures = read_class_figures(db, [latest.id], command.metric)[latest.id]
    metric_name = METRIC_NAMES[command.metric]
    title = f"Downloads by model size: {metric_name}"
    summaries = summarize(figures)
    if not summaries:
        text = f"No downloads in the snapshot of {latest.date}."
        return Answer(
            text=text,
            blocks=[bk.header(title), bk.section(text), footer(latest)],
            public=command.public,
        )
    known = [s for s in summaries if s.size_class.known]
    biggest = max(known or summaries, key=lambda s: (s.downloads, -ALL_CLASSES.index(s.size_class)))
    lead = (
        f"*{biggest.size_class.models}* take the largest share: "
        f"{percent(biggest.share)} of {human(figures.total)} {metric_name}"
    )
    if biggest.leader is not None:
        lead += f", led by *{escape(ctx.families.label(biggest.leader))}*"
    lines = [
        f"• *{s.size_class.label}*  {human(s.downloads)} · {share(s.share)} · "
        + (
            f"led by {family_link(ctx.families, s.leader)} ({percent(s.leader_share)} of it)"
            if s.leader is not None
            else "no single leader"
        )
        for s in summaries
    ]
    empty = [c.label for c in ALL_CLASSES if c.known and c not in {s.size_class for s in known}]
    body = "\n".join(lines)
    if empty:
        body += f"\n_No downloads: {', '.join(empty)}_"
    blocks = [
        bk.header(title),
        bk.section(lead + "."),
        bk.section(body),
        bk.context(how_known(figures)),
        bk.context(CLASSES_NOTE),
        footer(latest),
    ]
    text = f"{title} ({latest.date}): " + ", ".join(
        f"{s.size_class.label} {share(s.share)}" for s in summaries
    )
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public)


def size_text_of(size: SizeRow | None) -> str:
    """'7.6B · 5–10B (the Hub's safetensors count)', '30B, 3B active · 10–50B (read from
    the model name)', or 'unknown'."""
    if size is None or size.parameters is None:
        active = f" ({size_text(size.active)} active)" if size and size.active else ""
        return f"unknown{active}"
    active = f", {size_text(size.active)} active" if size.active else ""
    return (
        f"{size_text(size.parameters)}{active} · {class_of(size.parameters).label} "
        f"({SOURCE_WORDS[size.source]})"
    )


def how_known(figures: ClassFigures) -> str:
    """'How sizes are known, by share of these downloads: 81.2% the Hub's safetensors
    count · 14.6% read from the model name · 4.2% unknown.'"""
    shares = source_shares(figures)
    parts = [f"{share(part)} {SOURCE_WORDS[source]}" for source, part in shares.items()]
    return "How sizes are known, by share of these downloads: " + " · ".join(parts) + "."


def family_sizes_text(figures: ClassFigures, family: str, metric: str) -> str | None:
    """'*By size* (all-time downloads)' and a line of the family's share in each class
    it has downloads in, then how those sizes are known; None without downloads.

    `figures`: the family's own (read for it alone), so the sources are its own too."""
    by_class = figures.of_family(family)
    total = sum(by_class.values())
    if not total:
        return None
    parts = [
        f"{c.label} {share(by_class[c.key] / total)} ({human(by_class[c.key])})"
        for c in ALL_CLASSES
        if c.key in by_class
    ]
    return f"*By size* ({METRIC_NAMES[metric]})\n" + " · ".join(parts) + f"\n_{how_known(figures)}_"
