"""The `new` answer and the launch message: launches put into words and Block Kit.

The launches themselves are decided by `openmodels.launches` and read by
`openmodels.launch_finder`; nothing here judges what counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from commands import blocks as bk
from commands.answer import Answer
from commands.common import NoData, footer
from commands.format import count, escape, hub_url, human, link, signed
from commands.parser import New
from openmodels.families import Families
from openmodels.launch_finder import NotLaunched, launches_between
from openmodels.launches import MIN_CLASS_LAUNCHES, NEW_DAYS, Adoption, Launch, best_for_its_size
from openmodels.sizes import by_key
from storage import queries as q
from storage.snapshots import format_timestamp, parse_timestamp
from storage.sql import Connection

if TYPE_CHECKING:
    from commands.answers import AnswerContext

RULES_NOTE = (
    "A launch: a model first seen in a snapshot and created on the Hub in the period (first "
    "seen decides where the creation date is unknown), neither in the store's first snapshot "
    "nor counted only because the families file changed. Fastest start: more downloads since "
    "first seen than every earlier launch of its family at the same age. “2.3× its class”: "
    "its downloads since first seen over the median of the earlier launches of its size "
    f"class, from every tracked family, at the same age (given once {MIN_CLASS_LAUNCHES} are "
    "measured)."
)

# A long list of launches is spread over this many sections before it is cut: each line
# says how the launch started against its family's and its size class's.
LIST_SECTIONS = 4


def age_text(age: timedelta) -> str:
    """'2 days', '1 day', '18 hours'."""
    days = age.total_seconds() / 86_400
    if days >= 1:
        n = round(days)
        return f"{n} day" if n == 1 else f"{n} days"
    hours = max(1, round(age.total_seconds() / 3600))
    return f"{hours} hour" if hours == 1 else f"{hours} hours"


def at_age(age: timedelta) -> str:
    """'day 14', 'day 1', 'hour 18': an age as a point on a race's clock."""
    if age >= timedelta(hours=12):
        return f"day {round(age.total_seconds() / 86_400)}"
    return f"hour {max(1, round(age.total_seconds() / 3600))}"


def ratio_text(ratio: float) -> str:
    """'2.3×', '0.45×', '12×'."""
    if ratio >= 10:
        return f"{ratio:.0f}×"
    return f"{ratio:.1f}×" if ratio >= 1 else f"{ratio:.2f}×"


def adoption_text(adoption: Adoption) -> str:
    """'2.3× its class at day 14 (1–5B)', or in a few words why no ratio is given."""
    if adoption.size_class is None:
        return "size unknown: no class to compare with"
    label = by_key(adoption.size_class).label
    when = at_age(adoption.age)
    if adoption.ratio is not None:
        return f"{ratio_text(adoption.ratio)} its class at {when} ({label})"
    if not adoption.compared:
        return f"{label}: no earlier launch of the class at {when} to compare with"
    if not adoption.enough:
        return (
            f"{label}: {adoption.compared} earlier at {when}, too few to compare with "
            f"({MIN_CLASS_LAUNCHES} needed)"
        )
    return f"{label}: its class's earlier launches had no downloads at {when}"


def not_launched_text(why: NotLaunched) -> str:
    """Why a model is no launch the store saw, in a few words."""
    return {
        NotLaunched.UNKNOWN: "not in the store",
        NotLaunched.THERE_ALL_ALONG: "listed by the store's first snapshot of its kind",
        NotLaunched.REDEFINED: "counted only since the families file changed",
        NotLaunched.CREATED_EARLIER: f"first listed more than {NEW_DAYS} days after its creation",
    }[why]


def launch_line(launch: Launch, families: Families, show_family: bool = True) -> str:
    """One launch: its name, family, dates and downloads since first seen."""
    parts = [link(hub_url(launch.repo_id), launch.repo_id)]
    if show_family:
        parts.append(escape(families.label(launch.family)))
    seen = f"first seen {launch.first_seen[:10]}"
    seen += (
        f" (created {launch.created_at[:10]})" if launch.created_at else " (creation date unknown)"
    )
    parts.append(seen)
    if launch.gained is None:
        parts.append(f"no longer listed on {launch.as_of[:10]}")
    elif launch.age <= timedelta(0):
        parts.append(f"{human(launch.downloads_at_first)} downloads so far")
    else:
        assert launch.downloads_now is not None
        parts.append(
            f"{signed(launch.gained)} in {age_text(launch.age)} "
            f"({human(launch.downloads_now)} all-time)"
        )
    if launch.adoption is not None:
        parts.append(adoption_text(launch.adoption))
    line = " · ".join(parts)
    if launch.fastest is not None:
        f = launch.fastest
        others = f.compared - 1
        earlier = count(others, "other earlier launch", "other earlier launches")
        rest = f" and {earlier}" if others else ""
        line += (
            f"\n      :zap: *fastest start*: ahead of {escape(f.runner_up)} "
            f"({signed(f.runner_up_gained)} at {age_text(f.age)}){rest}"
        )
    return line


