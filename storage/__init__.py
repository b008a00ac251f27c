"""The SQLite store: schema, snapshots and the queries answers are built from.

`storage` knows nothing of Slack or the Hub: it stores plain records and returns
plain data.
"""

from storage.store import Store, open_store

__all__ = ["Store", "open_store"]
