"""The answers built on a ranking: `top` (`--size` too), `compare`, `family` and
`family --models`.

Each reads the standings (`openmodels.standings`: a ranking and the changes the
comparability rule allows) in one read transaction and says them; `compare` and
`family` carry a chart in the view asked for (`commands.chart_views`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from commands import blocks as bk
from commands.answer import Answer
from commands.changes import change_text
from commands.chart_views import Line, lines_chart, projection
from commands.common import NoData, footer, lead_sentence
from commands.format import (
    METRIC_NAMES,
    count,
    echo,
    escape,
    family_link,
    hub_url,
    human,
    link,
    percent,
)
from commands.parser import TOP_DEFAULT, Compare, FamilyDetail, Top, UsageError, usage_line
from openmodels.chart_spec import Projection
from openmodels.families import Families, Family
from openmodels.forecast import WINDOW_DAYS, Forecast
from openmodels.periods import change_period
from openmodels.ranking import RankedFamily, lead
from openmodels.standings import Standings, read_standings
from openmodels.timeline import Timeline, family_runs
from storage import queries as q
from storage.snapshots import FamilyTotal, format_timestamp, parse_timestamp
from storage.sql import Connection

if TYPE_CHECKING:
    from commands.answers import AnswerContext
    from openmodels.sizes import SizeClass

DERIVATIVES_NOTE = (
    "Derivatives: models on the Hub that name one of the family's models as their base "
    "(fine-tunes, adapters, quantizations, merges), summed over the models counted. A "
    "collection counts each family's most downloaded models: the models most built upon "
    "are nearly always among them."
)
NO_DERIVATIVES = (
    "No derivative counts in the snapshot of {date}. The Hub reports them only model by "
    "model, so a collection looks them up for each family's most downloaded models, and "
    "a lookup that fails leaves the count unknown; the bot's operator can turn the "
    "lookups on, or load counts from a file."
)
# A 30-day count rises and falls: its change is said once, where one is shown.
ROLLING = (
    "30-day downloads are a rolling count: a change compares the last 30 days with the 30 "
    "days up to {date}, so it falls whenever downloads slow; all-time downloads only grow."
)
NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten"]  # fmt: skip
FAMILY_MODELS_SHOWN = 30
SIZE_NOTE = (
    "Shares are of the downloads of {models}. Each model is classed by its total "
    "parameters as known now, at both ends of a change, so a size read since never counts "
    "as growth; `/openmodels sizes` shows every class."
)


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


def standings_of(
    db: Connection, metric: str, timeline: Timeline, among: SizeClass | None = None
) -> Standings:
    """The ranking by `metric`, or by downloads from the models of one size class."""
    values = None
    if among is not None:
        from openmodels.size_classes import class_values

        values = class_values(db, metric, among.key)
    standings = read_standings(db, metric, timeline, values=values)
    if standings is None:
        raise NoData
    return standings


def period_of(latest: q.Snapshot, baseline: q.Snapshot | None) -> str | None:
    """What a change covers: 'this week' only for seven days, else 'since 3 Jan'."""
    return change_period(latest.date, baseline.date) if baseline else None


def change_of(standings: Standings, r: RankedFamily, missing: str | None = None) -> str:
    """'+56.0K this week ▲1' (or 'since 3 Jan'), or what may be said instead when the
    family's figures do not compare over the period. `missing` says why a family has no
    earlier figure (default: new)."""
    latest, baseline = standings.latest, standings.baseline
    if r.family in standings.recounted and baseline is not None:
        missing = f"other models counted on {baseline.date}"
    return change_text(
        r, standings.basis(r.family), period_of(latest, baseline), latest.taken_at, missing=missing
    )


def standings_footer(standings: Standings, *notes: str) -> bk.Block:
    """The footer of an answer from `standings`: its snapshots, the estimate label when
    its baseline is one, and for 30-day figures with a change, what such a change means."""
    latest, baseline = standings.latest, standings.baseline
    changed = any(r.value_change is not None for r in standings.ranking)
    if baseline is not None and changed and standings.metric == "30d":
        notes = (*notes, ROLLING.format(date=baseline.date))
    return footer(latest, baseline, *notes, estimate=standings.estimate)


def number_word(n: int) -> str:
    """'ten', '11': a count in words up to ten."""
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else f"{n:,}"


def lead_line(
    label: str, leader_value: int, rest_value: int, rest_count: int, among: str = ""
) -> str:
    """'*Qwen* alone: 702.4M; the next ten together: 1.3B.' (`label` already escaped;
    `among`, ' among models of 1–5B parameters' for a size class)."""
    rest = "the next one" if rest_count == 1 else f"the next {number_word(rest_count)} together"
    return f"*{label}* alone{among}: {human(leader_value)}; {rest}: {human(rest_value)}."


# -- top ------------------------------------------------------------------------------------


TOP_OTHER_BLOCKS = 4  # a top answer's blocks besides its rows: header, notes, lead, footer


def top_answer(db: Connection, ctx: AnswerContext, command: Top) -> Answer:
    chosen = None
    if command.size is not None:
        from commands.sizes_answer import size_class

        chosen = size_class(command.size)
    standings = standings_of(db, command.metric, ctx.timelines.read(db), chosen)
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
    asked = TOP_DEFAULT if command.n is None else command.n
    shown = ranking[:asked]
    lines = [
        f"{r.rank}. *{family_link(ctx.families, r.family)}*  {human(r.value)} · "
        f"{percent(r.share)} · {change_of(standings, r, missing)}"
        for r in shown
    ]
    totals = q.totals_at(db, latest.id) if derivatives else {}
    if derivatives:  # a sum over some of a family's models says over how many
        known = q.derivatives_known_by_family(db, latest.id)
        lines = [
            line + _counted(known.get(r.family, 0), totals[r.family].model_count)
            for line, r in zip(lines, shown, strict=True)
        ]
    # Each row carries a Hub link, so a section holds about 35: the rows spread over as
    # many sections as the message's blocks allow, with one count of those not shown.
    rows = bk.list_sections(
        lines,
        "top",
        ("more tracked family", "more tracked families"),
        sections=bk.MAX_BLOCKS - TOP_OTHER_BLOCKS,
        hidden=len(ranking) - len(shown),
    )
    if derivatives:
        counted = {r.family for r in ranking}
        uncounted = [ctx.families.label(f) for f in totals if f not in counted]
        if uncounted:
            note = f"_No derivative count in this snapshot: {escape(', '.join(uncounted))}_"
            rows.append(bk.section(note))
    everyone = command.n is not None and command.n > len(ranking)
    if everyone:
        title = (
            f"All {count(len(ranking), 'tracked family', 'tracked families')}{among} by "
            f"{metric_name}"
        )
    else:
        title = f"Top {count(len(shown), 'model family', 'model families')}{among} by {metric_name}"
    blocks = [bk.header(title), *rows]
    the_lead = lead(ranking)
    if the_lead is not None and the_lead.rest_count:
        blocks.append(
            bk.section(
                lead_line(
                    escape(ctx.families.label(the_lead.leader)),
                    the_lead.leader_value,
                    the_lead.rest_value,
                    the_lead.rest_count,
                    among,
                )
            )
        )
    notes = []
    if everyone:
        notes.append(
            f"You asked for the top {command.n:,}: openmodels tracks "
            f"{count(len(ranking), 'family', 'families')} with models in this snapshot "
            "(`/openmodels families` lists every family it tracks)."
        )
    if derivatives:
        notes.append(DERIVATIVES_NOTE)
    if chosen is not None:
        notes.append(SIZE_NOTE.format(models=chosen.models))
    blocks.append(standings_footer(standings, *notes))
    text = f"{title} ({latest.date}): " + ", ".join(
        f"{ctx.families.label(r.family)} {human(r.value)}" for r in shown
    )
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public)


def _counted(known: int, models: int) -> str:
    """' · 20 of 1,300 models counted' when a derivative sum covers part of a family."""
    return f" · {known:,} of {models:,} models counted" if known < models else ""


# -- compare --------------------------------------------------------------------------------


def compare_answer(db: Connection, ctx: AnswerContext, command: Compare) -> Answer:
    chosen: list[Family] = []
    for name in command.names:
        family = resolve(ctx.families, name)
        if family in chosen:
            raise UsageError(f"{escape(family.label)} is named twice.", usage_line("compare"))
        chosen.append(family)
    if len(chosen) == 1:
        return _compare_one(db, ctx, command, chosen[0])
    timeline = ctx.timelines.read(db)
    standings = standings_of(db, command.metric, timeline)
    latest, ranking = standings.latest, standings.ranking
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
            f"Share: {percent(r.share)}\nChange: {change_of(standings, r)}\n"
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
    forecasts: list[tuple[str, str]] = []
    no_forecasts: list[str] = []
    projections: list[Projection] = []
    if command.metric == "all_time":  # forecasts follow all-time downloads only
        # Here, not at the top: `top` starts in a new process every time, and the
        # forecasts' words import the digest's code.
        from commands.forecast_answer import compare_forecasts, counted_from
        from openmodels.forecast import adjacent_forecasts

        since = format_timestamp(parse_timestamp(latest.taken_at) - timedelta(days=WINDOW_DAYS))
        series = q.family_series(db, [f.key for f in chosen], "all_time", since=since)
        by_all_time = sorted(
            (f.key for f in present), key=lambda k: (-totals[k].downloads_all_time, k)
        )
        runs = family_runs(timeline, series, latest)
        outlooks = adjacent_forecasts(
            by_all_time, runs.series, changed=runs.changed, fell=runs.fell
        )
        forecasts, no_forecasts = compare_forecasts(
            ctx.families.label, outlooks, counted_from(latest)
        )
        labels = {f.key: f.label for f in chosen}
        projections = [
            projection(o, labels, runs.series) for o in outlooks if isinstance(o, Forecast)
        ]
    blocks: list[bk.Block] = [bk.header(f"{title} — {metric_name}")]
    lead_lines = [summary] if summary else []
    lead_lines += [f"{sentence} _({basis})_" for sentence, basis in forecasts]
    if lead_lines:
        blocks.append(bk.section("\n".join(lead_lines)))
    blocks.append(bk.fields_section(fields))  # up to six families: one section, no gaps
    if no_forecasts:
        blocks.append(bk.context(" ".join(no_forecasts)))
    blocks.append(standings_footer(standings))
    chart = (
        lines_chart(
            db,
            timeline,
            latest,
            [Line(f.label, (f.key,)) for f in chosen],
            title=title,
            filename=f"openmodels-compare-{'-'.join(f.key for f in chosen)}"
            f"{_suffix(command.metric, command.view)}-{latest.date}.png",
            metric=command.metric,
            view=command.view,
            projections=projections,
        )
        if any(f.key in totals or by_family.get(f.key) for f in chosen)
        else None
    )
    headline = " ".join([summary] + [sentence for sentence, _ in forecasts]).strip()
    text = headline.replace("*", "") or f"{title} ({latest.date})"
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)


def _compare_one(db: Connection, ctx: AnswerContext, command: Compare, family: Family) -> Answer:
    """`compare` with one family: the family's answer, and a comparison with its
    neighbours in the ranking suggested."""
    shown = FamilyDetail(family.key, metric=command.metric, view=command.view)
    result = family_answer(db, ctx, shown)
    standings = standings_of(db, command.metric, ctx.timelines.read(db))
    keys = [r.family for r in standings.ranking]
    if family.key not in keys or len(keys) < 2:
        return result
    at = keys.index(family.key)
    around = ([keys[at - 1]] if at else []) + keys[at + 1 : at + 2]
    names = [ctx.families.label(k) for k in around]
    together = sorted([family.key, *around], key=keys.index)
    text = f"compare {' '.join(together)}"
    places = " and ".join(f"{escape(ctx.families.label(k))} (#{keys.index(k) + 1})" for k in around)
    hint = bk.section(
        f"To compare, name two families or more. {escape(family.label)}'s neighbours in the "
        f"ranking are {places}: `/openmodels {text}`."
    )
    label = f"Compare with {' and '.join(names)}"
    return Answer(
        text=result.text,
        blocks=bk.fit([result.blocks[0], hint, *result.blocks[1:]]),
        public=command.public,
        chart=result.chart,
        suggestions=((bk.cut(label, bk.MAX_BUTTON_TEXT), text),),
    )


def _suffix(metric: str, view: str) -> str:
    return ("-30d" if metric == "30d" else "") + ("" if view == "total" else f"-{view}")


# -- family ---------------------------------------------------------------------------------


def family_answer(db: Connection, ctx: AnswerContext, command: FamilyDetail) -> Answer:
    family = resolve(ctx.families, command.name)
    timeline = ctx.timelines.read(db)
    standings = standings_of(db, command.metric, timeline)
    latest, ranking = standings.latest, standings.ranking
    r = next((x for x in ranking if x.family == family.key), None)
    t = q.totals_at(db, latest.id).get(family.key)
    header = bk.header(f"{family.label} family")
    orgs = ", ".join(link(hub_url(org), org) for org in family.orgs)
    scope = f"Organisations: {orgs}"
    if family.match:
        scope += " · models matching " + ", ".join(f"`{escape(m)}`" for m in family.match)
    if r is None or t is None:
        text = f"{family.label} has no models in the snapshot of {latest.date}."
        blocks = [header, bk.section(f"{escape(text)}\n{scope}"), standings_footer(standings)]
        return Answer(text=text, blocks=blocks, public=command.public)
    metric_name = METRIC_NAMES[command.metric]
    fields = [
        f"*Rank*\n#{r.rank} of {len(ranking)} by {metric_name}",
        f"*All-time downloads*\n{human(t.downloads_all_time)}",
        f"*Last 30 days*\n{human(t.downloads_30d)}",
        f"*Share of tracked*\n{percent(r.share)}",
        f"*Change*\n{change_of(standings, r)}",
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
    built_upon = q.top_models(db, latest.id, family.key, "derivatives", limit=5)
    if built_upon:
        lines = [
            f"{i}. {link(hub_url(m.repo_id), m.repo_id)}  {human(m.derivatives or 0)} derivatives"
            for i, m in enumerate(built_upon, 1)
        ]
        blocks.append(bk.section("*Most built upon*\n" + "\n".join(lines)))
    from commands.sizes_answer import family_sizes_text
    from openmodels.size_classes import read_class_figures

    by_size = family_sizes_text(
        read_class_figures(db, [latest.id], command.metric, [family.key])[latest.id],
        family.key,
        command.metric,
    )
    if by_size is not None:
        blocks.append(bk.section(by_size))
    blocks.append(standings_footer(standings))
    chart = lines_chart(
        db,
        timeline,
        latest,
        [Line(family.label, (family.key,))],
        title=family.label,
        filename=f"openmodels-family-{family.key}{_suffix(command.metric, command.view)}-"
        f"{latest.date}.png",
        metric=command.metric,
        view=command.view,
    )
    text = (
        f"{family.label}: #{r.rank} by {metric_name}, {human(t.downloads_all_time)} all-time, "
        f"{human(t.downloads_30d)} in 30 days ({latest.date})"
    )
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)


def family_models_answer(db: Connection, ctx: AnswerContext, command: FamilyDetail) -> Answer:
    """A family's top models in full (`family NAME --models`): thirty by the metric,
    each with both download figures and its likes, in as few sections as they fit."""
    family = resolve(ctx.families, command.name)
    latest = q.latest_snapshot(db)
    if latest is None:
        raise NoData
    metric_name = METRIC_NAMES[command.metric]
    header = bk.header(f"{family.label}: top models by {metric_name}")
    t = q.totals_at(db, latest.id).get(family.key)
    models = q.top_models(db, latest.id, family.key, command.metric, limit=FAMILY_MODELS_SHOWN)
    if t is None or not models:
        text = f"{family.label} has no models in the snapshot of {latest.date}."
        blocks = [header, bk.section(escape(text)), footer(latest)]
        return Answer(text=text, blocks=blocks, public=command.public)
    lines = [
        f"{i}. {link(hub_url(m.repo_id), m.repo_id)}  {human(m.downloads_all_time)} · "
        f"{human(m.downloads_30d)} · {human(m.likes)}"
        for i, m in enumerate(models, 1)
    ]
    lines.insert(0, "_All-time downloads · last 30 days · likes_")
    blocks = [header, *bk.list_sections(lines, "models", "models")]
    more = t.model_count - len(models)
    notes = [f"{count(more, 'more model')} of {escape(family.label)} not shown"] if more > 0 else []
    blocks.append(footer(latest, None, *notes))
    text = (
        f"{family.label}: top {count(len(models), 'model')} by {metric_name} ({latest.date}): "
        + (", ".join(m.repo_id for m in models[:5]))
    )
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public)


def _derivatives(db: Connection, snapshot: q.Snapshot, t: FamilyTotal) -> str:
    """A family's derivative count; 'unknown' when no model of it has one (never 0)."""
    if t.derivatives is None:
        return "unknown"
    known = q.derivatives_known(db, snapshot.id, t.family)
    if known < t.model_count:
        return f"{human(t.derivatives)} ({known} of {t.model_count} models counted)"
    return human(t.derivatives)
