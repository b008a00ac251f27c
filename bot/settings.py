"""Slack settings read once from the environment, checked before anything starts.

A missing or malformed value stops start-up with one line that names the variable
and says where to find the right value; no message ever contains a token.
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

_WHERE = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) under OAuth & Permissions",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…) with connections:write from Basic Information",
    "SLACK_SIGNING_SECRET": "the Signing Secret under Basic Information › App Credentials",
}


@dataclass(frozen=True, repr=False)
class SlackSettings:
    """Tokens and endpoints for one run of the bot. `repr` never shows a secret."""

    bot_token: str
    app_token: str | None = None  # Socket Mode only
    signing_secret: str | None = None  # HTTP mode only
    api_url: str = DEFAULT_API_URL  # always ends with "/", as WebClient needs

    @classmethod
    def from_env(cls, mode: Mode, env: Mapping[str, str] | None = None) -> SlackSettings:
        """Read and check the variables `mode` needs; raise ConfigError naming the first bad one."""
        env = os.environ if env is None else env
        bot_token = _required(env, "SLACK_BOT_TOKEN", _BOT_TOKEN, "a bot token starting with xoxb-")
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
        )

    def __repr__(self) -> str:
        def shown(value: str | None) -> str:
            return "'***'" if value else "None"

        return (
            f"SlackSettings(bot_token={shown(self.bot_token)}, app_token={shown(self.app_token)}, "
            f"signing_secret={shown(self.signing_secret)}, api_url={self.api_url!r})"
        )


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


def _required(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> str:
    # Surrounding whitespace is a copy-paste accident, not part of the secret.
    value = (env.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: copy {_WHERE[name]} from your app's settings")
    if not pattern.fullmatch(value):
        # Never echo the value: it may be a real secret pasted into the wrong variable.
        raise ConfigError(f"{name} does not look like {what}: copy {_WHERE[name]}")
    return value
