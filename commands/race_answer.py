"""The `race` answer: launches side by side from the day each was first seen, charted,
with one line saying who is ahead at the same age.

Which models are launches is decided by `openmodels.launch_finder`, the race by
`openmodels.races`; this module finds the runners the user named and says the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands import blocks as bk
from commands.answer import Answer, ChartSpec
from commands.common import NoData, footer
from commands.format import count, echo, escape, hub_url, link, signed
from commands.launches_answer import adoption_text, age_text, at_age, ratio_text
from commands.parser import Race, UsageError, usage_line
from openmodels.launch_finder import LaunchReader, NoLaunch, NotLaunched
from openmodels.launches import NEW_DAYS, Launch
from openmodels.races import Race as Judged
from openmodels.races import judge_race
from storage import queries as q
from storage.queries import FirstSeen
from storage.sql import Connection

if TYPE_CHECKING:
    from commands.answers import AnswerContext

RACE_NOTE = (
    "Each line is a launch's all-time downloads since the store first listed it, day 0 "
    "being that snapshot; a family stands for its latest launch. Who is ahead is judged at "
    "the age every runner has reached (the youngest's), from the snapshot nearest that age."
)


def race_answer(db: Connection, ctx: AnswerContext, command: Race) -> Answer:
    """The launches `command` names, raced from day 0."""
    latest = q.latest_snapshot(db)
    if latest is None:
        raise NoData
    reader = LaunchReader(db, ctx.families.keys)
    sightings = [_runner(db, ctx, reader, name) for name in command.names]
    seen: set[str] = set()
    for name, sighting in zip(command.names, sightings, strict=True):
        if sighting.repo_id in seen:
            raise UsageError(
                f"{escape(sighting.repo_id)} is in the race twice (as '{echo(name)}').",
                usage_line("race"),
            )
        seen.add(sighting.repo_id)
    runners = reader.described(sightings)
    for launch in runners:
        if launch.gained is None:
            raise UsageError(
                f"{escape(launch.repo_id)} is not in the latest snapshot: it has no "
                "downloads to race.",
                usage_line("race"),
            )
    race = judge_race(runners, {x.repo_id: _history(db, x.repo_id) for x in runners})
    verdict = verdict_text(race)
    title = " vs ".join(x.repo_id.split("/", 1)[1] for x in runners)
    lines = [
        f"{i}. {link(hub_url(x.repo_id), x.repo_id)} ({escape(ctx.families.label(x.family))}) · "
        f"first seen {x.first_seen[:10]} · {_so_far(x)}"
        + (f" · {adoption_text(x.adoption)}" if x.adoption is not None else "")
        for i, x in enumerate(runners, 1)
    ]
    blocks = [
        bk.header(f"Launch race: {title}"),
        bk.section(verdict),
        bk.section("\n".join(lines)),
        bk.context(RACE_NOTE),
        footer(latest),
    ]
    chart = ChartSpec(
        # A long title would run off the image: the legend names the runners anyway.
        title=f"Race: {title}" if len(title) <= 70 else f"Race of {len(runners)} launches",
        series={},
        metric="since_launch",
        snapshot_date=latest.date,
        alt_text=race_alt_text(race, latest.date, verdict.replace("*", "")),
        filename=f"openmodels-race-{'-'.join(_slug(x.repo_id) for x in runners)}-{latest.date}.png",
        sample=latest.is_sample,
        race=race.lines,
        race_age=round(race.age.total_seconds() / 86_400, 2),
    )
    text = verdict.replace("*", "")
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public, chart=chart)


def _runner(db: Connection, ctx: AnswerContext, reader: LaunchReader, name: str) -> FirstSeen:
    """The launch `name` stands for, as its sighting: a model (ORG/NAME), or a family's
    latest launch."""
    from commands.ranking_answers import resolve  # answers imports this module

    if "/" not in name:
        family = resolve(ctx.families, name)
        found = reader.latest_of(family.key)
        if found is None:
            raise UsageError(
                f"{escape(family.label)} has no launch in the store to race: a launch is a "
                "model first seen after the store's first snapshot and created at most "
                f"{NEW_DAYS} days before (`/openmodels new {family.key} --days 365` lists "
                "the year's)."
            )
        return found
    model = q.find_model(db, name)
    if model is None:
        latest = q.latest_snapshot(db)
        similar = q.similar_models(db, latest, name.split("/")[-1][:60]) if latest else []
        message = f"No model '{echo(name, 120)}' in the store."
        if similar:
            message += " Did you mean: " + ", ".join(f"`{escape(s)}`" for s in similar) + "?"
        raise UsageError(message, usage_line("race"))
    sighting = reader.find(model[0])
    if isinstance(sighting, NoLaunch):
        raise UsageError(not_a_launch(sighting), usage_line("race"))
    return sighting


def not_a_launch(found: NoLaunch) -> str:
    """Why a model cannot race (or has no relative adoption): it is no launch."""
    name = escape(found.repo_id)
    seen = (found.first_seen or "")[:10]
    if found.why is NotLaunched.THERE_ALL_ALONG:
        return (
            f"{name} was already listed by the store's first snapshot of its kind ({seen}): "
            "its launch is not in the store, so its downloads since launch are unknown."
        )
    if found.why is NotLaunched.REDEFINED:
        return (
            f"{name} was first counted on {seen} only because the families file changed: "
            "it was on the Hub before, so its launch is not in the store."
        )
    if found.why is NotLaunched.CREATED_EARLIER:
        created = (found.created_at or "")[:10]
        return (
            f"{name} was created on {created} but first listed on {seen}, more than "
            f"{NEW_DAYS} days later: its first days are not in the store."
        )
    return f"No model '{name}' in the store."


def _history(db: Connection, repo_id: str) -> list[tuple[str, int]]:
    return [(p.taken_at, p.downloads_all_time) for p in q.model_history(db, repo_id)]


def _so_far(launch: Launch) -> str:
    if launch.age.total_seconds() <= 0:
        return "first seen in the latest snapshot"
    return f"{signed(launch.gained or 0)} in {age_text(launch.age)}"


def verdict_text(race: Judged) -> str:
    """One line: who is ahead at the age every runner has reached, and by how much."""
    if race.age.total_seconds() <= 0:
        return (
            "Too early to tell: a runner was first seen in the latest snapshot, so no runner "
            "has a day on the others yet."
        )
    when = at_age(race.age)
    if len(race.standings) < 2:
        missing = ", ".join(escape(r) for r in race.unmeasured)
        return f"No race at {when}: no snapshot near that age for {missing}."
    leader = race.leader
    first_name, first_gained = race.standings[0]
    if leader is None:
        level = [escape(r) for r, gained in race.standings if gained == first_gained]
        return (
            f"At {when}, *{' and '.join(level)}* are level at {signed(first_gained)} "
            "downloads since first seen."
        )
    behind = []
    for repo_id, gained in race.standings[1:]:
        by = f"{ratio_text(first_gained / gained)} " if gained > 0 else "ahead of "
        behind.append(f"{by}*{escape(repo_id)}* ({signed(gained)})")
    text = (
        f"At {when}, *{escape(first_name)}* is ahead with {signed(first_gained)} downloads "
        f"since first seen: " + ", ".join(behind) + "."
    )
    if race.unmeasured:
        text += f" Not measured at {when}: " + ", ".join(escape(r) for r in race.unmeasured) + "."
    return text


def race_alt_text(race: Judged, date: str, verdict: str) -> str:
    """Alt text: each runner's line's end, then the verdict."""
    parts = [
        f"{repo_id} {signed(points[-1][1])} at day {points[-1][0]:.0f}"
        for repo_id, points in race.lines.items()
        if points
    ]
    runners = count(len(race.lines), "launch", "launches")
    return (
        f"Line chart of downloads since first seen, day 0 aligned, of {runners} up to "
        f"{date}: " + "; ".join(parts) + f". {verdict}"
    )


def _slug(repo_id: str) -> str:
    """A runner's name in a file name: its model name, lower case, at most 24 characters."""
    name = repo_id.split("/", 1)[-1].lower()[:24]
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")
