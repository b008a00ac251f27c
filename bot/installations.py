"""Each workspace's bot token: which one a call for a workspace goes with.

With one workspace (SLACK_BOT_TOKEN) every call goes with that token. With installs
through Slack's OAuth flow each workspace's token is in slack_sdk's installation store
(in openmodels' own database: bot.slack_stores), keyed by the
Enterprise Grid organisation (if any) and the workspace. Listeners get the token of the
request's workspace from Bolt (its per-request `client`); everything else (the scheduled
jobs, `collect`, `deliver` and `digest` from cron) asks `TeamClients.client_for`.

Token rotation: when the app has it turned on, a token expires after 12 hours and is
refreshed with its refresh token, which Slack then revokes
(docs.slack.dev/authentication/using-token-rotation). Two refreshes of one token at once
would spend the refresh token twice and the second would fail, taking the workspace's
token with it; so one refresh of a workspace runs at a time, in this process and in
every other using the store (`Store.locked`: on PostgreSQL an advisory lock every
replica sees, on SQLite a file lock beside the store, for `serve` beside a cron
`deliver`), and one that finds the token already refreshed by another takes the new
one. Bolt's own authorization of requests refreshes through the same lock
(`KeptAuthorize`).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.slack_client import make_web_client
from bot.slack_stores import open_slack_stores, store_errors
from storage import Store
from storage import workspaces as ws
from storage.engines.sqlite import BUSY_TIMEOUT_MS
from storage.snapshots import format_timestamp

if TYPE_CHECKING:
    from slack_sdk import WebClient
    from slack_sdk.oauth.installation_store import Installation, InstallationStore
    from slack_sdk.oauth.state_store import OAuthStateStore
    from slack_sdk.oauth.token_rotation import TokenRotator

    from bot.settings import OAuthCredentials

log = logging.getLogger(__name__)

# Bolt's default: a token is refreshed once it expires within two hours.
REFRESH_MINUTES = 120
STATE_SECONDS = 600  # an install link is good for 10 minutes


# Tries to save a refreshed token, each waiting up to the store's busy timeout.
SAVE_ATTEMPTS = 3


class WorkspaceUnavailable(Exception):
    """A workspace's token could not be read from the installation store just now (its
    database locked too long, or gone): that workspace waits for the next run; nothing
    of it is dropped."""


@runtime_checkable
class TeamClients(Protocol):
    """A Web API client with the bot token of a workspace."""

    def client_for(self, team_id: str) -> WebClient | None:
        """The client for `team_id`; None when the workspace has no token any more
        (uninstalled, or its token revoked): the caller skips it. Raises
        WorkspaceUnavailable when its token cannot be read just now."""
        ...


class OneWorkspace:
    """Every call with the one bot token of SLACK_BOT_TOKEN."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def client_for(self, team_id: str) -> WebClient | None:
        return self.client


def team_clients_of(client: WebClient | TeamClients) -> TeamClients:
    """`client` as TeamClients: a single client serves every workspace."""
    return client if isinstance(client, TeamClients) else OneWorkspace(client)


