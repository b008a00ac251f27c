"""Answering each command from the store. Reads through `storage.queries`, builds blocks.

One read transaction per answer, so every figure in it comes from the same snapshots
even while a collection commits.

The answers kept in modules of their own (regions, movers, forecast, new, sizes, race,
model), and what the others show by model size and launch, are imported when first
asked for: `openmodels ask top` starts in a new process every time, and the forecast
and launch code (with the digest's) would cost it more than the answer itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial

from commands import blocks as bk
from commands.answer import Answer
from commands.common import ESTIMATED, SAMPLE_NOTE
from commands.common import NoData as _NoData
from commands.format import (
    count,
    escape,
    hide_paths,
    human,
)
from commands.guide import families_answer, help_answer, not_a_command_answer
from commands.next_steps import next_steps
from commands.parser import (
    Command,
    Compare,
    FamiliesList,
    FamilyDetail,
    Forecast,
    Help,
    ModelDetail,
    Movers,
    New,
    NotACommand,
    Permissions,
    Race,
    Regions,
    Sizes,
    Status,
    Subscribe,
    Subscriptions,
    Top,
    Unresolved,
    Unsubscribe,
    UsageError,
    parse,
)
from commands.permissions import Roles, answer_permissions
from commands.ranking_answers import (
    compare_answer,
    family_answer,
    family_models_answer,
    top_answer,
)
from commands.shorthand import resolve as resolve_shorthand
from commands.subscriptions import Channel, Schedules, answer_subscription, chart_problem
from openmodels.families import Families
from openmodels.health import COLLECT_JOB
from openmodels.timeline import TimelineCache
from storage import Store, chart_shares, jobs
from storage import queries as q
from storage.snapshots import format_timestamp
from storage.sql import Connection

NO_SNAPSHOTS = (
    "No snapshots yet. Run `openmodels collect` to take one from the Hugging Face Hub "
    "(it takes a minute), then ask again."
)
# In Slack nobody can run a command-line tool: say what the bot itself is doing instead.
FIRST_COLLECTION_RUNNING = (
    "No snapshots yet: the first collection from the Hugging Face Hub is running. "
    "It takes a few minutes; ask again then."
)
FIRST_COLLECTION_RETRY = (
    "No snapshots yet: the first collection from the Hugging Face Hub failed and is tried "
    "again at {at}; `/openmodels status` says why."
)
NO_COLLECTION = (
    "No snapshots yet, and this bot does not collect any by itself: an admin of openmodels "
    "must start the first collection. Ask again once it has run."
)


@dataclass(frozen=True)
class AnswerContext:
    """What answering needs: the store to read and the families to name.

    `channel` is set when the command came from Slack: subscriptions need it.
    """

    store: Store
    families: Families
    channel: Channel | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    schedules: Schedules = field(default_factory=Schedules)
    # Whether this process's scheduler collects (`serve` without --no-scheduler): an
    # empty store then means the first collection is on its way.
    collects: bool = False
    # Who may change a channel's subscriptions and mutes (OPENMODELS_ADMINS); None: each
    # workspace's own choice (commands.permissions), anyone by default.
    admins: frozenset[str] | None = None
    # What Slack says of the person who typed the command (the bot asks it), for the
    # workspaces that restrict who may change subscriptions.
    roles: Roles | None = None
    # The store's snapshots as the comparability rule sees them, read again only when a
    # snapshot was added.
    timelines: TimelineCache = field(default_factory=TimelineCache)


def answer_text(text: str, ctx: AnswerContext) -> Answer:
    """Parse and answer one command text. Never raises for bad input."""
    try:
        command = parse(text)
    except UsageError as exc:
        return usage_answer(exc)
    return answer(command, ctx)


# The commands whose answers only read: the only ones that carry "Share in channel".
SHAREABLE = (
    Help,
    Top,
    Sizes,
    Compare,
    FamilyDetail,
    ModelDetail,
    Regions,
    Movers,
    Forecast,
    New,
    Race,
    FamiliesList,
)


def only_reads(text: str) -> bool:
    """Whether answering `text` changes nothing: safe to run again for the whole channel.

    Text that does not parse is answered with a usage note, which changes nothing either;
    shorthand only ever resolves to `family`, `compare`, the help or a usage note.
    """
    try:
        return isinstance(parse(text), (*SHAREABLE, Unresolved))
    except UsageError:
        return True


def answer(command: Command, ctx: AnswerContext) -> Answer:
    """Answer a parsed command (shorthand resolved with the context's families first)."""
    if isinstance(command, Unresolved):
        try:
            command = resolve_shorthand(command, ctx.families, partial(_holds_model, ctx))
        except UsageError as exc:
            return usage_answer(exc)
    result = _answer(command, ctx)
    if isinstance(command, SHAREABLE) and not result.error:
        steps = next_steps(command, ctx.families, result.suggestions)
        return replace(result, shareable=True, next_steps=steps)
    return result


def _holds_model(ctx: AnswerContext, name: str) -> bool:
    """Whether the store holds a model named `name` after its organisation."""
    with ctx.store.reading() as db:
        return bool(q.models_named(db, name, limit=1))


def _answer(command: Command, ctx: AnswerContext) -> Answer:
    try:
        if isinstance(command, Help):
            return help_answer(ctx.families, command.public)
        if isinstance(command, FamiliesList):
            return families_answer(ctx.families, command.public)
        if isinstance(command, NotACommand):
            return not_a_command_answer(command.text, ctx.families)
        if isinstance(command, Subscribe | Unsubscribe | Subscriptions):
            if ctx.channel is None:
                return error_answer(
                    "Subscriptions belong to a Slack channel: type this command in the "
                    "channel that should receive them."
                )
            if ctx.store.sample:
                return error_answer(
                    "openmodels is showing the bundled sample data, so there is nothing live "
                    "to subscribe to: an admin of openmodels must give it a store of its own."
                )
            return answer_subscription(
                command,
                ctx.store,
                ctx.families,
                ctx.channel,
                ctx.now(),
                ctx.schedules,
                ctx.admins,
                ctx.roles,
            )
        if isinstance(command, Permissions):
            if ctx.channel is None or ctx.store.sample:
                return error_answer(
                    "Who may change subscriptions belongs to a Slack workspace: ask in Slack."
                )
            channel = ctx.channel
            return answer_permissions(
                command,
                ctx.store,
                channel.team_id,
                channel.user_id,
                ctx.now(),
                ctx.admins,
                ctx.roles,
            )
        with ctx.store.reading() as db:
            if isinstance(command, Status):
                return status_answer(db, ctx, command.public)
            if isinstance(command, Top):
                return top_answer(db, ctx, command)
            if isinstance(command, Sizes):
                from commands.sizes_answer import sizes_answer

                return sizes_answer(db, ctx, command)
            if isinstance(command, Race):
                from commands.race_answer import race_answer

                return race_answer(db, ctx, command)
            if isinstance(command, Compare):
                return compare_answer(db, ctx, command)
            if isinstance(command, FamilyDetail):
                if command.models:
                    return family_models_answer(db, ctx, command)
                return family_answer(db, ctx, command)
            if isinstance(command, ModelDetail):
                from commands.model_answer import model_answer

                return model_answer(db, ctx, command)
            if isinstance(command, Regions):
                from commands.region_answer import regions_answer

                return regions_answer(db, ctx, command)
            if isinstance(command, Movers):
                from commands.movers_answer import movers_answer

                return movers_answer(db, ctx, command)
            if isinstance(command, Forecast):
                from commands.forecast_answer import forecast_answer

                return forecast_answer(db, ctx, command)
            if isinstance(command, New):
                from commands.launches_answer import new_answer

                return new_answer(db, ctx, command)
    except UsageError as exc:
        return usage_answer(exc)
    except _NoData:
        with ctx.store.reading() as db:
            return error_answer(no_snapshots(db, ctx))
    raise AssertionError(f"unhandled command {command!r}")


# -- shared pieces ---------------------------------------------------------------------


def usage_answer(exc: UsageError) -> Answer:
    lines = [exc.message]  # already mrkdwn: user text in it was escaped where quoted
    if exc.usage:
        lines.append(f"Usage: {exc.usage}")
    lines.append("Type `/openmodels help` for every command.")
    text = "\n".join(lines)
    return Answer(text=text, blocks=[bk.section(text)], error=True)


def error_answer(message: str) -> Answer:
    return Answer(text=message, blocks=[bk.section(message)], error=True)


def no_snapshots(db: Connection, ctx: AnswerContext) -> str:
    """What to say about an empty store: at a terminal, how to collect; in Slack, that
    the first collection is running (or will be retried), or that an admin must start it."""
    if ctx.channel is None:
        return NO_SNAPSHOTS
    collect = jobs.get(db, COLLECT_JOB)
    now = format_timestamp(ctx.now())
    if collect is not None and collect.lease_live(now):
        return FIRST_COLLECTION_RUNNING  # here, or in another process sharing the store
    if not ctx.collects:
        return NO_COLLECTION
    if collect is not None and collect.failures and (collect.retry_at or "") > now:
        return FIRST_COLLECTION_RETRY.format(at=collect.retry_at)
    # The scheduler catches a collection that never ran up at start, so it is due now.
    return FIRST_COLLECTION_RUNNING


def _health_lines(db: Connection, in_slack: bool, now: str) -> list[str]:
    """Scheduler runs, delivery backlog, digest charts not shown and flagged drops: what an
    operator checks first. In Slack, error texts lose their server file paths."""
    lines = []
    runs = q.job_runs(db)
    if runs:
        parts = []
        for run in runs:
            part = f"{run.job} {run.last_started or 'never'}"
            if run.last_error:
                shown = hide_paths(run.last_error) if in_slack else run.last_error
                part += f" (failed: {escape(shown[:200])})"
            parts.append(part)
        lines.append("*Last runs:* " + " · ".join(parts))
    for run in runs:
        if run.lease_owner and not run.lease_live(now):
            # Its process died (or froze) mid-run: nothing renews the lease any more.
            lines.append(
                f"*Never finished:* {run.job} started {run.last_started} "
                f"(`{escape(run.lease_owner)}`); its lease ran out at {run.lease_expires}, "
                "so a serving bot's scheduler runs it again"
            )
        elif run.lease_owner:
            lines.append(
                f"*Running:* {run.job} since {run.last_started} "
                f"(`{escape(run.lease_owner)}`, lease until {run.lease_expires})"
            )
        elif run.retry_at and run.failures:
            tries = count(run.failures, "failed attempt")
            lines.append(
                f"*Retrying:* {run.job} for its {run.slot} slot after {tries}; "
                f"next try {run.retry_at}"
            )
    backlog = q.outbox_counts(db)
    if backlog:
        lines.append(
            "*Deliveries:* " + ", ".join(f"{n} {status}" for status, n in sorted(backlog.items()))
        )
    missing = chart_shares.not_landed(db)
    if missing:
        lines.append("*Digest charts not shown in their channel:*")
        for share in missing[-5:]:
            where = f"<#{share.channel_id}>" if in_slack else share.channel_id
            lines.append(f"• {where} {escape(share.event)}: {chart_problem(share)}")
    drops = q.recent_anomalies(db, limit=5)
    if drops:
        lines.append("*Flagged (figures went backwards, no alerts drawn):*")
        for taken_at, family, _metric, previous, current in drops:
            now_text = "missing" if current is None else human(current)
            lines.append(
                f"• {escape(family)} at {taken_at[:10]}: {human(previous or 0)} → {now_text}"
            )
    return lines


def status_answer(db: Connection, ctx: AnswerContext, public: bool = False) -> Answer:
    stats = q.store_stats(db)
    store = ctx.store
    in_slack = ctx.channel is not None
    kind = "bundled sample store (synthetic data)" if store.sample else "store"
    # The path is for the operator at a terminal; Slack gets no server file paths.
    where = "" if in_slack else f"`{escape(store.display)}` "
    lines = [
        f"*Store:* {where}({kind}, {human(store.size_bytes)}B on disk)",
        f"*Snapshots:* {stats.snapshot_count}" + _kinds(stats),
    ]
    if stats.first and stats.latest:
        lines.append(f"*First:* {stats.first.taken_at} · *Latest:* {stats.latest.taken_at}")
        lines.append(
            f"*Tracked:* {stats.family_count} of {len(ctx.families)} families, "
            f"{stats.model_count:,} models in the latest snapshot"
        )
    else:
        lines.append(no_snapshots(db, ctx))
    lines += _health_lines(db, in_slack, format_timestamp(ctx.now()))
    text = "\n".join(lines)
    blocks = [bk.header("openmodels status"), bk.section(text)]
    if stats.latest and stats.latest.is_sample:
        blocks.append(bk.context(SAMPLE_NOTE.format(date=stats.latest.date)))
    return Answer(text=text, blocks=blocks, public=public)


def _kinds(stats: q.StoreStats) -> str:
    """' (12 imported, 1 estimated from the Hub's 30-day counts)', or ''."""
    kinds = [f"{stats.imported_count} imported"] if stats.imported_count else []
    if stats.estimated_count:
        kinds.append(f"{stats.estimated_count} {ESTIMATED}")
    return f" ({', '.join(kinds)})" if kinds else ""