def new_answer(db: Connection, ctx: AnswerContext, command: New) -> Answer:
    """Models launched in the last N days, newest first, and how they started."""
    from commands.ranking_answers import resolve  # answers imports this module

    latest = q.latest_snapshot(db)
    if latest is None:
        raise NoData
    family = resolve(ctx.families, command.family) if command.family else None
    end = parse_timestamp(latest.taken_at)
    start = end - timedelta(days=command.days)
    keys = [family.key] if family else ctx.families.keys
    launches = launches_between(db, start, end, keys, ctx.families.keys)
    period = f"the last {command.days} days" if command.days != 1 else "the last day"
    subject = f"New {family.label} models" if family else "New models"
    span = f"{start.date().isoformat()} → {latest.date}"
    blocks: list[bk.Block] = [bk.header(f"{subject}: launched in {period}")]
    # The store's first measured snapshot (an estimate before it lists models that were
    # there 30 days before it, no launch either).
    first = next(s for s in q.list_snapshots(db) if not s.is_estimate)
    # A period reaching back before the store: its first snapshot's models are no launches.
    before_store = (
        f"The store's first snapshot ({first.date}) counts no launches: it lists the "
        "models that were already there."
        if first.id != latest.id and first.taken_at > format_timestamp(start)
        else ""
    )
    if not launches:
        text = f"No {family.label + ' ' if family else ''}launches in {period} ({span})."
        if first.id == latest.id:
            text += (
                " The store holds one snapshot: a launch is a model first seen after the "
                "first one. Ask again after the next collection."
            )
        elif before_store:
            text += " " + before_store
        # What a launch is, only where it explains a list: an empty one needs none.
        blocks += [bk.section(escape(text)), footer(latest)]
        return Answer(text=text, blocks=blocks, public=command.public)
    by_family = Counter(ctx.families.label(x.family) for x in launches)
    launched = count(len(launches), "launch", "launches")
    summary = f"*{launched}* from {span}"
    if family is None:
        # The count before the name: "Qwen 2" or "GLM 5" would read as a model generation.
        summary += ": " + ", ".join(f"{n} {escape(label)}" for label, n in by_family.most_common())
    fastest = [x for x in launches if x.fastest is not None]
    if fastest:
        names = ", ".join(escape(x.repo_id) for x in fastest)
        summary += f". Fastest start: {names}."
    best = best_for_its_size(launches)
    if best is not None and best.adoption is not None and best.adoption.ratio is not None:
        summary += ("" if summary.endswith(".") else ".") + (
            f" Best start for its size: {escape(best.repo_id)}, {adoption_text(best.adoption)}."
        )
    if before_store:
        summary += ("" if summary.endswith(".") else ".") + " " + before_store
    lines = [
        f"{i}. {launch_line(x, ctx.families, show_family=family is None)}"
        for i, x in enumerate(launches, 1)
    ]
    blocks.append(bk.section(summary))
    blocks += bk.list_sections(lines, "launches", "launches", sections=LIST_SECTIONS)
    blocks += [bk.context(RULES_NOTE), footer(latest)]
    text = f"{launched} in {period} ({span}): " + ", ".join(
        x.repo_id + (" (fastest start)" if x.fastest else "") for x in launches[:10]
    )
    return Answer(text=text, blocks=bk.fit(blocks), public=command.public)


def launch_message(
    launches: Sequence[Launch], families: Families, snapshot: q.Snapshot
) -> dict[str, Any]:
    """The message a `launches` subscription gets after a snapshot that found launches."""
    found = count(len(launches), "new model")
    lines = [f"• {launch_line(x, families)}" for x in launches]
    blocks = [
        bk.section(
            f":rocket: *{found}* first seen in the snapshot of {snapshot.date}:\n"
            + bk.bulleted(lines, limit=bk.MAX_SECTION_TEXT - 100, noun="launches")
        ),
        bk.context("`/openmodels new` shows the week's launches and how each started"),
    ]
    text = f"{found} first seen on {snapshot.date}: " + ", ".join(
        f"{x.repo_id} ({families.label(x.family)})" for x in launches[:20]
    )
    return {"text": bk.cut(text, bk.MAX_MESSAGE_TEXT), "blocks": blocks}
