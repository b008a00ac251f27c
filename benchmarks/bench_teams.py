"""Benchmark the weekly digest for many installed workspaces, each with its own token.

N workspaces (`--teams`, 100) install the app through the real OAuth flow (its
/slack/install page, Slack's consent page and /slack/oauth_redirect, against the Slack
stand-in), and each subscribes `--channels` (2) channels to the digest. The digest job
then queues every channel's digest and delivers them as `serve`'s scheduler does: each
workspace's token from the installation store, workspaces side by side, each one's
channels in order at Slack's pace (about one message a second per channel), each chart
shared and confirmed through files.info at the production pace (the stand-in shows a
share at the second poll, one second after the first).

Measured in one run, each against a single workspace's figure from the same run:
- the time from queueing to the last digest delivered, and per digest;
- that every digest was posted with its own workspace's token (the stand-in refuses
  another's: it is strict, as Slack is), none to retry, none failed, none skipped;
- that the chart, the same for every channel, was drawn once (bot.chart_cache);
- the shortest gap between two posts in one channel (Slack's pace: about 1 s).
Figures are printed, never asserted; the last line is JSON for tests/test_bench_teams.py.

    python benchmarks/bench_teams.py [--teams 100 --channels 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import bench_store  # the store builder, beside this file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.app import build_app  # noqa: E402
from bot.chart_cache import ChartCache  # noqa: E402
from bot.handlers import BotServices  # noqa: E402
from bot.installations import InstalledWorkspaces, open_installations  # noqa: E402
from bot.oauth import INSTALL_PATH, REDIRECT_PATH  # noqa: E402
from bot.outbox_sender import deliver  # noqa: E402
from bot.runtime import BackgroundServer  # noqa: E402
from bot.settings import OAuthCredentials, SlackSettings  # noqa: E402
from commands import AnswerContext  # noqa: E402
from commands.digest_message import digest_message  # noqa: E402
from localslack.oauth import OAuthApp  # noqa: E402
from localslack.server import LocalSlack  # noqa: E402
from openmodels.charts import render_chart  # noqa: E402
from openmodels.digest import plan_digests  # noqa: E402
from openmodels.families import Families, parse_families  # noqa: E402
from storage import Store, open_store  # noqa: E402
from storage import subscriptions as subs  # noqa: E402

SIZE = bench_store.Size(13, 20, 30)  # families x models x days: a digest's worth of history
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
CREDENTIALS = OAuthCredentials("1234.5678", "0123456789abcdef0123456789abcdef")
NOW = bench_store.taken_at(SIZE.days - 1) + timedelta(hours=3)


@dataclass
class Figures:
    teams: int
    digests: int
    seconds: float
    sent: int
    own_token: int  # digests posted with their own workspace's token
    retry: int
    failed: int
    skipped: int
    charts_drawn: int
    charts_shown: int
    closest_posts: float | None  # the shortest gap between two posts in one channel

    @property
    def per_digest(self) -> float:
        return self.seconds / max(1, self.digests)


def build_store(folder: Path) -> tuple[Store, Families]:
    store = open_store(folder / "bench.db")
    bench_store.ingest_storage(store, bench_store.Catalogue.of(SIZE), SIZE.days, lambda _d: None)
    return store, parse_families(bench_store.families_toml(SIZE.families), "bench")


def install_all(slack: LocalSlack, install_url: str, teams: list[str]) -> None:
    """Each workspace's installer installs the app through the real flow."""
    for team in teams:
        done = slack.sign_in(team, f"U{team}").add_to_slack(install_url)
        if done.status != 200:
            raise SystemExit(f"installing {team} failed: {done.status} {done.text[:200]}")


