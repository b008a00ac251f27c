"""The overtake rules' memory: for each metric and pair of families, which one was last
known to be strictly ahead. Read and replaced inside the alert check's transaction."""

from __future__ import annotations

from collections.abc import Mapping

from storage.sql import Connection

PairKey = tuple[str, str, str]  # (metric, family_a, family_b) with family_a < family_b


def load(db: Connection) -> dict[PairKey, str]:
    """Every settled order: pair -> the family ahead."""
    rows = db.execute("SELECT metric, family_a, family_b, leader FROM pair_orders")
    return {(metric, a, b): leader for metric, a, b, leader in rows}


def replace(db: Connection, orders: Mapping[PairKey, str]) -> None:
    """Make the stored orders exactly `orders`."""
    db.execute("DELETE FROM pair_orders")
    db.executemany(
        "INSERT INTO pair_orders (metric, family_a, family_b, leader) VALUES (?, ?, ?, ?)",
        [(metric, a, b, leader) for (metric, a, b), leader in sorted(orders.items())],
    )
