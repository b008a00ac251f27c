"""`serve`'s assembly: one chart pool, sized by the configuration, for the answers and
for the digests the scheduler draws, and nothing left running once it is closed."""

from __future__ import annotations

import threading

from bot.chart_pool import ChartPool
from bot.serve import BotProcess
from bot.settings import SlackSettings
from localslack.server import LocalSlack
from openmodels.config import Config
from tests.chart_renderers import alive
from tests.slack_helpers import BOT_TOKEN, SIGNING_SECRET


def test_answers_and_scheduled_digests_draw_in_one_chart_pool_of_the_configured_size(tmp_path):
    config = Config(db=str(tmp_path / "s.db"), chart_workers=2)
    with LocalSlack() as slack:
        settings = SlackSettings(
            bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=slack.api_url
        )
        bot = BotProcess.build(config, settings)
        try:
            charts = bot.services.charts
            pool = charts.draw
            assert isinstance(pool, ChartPool) and pool.workers == 2
            # The digest job's charts: never in-process, and from the same cache, kept
            # beside the store.
            assert bot.jobs.render is charts
            assert charts.directory == tmp_path / "s.db-charts"
            workers = pool.worker_pids()
        finally:
            bot.close()

    assert len(workers) == 2 and not any(alive(pid) for pid in workers)
    assert not [t for t in threading.enumerate() if t.name.startswith("openmodels-")]


def test_with_installs_through_oauth_the_app_and_the_jobs_share_one_installation_store(
    store_location,
):
    from bot.installations import InstalledWorkspaces
    from bot.runtime import BackgroundServer
    from localslack.browser import Browser

    config = Config(db=store_location("s"), chart_workers=1)
    with LocalSlack() as slack:
        settings = installs_through_oauth(slack)
        bot = BotProcess.build(config, settings)
        try:
            # No token of its own: nothing to check at start; each workspace's comes later.
            assert isinstance(bot.jobs.slack, InstalledWorkspaces)
            assert bot.app.installation_store is bot.jobs.slack.installations.store
            with BackgroundServer(bot.app) as server:
                page = Browser().get(server.base_url + "/slack/install")
            assert page.status == 200 and "Add to Slack" in page.text
            assert slack.calls == []  # and Slack was not asked anything yet
        finally:
            bot.close()


def test_with_the_client_credentials_in_the_environment_bolt_makes_no_stores_of_its_own(
    tmp_path, monkeypatch
):
    # Bolt, finding SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set and no OAuth settings of
    # the app's, would make file stores meant for development under the home folder.

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SLACK_CLIENT_ID", "1234.5678")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "0123456789abcdef0123456789abcdef")
    config = Config(db=str(tmp_path / "s.db"), chart_workers=1)
    with LocalSlack() as slack:
        settings = installs_through_oauth(slack)
        bot = BotProcess.build(config, settings)
        bot.close()

    assert list(home.iterdir()) == []


def installs_through_oauth(slack: LocalSlack) -> SlackSettings:
    """`serve --http`'s settings with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET."""
    from bot.settings import OAuthCredentials

    credentials = OAuthCredentials("1234.5678", "0123456789abcdef0123456789abcdef")
    return SlackSettings(signing_secret=SIGNING_SECRET, api_url=slack.api_url, oauth=credentials)
