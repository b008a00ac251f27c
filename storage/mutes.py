"""Pairs of families a channel has muted: no overtake alert about them, either way round."""

from __future__ import annotations

from dataclasses import dataclass

from storage.sql import Connection


@dataclass(frozen=True)
class Mute:
    team_id: str
    channel_id: str
    pair: tuple[str, str]  # family keys, in sorted order
    muted_at: str
    muted_by: str | None = None


def pair_of(a: str, b: str) -> tuple[str, str]:
    """The pair of families `a` and `b`, whichever passed the other."""
    if a == b:
        raise ValueError(f"a pair needs two families, got {a!r} twice")
    first, second = sorted((a, b))
    return first, second


def mute(
    db: Connection,
    team_id: str,
    channel_id: str,
    pair: tuple[str, str],
    now: str,
    user_id: str | None = None,
) -> bool:
    """Mute `pair` in the channel. True if it was not muted before."""
    a, b = pair_of(*pair)
    cursor = db.execute(
        """INSERT INTO mutes (team_id, channel_id, family_a, family_b, muted_at, muted_by)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
        [team_id, channel_id, a, b, now, user_id],
    )
    return cursor.rowcount > 0


def unmute(db: Connection, team_id: str, channel_id: str, pair: tuple[str, str]) -> bool:
    """Unmute `pair` in the channel. True if it was muted."""
    a, b = pair_of(*pair)
    cursor = db.execute(
        """DELETE FROM mutes
           WHERE team_id = ? AND channel_id = ? AND family_a = ? AND family_b = ?""",
        [team_id, channel_id, a, b],
    )
    return cursor.rowcount > 0


def for_channel(db: Connection, team_id: str, channel_id: str) -> list[Mute]:
    """The channel's muted pairs, in the order they were muted."""
    rows = db.execute(
        """SELECT family_a, family_b, muted_at, muted_by FROM mutes
           WHERE team_id = ? AND channel_id = ? ORDER BY muted_at, family_a, family_b""",
        [team_id, channel_id],
    )
    return [Mute(team_id, channel_id, (r[0], r[1]), r[2], r[3]) for r in rows]


def muted_pairs(db: Connection) -> dict[tuple[str, str], frozenset[tuple[str, str]]]:
    """(team, channel) -> its muted pairs, for every channel that has any."""
    found: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for team, channel, a, b in db.execute(
        "SELECT team_id, channel_id, family_a, family_b FROM mutes"
    ):
        found.setdefault((team, channel), set()).add((a, b))
    return {where: frozenset(pairs) for where, pairs in found.items()}
