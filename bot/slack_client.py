"""The one way openmodels builds a Slack Web API client.

slack_sdk is imported only when a client is made: settings read from cron use this
module's URL rules without loading it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_sdk import WebClient

DEFAULT_API_URL = "https://slack.com/api/"


def normalise_api_url(url: str | None) -> str:
    """SLACK_API_URL as slack_sdk needs it: with a trailing slash, or its default."""
    if not url:
        return DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def make_web_client(token: str | None, api_url: str | None = None, timeout: int = 30) -> WebClient:
    """A WebClient that waits out Slack's 429s (Retry-After) instead of failing."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    return WebClient(
        token=token,
        base_url=normalise_api_url(api_url),
        timeout=timeout,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
    )
