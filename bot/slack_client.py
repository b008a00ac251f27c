"""The one way openmodels builds a Slack Web API client.

slack_sdk is imported only when a client is made: settings read from cron use this
module's URL rules without loading it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.posting import Steps

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_API_URL = "https://slack.com/api/"
# How many times a rate-limited call is made again, after waiting Retry-After each time.
RATE_LIMIT_RETRIES = 3


def normalise_api_url(url: str | None) -> str:
    """SLACK_API_URL as slack_sdk needs it: with a trailing slash, or its default."""
    if not url:
        return DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def make_web_client(
    token: str | None, api_url: str | None = None, timeout: int = 30, *, wait_out_429: bool = True
) -> WebClient:
    """A WebClient for openmodels. With `wait_out_429` it waits out Slack's 429s itself
    (sleeping for Retry-After, up to three times): right for a job that delivers one
    item after another on its own thread. Without, a 429 raises SlackApiError, and the
    caller waits without holding a thread (`paced`)."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry import RetryHandler
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    handlers: list[RetryHandler] = (
        [RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)] if wait_out_429 else []
    )
    return WebClient(
        token=token, base_url=normalise_api_url(api_url), timeout=timeout, retry_handlers=handlers
    )


def lane_client(client: WebClient) -> WebClient:
    """`client` (Bolt's per-request client, or one of `make_web_client`) for the answers'
    lanes (bot.posting): the same token and settings, without the retry handler that
    sleeps for a 429's Retry-After on the calling thread. In a lane that thread is one of
    the few posting threads every workspace shares: one busy workspace's 429s would hold
    them all. There the wait is a step (`paced`), on the lane's timer."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    handlers = [h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)]
    if len(handlers) == len(client.retry_handlers):
        return client
    copy = WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=client.headers,
        logger=client.logger,
        retry_handlers=handlers,
    )
    copy.default_params = dict(client.default_params)  # Bolt's team_id, if it set one
    return copy


def retry_after(error: BaseException) -> float | None:
    """The seconds Slack asked to wait, if `error` is its 429 answer (SlackApiError)."""
    response = getattr(error, "response", None)
    if getattr(response, "status_code", None) != 429:
        return None
    headers = getattr(response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            found = value[0] if isinstance(value, list) else value
            try:
                return max(float(found), 1.0)
            except (TypeError, ValueError):
                break
    return 1.0  # Slack always sends one; slack_sdk waits about a second without it


def paced(call: Callable[[], T], what: str = "a Slack call") -> Steps[T]:
    """Make `call` (one Web API call); when Slack answers 429, wait its Retry-After as a
    step and make it again, up to RATE_LIMIT_RETRIES times, then raise its SlackApiError.

    Over its limits Slack returns "a HTTP 429 Too Many Requests error ... and a
    Retry-After header containing the number of seconds until you can retry" instead of
    carrying the call out (docs.slack.dev/apis/web-api/rate-limits), so the call made
    again posts nothing twice. A client that waits out 429s itself never gets here
    with one."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            return call()
        except Exception as exc:
            wait = retry_after(exc)
            if wait is None or attempt == RATE_LIMIT_RETRIES:
                raise
            log.info("%s was rate-limited by Slack: trying again in %.0f s", what, wait)
            yield wait
    raise AssertionError("unreachable")
