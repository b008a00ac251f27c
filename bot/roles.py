"""Whether the person who typed a command is a workspace admin or owner, or installed
openmodels: what commands.permissions needs of Slack.

users.info says it (`is_admin`, `is_owner`, `is_primary_owner`; Slack's user object, as
in java-slack-sdk's json-logs/samples/api/users.info.json) and needs users:read. It is
asked only when a workspace restricts who may change subscriptions, and what it said is
kept for ROLE_SECONDS, so a burst of changes asks once. The installer is the user the
installation record names (storage.workspaces).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.permissions import Role
from openmodels.errors import OpenModelsError
from storage import Store
from storage import workspaces as ws

log = logging.getLogger(__name__)

ROLE_SECONDS = 600.0  # a role Slack gave is trusted this long


class RoleCache:
    """What users.info said of each person lately, by workspace and user."""

    def __init__(self, keep: float = ROLE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.keep = keep
        self.clock = clock
        self._known: dict[tuple[str, str], tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def get(self, team_id: str, user_id: str) -> bool | None:
        with self._lock:
            found = self._known.get((team_id, user_id))
            if found is None or self.clock() - found[0] > self.keep:
                return None
            return found[1]

    def put(self, team_id: str, user_id: str, admin: bool) -> None:
        with self._lock:
            self._known[(team_id, user_id)] = (self.clock(), admin)

    def forget(self, team_id: str) -> None:
        """Forget a workspace's people (it uninstalled)."""
        with self._lock:
            for key in [k for k in self._known if k[0] == team_id]:
                del self._known[key]


@dataclass(frozen=True)
class SlackRoles:
    """The roles of one request's people: asked with the request's own `client` (its
    workspace's token)."""

    cache: RoleCache
    client: WebClient
    store: Store

    def of(self, team_id: str, user_id: str | None) -> Role:
        if not user_id:
            return Role()
        installer = self._installer(team_id) == user_id
        known = self.cache.get(team_id, user_id)
        if known is not None:
            return Role(admin=known, installer=installer)
        try:
            user = self.client.users_info(user=user_id).get("user") or {}
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "error")
            log.warning("could not ask Slack whether %s is an admin (%s)", user_id, error)
            return Role(installer=installer, error=error)
        except OSError as exc:  # Slack did not answer: not known, not cached
            return Role(installer=installer, error=type(exc).__name__)
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        self.cache.put(team_id, user_id, admin)
        return Role(admin=admin, installer=installer)

    def _installer(self, team_id: str) -> str | None:
        if self.store.sample:
            return None
        try:
            with self.store.reading() as db:
                found = ws.get(db, team_id)
        except OpenModelsError:
            return None
        return found.installed_by if found else None