class Installations:
    """The installation store, its tokens kept fresh one refresh at a time; the state
    store of install links beside it."""

    def __init__(
        self,
        store: InstallationStore,
        states: OAuthStateStore,
        rotator: TokenRotator | None,
        *,
        database: Store,
        minutes: int = REFRESH_MINUTES,
        save_attempts: int = SAVE_ATTEMPTS,
    ) -> None:
        self.store = store
        self.states = states
        self.rotator = rotator
        self.database = database  # the store whose database holds them: its lock
        self.minutes = minutes
        self.save_attempts = save_attempts
        self._locks: defaultdict[tuple[str, str], threading.Lock] = defaultdict(threading.Lock)
        self._latest: dict[tuple[str, str], Installation] = {}
        self._unsaved: set[tuple[str, str]] = set()  # refreshed, not in the store yet
        self._guard = threading.Lock()

    def find(self, enterprise_id: str | None, team_id: str) -> Installation | None:
        """The workspace's installation, its bot token refreshed if it expires soon."""
        found = self.store.find_installation(enterprise_id=enterprise_id, team_id=team_id)
        if found is None:
            return None
        return self.refresh(found) or found

    def refresh(self, installation: Installation) -> Installation | None:
        """The installation with a new token if its token expires within `minutes`, else
        None (as Bolt's own refresh answers). Raises SlackTokenRotationError when Slack
        refuses the refresh token.

        A token another thread or process refreshed meanwhile is taken as it is. That is
        looked for in the store, under the lock every process sharing it takes for a
        workspace's refresh, and in what this process refreshed last: slack_sdk's SQLite
        store records an install's time to the second and answers with either of two
        records of the same second, so right after a refresh it may still answer the old
        one."""
        if installation.bot_refresh_token is None and installation.user_refresh_token is None:
            return None
        if self.rotator is None:
            raise RuntimeError("a rotating token needs the app's client id and secret")
        key = (installation.enterprise_id or "", installation.team_id or "")
        with self._guard:
            lock = self._locks[key]
        # This process's threads wait here, so that one connection at most per process
        # and workspace waits for the lock the processes share.
        with lock, self.database.locked(f"token refresh {key[0]}/{key[1]}"):
            if key in self._unsaved and self._save(key, self._latest[key], attempts=1):
                log.info("saved the refreshed bot token of workspace %s at last", key[1])
            stored = self.store.find_installation(
                enterprise_id=installation.enterprise_id, team_id=installation.team_id
            )
            # Latest first: expiry times are whole seconds, and max() keeps the first of
            # equals, so on a tie what this process refreshed last wins.
            candidates = [c for c in (self._latest.get(key), stored, installation) if c]
            freshest = max(candidates, key=lambda c: c.bot_token_expires_at or 0)
            if freshest.bot_token != installation.bot_token:
                return freshest  # refreshed meanwhile by another thread or process
            refreshed = self.rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=self.minutes
            )
            if refreshed is not None:
                # Slack has revoked the old refresh token: the new one is the only one.
                # Kept here first, so that a store that cannot be written loses nothing.
                self._latest[key] = refreshed
                self._unsaved.add(key)
                log.info("refreshed the bot token of workspace %s", installation.team_id)
                self._save(key, refreshed, attempts=self.save_attempts)
            return refreshed

    def _save(self, key: tuple[str, str], installation: Installation, attempts: int) -> bool:
        """Save a refreshed installation, trying `attempts` times; whether it was saved.
        One the store still refuses stays in this process's memory, used from there and
        saved at the workspace's next use."""
        for attempt in range(1, attempts + 1):
            try:
                self.store.save(installation)
            except store_errors(self.database) as exc:
                if attempt < attempts:
                    log.warning(
                        "saving the refreshed token of workspace %s failed (%s); trying again",
                        key[1],
                        exc,
                    )
                    continue
                log.error(
                    "THE REFRESHED BOT TOKEN OF WORKSPACE %s IS NOT SAVED (%s): this process "
                    "keeps using it and saves it at the workspace's next use; if the "
                    "process stops first, openmodels must be installed there again",
                    key[1],
                    exc,
                )
                return False
            self._unsaved.discard(key)
            return True
        return False

    def forget(self, team_id: str | None) -> None:
        """Forget the token this process refreshed last for a workspace (revoked)."""
        with self._guard:
            for key in [k for k in self._latest if k[1] == (team_id or "")]:
                del self._latest[key]
                self._unsaved.discard(key)


