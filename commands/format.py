"""Formatting numbers, dates and user text for Slack mrkdwn. Pure functions."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

# Plain number formatting, shared with the chart renderer; kept importable from here.
from openmodels.numbers import human as human

if TYPE_CHECKING:
    from openmodels.families import Families


def signed(n: int) -> str:
    """A change with its sign: '+1.2M', '-350K', '0'."""
    if n == 0:
        return "0"
    return ("+" if n > 0 else "") + human(n)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 family', '2 families', '1,200 models': a number with its noun agreeing."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def share(part: float) -> str:
    """A share as `percent` writes it, but '<0.1%' for one too small to show: a share
    that is there never reads as 0.0%."""
    return "<0.1%" if 0 < part < 0.0005 else percent(part)


def arrow(rank_change: int | None) -> str:
    """▲2 / ▼1 / = for a rank change; 'new' for a family absent from the baseline."""
    if rank_change is None:
        return "new"
    if rank_change > 0:
        return f"▲{rank_change}"
    if rank_change < 0:
        return f"▼{-rank_change}"
    return "="


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup in mrkdwn and plain_text.

    After this, `<!channel>` or `<@U123>` typed by a user is shown, never acted on.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_INVISIBLE = frozenset({"Cf", "Cc"})  # Unicode's format and control characters


def visible(text: str) -> str:
    """`text` as its reader sees it. Compatibility forms read as the plain ones they stand
    for (NFKC: full-width `ｑｗｅｎ` as a CJK input method types it is `qwen`); format and
    control characters, which show as nothing, go (a zero-width space or a byte-order
    mark pasted along, a bell, a right-to-left override that would flip the line in
    Slack); whitespace stays, as a plain space, to separate words."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        " " if c.isspace() else c
        for c in text
        if c.isspace() or unicodedata.category(c) not in _INVISIBLE
    )


def echo(text: str, limit: int = 60) -> str:
    """User text made safe to quote back: as the reader sees it (`visible`), cut, escaped."""
    clean = visible(text)
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return escape(clean)


# An absolute or home-relative path (/srv/x.db, ~/x.db, ./x.db, C:\\x.db), but not the
# path part of a URL (https://host/path): a slash after a word, a colon or a slash is
# not the start of one.
_PATH = re.compile(r"(?<![\w:/.~\\])(?:(?:~|\.{1,2})?/|[A-Za-z]:\\)[^\s'\"`<>|,;()]+")


def hide_paths(text: str) -> str:
    """Replace server file paths in `text` with '[path]': the channel has no use for them."""
    return _PATH.sub("[path]", text)


def link(url: str, label: str) -> str:
    """A mrkdwn link; the label is escaped so it cannot close the link early."""
    return f"<{url}|{escape(label).replace('|', '¦')}>"


def hub_url(repo_or_org: str) -> str:
    return f"https://huggingface.co/{repo_or_org}"


METRIC_NAMES = {
    "all_time": "all-time downloads",
    "30d": "30-day downloads",
    "derivatives": "derivatives",
}


def family_link(families: Families, key: str) -> str:
    """A family's label linked to its Hub organisation (the bare key if untracked)."""
    family = families.get(key)
    if family is None:
        return escape(key)
    return link(family.hub_url, family.label)
