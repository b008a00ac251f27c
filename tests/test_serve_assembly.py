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
    config = Config(db_path=tmp_path / "s.db", chart_workers=2)
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
