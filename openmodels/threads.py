"""Which thread an overtake alert belongs in. Pure.

A family pair that keeps swapping places (30-day orders flap) should not flood a
channel. An alert whose every pair was already announced in the channel within the last
30 days goes as a reply in the thread of the most recent of those announcements; an
alert with any pair new to the channel (or not announced for 30 days) starts afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

THREAD_WINDOW = timedelta(days=30)

Pair = tuple[str, str]


def reply_thread(
    pairs: Iterable[Pair],
    announced: Mapping[Pair, tuple[datetime, str]],
    now: datetime,
    window: timedelta = THREAD_WINDOW,
) -> str | None:
    """The ts of the thread to reply in, or None for a new message in the channel.

    `announced` maps a pair (in sorted order) to its latest announcement in the channel:
    when, and the ts of the thread it belongs to.
    """
    latest: tuple[datetime, str] | None = None
    wanted = [tuple(sorted(p)) for p in pairs]
    if not wanted:
        return None
    for pair in wanted:
        found = announced.get((pair[0], pair[1]))
        if found is None or now - found[0] > window:
            return None
        if latest is None or found[0] > latest[0]:
            latest = found
    return latest[1] if latest is not None else None
