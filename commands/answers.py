"""Answering each command from the store. Reads through `storage.queries`, builds blocks.

One read transaction per answer, so every figure in it comes from the same snapshots
even while a collection commits.

The answers kept in modules of their own (regions, movers, forecast, new, sizes, race),
and what the others show by model size and launch, are imported when first asked for:
`openmodels ask top` starts in a new process every time, and the forecast and launch
code (with the digest's) would cost it more than the answer itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from commands import blocks as bk
from commands.answer import Answer, ChartSpec
from commands.changes import change_text
from commands.common import SAMPLE_NOTE, chart_alt_text, chart_marks, footer, lead_sentence
from commands.common import NoData as _NoData
from commands.format import (
    METRIC_NAMES,
    count,
    echo,
    escape,
    family_link,
    hide_paths,
    hub_url,
    human,
    link,
    percent,
    signed,
)
from commands.next_steps import next_steps
from commands.parser import (
    USAGE,
    Command,
    Compare,
    FamilyDetail,
    Forecast,
    Help,
    ModelDetail,
    Movers,
    New,
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
    usage_line,
)
from commands.permissions import Roles, answer_permissions
from commands.shorthand import resolve as resolve_shorthand
from commands.subscriptions import Channel, Schedules, answer_subscription, chart_problem
from openmodels.families import Families, Family
from openmodels.health import COLLECT_JOB
from openmodels.periods import change_period
from openmodels.ranking import RankedFamily, lead
from openmodels.standings import Standings, read_standings
from openmodels.timeline import Timeline, TimelineCache, family_runs
from storage import Store, chart_shares, jobs, model_sizes
from storage import queries as q
from storage.connection import Database
from storage.snapshots import FamilyTotal, format_timestamp

if TYPE_CHECKING:
    from openmodels.sizes import SizeClass

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
DERIVATIVES_NOTE = (
    "Derivatives: models on the Hub that name one of the family's models as their base "
    "(fine-tunes, adapters, quantizations, merges), summed over the models counted. A "
    "collection counts each family's most downloaded models (OPENMODELS_DERIVATIVES_TOP, "
    "20 by default): the models most built upon are nearly always among them."
)
NO_DERIVATIVES = (
    "No derivative counts in the snapshot of {date}. The Hub reports them only model by "
    "model, so a collection looks them up for each family's most downloaded models "
    "(OPENMODELS_DERIVATIVES_TOP, 20 by default; 0 turns it off), and a lookup that fails "
    "leaves the count unknown; `openmodels import` loads them from a CSV file (column "
    "`derivatives`)."
)

SIZE_NOTE = (
    "Shares are of the downloads of {models}. Each model is classed by its total "
    "parameters as known now, at both ends of a change, so a size read since never counts "
    "as growth; `/openmodels sizes` shows every class."
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
            command = resolve_shorthand(command, ctx.families)
        except UsageError as exc:
            return usage_answer(exc)
    result = _answer(command, ctx)
    if isinstance(command, SHAREABLE) and not result.error:
        return replace(result, shareable=True, next_steps=next_steps(command, ctx.families))
    return result


def _answer(command: Command, ctx: AnswerContext) -> Answer:
    try:
        if isinstance(command, Help):
            return replace(help_answer(command.unknown), public=command.public)
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


def no_snapshots(db: Database, ctx: AnswerContext) -> str:
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


def _standings(
    db: Database, metric: str, timeline: Timeline, among: SizeClass | None = None
) -> Standings:
    """The ranking by `metric`, or by downloads from the models of one size class."""
    values = None
    if among is not None:
        from openmodels.size_classes import class_values

        values = class_values(db, metric, among.key)
    standings = read_standings(db, metric, timeline, values=values)
    if standings is None:
        raise _NoData
    return standings


def _period(latest: q.Snapshot, baseline: q.Snapshot | None) -> str | None:
    """What a change covers: 'this week' only for seven days, else 'since 3 Jan'."""
    return change_period(latest.date, baseline.date) if baseline else None


def _change(standings: Standings, r: RankedFamily, missing: str | None = None) -> str:
    """'+56.0K this week ▲1' (or 'since 3 Jan'), or what may be said instead when the
    family's figures do not compare over the period. `missing` says why a family has no
    earlier figure (default: new)."""
    latest, baseline = standings.latest, standings.baseline
    return change_text(
        r, standings.basis(r.family), _period(latest, baseline), latest.taken_at, missing=missing
    )


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
    shorthand = (
        "Shorthand: `/openmodels` alone is `top`, `/openmodels qwen` is `family qwen`, "
        "`/openmodels qwen llama` is `compare qwen llama`. Mention @openmodels in a channel "
        "(`@openmodels top`) to be answered in a thread there, or send it a direct message."
    )
    text = "\n".join(lines)
    blocks = [bk.section(text), bk.section(usage), bk.context(options), bk.context(shorthand)]
    text = "\n".join([text, usage, options, shorthand])
    return Answer(text=text, blocks=blocks, error=bool(unknown))


def top_answer(db: Database, ctx: AnswerContext, command: Top) -> Answer:
    chosen = None
    if command.size is not None:
        from commands.sizes_answer import size_class

        chosen = size_class(command.size)
    standings = _standings(db, command.metric, ctx.timelines.read(db), chosen)
    latest, baseline, ranking = standings.latest, standings.baseline, standings.ranking
    metric_name = METRIC_NAMES[command.metric]
    among = f" among {chosen.models}" if chosen is not None else ""
    if chosen is not None and not ranking:
        message = f"No tracked family has {chosen.models} in the snapshot of {latest.date}."
        blocks = [bk.header(f"Top model families{among}"), bk.section(message)]
        return Answer(text=message, blocks=[*blocks, footer(latest)], public=command.public)
    derivatives = command.metric == "derivatives"
    if derivatives and not ranking:
        message = NO_DERIVATIVES.format(date=latest.date)
        blocks = [bk.header("Top model families by derivatives"), bk.section(message)]
        return Answer(text=message, blocks=[*blocks, footer(latest)], public=command.public)
    # Derivative counts may be missing from the baseline while downloads never are.
    missing = f"no count on {baseline.date}" if derivatives and baseline else None
    shown = ranking[: command.n]
    lines = [
        f"{r.rank}. *{family_link(ctx.families, r.family)}*  {human(r.value)} · "
        f"{percent(r.share)} · {_change(standings, r, missing)}"
        for r in shown
    ]
    totals = q.totals_at(db, latest.id) if derivatives else {}
    if derivatives:  # a sum over some of a family's models says over how many
        known = q.derivatives_known_by_family(db, latest.id)
        lines = [
            line + _counted(known.get(r.family, 0), totals[r.family].model_count)
            for line, r in zip(lines, shown, strict=True)
        ]
    body = bk.bulleted(lines, noun="families")
    if len(ranking) > len(shown):
        left_out = count(len(ranking) - len(shown), "more tracked family", "more tracked families")
        body += f"\n_{left_out} not shown_"
    if derivatives:
        counted = {r.family for r in ranking}
        uncounted = [ctx.families.label(f) for f in totals if f not in counted]
        if uncounted:
            body += f"\n_No derivative count in this snapshot: {escape(', '.join(uncounted))}_"
    title = f"Top {count(len(shown), 'model family', 'model families')}{among} by {metric_name}"
    blocks = [bk.header(title), bk.section(body)]
    the_lead = lead(ranking)
    if the_lead is not None:
        ratio = the_lead.ratio
        if ratio is not None:
            comparison = f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.0f}×"
            blocks.append(
                bk.section(
                    f"*{escape(ctx.families.label(the_lead.leader))}* has {comparison} the "
                    f"{metric_name}{among} of the "
                    f"{count(the_lead.rest_count, 'family', 'families')} after it combined "
                    f"({human(the_lead.leader_value)} vs {human(the_lead.rest_value)})."
                )
            )
    if derivatives:
        blocks.append(bk.context(DERIVATIVES_NOTE))
    if chosen is not None:
        blocks.append(bk.context(SIZE_NOTE.format(models=chosen.models)))
    blocks.append(footer(latest, baseline))
    text = f"{title} ({latest.date}): " + ", ".join(
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
    timeline = ctx.timelines.read(db)
    standings = _standings(db, command.metric, timeline)
    latest, baseline, ranking = standings.latest, standings.baseline, standings.ranking
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
            f"Share: {percent(r.share)}\nChange: {_change(standings, r)}\n"
            f"Models: {t.model_count}"
        )
    present = [f for f in chosen if f.key in by_family]
    present.sort(key=lambda f: by_family[f.key].rank)
    summary = ""
    if len(present) >= 2:
        first, second = by_family[present[0].key], by_family[present[1].key]
        summary = lead_sentence(
            escape(present[0].label),
            escape(present[1].label),
            first.value,
            second.value,
            metric_name,
        )
    title = " vs ".join(f.label for f in chosen)
    series = q.family_series(db, [f.key for f in chosen], "all_time")
    # Forecasts follow the all-time order, whatever metric the comparison ranks by.
    by_all_time = sorted((f.key for f in present), key=lambda k: (-totals[k].downloads_all_time, k))
    from commands.forecast_answer import compare_forecasts
    from openmodels.forecast import adjacent_forecasts

    runs = family_runs(timeline, series, latest)
    outlooks = adjacent_forecasts(by_all_time, runs.series, changed=runs.changed, fell=runs.fell)
    forecasts, no_forecasts = compare_forecasts(ctx.families.label, outlooks)
    if command.metric != "all_time":
        # Said beside a ranking by another metric, a pass must say which order it is in.
        forecasts = [(_by_all_time(sentence), basis) for sentence, basis in forecasts]
        no_forecasts = [_by_all_time(sentence) for sentence in no_forecasts]
    blocks: list[bk.Block] = [bk.header(f"{title} — {metric_name}")]
    lead_lines = [summary] if summary else []
    lead_lines += [f"{sentence} _({basis})_" for sentence, basis in forecasts]
    if lead_lines:
        blocks.append(bk.section("\n".join(lead_lines)))
    for start in range(0, len(fields), 2):
        blocks.append(bk.fields_section(fields[start : start + 2]))
    if no_forecasts:
        blocks.append(bk.context(" ".join(no_forecasts)))
    blocks.append(footer(latest, baseline))
    if command.metric != "all_time":
        series = q.family_series(db, [f.key for f in chosen], command.metric)
    # None of the families ever had a model in the store: a chart would be empty.
    chart = (
        _family_chart(
            f"{title}: {CHART_METRIC[command.metric]}",
            chosen,
            series,
            timeline,
            latest,
            command.metric,
            f"openmodels-compare-{'-'.join(f.key for f in chosen)}-{latest.date}.png",
        )
        if any(series.get(f.key) for f in chosen)
        else None
    )
    headline = " ".join([summary] + [sentence for sentence, _ in forecasts]).strip()
    text = headline.replace("*", "") or f"{title} ({latest.date})"
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)


def _by_all_time(sentence: str) -> str:
    """'By all-time downloads, Qwen is …' ('No forecast …' becomes '…, no forecast …')."""
    if sentence.startswith("No "):
        sentence = "n" + sentence[1:]
    return f"By all-time downloads, {sentence}"


CHART_METRIC = {"all_time": "cumulative downloads", "30d": "downloads in the last 30 days"}
_ALT_METRIC = {"all_time": "cumulative Hub downloads", "30d": "Hub downloads in the last 30 days"}


def _family_chart(
    title: str,
    chosen: list[Family],
    series: dict[str, list[tuple[str, int]]],
    timeline: Timeline,
    latest: q.Snapshot,
    metric: str,
    filename: str,
) -> ChartSpec:
    """A chart of the families' lines by `metric`, each definition change marked on its
    line (not drawn as growth) and named in the alt text."""
    by_label = {family.label: series.get(family.key) or [] for family in chosen}
    marks = chart_marks(
        {f.label: [(f.label, b) for b in timeline.breaks(f.key)] for f in chosen}, by_label
    )
    return ChartSpec(
        title=title,
        series=by_label,
        metric=metric,
        snapshot_date=latest.date,
        alt_text=chart_alt_text(by_label, latest.date, _ALT_METRIC[metric], marks),
        filename=filename,
        sample=latest.is_sample,
        breaks=marks.breaks,
    )


def family_answer(db: Database, ctx: AnswerContext, command: FamilyDetail) -> Answer:
    family = resolve(ctx.families, command.name)
    timeline = ctx.timelines.read(db)
    standings = _standings(db, command.metric, timeline)
    latest, baseline, ranking = standings.latest, standings.baseline, standings.ranking
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
        f"*Change*\n{_change(standings, r)}",
        f"*Models tracked*\n{t.model_count}",
        f"*Derivatives*\n{_derivatives(db, latest, t)}",
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
        model_text += f"\n_{count(more, 'more model')} not shown_"
    blocks = [header, bk.section(scope), bk.fields_section(fields), bk.section(model_text)]
    from commands.sizes_answer import family_sizes_text
    from openmodels.size_classes import read_class_figures

    by_size = family_sizes_text(
        read_class_figures(db, [latest.id], command.metric, [family.key])[latest.id],
        family.key,
        command.metric,
    )
    if by_size is not None:
        blocks.append(bk.section(by_size))
    built_upon = q.top_models(db, latest.id, family.key, "derivatives", limit=5)
    if built_upon:
        lines = [
            f"{i}. {link(hub_url(m.repo_id), m.repo_id)}  {human(m.derivatives or 0)} derivatives"
            for i, m in enumerate(built_upon, 1)
        ]
        blocks.append(bk.section("*Most built upon*\n" + "\n".join(lines)))
    blocks.append(footer(latest, baseline))
    series = q.family_series(db, [family.key], command.metric)
    chart = _family_chart(
        f"{family.label}: {CHART_METRIC[command.metric]}",
        [family],
        series,
        timeline,
        latest,
        command.metric,
        f"openmodels-family-{family.key}-{latest.date}.png",
    )
    text = (
        f"{family.label}: #{r.rank} by {metric_name}, {human(t.downloads_all_time)} all-time, "
        f"{human(t.downloads_30d)} in 30 days ({latest.date})"
    )
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)


def _counted(known: int, models: int) -> str:
    """' · 20 of 1,300 models counted' when a derivative sum covers part of a family."""
    return f" · {known:,} of {models:,} models counted" if known < models else ""


FAMILY_MODELS_SHOWN = 30
_MODELS_PER_SECTION = 10  # ten lines with their links stay well within a section's 3,000


def family_models_answer(db: Database, ctx: AnswerContext, command: FamilyDetail) -> Answer:
    """A family's top models in full (`family NAME --models`): thirty by the metric,
    each with both download figures and its likes."""
    family = resolve(ctx.families, command.name)
    latest = q.latest_snapshot(db)
    if latest is None:
        raise _NoData
    metric_name = METRIC_NAMES[command.metric]
    header = bk.header(f"{family.label}: top models by {metric_name}")
    t = q.totals_at(db, latest.id).get(family.key)
    models = q.top_models(db, latest.id, family.key, command.metric, limit=FAMILY_MODELS_SHOWN)
    if t is None or not models:
        text = f"{family.label} has no models in the snapshot of {latest.date}."
        blocks = [header, bk.section(escape(text)), footer(latest)]
        return Answer(text=text, blocks=blocks, public=command.public)
    lines = [
        f"{i}. {link(hub_url(m.repo_id), m.repo_id)}  {human(m.downloads_all_time)} all-time · "
        f"{human(m.downloads_30d)} 30d · {human(m.likes)} likes"
        for i, m in enumerate(models, 1)
    ]
    blocks = [header]
    for start in range(0, len(lines), _MODELS_PER_SECTION):
        blocks.append(bk.section("\n".join(lines[start : start + _MODELS_PER_SECTION])))
    more = t.model_count - len(models)
    notes = [f"{count(more, 'more model')} of {escape(family.label)} not shown"] if more > 0 else []
    blocks.append(footer(latest, None, *notes))
    text = (
        f"{family.label}: top {count(len(models), 'model')} by {metric_name} ({latest.date}): "
        + (", ".join(m.repo_id for m in models[:5]))
    )
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public)


def _derivatives(db: Database, snapshot: q.Snapshot, t: FamilyTotal) -> str:
    """A family's derivative count; 'unknown' when no model of it has one (never 0)."""
    if t.derivatives is None:
        return "unknown"
    known = q.derivatives_known(db, snapshot.id, t.family)
    if known < t.model_count:
        return f"{human(t.derivatives)} ({known} of {t.model_count} models counted)"
    return human(t.derivatives)


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
    if before is None and baseline is not None and len(history) > 1:
        before = history[0]  # first seen after the baseline: the change since then
    # The change runs from the model's own figure at the baseline, which is older than
    # the baseline if the model was missing from it: say the period it really covers.
    if before is not None:
        period = change_period(latest.date, before.taken_at)
        period, week = (
            period[0].upper() + period[1:],
            f"{signed(now.downloads_all_time - before.downloads_all_time)} all-time",
        )
    else:
        period, week = "Change", "no earlier snapshot"
    fields = [
        f"*Family*\n{family_link(ctx.families, family_key)}",
        f"*Task*\n{escape(pipeline_tag or 'unknown')}",
        f"*All-time downloads*\n{human(now.downloads_all_time)}",
        f"*Last 30 days*\n{human(now.downloads_30d)}",
        f"*Likes*\n{human(now.likes)}",
        f"*{period}*\n{week}",
        f"*Created*\n{(created_at or 'unknown')[:10]}",
        f"*Tracked since*\n{history[0].taken_at[:10]} ({count(len(history), 'snapshot')})",
        f"*Size*\n{_size(db, repo_id)}",
        f"*Start vs its class*\n{_class_start(db, ctx, repo_id)}",
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


def _size(db: Database, repo_id: str) -> str:
    """A model's size and where it came from."""
    from commands.sizes_answer import size_text_of

    return size_text_of(model_sizes.size_of(db, repo_id))


def _class_start(db: Database, ctx: AnswerContext, repo_id: str) -> str:
    """A model's relative adoption if it is a launch old enough to judge; else why not."""
    from commands.launches_answer import adoption_text, not_launched_text
    from openmodels.launch_finder import NoLaunch, launch_of

    launch = launch_of(db, repo_id, ctx.families.keys)
    if isinstance(launch, NoLaunch):
        return f"not a launch the store saw: {not_launched_text(launch.why)}"
    if launch.adoption is None:
        return "first seen in the latest snapshot: judged from the next one"
    return adoption_text(launch.adoption)


def _health_lines(db: Database, in_slack: bool, now: str) -> list[str]:
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


def status_answer(db: Database, ctx: AnswerContext, public: bool = False) -> Answer:
    stats = q.store_stats(db)
    store = ctx.store
    in_slack = ctx.channel is not None
    kind = "bundled sample store (synthetic data)" if store.sample else "store"
    # The path is for the operator at a terminal; Slack gets no server file paths.
    where = "" if in_slack else f"`{escape(str(store.path))}` "
    lines = [
        f"*Store:* {where}({kind}, {human(store.size_bytes)}B on disk)",
        f"*Snapshots:* {stats.snapshot_count}"
        + (f" ({stats.imported_count} imported)" if stats.imported_count else ""),
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
        blocks.append(bk.context(SAMPLE_NOTE))
    return Answer(text=text, blocks=blocks, public=public)
