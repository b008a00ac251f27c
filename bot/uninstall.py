"""A workspace that uninstalls openmodels is forgotten; one whose bot token is revoked gets
nothing more until it is installed again.

Slack sends `app_uninstalled` when a workspace removes the app, and `tokens_revoked`
when the app's tokens there are revoked (with an uninstall too, sometimes after
app_uninstalled: slackapi/bolt-js#673). Bolt's own listeners for them delete the
workspace's installation (or its bot) from the installation store, but only if turned
on, and Bolt runs one listener per event: so the listeners here call Bolt's, and do
openmodels' part around them:
- app_uninstalled: the workspace's subscriptions, mutes, outbox items sent or not,
  announcements, App Home visits and settings are deleted (storage.workspaces.forget),
  each table's count logged, then its installation. Nothing of another workspace is
  touched. Without an installation store (one workspace, SLACK_BOT_TOKEN) its data is
  forgotten all the same: its token is dead;
- tokens_revoked naming the bot: the installation goes too (Bolt deletes only the bot's
  row, and the installation's row still holds the revoked token), and nothing more is
  queued there: its subscriptions are marked failing ("no usable token") and what was
  queued for it is dropped (storage.workspaces.stop), so a reinstall starts afresh
  rather than bursting out a backlog of stale alerts and digests. Its subscriptions,
  mutes and settings stay, and take up again when it is installed again.
An event can arrive late, after the workspace installed the app again (reported in
slackapi/bolt-js#1558): one older than the workspace's current installation is ignored,
so a reinstall is never undone by the uninstall before it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext

from bot.handlers import BotServices, done_with
from bot.installations import stop_queuing
from storage import workspaces as ws

log = logging.getLogger(__name__)


def register(app: App, services: BotServices, forget_tokens: Callable[[str | None], None]) -> None:
    """Listen for app_uninstalled and tokens_revoked. `forget_tokens` drops what the app
    remembered of a workspace's tokens (Bolt's authorization cache)."""
    installations = app.installation_store
    bolt_uninstalled = (
        app.default_app_uninstalled_event_listener() if installations is not None else None
    )
    bolt_revoked = (
        app.default_tokens_revoked_event_listener() if installations is not None else None
    )

    @app.event("app_uninstalled")
    def on_app_uninstalled(body: dict[str, Any], context: BoltContext) -> None:
        try:
            if not _outdated(app, body, context):
                forget_workspace(services, context.team_id or "")
                forget_tokens(context.team_id)
                if bolt_uninstalled is not None:
                    bolt_uninstalled(context=context)
        finally:
            done_with(services, body.get("event_id"))

    @app.event("tokens_revoked")
    def on_tokens_revoked(
        body: dict[str, Any], event: dict[str, Any], context: BoltContext
    ) -> None:
        try:
            bots = (event.get("tokens") or {}).get("bot") or []
            if bots and not _outdated(app, body, context):
                stop_workspace(app, services, context, forget_tokens)
                if bolt_revoked is not None:
                    bolt_revoked(event=event, context=context)
        finally:
            done_with(services, body.get("event_id"))


def forget_workspace(services: BotServices, team_id: str) -> dict[str, int]:
    """Delete every row of `team_id` from the store; log how many of each."""
    store = services.context.store
    if store.sample or not team_id:
        return {}
    with store.writing() as db:
        counts = ws.forget(db, team_id)
    services.home_pace.forget(team_id)
    services.roles.forget(team_id)
    log.info(
        "openmodels was uninstalled from workspace %s: forgot %s",
        team_id,
        ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in counts.items()),
    )
    return counts


def stop_workspace(
    app: App,
    services: BotServices,
    context: BoltContext,
    forget_tokens: Callable[[str | None], None],
) -> None:
    """The bot's token in the workspace was revoked: nothing more goes there."""
    forget_tokens(context.team_id)
    stop_queuing(services.context.store, context.team_id or "", services.context.now())
    installations = app.installation_store
    if installations is None:
        log.error(
            "Slack revoked the bot token of workspace %s (SLACK_BOT_TOKEN): nothing can be "
            "posted there until a new token is set and serve restarted",
            context.team_id,
        )
        return
    installations.delete_installation(
        enterprise_id=context.enterprise_id, team_id=context.team_id, user_id=None
    )
    log.warning(
        "the bot token of workspace %s was revoked: nothing is queued or delivered there "
        "until openmodels is installed again; its subscriptions are kept",
        context.team_id,
    )


def _outdated(app: App, body: dict[str, Any], context: BoltContext) -> bool:
    """Whether the event is older than the workspace's current installation."""
    installations = app.installation_store
    if installations is None:
        return False
    current = installations.find_installation(
        enterprise_id=context.enterprise_id, team_id=context.team_id
    )
    sent = float(body.get("event_time") or 0)
    # Slack's event_time is in whole seconds, and an install in the same second is not
    # known to be the later one (SQLAlchemy's store keeps its time to the microsecond).
    if current is not None and sent and math.floor(current.installed_at) > sent:
        log.info(
            "ignored %s for workspace %s: sent before its current installation",
            (body.get("event") or {}).get("type"),
            context.team_id,
        )
        return True
    return False
