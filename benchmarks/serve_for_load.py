"""`openmodels serve --http`, for the load benchmark: the same assembly, one more handle.

This is the bot process bench_load.py measures. It builds exactly what
`openmodels serve --http` builds (`bot.serve.BotProcess`, from the same environment
variables) and serves it on 127.0.0.1, without the scheduler. Instead of waiting for
the schedule, it takes a snapshot when told: each line `collect` on stdin runs the
scheduler's collect job now, inside this process, and answers with one JSON line.

With --floor it serves the same Bolt app with a listener that only acknowledges: the
floor of what Bolt and waitress cost on the machine.

stdout carries one JSON line per event: {"listening": URL} once serving, then
{"collect": {...}} after each collection, with "ended", its time.monotonic(). A line
`charts` on stdin answers {"charts": {"drawn": N, "served": N, "joined": N, "refused": N}},
what the chart cache has done so far.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App

from bot.app import build_app
from bot.handlers import COMMAND, BotServices
from bot.jobs import collect_job
from bot.runtime import serve_http
from bot.serve import BotProcess
from bot.settings import SlackSettings
from commands import AnswerContext
from openmodels.config import Config
from openmodels.families import load_families
from openmodels.locate import store_for_writing


def say(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


def ack_only(app: App, services: BotServices) -> None:
    """The floor's listener: acknowledge, do nothing else."""

    @app.command(COMMAND)
    def on_command(ack: Ack) -> None:
        ack()


def collect_on_request(bot: BotProcess) -> None:
    """Run the collect job for each `collect` line on stdin; report what it took. Answer
    each `charts` line with the chart cache's counts."""
    for line in sys.stdin:
        if line.strip() == "charts":
            charts = bot.services.charts
            counts = ("drawn", "served", "joined", "refused")
            say({"charts": {name: getattr(charts, name) for name in counts}})
            continue
        if line.strip() != "collect":
            continue
        started, began = datetime.now(UTC), time.monotonic()
        try:
            result, _check = collect_job(bot.jobs, started)
        except Exception as exc:
            say({"collect": {"error": f"{type(exc).__name__}: {exc}"}})
            continue
        say(
            {
                "collect": {
                    "snapshot_id": result.snapshot_id,
                    "models": result.model_count,
                    "write_seconds": result.write_seconds,
                    "seconds": time.monotonic() - began,
                    "ended": time.monotonic(),  # the same clock in every process
                }
            }
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--floor", action="store_true", help="a listener that only acknowledges")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = Config.from_env()
    settings = SlackSettings.from_env("http")
    announce = lambda url: say({"listening": url})  # noqa: E731
    if args.floor:
        families = load_families(config.families_path)
        context = AnswerContext(store=store_for_writing(config), families=families)
        services = BotServices(context=context, render=lambda spec: b"")
        try:
            app = build_app(settings, services, listeners=ack_only)
            serve_http(app, "127.0.0.1", 0, on_listening=announce)
        finally:
            services.close()
        return 0
    bot = BotProcess.build(config, settings)
    threading.Thread(target=collect_on_request, args=(bot,), daemon=True).start()
    try:
        serve_http(bot.app, "127.0.0.1", 0, on_listening=announce)
    finally:
        bot.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