def run(teams: int, channels: int, folder: Path) -> Figures:
    """Install `teams` workspaces, subscribe `channels` channels each, then queue and
    deliver the digest; the figures."""
    store, families = build_store(folder)
    names = [f"T{n:03d}" for n in range(teams)]
    channel_of = {t: [f"C{t[1:]}{c}" for c in "ABCDEFGH"[:channels]] for t in names}
    with LocalSlack(strict_tokens=True) as slack:
        for team in names:
            slack.add_workspace(
                team, f"Team {team}", members={f"U{team}"}, channels=set(channel_of[team])
            )
        settings = SlackSettings(
            signing_secret=SIGNING_SECRET, api_url=slack.api_url, oauth=CREDENTIALS
        )
        installations = open_installations(store, CREDENTIALS, slack.api_url)
        services = BotServices(
            context=AnswerContext(store=store, families=families), render=render_chart
        )
        try:
            app = build_app(settings, services, installations=installations)
            with BackgroundServer(app) as server:
                slack.register_app(
                    OAuthApp(
                        CREDENTIALS.client_id,
                        CREDENTIALS.client_secret,
                        (server.base_url + REDIRECT_PATH,),
                        events_url=server.url,
                        signing_secret=SIGNING_SECRET,
                    )
                )
                install_all(slack, server.base_url + INSTALL_PATH, names)
        finally:
            services.close()
        with store.writing() as db:
            for team in names:
                for channel in channel_of[team]:
                    subs.subscribe(
                        db, team, channel, "digest", (), "2026-01-01T00:00:00Z", f"U{team}"
                    )
        drawn = ChartCache(render_chart)  # the digest job's cache: one chart for every channel
        clients = InstalledWorkspaces(store, installations, slack.api_url)
        started = time.perf_counter()
        plan = plan_digests(store, families, NOW, slot=NOW, message=digest_message)
        report = deliver(store, clients, render=drawn)
        seconds = time.perf_counter() - started
        drawn.close()
        posts = slack.calls_to("chat.postMessage")
        team_of = {c: t for t, cs in channel_of.items() for c in cs}
        own = sum(1 for c in posts if c.status == 200 and c.team == team_of[c.params["channel"]])
    return Figures(
        teams=teams,
        digests=len(plan.queued),
        seconds=seconds,
        sent=len(report.sent),
        own_token=own,
        retry=len(report.retry),
        failed=len(report.failed),
        skipped=len(report.skipped_teams),
        charts_drawn=drawn.drawn,
        charts_shown=len(report.charts),
        closest_posts=closest_posts(posts),
    )


def closest_posts(posts: Sequence[Any]) -> float | None:
    """The shortest time between two posts in the same channel (None: one post each)."""
    times: dict[str, list[float]] = {}
    for call in posts:
        times.setdefault(str(call.params["channel"]), []).append(call.at)
    gaps = [
        b - a for ts in times.values() for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)
    ]
    return min(gaps) if gaps else None


def show(one: Figures, many: Figures) -> None:
    rows = [
        ("workspaces, digests", f"{one.teams}, {one.digests}", f"{many.teams}, {many.digests}"),
        ("queued to last delivered", f"{one.seconds:.2f} s", f"{many.seconds:.2f} s"),
        ("per digest", f"{one.per_digest:.3f} s", f"{many.per_digest:.3f} s"),
        (
            "sent / with own token",
            f"{one.sent} / {one.own_token}",
            f"{many.sent} / {many.own_token}",
        ),
        (
            "to retry, failed, skipped",
            f"{one.retry}, {one.failed}, {one.skipped}",
            f"{many.retry}, {many.failed}, {many.skipped}",
        ),
        (
            "charts drawn / shown",
            f"{one.charts_drawn} / {one.charts_shown}",
            f"{many.charts_drawn} / {many.charts_shown}",
        ),
        (
            "closest posts in a channel",
            _gap(one.closest_posts),
            _gap(many.closest_posts),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'one workspace':>16}  {'all':>16}")
    for name, a, b in rows:
        print(f"{name:{width}}  {a:>16}  {b:>16}")
    ratio = many.per_digest / one.per_digest if one.per_digest else float("nan")
    print(
        f"\n{many.digests} digests in {many.seconds:.1f} s, {many.seconds / one.seconds:.1f}x one "
        f"workspace's {one.digests} in {one.seconds:.1f} s; per digest {ratio:.2f}x."
    )


def _gap(seconds: float | None) -> str:
    return "one post each" if seconds is None else f"{seconds:.2f} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--channels", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as one_dir, tempfile.TemporaryDirectory() as all_dir:
        one = run(1, args.channels, Path(one_dir))
        many = run(args.teams, args.channels, Path(all_dir))
    show(one, many)
    print(json.dumps({"one": vars(one), "all": vars(many)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
