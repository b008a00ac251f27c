"""One workspace or installs through OAuth: the configuration says which, and a
contradictory or half-set one stops `serve` (and cron's `deliver`) with one line and
exit 1, naming the variables and never a secret."""

from __future__ import annotations

import pytest

from bot.oauth import authorization_url
from bot.settings import SlackSettings
from openmodels.cli import main
from openmodels.errors import ConfigError
from tests.slack_helpers import SIGNING_SECRET

TOKEN = "xoxb-123-456-abcDEF"
CLIENT = {
    "SLACK_CLIENT_ID": "2141029472.691202649728",
    "SLACK_CLIENT_SECRET": "e1b9e11dfcd19c1982d5de12921e17e8c",
}
HTTP = {"SLACK_SIGNING_SECRET": SIGNING_SECRET}


def test_client_credentials_without_a_token_mean_installs_through_oauth():
    settings = SlackSettings.from_env("http", {**CLIENT, **HTTP})

    assert settings.bot_token is None and settings.oauth is not None
    assert settings.oauth.client_id == CLIENT["SLACK_CLIENT_ID"]
    assert CLIENT["SLACK_CLIENT_SECRET"] not in repr(settings)


def test_a_redirect_url_may_be_named_when_the_app_lists_several():
    env = {**CLIENT, **HTTP, "SLACK_REDIRECT_URI": "https://om.example.com/slack/oauth_redirect"}

    settings = SlackSettings.from_env("http", env)

    assert settings.oauth is not None
    assert settings.oauth.redirect_uri == "https://om.example.com/slack/oauth_redirect"


@pytest.mark.parametrize(
    ("mode", "env", "says"),
    [
        (
            "http",
            {"SLACK_BOT_TOKEN": TOKEN, **CLIENT},
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set",
        ),
        ("http", {"SLACK_CLIENT_ID": CLIENT["SLACK_CLIENT_ID"]}, "SLACK_CLIENT_SECRET is not"),
        ("http", {"SLACK_CLIENT_SECRET": CLIENT["SLACK_CLIENT_SECRET"]}, "SLACK_CLIENT_ID is not"),
        ("http", {**CLIENT, "SLACK_CLIENT_ID": "my-app"}, "SLACK_CLIENT_ID does not look like"),
        ("http", {**CLIENT, "SLACK_CLIENT_SECRET": "not hex"}, "SLACK_CLIENT_SECRET does not look"),
        ("http", {**CLIENT, "SLACK_REDIRECT_URI": "om.example.com"}, "SLACK_REDIRECT_URI must be"),
        ("socket", {**CLIENT, "SLACK_APP_TOKEN": "xapp-1-A1-2-x"}, "which needs HTTP"),
    ],
)
def test_a_contradictory_or_half_set_configuration_is_named(mode, env, says):
    with pytest.raises(ConfigError, match=says):
        SlackSettings.from_env(mode, {**HTTP, **env})


def test_cron_jobs_post_with_the_token_or_the_installation_store_or_only_queue():
    assert SlackSettings.for_jobs({"SLACK_BOT_TOKEN": TOKEN}).bot_token == TOKEN
    assert SlackSettings.for_jobs(CLIENT).oauth is not None
    assert not SlackSettings.for_jobs({}).posts
    with pytest.raises(ConfigError, match="both set"):
        SlackSettings.for_jobs({"SLACK_BOT_TOKEN": TOKEN, **CLIENT})


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["serve", "--http"], {"SLACK_BOT_TOKEN": TOKEN, **CLIENT}, "are both set"),
        (["serve", "--http"], {"SLACK_CLIENT_ID": CLIENT["SLACK_CLIENT_ID"]}, "is not"),
        (["serve"], {**CLIENT, "SLACK_APP_TOKEN": "xapp-1-A1-2-x"}, "needs HTTP"),
        (["deliver"], {"SLACK_BOT_TOKEN": TOKEN, **CLIENT}, "are both set"),
        (
            ["serve", "--http"],
            {**CLIENT, "OPENMODELS_ADMINS": "U012AB3CD"},
            "each workspace decides",
        ),
    ],
)
def test_serve_and_deliver_stop_with_one_line_and_exit_1(
    argv, env, says, monkeypatch, capsys, tmp_path
):
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "OPENMODELS_ADMINS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**HTTP, **env}.items():
        monkeypatch.setenv(name, value)

    code = main([*argv, "--db", str(tmp_path / "s.db")])

    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("openmodels: error: ") and says in lines[0]
    assert CLIENT["SLACK_CLIENT_SECRET"] not in err and TOKEN not in err


@pytest.mark.parametrize(
    ("api_url", "page"),
    [
        ("https://slack.com/api/", "https://slack.com/oauth/v2/authorize"),
        ("https://slack-gov.com/api/", "https://slack-gov.com/oauth/v2/authorize"),
        ("http://127.0.0.1:8765/api/", "http://127.0.0.1:8765/oauth/v2/authorize"),
    ],
)
def test_slacks_consent_page_is_beside_its_web_api(api_url, page):
    assert authorization_url(api_url) == page
