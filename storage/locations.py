"""Where a store is: a SQLite file's path, or a PostgreSQL database's `postgresql://` URL.

Kept apart from the engines, so that the configuration can name a store without
loading either engine.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

URL_SCHEMES = ("postgresql://", "postgres://")


def display_location(location: str | Path) -> str:
    """A store's path, or its URL without the password: what messages and logs show, and
    what a command shown to the operator can take (libpq reads the password from
    PGPASSWORD or ~/.pgpass)."""
    text = str(location)
    if not is_postgresql(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=user + host))


def is_postgresql(location: str | Path) -> bool:
    """Whether a store location names a PostgreSQL database rather than a SQLite file."""
    return str(location).startswith(URL_SCHEMES)
