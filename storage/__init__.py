"""The store: schema, snapshots and the queries answers are built from, on SQLite or
PostgreSQL.

`storage` knows nothing of Slack or the Hub: it stores plain records and returns
plain data. `Store`, `open_store` and `Connection` are loaded when first asked for, so
that naming a store (`storage.locations`, read by the configuration) loads no engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.sql import Connection
    from storage.store import Store, open_store

__all__ = ["Connection", "Store", "open_store"]


def __getattr__(name: str) -> Any:
    if name == "Connection":
        from storage.sql import Connection

        return Connection
    if name in ("Store", "open_store"):
        from storage import store

        return getattr(store, name)
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
