"""Building the Bolt app: the only place an `App` is made, and never at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.error import URLError

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.handlers import BotServices, register
from bot.settings import SlackSettings
from bot.slack_client import make_web_client
from openmodels.errors import ConfigError

log = logging.getLogger(__name__)


def build_app(
    settings: SlackSettings,
    services: BotServices,
    *,
    verify_token: bool = True,
    listeners: Callable[[App, BotServices], None] | None = None,
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
    """
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
    if listeners is None:
        register(app, services)
    else:
        listeners(app, services)
    return app
