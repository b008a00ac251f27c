"""Building the Bolt app: the only place an `App` is made, and never at import time.

One workspace (SLACK_BOT_TOKEN): the app holds that token. Installs through Slack's OAuth
flow (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET): the app holds no token of its own; Bolt's
flow installs workspaces (bot.oauth), and each request is authorized with its
workspace's token from the installation store (bot.installations), which reaches the
listeners as their per-request `client`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.error import URLError

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot import uninstall
from bot.handlers import BotServices, register
from bot.settings import SlackSettings
from bot.slack_client import make_web_client
from openmodels.errors import ConfigError, OpenModelsError
from storage import workspaces as ws

if TYPE_CHECKING:
    from bot.installations import Installations
    from storage import Store

log = logging.getLogger(__name__)

# The scopes the app asks each workspace for, as manifest.yml lists them (and
# tests/test_manifest.py checks they are the same, and what the code's calls need).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "files:write",
    "files:read",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
    "app_mentions:read",
    "im:history",
    "users:read",
)
# What someone sees who uses openmodels in a workspace it is no longer installed in.
NOT_INSTALLED = (
    "openmodels is not installed in this workspace any more (or its token was revoked): "
    "install it again from its install page."
)


def build_app(
    settings: SlackSettings,
    services: BotServices,
    *,
    verify_token: bool = True,
    listeners: Callable[[App, BotServices], None] | None = None,
    installations: Installations | None = None,
    oauth_store: Store | None = None,
) -> App:
    """A Bolt app for `settings`, its listeners registered (`listeners`: the load
    benchmark's floor registers one that only acknowledges).

    With `verify_token` (the default) the bot token is checked with auth.test now, so a
    revoked or mistyped token stops start-up instead of failing the first command.
    Requests are verified with the signing secret when there is one (HTTP mode);
    Socket Mode needs none. Listeners run after ack() in Bolt's thread pool
    (`process_before_response=False`), so Slack gets its acknowledgement at once, and
    the slash command's listener only acknowledges and queues its answer (bot.handlers).
    (Listeners run on the request's own thread, `True`, spared Bolt's hand-off and its
    10 ms polls for the ack, measured with benchmarks/bench_load.py; but the App Home,
    mention and button listeners do their work inline after their ack, and would then
    hold their ack until done.)

    With `settings.oauth` the app installs workspaces through OAuth instead, keeping their
    tokens in `installations` (by default slack_sdk's stores in the database of
    `oauth_store`, else of the answers' store: bot.slack_stores).
    """
    if settings.oauth is not None:
        app, forget_tokens = _oauth_app(settings, services, installations, oauth_store)
    else:
        app, forget_tokens = _token_app(settings, services, verify_token), _remembers_nothing
    if listeners is None:
        register(app, services)
        uninstall.register(app, services, forget_tokens)
    else:
        listeners(app, services)
    return app


def _remembers_nothing(_team_id: str | None) -> None:
    """The app of one workspace remembers no token but its own."""


def _token_app(settings: SlackSettings, services: BotServices, verify_token: bool) -> App:
    """The app of one workspace, holding its bot token."""
    client = make_web_client(settings.bot_token, settings.api_url)
    try:
        app = App(
            name="openmodels",
            # Bolt would otherwise configure a logger named after the app, "openmodels",
            # and set it to WARNING: that would silence our own openmodels.* INFO logs.
            logger=logging.getLogger("bot.bolt"),
            client=client,
            # Explicit values: Bolt would otherwise read SLACK_* variables itself.
            signing_secret=settings.signing_secret or "",
            request_verification_enabled=settings.signing_secret is not None,
            token_verification_enabled=verify_token,
            process_before_response=False,
        )
    except BoltError as exc:
        cause = exc.__context__
        error = cause.response.get("error") if isinstance(cause, SlackApiError) else None
        raise ConfigError(
            f"SLACK_BOT_TOKEN was refused by Slack ({error or 'auth.test failed'}): "
            "copy the Bot User OAuth Token again and reinstall the app if it was revoked"
        ) from None
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"cannot reach the Slack Web API at {settings.api_url} to check SLACK_BOT_TOKEN "
            f"({reason}); check the network or SLACK_API_URL"
        ) from None
    if verify_token:
        _resume(services)
    return app


def _resume(services: BotServices) -> None:
    """Slack took the one bot token: subscriptions stopped when an earlier one was
    revoked take up again, as a reinstall's do through OAuth. A store that cannot be
    written now says so at its first answer; the bot starts all the same."""
    store = services.context.store
    if store.sample:
        return
    try:
        with store.writing() as db:
            resumed = ws.resume(db)
    except (OpenModelsError, sqlite3.Error) as exc:
        log.warning("could not take up subscriptions stopped by a revoked token: %s", exc)
        return
    if resumed:
        log.info("%d subscriptions stopped by a revoked token take up again", resumed)


def _oauth_app(
    settings: SlackSettings,
    services: BotServices,
    installations: Installations | None,
    oauth_store: Store | None,
) -> tuple[App, Callable[[str | None], None]]:
    """The app any workspace installs through OAuth: Bolt's flow and slack_sdk's stores;
    and what forgets the tokens it remembers of a workspace."""
    from bot.installations import kept_authorize, open_installations
    from bot.oauth import install_flow

    assert settings.oauth is not None and settings.signing_secret is not None
    # The app's own client holds no token: Bolt gives each request its workspace's.
    client = make_web_client(None, settings.api_url)
    if installations is None:
        installations = open_installations(
            oauth_store or services.context.store, settings.oauth, settings.api_url
        )
    oauth_settings, flow = install_flow(
        settings.oauth, installations, services.context.store, client, BOT_SCOPES, settings.api_url
    )
    authorize = kept_authorize(installations, settings.oauth, client)
    app = App(
        name="openmodels",
        logger=logging.getLogger("bot.bolt"),
        client=client,
        signing_secret=settings.signing_secret,
        # All given: with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set and no settings of
        # its own, Bolt would make file stores meant for development.
        oauth_settings=oauth_settings,
        oauth_flow=flow,
        installation_store=installations.store,
        authorize=authorize,
        user_facing_authorize_error_message=NOT_INSTALLED,
        process_before_response=False,
    )

    def forget_tokens(team_id: str | None) -> None:
        authorize.forget(team_id)
        installations.forget(team_id)

    return app, forget_tokens