class InstalledWorkspaces:
    """Each workspace's own bot token, from the installation store. A workspace whose
    token is gone is logged once (until it has a token again), never at every call."""

    def __init__(self, store: Store, installations: Installations, api_url: str) -> None:
        self.store = store
        self.installations = installations
        self.api_url = api_url
        self._missing: set[str] = set()
        self._lock = threading.Lock()

    def client_for(self, team_id: str) -> WebClient | None:
        from slack_sdk.errors import SlackTokenRotationError

        try:
            with self.store.reading() as db:
                known = ws.get(db, team_id)
            enterprise_id = known.enterprise_id if known else None
            installation = self.installations.find(enterprise_id, team_id)
        except SlackTokenRotationError as exc:
            self._gone(team_id, f"Slack refused to refresh its token ({exc})")
            return None
        except store_errors(self.store) as exc:
            log.error("cannot read the token of workspace %s just now: %s", team_id, exc)
            raise WorkspaceUnavailable(f"its token cannot be read just now ({exc})") from exc
        if installation is None or not installation.bot_token:
            self._gone(team_id, "openmodels is not installed there (or its token was revoked)")
            return None
        with self._lock:
            self._missing.discard(team_id)
        return make_web_client(installation.bot_token, self.api_url)

    def _gone(self, team_id: str, why: str) -> None:
        with self._lock:
            if team_id in self._missing:
                return
            self._missing.add(team_id)
        log.warning(
            "skipping workspace %s: %s; nothing is sent there until it is installed again",
            team_id,
            why,
        )


def stop_queuing(store: Store, team_id: str, now: datetime) -> dict[str, int]:
    """Queue nothing more for a workspace without a usable token, and drop what was
    queued for it (storage.workspaces.stop); logged when that changed anything."""
    if store.sample or not team_id:
        return {}
    with store.writing() as db:
        counts = ws.stop(db, team_id, format_timestamp(now))
    if any(counts.values()):
        log.warning(
            "workspace %s has no usable token: %d subscriptions stopped until it installs "
            "again, %d queued messages dropped",
            team_id,
            counts["subscriptions"],
            counts["outbox"],
        )
    return counts


def open_installations(
    store: Store,
    credentials: OAuthCredentials,
    api_url: str,
    state_seconds: int = STATE_SECONDS,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
) -> Installations:
    """slack_sdk's installation and state stores in `store`'s database (bot.slack_stores),
    with a token rotator that asks `api_url`."""
    from slack_sdk.oauth.token_rotation import TokenRotator

    stores = open_slack_stores(store, credentials.client_id, state_seconds, busy_timeout_ms)
    rotator = TokenRotator(
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        client=make_web_client(None, api_url),
    )
    return Installations(stores.installations, stores.states, rotator, database=store)


def kept_authorize(
    installations: Installations, credentials: OAuthCredentials, client: WebClient
) -> Any:
    """Bolt's authorization of requests from the installation store, refreshing tokens
    through `installations` (one refresh at a time), and remembering which token
    authorized whom so that a request costs no auth.test: only a workspace's latest
    token (its rotated ones are dropped), and none once its token is revoked (`forget`)."""
    from slack_bolt.authorization.authorize import InstallationStoreAuthorize

    class KeptAuthorize(InstallationStoreAuthorize):
        def _rotate_and_save_tokens_if_necessary(
            self, installation: Installation | None
        ) -> Installation | None:
            if installation is None:
                return None
            return installations.refresh(installation)

        def __call__(self, **kwargs: Any) -> Any:
            # Bolt keeps a result per token and never drops one: each rotation (twice a
            # day a workspace) would add an entry for good. Keep a workspace's latest.
            result = super().__call__(**kwargs)
            if result is not None and result.bot_token:
                for token, kept in list(self.authorize_result_cache.items()):
                    if token != result.bot_token and (kept.enterprise_id, kept.team_id) == (
                        result.enterprise_id,
                        result.team_id,
                    ):
                        self.authorize_result_cache.pop(token, None)
            return result

        def forget(self, team_id: str | None) -> None:
            """Drop what was remembered of `team_id`'s tokens (revoked or uninstalled)."""
            for token, result in list(self.authorize_result_cache.items()):
                if result.team_id == team_id:
                    self.authorize_result_cache.pop(token, None)

    return KeptAuthorize(
        logger=logging.getLogger("bot.bolt"),
        installation_store=installations.store,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        cache_enabled=True,
        client=client,
        token_rotation_expiration_minutes=installations.minutes,
    )
