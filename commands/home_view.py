"""The App Home tab: the state at a glance, for one user. Reads the store, builds a view.

`read_home` takes what the tab shows from the store in one read transaction;
`home_view` (pure) turns it into a home view for one user: the leaderboard with its
change and the exact period it covers, the nearest overtake the forecasts project,
when the last snapshot was taken and whether collection is healthy, and the
subscriptions of the channels that user is a member of. Which channels those are is
Slack's to say (bot.home asks it); a channel not in that set is never named, so a
private channel is never shown to someone outside it.

A home view holds up to 100 blocks, twice a message's 50: `bk.check_view_limits`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from commands import blocks as bk
from commands.changes import change_text
from commands.common import footer
from commands.forecast_answer import counted_from, forecast_basis, forecast_line, no_pass_summary
from commands.format import count, escape, family_link, hide_paths, human, percent
from commands.subscriptions import Schedules
from openmodels.comparability import Basis
from openmodels.digest import ranking_outlooks, soonest
from openmodels.families import Families
from openmodels.forecast import Forecast, NoForecast, Outlook
from openmodels.health import COLLECT_JOB, CollectionHealth, CollectionState, collection_health
from openmodels.periods import change_period
from openmodels.ranking import RankedFamily
from openmodels.standings import read_standings
from openmodels.timeline import TimelineCache, read_timeline
from storage import Store
from storage import jobs as job_runs
from storage import queries as q
from storage import subscriptions as subs
from storage.estimates import EstimateNote
from storage.snapshots import format_timestamp

View = dict[str, Any]
CALLBACK_ID = "openmodels_home"
FAMILY_ACTION = "home_family"
COMPARE_ACTION = "home_compare"
LEADERS_SHOWN = 10
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")


@dataclass(frozen=True)
class HomeFacts:
    """What the home tab shows that the store knows, read in one transaction."""

    latest: q.Snapshot | None
    baseline: q.Snapshot | None
    ranking: list[RankedFamily]  # all-time downloads, against the baseline
    bases: dict[str, Basis]  # where each family's change runs from (comparability)
    outlooks: list[Outlook]  # each pair of neighbours: a projected pass, or why not
    health: CollectionHealth
    subscriptions: list[subs.Subscription]  # the team's, in every channel
    estimate: EstimateNote | None = None  # the baseline's, when it is the day-one estimate

    @property
    def nearest(self) -> Forecast | None:
        """The soonest projected pass between neighbours, if any."""
        return soonest(self.outlooks)


@dataclass(frozen=True)
class Membership:
    """The channels a user is in, as far as Slack said; `error` when it could not say."""

    channels: frozenset[str] = frozenset()
    error: str | None = None


def read_home(
    store: Store, team_id: str, now: datetime, timelines: TimelineCache | None = None
) -> HomeFacts:
    """Everything the tab needs from the store, from one consistent read (`timelines`:
    the process's cache of the store's timeline, if it keeps one)."""
    with store.reading() as db:
        latest = q.latest_snapshot(db)
        run = job_runs.get(db, COLLECT_JOB)
        team_subs = [
            s
            for kind in ("digest", "alerts")
            for s in subs.of_kind(db, kind, include_failing=True)
            if s.team_id == team_id
        ]
        if latest is None:
            return HomeFacts(None, None, [], {}, [], collection_health(None, run, now), team_subs)
        timeline = timelines.read(db) if timelines is not None else read_timeline(db)
        standings = read_standings(db, "all_time", timeline, latest)
        assert standings is not None  # the latest snapshot was read in this transaction
        ranking = [r.family for r in standings.ranking]
        return HomeFacts(
            latest,
            standings.baseline,
            standings.ranking,
            standings.bases,
            ranking_outlooks(db, latest, ranking, timeline),
            collection_health(latest, run, now),
            team_subs,
            standings.estimate,
        )


def home_view(
    facts: HomeFacts,
    families: Families,
    membership: Membership,
    now: datetime,
    schedules: Schedules | None = None,
) -> View:
    """The home view for one user, within a view's 100 blocks."""
    schedules = schedules or Schedules()
    blocks: list[bk.Block] = [bk.header("openmodels")]
    tail: list[bk.Block] = []
    if facts.latest is None:
        blocks.append(
            bk.section("No snapshots yet: the leaderboard appears after the first collection.")
        )
    else:
        blocks += [
            bk.section(_leaderboard(facts, families)),
            bk.section(_nearest_text(facts.outlooks, families, counted_from(facts.latest))),
        ]
        controls = _controls(facts, families)
        if controls is not None:
            blocks.append(controls)
    blocks += [bk.divider(), bk.section(_collection_text(facts.health, now, schedules))]
    blocks += [bk.divider(), *_subscription_blocks(facts.subscriptions, families, membership)]
    updated = f"Updated {format_timestamp(now).replace('T', ' ').removesuffix('Z')} UTC"
    if facts.latest is not None:
        tail.append(footer(facts.latest, facts.baseline, updated, estimate=facts.estimate))
    else:
        tail.append(bk.context(updated))
    body = bk.fit(blocks, bk.MAX_VIEW_BLOCKS - len(tail))
    return {"type": "home", "callback_id": CALLBACK_ID, "blocks": [*body, *tail]}


