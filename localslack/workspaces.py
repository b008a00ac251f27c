"""Who is who in the stand-in: workspaces, their people and channels, the app's install in
each, and the tokens Slack issued for it.

One workspace is there from the start, the default (TEAM_ID): the one a single-workspace
bot is installed in from its app's settings page, with a bot token the stand-in never
sees issued. Unless the stand-in is `strict`, any bot token it did not issue is taken
for that token. Others are added with `add_workspace` and install the app through the
OAuth flow (localslack.oauth), which issues each its own tokens.

What a token may reach, as Slack decides it:
- a token Slack issued belongs to one workspace; a revoked one (the app uninstalled,
  or its bot token revoked) is answered `token_revoked` ("Authentication token is for a
  deleted user or workspace or the app has been removed", slackhq/slack-api-docs,
  auth.revoke.json), an expired one `token_expired` (tokens from token rotation expire
  "every 12 hours", docs.slack.dev/authentication/using-token-rotation), and one Slack
  never issued `invalid_auth` ("Either the provided token is invalid...", same source);
- a channel, person or file of another workspace does not exist for it: an app
  installed in two workspaces that posts into one workspace's channel with the other's
  token gets `channel_not_found` (slackapi/bolt-python#782, where the single
  `app.client` token was used for every workspace; slackapi/python-slack-sdk#1325, a
  file shared into another workspace's channel), and asking about another
  workspace's person `user_not_found` (slackapi/bolt-js#1688).
Channels, people and files the stand-in was not told belong to a workspace (every one a
test uses without adding workspaces) are open to any token, as before.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

TEAM_ID, CHANNEL_ID, USER_ID, BOT_USER_ID = "T0LOCAL", "C0LOCAL", "U0LOCAL", "U0BOT"
APP_ID, DM_ID, BOT_ID = "A0LOCAL", "D0LOCAL", "B0LOCAL"
TEAM_NAME = "Local workspace"


@dataclass
class Workspace:
    """A Slack workspace, and whether the app is installed in it."""

    id: str
    name: str
    enterprise_id: str | None = None  # an Enterprise Grid organisation's id
    enterprise_name: str | None = None
    members: set[str] = field(default_factory=set)  # every person's user id
    admins: set[str] = field(default_factory=set)  # workspace admins (users.info is_admin)
    owners: set[str] = field(default_factory=set)  # workspace owners (users.info is_owner)
    primary_owner: str | None = None  # the one owner users.info calls is_primary_owner
    channels: set[str] = field(default_factory=set)  # ids of its conversations
    bot_user_id: str = BOT_USER_ID
    bot_id: str = BOT_ID
    installed: bool = True  # the app is installed: its tokens work


@dataclass
class Grant:
    """A bot token Slack issued, as far as Slack is concerned. The token itself is kept
    only as the key Slack looks it up by; calls are recorded with the team and serial."""

    team_id: str
    serial: int  # the workspace's first token is 1, the one rotation gives next 2, …
    scopes: frozenset[str] | None  # None: every scope (a token the stand-in did not issue)
    expires_at: float | None = None  # wall-clock seconds; None: never (no token rotation)
    org_wide: bool = False  # installed for a whole Enterprise Grid organisation
    revoked: bool = False


class Workspaces:
    """Every workspace and every token, behind one lock."""

    def __init__(self, *, strict: bool = False, clock: Callable[[], float] = time.time) -> None:
        self.strict = strict  # refuse bot tokens the stand-in did not issue (invalid_auth)
        self.clock = clock  # wall-clock seconds, for tokens' expiry (as Slack's expires_in)
        self.lock = threading.RLock()
        self._teams: dict[str, Workspace] = {
            TEAM_ID: Workspace(TEAM_ID, TEAM_NAME, members={USER_ID, BOT_USER_ID})
        }
        self._tokens: dict[str, Grant] = {}
        self._serials: dict[str, itertools.count[int]] = {}
        self._ids = itertools.count(1)

    # -- the workspaces ------------------------------------------------------------------

    def add(
        self,
        team_id: str,
        name: str,
        *,
        members: Iterable[str] = (),
        admins: Iterable[str] = (),
        owners: Iterable[str] = (),
        channels: Iterable[str] = (),
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
    ) -> Workspace:
        """A workspace, not yet running the app (it installs the app through OAuth). The
        first of `owners` is its primary owner."""
        n = next(self._ids)
        admins, owners = set(admins), list(owners)
        workspace = Workspace(
            id=team_id,
            name=name,
            enterprise_id=enterprise_id,
            enterprise_name=enterprise_name or (f"{enterprise_id} org" if enterprise_id else None),
            members=set(members) | admins | set(owners),
            admins=admins,
            owners=set(owners),
            primary_owner=owners[0] if owners else None,
            channels=set(channels),
            bot_user_id=f"U0BOT{n}",
            bot_id=f"B0BOT{n}",
            installed=False,
        )
        workspace.members.add(workspace.bot_user_id)
        with self.lock:
            self._teams[team_id] = workspace
        return workspace

    def get(self, team_id: str) -> Workspace | None:
        with self.lock:
            return self._teams.get(team_id)

    def team_of_channel(self, channel: str) -> str | None:
        """The workspace `channel` belongs to, if the stand-in was told."""
        with self.lock:
            return next((t.id for t in self._teams.values() if channel in t.channels), None)

    def team_of_user(self, user: str) -> str | None:
        """The workspace `user` belongs to, if the stand-in was told (not the default's)."""
        with self.lock:
            return next(
                (t.id for t in self._teams.values() if t.id != TEAM_ID and user in t.members),
                None,
            )

    # -- tokens --------------------------------------------------------------------------

    def issue(
        self,
        team_id: str,
        scopes: frozenset[str],
        lifetime: float | None,
        *,
        org_wide: bool = False,
    ) -> str:
        """A new bot token for the app in `team_id` (its scopes; expiring after `lifetime`
        seconds with token rotation). Token rotation's are `xoxe.xoxb-…` (the refreshed
        token's shape in Slack's docs, docs.slack.dev/authentication/using-token-rotation)."""
        with self.lock:
            serial = next(self._serials.setdefault(team_id, itertools.count(1)))
            prefix = "xoxe.xoxb-1-" if lifetime is not None else "xoxb-"
            token = f"{prefix}{team_id}-{serial}-{secrets.token_hex(12)}"
            expires = self.clock() + lifetime if lifetime is not None else None
            self._tokens[token] = Grant(team_id, serial, scopes, expires, org_wide)
            return token

    def grant(self, token: str) -> Grant | str:
        """What `token` is, or the error Slack answers a call made with it."""
        with self.lock:
            found = self._tokens.get(token)
            if found is None:
                if self.strict or not token.startswith("xoxb-"):
                    return "invalid_auth"
                found = Grant(TEAM_ID, 0, None)  # the default workspace's own token
            workspace = self._teams.get(found.team_id)
            if found.revoked or workspace is None or not workspace.installed:
                return "token_revoked"
            if found.expires_at is not None and self.clock() >= found.expires_at:
                return "token_expired"
            return found

    def revoke(self, team_id: str) -> None:
        """Revoke every bot token of the app in `team_id`."""
        with self.lock:
            for grant in self._tokens.values():
                if grant.team_id == team_id:
                    grant.revoked = True

    def refused(self, grant: Grant, params: dict[str, object]) -> str | None:
        """Why a call with `grant` may not touch what `params` name: a channel or person of
        another workspace (see the module's docstring); None if it may."""
        with self.lock:
            channels = [str(params.get(key) or "") for key in ("channel", "channel_id")]
            channels += [c for c in str(params.get("channels") or "").split(",") if c]
            for channel in filter(None, channels):
                owner = self.team_of_channel(channel)
                if owner is not None and owner != grant.team_id:
                    return "channel_not_found"
            for key in ("user", "user_id"):
                user = str(params.get(key) or "")
                owner = self.team_of_user(user) if user else None
                if owner is not None and owner != grant.team_id:
                    return "user_not_found"
        return None
