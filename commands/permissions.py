"""Who may change what a workspace's channels get (subscriptions and mutes), and the
`permissions` command that says so and changes it.

The rule, in one place (`refusal`):
- with OPENMODELS_ADMINS set (one workspace, an operator's list), only the people it
  lists may;
- else each workspace decides: anyone may (the default), or, once someone allowed to
  has run `/openmodels permissions admins`, only its admins and owners and whoever
  installed openmodels there. Who may restrict it, or lift it again: the installer, and
  the workspace's admins and owners, as Slack says (users.info's is_admin, is_owner).
Listing a channel's subscriptions stays open to all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from commands import blocks as bk
from commands.answer import Answer
from commands.format import escape
from commands.parser import Permissions
from storage import Store
from storage import workspaces as ws
from storage.snapshots import format_timestamp

NOT_AN_ADMIN = (
    "Only openmodels admins can change what this channel gets (subscriptions and mutes); "
    "ask one of them."
)
ONLY_WORKSPACE_ADMINS = (
    "In this workspace only its admins and owners, and whoever installed openmodels, may "
    "change what a channel gets (subscriptions and mutes); ask one of them."
)
ONLY_INSTALLER_OR_ADMINS = (
    "Only whoever installed openmodels in this workspace, or a workspace admin or owner, "
    "can change who may change subscriptions and mutes."
)
OPERATOR_LIST = (
    "On this openmodels server only the people its operator lists may "
    "change what a channel gets (subscriptions and mutes). That list is kept on the "
    "server, not in Slack."
)


@dataclass(frozen=True)
class Role:
    """What Slack says of the person who typed a command, as far as settings go."""

    admin: bool = False  # a workspace admin or owner
    installer: bool = False  # installed openmodels in this workspace
    error: str | None = None  # Slack could not say whether they are an admin: why

    @property
    def may_restrict(self) -> bool:
        return self.admin or self.installer


class Roles(Protocol):
    """Looks up the role of the person who typed a command (the bot asks Slack)."""

    def of(self, team_id: str, user_id: str | None) -> Role: ...


def refusal(
    store: Store,
    team_id: str,
    user_id: str | None,
    admins: frozenset[str] | None,
    roles: Roles | None,
) -> Answer | None:
    """The one-line answer to someone who may not change a channel's subscriptions or
    mutes in `team_id`; None if they may."""
    if admins is not None:
        if user_id is not None and user_id in admins:
            return None
        return _error(NOT_AN_ADMIN)
    if _changes_by(store, team_id) == "anyone":
        return None
    role = roles.of(team_id, user_id) if roles is not None else Role()
    if role.may_restrict:
        return None
    return _error(ONLY_WORKSPACE_ADMINS + _unknown(role))


def answer_permissions(
    command: Permissions,
    store: Store,
    team_id: str,
    user_id: str | None,
    now: datetime,
    admins: frozenset[str] | None,
    roles: Roles | None,
) -> Answer:
    """Say who may change the workspace's subscriptions and mutes, or change it."""
    if admins is not None:
        return _error(OPERATOR_LIST) if command.changes_by else _said(OPERATOR_LIST)
    if command.changes_by is None:
        return _said(_current(store, team_id))
    role = roles.of(team_id, user_id) if roles is not None else Role()
    if not role.may_restrict:
        return _error(ONLY_INSTALLER_OR_ADMINS + _unknown(role))
    with store.writing() as db:
        changed = ws.set_changes_by(
            db, team_id, command.changes_by, user_id or "", format_timestamp(now)
        )
    if command.changes_by == "admins":
        text = (
            "Now only this workspace's admins and owners, and whoever installed openmodels, "
            "may change what a channel gets (subscriptions and mutes). "
            "`/openmodels permissions everyone` lifts that."
        )
    else:
        text = (
            "Now anyone in this workspace may change what a channel gets (subscriptions and "
            "mutes). `/openmodels permissions admins` restricts it again."
        )
    if not changed:
        text = "It was so already. " + text
    return _said(text)


def _current(store: Store, team_id: str) -> str:
    with store.reading() as db:
        found = ws.get(db, team_id)
    if found is None or found.changes_by == "anyone":
        return (
            "Anyone in this workspace may change what a channel gets (subscriptions and "
            "mutes). Whoever installed openmodels, or a workspace admin or owner, can "
            "restrict that to the workspace's admins and owners: "
            "`/openmodels permissions admins`."
        )
    who = _who(found.changes_set_by)
    when = (found.changes_set_at or "")[:10]
    return (
        "Only this workspace's admins and owners, and whoever installed openmodels, may "
        f"change what a channel gets (subscriptions and mutes): set by {who} on {when}. "
        "`/openmodels permissions everyone` lifts that."
    )


def _changes_by(store: Store, team_id: str) -> str:
    with store.reading() as db:
        found = ws.get(db, team_id)
    return found.changes_by if found else "anyone"


def _unknown(role: Role) -> str:
    if role.error is None:
        return ""
    return f" (Slack could not say whether you are one: `{escape(role.error)}`.)"


def _who(user_id: str | None) -> str:
    valid = user_id and re.fullmatch(r"[UW][A-Z0-9]{2,20}", user_id)
    return f"<@{user_id}>" if valid else "someone"


def _said(text: str) -> Answer:
    return Answer(text=text, blocks=[bk.section(text)])


def _error(text: str) -> Answer:
    return Answer(text=text, blocks=[bk.section(text)], error=True)
