"""Request signing: only requests signed with the signing secret, in the last five minutes,
reach the app. Everything else gets 401 and no listener runs.
"""

from __future__ import annotations

import pytest

from tests.builders import growing_store
from tests.slack_helpers import (
    SIGNING_SECRET,
    RunningBot,
    post,
    running_bot,
    signature,
    signed,
    slash_form,
)


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    store = growing_store(tmp_path_factory.mktemp("signing") / "s.db")
    with running_bot(store) as running:
        yield running


def refused(bot: RunningBot, body: bytes, headers: dict[str, str], response_url: str) -> None:
    reply = post(bot.server.url, body, headers)

    assert reply.status == 401
    assert bot.slack.posts(response_url) == []  # no listener ran


def test_a_correctly_signed_request_is_answered(bot):
    exchange = bot.command("status")

    assert exchange.reply.status == 200
    assert len(exchange.posts) == 1


def test_a_wrong_signature_gets_401(bot):
    url = bot.slack.response_url()
    body = slash_form("top", url)

    refused(bot, body, signed(body, secret="f" * 32), url)


def test_a_tampered_body_gets_401(bot):
    url = bot.slack.response_url()
    body = slash_form("top", url)
    headers = signed(body)

    refused(bot, body.replace(b"text=top", b"text=help"), headers, url)


@pytest.mark.parametrize("age", [6 * 60, -6 * 60], ids=["five-minutes-old", "from-the-future"])
def test_a_timestamp_more_than_five_minutes_away_gets_401(bot, age):
    url = bot.slack.response_url()
    body = slash_form("top", url)

    refused(bot, body, signed(body, age=age), url)


@pytest.mark.parametrize("header", ["X-Slack-Signature", "X-Slack-Request-Timestamp"])
def test_a_missing_header_gets_401(bot, header):
    url = bot.slack.response_url()
    body = slash_form("top", url)
    headers = signed(body)
    del headers[header]

    refused(bot, body, headers, url)


def test_a_signature_of_another_scheme_gets_401(bot):
    url = bot.slack.response_url()
    body = slash_form("top", url)
    headers = signed(body)
    ts = headers["X-Slack-Request-Timestamp"]
    headers["X-Slack-Signature"] = signature(body, ts, SIGNING_SECRET).replace("v0=", "v1=")

    refused(bot, body, headers, url)


def test_other_paths_are_not_served(bot):
    body = slash_form("top", bot.slack.response_url())

    reply = post(bot.server.url.replace("/slack/events", "/other"), body, signed(body))

    assert reply.status == 404


def test_a_request_signed_four_minutes_ago_is_still_accepted(bot):
    url = bot.slack.response_url()
    body = slash_form("help", url)

    reply = post(bot.server.url, body, signed(body, age=4 * 60))

    assert reply.status == 200
    bot.wait_done(url)
