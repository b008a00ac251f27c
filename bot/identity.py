"""Names for the process holding an outbox claim or a job lease.

Host and process id say who it is in `status` and the logs; a random part keeps two
holders in one process, or a process id reused after a crash, from passing for each other.
"""

from __future__ import annotations

import os
import secrets
import socket


def holder_id() -> str:
    """A new holder name, e.g. 'bot-host:4242:9f1c2ab3'."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
