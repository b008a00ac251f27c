"""The store: schema, snapshots and the queries answers are built from, on SQLite or
PostgreSQL.

`storage` knows nothing of Slack or the Hub: it stores plain records and returns
plain data.
"""

from storage.sql import Connection
from storage.store import Store, open_store

__all__ = ["Connection", "Store", "open_store"]
