"""Answering each command from the store. Reads through `storage.queries`, builds blocks.

One read transaction per answer, so every figure in it comes from the same snapshots
even while a collection commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlite_utils import Database

from commands import blocks as bk
from commands.answer import Answer, ChartSpec
from commands.format import (
    METRIC_NAMES,
    arrow,
    echo,
    escape,
    family_link,
    hub_url,
    human,
    link,
    percent,
    signed,
)
from commands.parser import (
    USAGE,
    Command,
    Compare,
    FamilyDetail,
    Help,
    ModelDetail,
    Status,
    Subscribe,
    Subscriptions,
    Top,
    Unsubscribe,
    UsageError,
    parse,
    usage_line,
)
from commands.subscriptions import Channel, Schedules, answer_subscription
from openmodels.families import Families, Family
from openmodels.ranking import RankedFamily, lead, rank_families
from storage import Store
from storage import queries as q

SAMPLE_NOTE = (
    "*sample data* (synthetic) — run `openmodels collect` to take live numbers from the Hub"
)
NO_SNAPSHOTS = (
    "No snapshots yet. Run `openmodels collect` to take one from the Hugging Face Hub "
    "(it takes a minute), then ask again."
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


class _NoData(Exception):
    """The store holds no snapshot yet."""


def answer_text(text: str, ctx: AnswerContext) -> Answer:
    """Parse and answer one command text. Never raises for bad input."""
    try:
        command = parse(text)
    except UsageError as exc:
        return usage_answer(exc)
    return answer(command, ctx)


def answer(command: Command, ctx: AnswerContext) -> Answer:
    """Answer a parsed command."""
    try:
        if isinstance(command, Help):
            return help_answer(command.unknown)
        if isinstance(command, Subscribe | Unsubscribe | Subscriptions):
            if ctx.channel is None:
                return error_answer(
                    "Subscriptions belong to a Slack channel: type this command in the "
                    "channel that should receive them."
                )
            if ctx.store.sample:
                return error_answer(
                    "openmodels is showing the bundled sample data; run `openmodels collect` "
                    "(or set OPENMODELS_DB) before subscribing a channel."
                )
            return answer_subscription(
                command, ctx.store, ctx.families, ctx.channel, ctx.now(), ctx.schedules
            )
        with ctx.store.reading() as db:
            if isinstance(command, Status):
                return status_answer(db, ctx, command.public)
            if isinstance(command, Top):
                return top_answer(db, ctx, command)
            if isinstance(command, Compare):
                return compare_answer(db, ctx, command)
            if isinstance(command, FamilyDetail):
                return family_answer(db, ctx, command)
            if isinstance(command, ModelDetail):
                return model_answer(db, ctx, command)
    except UsageError as exc:
        return usage_answer(exc)
    except _NoData:
        return error_answer(NO_SNAPSHOTS)
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


def resolve(families: Families, name: str) -> Family:
    """The family `name` means, or a UsageError with a suggestion and the list."""
    family = families.resolve(name)
    if family is not None:
        return family
    hint = families.suggest(name)
    message = f"Unknown family '{echo(name)}'"
    message += f" — did you mean {hint}?" if hint else "."
    message += " Families: " + ", ".join(families.keys) + "."
    raise UsageError(message)


def footer(snapshot: q.Snapshot, baseline: q.Snapshot | None = None) -> bk.Block:
    parts = [f"Snapshot {snapshot.date}"]
    if baseline is not None:
        parts.append(f"changes since {baseline.date}")
    parts.append("Source: Hugging Face Hub download counts")
    texts = [" · ".join(parts)]
    if snapshot.is_sample:
        texts.append(SAMPLE_NOTE)
    return bk.context(*texts)


def _ranking(db: Database, metric: str) -> tuple[q.Snapshot, q.Snapshot | None, list[RankedFamily]]:
    latest = q.latest_snapshot(db)
    if latest is None:
        raise _NoData
    baseline = q.snapshot_near(db, latest, days=7)
    column = "downloads_all_time" if metric == "all_time" else "downloads_30d"
    current = {f: getattr(t, column) for f, t in q.totals_at(db, latest.id).items()}
    before = (
        {f: getattr(t, column) for f, t in q.totals_at(db, baseline.id).items()}
        if baseline
        else None
    )
    return latest, baseline, rank_families(current, before)


def _change(r: RankedFamily) -> str:
    """'+56.0K this week ▲1': value change, and the rank change when there was one."""
    if r.value_change is None:
        return "new this week"
    moved = f" {arrow(r.rank_change)}" if r.rank_change else ""
    return f"{signed(r.value_change)} this week{moved}"


# -- answers ---------------------------------------------------------------------------


def help_answer(unknown: str | None = None) -> Answer:
    lines = []
    if unknown:
        lines.append(f"I don't know the command '{echo(unknown)}'. Here is what I can do:")
    else:
        lines.append(
            "*openmodels* tells you which open-weight model families the world downloads "
            "from the Hugging Face Hub, and when that changes."
        )
    usage = "\n".join(f"• {usage_line(verb)}" for verb in USAGE)
    options = (
        "Add `--30d` to rank by the last 30 days instead of all-time downloads, and "
        "`--public` to show the answer to the whole channel."
    )
    text = "\n".join(lines)
    blocks = [bk.section(text), bk.section(usage), bk.context(options)]
    return Answer(text=text + "\n" + usage + "\n" + options, blocks=blocks, error=bool(unknown))


def top_answer(db: Database, ctx: AnswerContext, command: Top) -> Answer:
    latest, baseline, ranking = _ranking(db, command.metric)
    metric_name = METRIC_NAMES[command.metric]
    shown = ranking[: command.n]
    lines = [
        f"{r.rank}. *{family_link(ctx.families, r.family)}*  {human(r.value)} · "
        f"{percent(r.share)} · {_change(r)}"
        for r in shown
    ]
    body = bk.bulleted(lines, noun="families")
    if len(ranking) > len(shown):
        body += f"\n_{len(ranking) - len(shown)} more tracked families not shown_"
    blocks = [bk.header(f"Top {len(shown)} model families by {metric_name}"), bk.section(body)]
    the_lead = lead(ranking)
    if the_lead is not None:
        ratio = the_lead.ratio
        if ratio is not None:
            comparison = f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.0f}×"
            blocks.append(
                bk.section(
                    f"*{escape(ctx.families.label(the_lead.leader))}* has {comparison} the "
                    f"{metric_name} of the {the_lead.rest_count} families after it combined "
                    f"({human(the_lead.leader_value)} vs {human(the_lead.rest_value)})."
                )
            )
    blocks.append(footer(latest, baseline))
    text = f"Top {len(shown)} model families by {metric_name} ({latest.date}): " + ", ".join(
        f"{ctx.families.label(r.family)} {human(r.value)}" for r in shown
    )
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public)


def compare_answer(db: Database, ctx: AnswerContext, command: Compare) -> Answer:
    chosen: list[Family] = []
    for name in command.names:
        family = resolve(ctx.families, name)
        if family in chosen:
            raise UsageError(f"{escape(family.label)} is named twice.", usage_line("compare"))
        chosen.append(family)
    latest, baseline, ranking = _ranking(db, command.metric)
    by_family = {r.family: r for r in ranking}
    metric_name = METRIC_NAMES[command.metric]
    totals = q.totals_at(db, latest.id)
    fields = []
    for family in chosen:
        r = by_family.get(family.key)
        t = totals.get(family.key)
        if r is None or t is None:
            fields.append(f"*{link(family.hub_url, family.label)}*\nno models in this snapshot")
            continue
        fields.append(
            f"*{link(family.hub_url, family.label)}*  #{r.rank} of {len(ranking)}\n"
            f"All-time: {human(t.downloads_all_time)}\n30 days: {human(t.downloads_30d)}\n"
            f"Share: {percent(r.share)}\nChange: {_change(r)}\nModels: {t.model_count}"
        )
    present = [f for f in chosen if f.key in by_family]
    present.sort(key=lambda f: by_family[f.key].rank)
    summary = ""
    if len(present) >= 2:
        first, second = by_family[present[0].key], by_family[present[1].key]
        gap = first.value - second.value
        ratio = f" ({first.value / second.value:.2f}×)" if second.value else ""
        summary = (
            f"*{escape(present[0].label)}* leads *{escape(present[1].label)}* by "
            f"{human(gap)} {metric_name}{ratio}."
        )
    title = " vs ".join(f.label for f in chosen)
    blocks: list[bk.Block] = [bk.header(f"{title} — {metric_name}")]
    if summary:
        blocks.append(bk.section(summary))
    for start in range(0, len(fields), 2):
        blocks.append(bk.fields_section(fields[start : start + 2]))
    blocks.append(footer(latest, baseline))
    series = q.family_series(db, [f.key for f in chosen], "all_time")
    chart = ChartSpec(
        title=f"{title}: cumulative downloads",
        series={f.label: series[f.key] for f in chosen},
        metric="all_time",
        snapshot_date=latest.date,
        alt_text=_alt_text(chosen, series, latest.date),
        filename=f"openmodels-compare-{'-'.join(f.key for f in chosen)}-{latest.date}.png",
        sample=latest.is_sample,
    )
    text = summary.replace("*", "") or f"{title} ({latest.date})"
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)


def _alt_text(chosen: list[Family], series: dict[str, list[tuple[str, int]]], date: str) -> str:
    parts = []
    for family in chosen:
        points = series.get(family.key) or []
        if points:
            parts.append(
                f"{family.label} from {human(points[0][1])} on {points[0][0][:10]} "
                f"to {human(points[-1][1])} on {points[-1][0][:10]}"
            )
    return f"Line chart of cumulative Hub downloads up to {date}: " + "; ".join(parts) + "."


def family_answer(db: Database, ctx: AnswerContext, command: FamilyDetail) -> Answer:
    family = resolve(ctx.families, command.name)
    latest, baseline, ranking = _ranking(db, command.metric)
    r = next((x for x in ranking if x.family == family.key), None)
    t = q.totals_at(db, latest.id).get(family.key)
    header = bk.header(f"{family.label} family")
    orgs = ", ".join(link(hub_url(org), org) for org in family.orgs)
    scope = f"Organisations: {orgs}"
    if family.match:
        scope += " · models matching " + ", ".join(f"`{escape(m)}`" for m in family.match)
    if r is None or t is None:
        text = f"{family.label} has no models in the snapshot of {latest.date}."
        blocks = [header, bk.section(f"{escape(text)}\n{scope}"), footer(latest, baseline)]
        return Answer(text=text, blocks=blocks, public=command.public)
    metric_name = METRIC_NAMES[command.metric]
    fields = [
        f"*Rank*\n#{r.rank} of {len(ranking)} by {metric_name}",
        f"*All-time downloads*\n{human(t.downloads_all_time)}",
        f"*Last 30 days*\n{human(t.downloads_30d)}",
        f"*Share of tracked*\n{percent(r.share)}",
        f"*Change*\n{_change(r)}",
        f"*Models tracked*\n{t.model_count}",
    ]
    models = q.top_models(db, latest.id, family.key, command.metric, limit=10)
    model_lines = [
        f"{i}. {link(hub_url(m.repo_id), m.repo_id)}  {human(m.downloads_all_time)} all-time · "
        f"{human(m.downloads_30d)} 30d"
        for i, m in enumerate(models, 1)
    ]
    more = t.model_count - len(models)
    model_text = "*Top models*\n" + bk.bulleted(model_lines, limit=2900, noun="models")
    if more > 0:
        model_text += f"\n_{more} more models not shown_"
    blocks = [header, bk.section(scope), bk.fields_section(fields), bk.section(model_text)]
    blocks.append(footer(latest, baseline))
    series = q.family_series(db, [family.key], "all_time")
    chart = ChartSpec(
        title=f"{family.label}: cumulative downloads",
        series={family.label: series[family.key]},
        metric="all_time",
        snapshot_date=latest.date,
        alt_text=_alt_text([family], series, latest.date),
        filename=f"openmodels-family-{family.key}-{latest.date}.png",
        sample=latest.is_sample,
    )
    text = (
        f"{family.label}: #{r.rank} by {metric_name}, {human(t.downloads_all_time)} all-time, "
        f"{human(t.downloads_30d)} in 30 days ({latest.date})"
    )
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)


def model_answer(db: Database, ctx: AnswerContext, command: ModelDetail) -> Answer:
    latest = q.latest_snapshot(db)
    if latest is None:
        raise _NoData
    found = q.find_model(db, command.repo_id)
    if found is None:
        similar = q.similar_models(db, latest, command.repo_id.split("/")[-1][:60])
        message = f"No model '{echo(command.repo_id, 120)}' in the store."
        if similar:
            message += " Did you mean: " + ", ".join(f"`{escape(s)}`" for s in similar) + "?"
        else:
            message += " openmodels only tracks models of the families in `/openmodels help`."
        return error_answer(message)
    repo_id, family_key, created_at, pipeline_tag = found
    history = q.model_history(db, repo_id)
    header = bk.header(repo_id)
    if not history or history[-1].taken_at != latest.taken_at:
        text = f"{repo_id} is not in the latest snapshot ({latest.date}); it may have been removed."
        return Answer(
            text=text,
            blocks=[header, bk.section(escape(text)), footer(latest)],
            public=command.public,
        )
    now = history[-1]
    baseline = q.snapshot_near(db, latest, days=7)
    before = next(
        (p for p in reversed(history) if baseline and p.taken_at <= baseline.taken_at), None
    )
    week = (
        f"{signed(now.downloads_all_time - before.downloads_all_time)} all-time"
        if before
        else "no earlier snapshot"
    )
    fields = [
        f"*Family*\n{family_link(ctx.families, family_key)}",
        f"*Task*\n{escape(pipeline_tag or 'unknown')}",
        f"*All-time downloads*\n{human(now.downloads_all_time)}",
        f"*Last 30 days*\n{human(now.downloads_30d)}",
        f"*Likes*\n{human(now.likes)}",
        f"*This week*\n{week}",
        f"*Created*\n{(created_at or 'unknown')[:10]}",
        f"*Tracked since*\n{history[0].taken_at[:10]} ({len(history)} snapshots)",
    ]
    blocks = [
        header,
        bk.section(f"{link(hub_url(repo_id), 'Open on the Hub')}"),
        bk.fields_section(fields),
        footer(latest, baseline),
    ]
    text = (
        f"{repo_id}: {human(now.downloads_all_time)} all-time, "
        f"{human(now.downloads_30d)} in 30 days ({latest.date})"
    )
    return Answer(text=text, blocks=blocks, public=command.public)


def _health_lines(db: Database) -> list[str]:
    """Scheduler runs, delivery backlog and flagged drops: what an operator checks first."""
    lines = []
    runs = q.job_runs(db)
    if runs:
        parts = []
        for run in runs:
            part = f"{run.job} {run.last_started or 'never'}"
            if run.last_error:
                part += f" (failed: {escape(run.last_error[:200])})"
            parts.append(part)
        lines.append("*Last runs:* " + " · ".join(parts))
    for run in runs:
        if run.lease_owner:
            lines.append(
                f"*Running:* {run.job} since {run.last_started} "
                f"(`{escape(run.lease_owner)}`, lease until {run.lease_expires})"
            )
        elif run.retry_at and run.failures:
            tries = "1 failed attempt" if run.failures == 1 else f"{run.failures} failed attempts"
            lines.append(
                f"*Retrying:* {run.job} for its {run.slot} slot after {tries}; "
                f"next try {run.retry_at}"
            )
    backlog = q.outbox_counts(db)
    if backlog:
        lines.append(
            "*Deliveries:* " + ", ".join(f"{n} {status}" for status, n in sorted(backlog.items()))
        )
    drops = q.recent_anomalies(db, limit=5)
    if drops:
        lines.append("*Flagged (figures went backwards, no alerts drawn):*")
        for taken_at, family, _metric, previous, current in drops:
            now_text = "missing" if current is None else human(current)
            lines.append(
                f"• {escape(family)} at {taken_at[:10]}: {human(previous or 0)} → {now_text}"
            )
    return lines


def status_answer(db: Database, ctx: AnswerContext, public: bool = False) -> Answer:
    stats = q.store_stats(db)
    store = ctx.store
    kind = "bundled sample store (synthetic data)" if store.sample else "store"
    lines = [
        f"*Store:* `{escape(str(store.path))}` ({kind}, {human(store.size_bytes)}B on disk)",
        f"*Snapshots:* {stats.snapshot_count}",
    ]
    if stats.first and stats.latest:
        lines.append(f"*First:* {stats.first.taken_at} · *Latest:* {stats.latest.taken_at}")
        lines.append(
            f"*Tracked:* {stats.family_count} of {len(ctx.families)} families, "
            f"{stats.model_count:,} models in the latest snapshot"
        )
    else:
        lines.append(NO_SNAPSHOTS)
    lines += _health_lines(db)
    text = "\n".join(lines)
    blocks = [bk.header("openmodels status"), bk.section(text)]
    if stats.latest and stats.latest.is_sample:
        blocks.append(bk.context(SAMPLE_NOTE))
    return Answer(text=text, blocks=blocks, public=public)