# -- the leaderboard and the nearest overtake ----------------------------------------------


def _leaderboard(facts: HomeFacts, families: Families) -> str:
    assert facts.latest is not None
    period = change_period(facts.latest.date, facts.baseline.date) if facts.baseline else None
    title = "*Leaderboard* — all-time downloads" + (f", change {period}" if period else "")
    lines = []
    for r in facts.ranking[:LEADERS_SHOWN]:
        basis = facts.bases.get(r.family)
        change = change_text(r, basis, period, facts.latest.taken_at, with_period=False)
        lines.append(
            f"{r.rank}. *{family_link(families, r.family)}*  {human(r.value)} · "
            f"{percent(r.share)} · {change}"
        )
    rest = len(facts.ranking) - LEADERS_SHOWN
    if rest > 0:
        more = count(rest, "more family", "more families")
        lines.append(f"_…and {more}: `/openmodels top {len(facts.ranking)}`_")
    return bk.bulleted([title, *lines], noun="families")


def _nearest_text(outlooks: list[Outlook], families: Families, since: str | None) -> str:
    nearest = soonest(outlooks)
    if nearest is None:
        others = [o for o in outlooks if isinstance(o, NoForecast)]
        return f"*Nearest overtake:* {no_pass_summary(others)}"
    return (
        f"*Nearest overtake:* {forecast_line(families.label, nearest, since)}\n"
        f"_{forecast_basis(nearest)}_"
    )


def _controls(facts: HomeFacts, families: Families) -> bk.Block | None:
    """ "Family…" (one family's answer) and "Compare…" (neighbours in the leaderboard,
    the nearest overtake's pair first), each opening the answer in a modal."""
    ranked = [families.get(r.family) for r in facts.ranking]
    known = [f for f in ranked if f is not None]
    family_options = [(f.label, f"family {f.key}") for f in known]
    pairs = list(pairwise(known))
    if facts.nearest is not None:
        first = (families.get(facts.nearest.leader), families.get(facts.nearest.trailer))
        pairs.sort(key=lambda pair: pair != first)
    compare_options = [(f"{a.label} vs {b.label}", f"compare {a.key} {b.key}") for a, b in pairs]
    elements = []
    if family_options:
        elements.append(bk.static_select("Family…", FAMILY_ACTION, family_options))
    if compare_options:
        elements.append(bk.static_select("Compare…", COMPARE_ACTION, compare_options))
    return bk.actions(*elements) if elements else None


# -- collection -----------------------------------------------------------------------------


def _duration(age: timedelta) -> str:
    """'less than an hour', '5 hours', '3 days'."""
    hours = age.total_seconds() / 3600
    if hours < 1:
        return "less than an hour"
    if hours < 48:
        return "1 hour" if round(hours) == 1 else f"{round(hours)} hours"
    return f"{round(hours / 24)} days"


