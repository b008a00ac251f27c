"""Slack settings read once from the environment, checked before anything starts.

Two ways to run: one workspace, with the bot token of an app installed from its settings
page (SLACK_BOT_TOKEN), or any workspace that installs it through Slack's OAuth flow
(SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, HTTP mode only): each workspace's token is then
kept in the installation store. A missing, malformed or contradictory value stops
start-up with one line that names the variable and says where to find the right value;
no message ever contains a token or a secret.

Nothing here imports slack_sdk: `openmodels collect` from cron reads these settings too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.slack_client import DEFAULT_API_URL, normalise_api_url
from openmodels.errors import ConfigError

Mode = Literal["socket", "http"]

# Slack tokens are a prefix, then dash-separated ids and a secret of letters and digits.
_BOT_TOKEN = re.compile(r"xoxb-[A-Za-z0-9-]+")
_APP_TOKEN = re.compile(r"xapp-[A-Za-z0-9-]+")
# Signing secrets are 32 hex characters today; accept any plausible length of hex.
_SIGNING_SECRET = re.compile(r"[0-9a-fA-F]{16,128}")
# A client id is two numbers joined by a dot ("2141029472.691202649728"), its secret hex
# ("e1b9e11dfcd19c1982d5de12921e17e8c"; both from the oauth.v2.access reference).
_CLIENT_ID = re.compile(r"[0-9]{1,20}\.[0-9]{1,20}")
_CLIENT_SECRET = re.compile(r"[0-9a-fA-F]{16,128}")

_WHERE = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) under OAuth & Permissions",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…) with connections:write from Basic Information",
    "SLACK_SIGNING_SECRET": "the Signing Secret under Basic Information › App Credentials",
    "SLACK_CLIENT_ID": "the Client ID under Basic Information › App Credentials",
    "SLACK_CLIENT_SECRET": "the Client Secret under Basic Information › App Credentials",
}


@dataclass(frozen=True, repr=False)
class OAuthCredentials:
    """The app's credentials for installs through Slack's OAuth flow."""

    client_id: str
    client_secret: str
    # SLACK_REDIRECT_URI: needed only when the app lists more than one redirect URL.
    redirect_uri: str | None = None

    def __repr__(self) -> str:
        return f"OAuthCredentials(client_id={self.client_id!r}, client_secret='***')"


@dataclass(frozen=True, repr=False)
class SlackSettings:
    """Tokens and endpoints for one run of the bot. `repr` never shows a secret.

    Exactly one of `bot_token` (one workspace) and `oauth` (installs through OAuth) is
    set for `serve`; scheduled jobs run from cron may have neither (they only queue).
    """

    bot_token: str | None = None
    app_token: str | None = None  # Socket Mode only
    signing_secret: str | None = None  # HTTP mode only
    api_url: str = DEFAULT_API_URL  # always ends with "/", as WebClient needs
    oauth: OAuthCredentials | None = None

    @classmethod
    def from_env(cls, mode: Mode, env: Mapping[str, str] | None = None) -> SlackSettings:
        """What `serve` in `mode` needs; raise ConfigError naming the first bad variable."""
        env = os.environ if env is None else env
        oauth = _oauth(env)
        if oauth is not None and mode == "socket":
            raise ConfigError(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET install openmodels in many "
                "workspaces through Slack's OAuth flow, which needs HTTP: run "
                "`openmodels serve --http` (Socket Mode serves the one workspace of "
                "SLACK_BOT_TOKEN)"
            )
        bot_token = None
        if oauth is None:
            bot_token = _bot_token(env)
        app_token = None
        signing_secret = None
        if mode == "socket":
            app_token = _required(
                env, "SLACK_APP_TOKEN", _APP_TOKEN, "an app-level token starting with xapp-"
            )
        else:
            signing_secret = _required(
                env, "SLACK_SIGNING_SECRET", _SIGNING_SECRET, "a hexadecimal signing secret"
            )
        return cls(
            bot_token=bot_token,
            app_token=app_token,
            signing_secret=signing_secret,
            api_url=api_url_from(env),
            oauth=oauth,
        )

    @classmethod
    def for_jobs(cls, env: Mapping[str, str] | None = None) -> SlackSettings:
        """What `collect`, `deliver` and `digest` run from cron use to post: the bot token,
        or the OAuth credentials (to find each workspace's token in the installation
        store and refresh it); neither when unset (they then only queue)."""
        env = os.environ if env is None else env
        oauth = _oauth(env)
        bot_token = None
        if oauth is None and (env.get("SLACK_BOT_TOKEN") or "").strip():
            bot_token = _bot_token(env)
        return cls(bot_token=bot_token, api_url=api_url_from(env), oauth=oauth)

    @property
    def posts(self) -> bool:
        """Whether these settings can post to Slack at all."""
        return self.bot_token is not None or self.oauth is not None

    def __repr__(self) -> str:
        def shown(value: str | None) -> str:
            return "'***'" if value else "None"

        return (
            f"SlackSettings(bot_token={shown(self.bot_token)}, app_token={shown(self.app_token)}, "
            f"signing_secret={shown(self.signing_secret)}, api_url={self.api_url!r}, "
            f"oauth={self.oauth!r})"
        )


def _oauth(env: Mapping[str, str]) -> OAuthCredentials | None:
    """The OAuth credentials, or None when neither is set; a half-set or contradictory
    configuration is refused with one line."""
    client_id = (env.get("SLACK_CLIENT_ID") or "").strip()
    secret = (env.get("SLACK_CLIENT_SECRET") or "").strip()
    if not client_id and not secret:
        return None
    if (env.get("SLACK_BOT_TOKEN") or "").strip():
        raise ConfigError(
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: set SLACK_BOT_TOKEN to serve "
            "one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to let any workspace "
            "install openmodels through Slack's OAuth flow, not both"
        )
    if not secret:
        raise ConfigError(
            "SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET is not: copy "
            f"{_WHERE['SLACK_CLIENT_SECRET']} from your app's settings"
        )
    if not client_id:
        raise ConfigError(
            "SLACK_CLIENT_SECRET is set but SLACK_CLIENT_ID is not: copy "
            f"{_WHERE['SLACK_CLIENT_ID']} from your app's settings"
        )
    client_id = _required(env, "SLACK_CLIENT_ID", _CLIENT_ID, "a client id such as 1234.5678")
    secret = _required(env, "SLACK_CLIENT_SECRET", _CLIENT_SECRET, "a hexadecimal client secret")
    return OAuthCredentials(client_id, secret, _redirect_uri(env))


def _redirect_uri(env: Mapping[str, str]) -> str | None:
    raw = (env.get("SLACK_REDIRECT_URI") or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"https?://[^/\s]+/\S*", raw):
        raise ConfigError(
            "SLACK_REDIRECT_URI must be the full URL Slack sends installs back to, such as "
            "https://openmodels.example.com/slack/oauth_redirect (leave it unset if the app "
            "lists one redirect URL)"
        )
    return raw


def api_url_from(env: Mapping[str, str]) -> str:
    """SLACK_API_URL (GovSlack, a proxy, a test fake) normalised, or Slack's own."""
    raw = (env.get("SLACK_API_URL") or "").strip()
    if not raw:
        return DEFAULT_API_URL
    if not re.match(r"https?://[^/\s]+", raw):
        raise ConfigError(
            "SLACK_API_URL must be an http(s) URL such as https://slack.com/api/ "
            "(leave it unset to use Slack's own)"
        )
    return normalise_api_url(raw)


def _bot_token(env: Mapping[str, str]) -> str:
    return _required(env, "SLACK_BOT_TOKEN", _BOT_TOKEN, "a bot token starting with xoxb-")


def _required(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> str:
    # Surrounding whitespace is a copy-paste accident, not part of the secret.
    value = (env.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: copy {_WHERE[name]} from your app's settings")
    if not pattern.fullmatch(value):
        # Never echo the value: it may be a real secret pasted into the wrong variable.
        raise ConfigError(f"{name} does not look like {what}: copy {_WHERE[name]}")
    return value
