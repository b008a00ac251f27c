"""The `model` answer: one model's figures and chart, found by its id or by its name
alone (which shorthand also reads as a model, `commands.shorthand`)."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from commands import blocks as bk
from commands.answer import Answer
from commands.changes import NO_BASELINE
from commands.chart_views import WHAT
from commands.common import ESTIMATED, NoData, chart_alt_text, estimate_label, footer
from commands.format import count, echo, escape, family_link, hub_url, human, link, signed
from commands.parser import ModelDetail
from openmodels.chart_spec import TOTAL, WEEKLY, ChartSpec
from openmodels.momentum import weekly
from openmodels.periods import change_period
from storage import model_sizes
from storage import queries as q
from storage.estimates import estimate_notes
from storage.sql import Connection

if TYPE_CHECKING:
    from commands.answers import AnswerContext

SUGGESTED = 5  # ids offered for a name the store does not hold


def model_answer(db: Connection, ctx: AnswerContext, command: ModelDetail) -> Answer:
    """A model's downloads, likes, change and chart; a name without its organisation
    finds the model, or the answer offers the closest ids."""
    latest = q.latest_snapshot(db)
    if latest is None:
        raise NoData
    found = q.find_model(db, command.repo_id)
    if found is None and "/" not in command.repo_id:
        named = q.models_named(db, command.repo_id)
        if len(named) == 1:
            found = q.find_model(db, named[0])
        elif named:
            message = (
                f"Several models are named '{echo(command.repo_id, 120)}': "
                + ", ".join(f"`{escape(n)}`" for n in named[:SUGGESTED])
                + ". Ask for one as `/openmodels model ORG/NAME`."
            )
            return _offer(message)
    if found is None:
        return _offer(_not_found(db, latest, command.repo_id))
    return _model(db, ctx, command, found, latest)


def _offer(message: str) -> Answer:
    return Answer(text=message, blocks=[bk.section(message)], error=True)


def _not_found(db: Connection, latest: q.Snapshot, asked: str) -> str:
    """No model by that id: the ids closest to it, if any."""
    name = asked.split("/")[-1][:60]
    similar = q.similar_models(db, latest, name, limit=SUGGESTED)
    if len(similar) < SUGGESTED:
        ids = q.repo_ids_by_lowercase(db)
        by_name = {repo_id.split("/")[-1].lower(): repo_id for repo_id in ids.values()}
        close = difflib.get_close_matches(name.lower(), list(by_name), n=SUGGESTED, cutoff=0.6)
        similar += [by_name[c] for c in close if by_name[c] not in similar]
    message = f"No model '{echo(asked, 120)}' in the store."
    if similar:
        return (
            message
            + " Did you mean: "
            + ", ".join(f"`{escape(s)}`" for s in similar[:SUGGESTED])
            + "?"
        )
    return message + " openmodels tracks the models of the families in `/openmodels families`."


def _model(
    db: Connection,
    ctx: AnswerContext,
    command: ModelDetail,
    found: tuple[str, str, str | None, str | None],
    latest: q.Snapshot,
) -> Answer:
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
    notes = {n.taken_at: n for n in estimate_notes(db)}
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
        period, change = (
            period[0].upper() + period[1:],
            f"{signed(now.downloads_all_time - before.downloads_all_time)} all-time",
        )
        if before.estimated:
            change += f" ({ESTIMATED})"
    else:
        period, change = "Change", NO_BASELINE
    measured = [p for p in history if not p.estimated]
    fields = [
        f"*Family*\n{family_link(ctx.families, family_key)}",
        f"*Task*\n{escape(pipeline_tag or 'unknown')}",
        f"*All-time downloads*\n{human(now.downloads_all_time)}",
        f"*Last 30 days*\n{human(now.downloads_30d or 0)}",
        f"*Likes*\n{human(now.likes or 0)}",
        f"*{period}*\n{change}",
        f"*Created*\n{(created_at or 'unknown')[:10]}",
        f"*Tracked since*\n{measured[0].taken_at[:10]} ({count(len(measured), 'snapshot')})",
        f"*Size*\n{_size(db, repo_id)}",
        f"*Start vs its class*\n{_class_start(db, ctx, repo_id)}",
    ]
    used = [notes[p.taken_at] for p in history if p.estimated and p.taken_at in notes]
    blocks = [
        header,
        bk.section(f"{link(hub_url(repo_id), 'Open on the Hub')}"),
        bk.fields_section(fields),
        footer(latest, baseline, estimate=notes.get(baseline.taken_at) if baseline else None),
    ]
    text = (
        f"{repo_id}: {human(now.downloads_all_time)} all-time, "
        f"{human(now.downloads_30d or 0)} in 30 days ({latest.date})"
    )
    series = [(p.taken_at, p.downloads_all_time) for p in history]
    chart = model_chart(repo_id, series, latest, command.view, [n.taken_at for n in used],
                        estimate_label(used) if used else "")  # fmt: skip
    return Answer(text=text, blocks=blocks, public=command.public, chart=chart)


def _size(db: Connection, repo_id: str) -> str:
    """A model's size and where it came from."""
    from commands.sizes_answer import size_text_of

    return size_text_of(model_sizes.size_of(db, repo_id))


def _class_start(db: Connection, ctx: AnswerContext, repo_id: str) -> str:
    """A model's relative adoption if it is a launch old enough to judge; else why not."""
    from commands.launches_answer import adoption_text, not_launched_text
    from openmodels.launch_finder import NoLaunch, launch_of

    launch = launch_of(db, repo_id, ctx.families.keys)
    if isinstance(launch, NoLaunch):
        return f"not a launch the store saw: {not_launched_text(launch.why)}"
    if launch.adoption is None:
        return "first seen in the latest snapshot: judged from the next one"
    return adoption_text(launch.adoption)


def model_chart(
    repo_id: str,
    series: list[tuple[str, int]],
    latest: q.Snapshot,
    view: str,
    estimated: list[str],
    label: str,
) -> ChartSpec:
    """A model's all-time downloads over time, or gained per week (`view`)."""
    points: list[tuple[str, float]] = [(t, float(v)) for t, v in series]
    breaks: list[str] = []
    if view == WEEKLY:
        steps = weekly(series)
        points, breaks = steps.points, steps.starts
    drawn = {t for t, _ in points}
    estimated = [t for t in estimated if t in drawn]
    what = WHAT[view, "all_time"]
    alt_what = "all-time downloads gained per week" if view == WEEKLY else "cumulative downloads"
    return ChartSpec(
        title=f"{repo_id}: {what}",
        series={repo_id: points},
        metric="all_time",
        snapshot_date=latest.date,
        alt_text=chart_alt_text(
            {repo_id: points},
            latest.date,
            f"Hub {alt_what} of {repo_id}",
            view=view if view == WEEKLY else TOTAL,
            estimated=estimated,
            estimate=label,
        ),
        filename=f"openmodels-model-{repo_id.replace('/', '-')}-{latest.date}.png",
        sample=latest.is_sample,
        breaks={repo_id: breaks} if breaks else {},
        view=view,
        estimated=estimated,
        estimate_label=label if estimated else "",
    )