def _collection_text(health: CollectionHealth, now: datetime, schedules: Schedules) -> str:
    lines = ["*Collection*"]
    if health.latest is not None and health.latest.is_sample:
        # The sample speaks in its own time: how long ago it was made says nothing.
        lines.append(f"Sample data as of {health.latest.date}.")
    elif health.latest is not None and health.age is not None:
        taken = health.latest.taken_at.replace("T", " ").removesuffix("Z")
        lines.append(f"Last snapshot: {taken} UTC ({_duration(health.age)} ago)")
    run = health.run
    error = escape(hide_paths(run.last_error or "")[:200]) if run is not None else ""
    state = health.state
    if state is CollectionState.NEVER:
        lines.append(
            ":hourglass_flowing_sand: The first collection is running."
            if health.running
            else ":warning: No snapshot yet: no collection has completed."
        )
    elif state is CollectionState.SAMPLE:
        lines.append(
            ":information_source: This is the bundled sample data; nothing is collected into it."
        )
    elif state is CollectionState.RUNNING:
        lines.append(f":hourglass_flowing_sand: A collection is running now ({schedules.collect}).")
    elif state is CollectionState.RETRYING and run is not None:
        tries = count(run.failures, "failed attempt")
        lines.append(
            f":warning: The last collection failed ({tries}: {error}); "
            f"next try {(run.retry_at or '').replace('T', ' ').removesuffix('Z')} UTC."
        )
    elif state is CollectionState.FAILING:
        lines.append(f":x: The last collection failed: {error}")
    elif state is CollectionState.STALE:
        lines.append(
            f":warning: No new snapshot for {_duration(health.age or timedelta())}: collection "
            f"should run {schedules.collect}. Is the bot running?"
        )
    else:
        lines.append(f":white_check_mark: Healthy: collected {schedules.collect}.")
    return "\n".join(lines)


# -- subscriptions --------------------------------------------------------------------------


def _subscription_blocks(
    found: Iterable[subs.Subscription], families: Families, membership: Membership
) -> list[bk.Block]:
    """One section per channel the user is in that has subscriptions; none of any other."""
    title = bk.section("*Subscriptions in your channels*")
    if membership.error is not None:
        return [
            title,
            bk.section(
                f"I could not check which channels you are in (`{escape(membership.error)}`), "
                "so none are listed."
            ),
        ]
    by_channel: dict[str, list[subs.Subscription]] = {}
    for sub in found:
        if sub.channel_id in membership.channels:
            by_channel.setdefault(sub.channel_id, []).append(sub)
    if not by_channel:
        return [
            title,
            bk.section(
                "None of the channels you are in gets the digest or alerts. Type "
                "`/openmodels subscribe digest` or `/openmodels subscribe alerts` in one."
            ),
        ]
    blocks = [title]
    for channel_id in sorted(by_channel):
        parts: list[str] = []
        warnings: list[str] = []
        for sub in sorted(by_channel[channel_id], key=lambda s: s.kind):
            if sub.kind == "digest":
                parts.append("weekly digest")
            else:
                scope = (
                    ", ".join(escape(families.label(k)) for k in sub.families)
                    if sub.families
                    else "every family"
                )
                parts.append(f"overtake alerts for {scope}")
            if sub.failing and not warnings:
                warnings.append(
                    f"\n:warning: delivery failing since {sub.failing_since} "
                    f"(`{escape(sub.failure or 'error')}`): invite me with `/invite @openmodels`."
                )
        # The id came from Slack's signed payload; check its shape anyway, since a
        # channel mention is markup we emit on purpose.
        where = f"<#{channel_id}>" if _CHANNEL_ID.fullmatch(channel_id) else escape(channel_id)
        blocks.append(bk.section(f"{where}: " + " · ".join(parts) + "".join(warnings)))
    return blocks
