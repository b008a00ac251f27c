"""Answering subscribe, unsubscribe and subscriptions for the channel a command came from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from commands import blocks as bk
from commands.answer import Answer
from commands.format import escape
from commands.parser import Subscribe, Subscriptions, Unsubscribe, UsageError, usage_line
from openmodels.families import Families
from storage import Store, chart_shares
from storage import subscriptions as subs
from storage.snapshots import format_timestamp

INVITE_HINT = "Invite me with `/invite @openmodels` in this channel, then subscribe again."
NOUNS = {"digest": "the weekly digest", "alerts": "overtake alerts", "launches": "launch messages"}


@dataclass(frozen=True)
class Channel:
    """Where a command was typed, and by whom."""

    team_id: str
    channel_id: str
    user_id: str | None = None


@dataclass(frozen=True)
class Schedules:
    """Human descriptions of when jobs run, for confirmations ('every Monday at 09:00 UTC')."""

    collect: str = "daily at 06:00 UTC"
    digest: str = "every Monday at 09:00 UTC"


def answer_subscription(
    command: Subscribe | Unsubscribe | Subscriptions,
    store: Store,
    families: Families,
    channel: Channel,
    now: datetime,
    schedules: Schedules = Schedules(),
) -> Answer:
    """Change or list this channel's subscriptions.

    A change carries `extra["confirmation"]`: the line the bot posts in the channel so
    everyone there sees who subscribed it to what.
    """
    stamp = format_timestamp(now)
    # The user id comes from Slack's signed payload; check its shape anyway, since it is
    # the one piece of markup we emit on purpose.
    valid_user = channel.user_id and re.fullmatch(r"[UW][A-Z0-9]{2,20}", channel.user_id)
    who = f"<@{channel.user_id}>" if valid_user else "Someone"
    if isinstance(command, Subscriptions):
        with store.reading() as db:
            found = subs.for_channel(db, channel.team_id, channel.channel_id)
            missing = chart_shares.not_landed(db, channel.team_id, channel.channel_id)
        return _listing(found, families, schedules, missing)
    if isinstance(command, Subscribe):
        chosen: list[str] = []
        for name in command.families:
            family = families.resolve(name)
            if family is None:
                hint = families.suggest(name)
                message = f"Unknown family '{escape(name[:60])}'"
                message += f" — did you mean {hint}?" if hint else "."
                raise UsageError(
                    message + " Families: " + ", ".join(families.keys) + ".",
                    usage_line("subscribe"),
                )
            if family.key not in chosen:
                chosen.append(family.key)
        with store.writing() as db:
            subs.subscribe(
                db,
                channel.team_id,
                channel.channel_id,
                command.kind,
                tuple(chosen),
                stamp,
                channel.user_id,
            )
        if command.kind == "digest":
            what = (
                f"the weekly openmodels digest ({schedules.digest}, only in weeks when "
                "the rankings change)"
            )
        elif command.kind == "launches":
            scope = (
                ", ".join(families.label(k) for k in chosen) if chosen else "every tracked family"
            )
            what = (
                f"new-model launches of {scope} (a message after each collection that "
                f"finds any, {schedules.collect})"
            )
        else:
            scope = (
                ", ".join(families.label(k) for k in chosen) if chosen else "every tracked family"
            )
            what = (
                f"overtake alerts for {scope} (checked after each collection, {schedules.collect})"
            )
        confirmation = f"{who} subscribed this channel to {what}."
        text = f"Subscribed this channel to {what}."
        return Answer(text=text, blocks=[bk.section(text)], extra={"confirmation": confirmation})
    with store.writing() as db:
        removed = subs.unsubscribe(db, channel.team_id, channel.channel_id, command.kind)
    noun = NOUNS[command.kind]
    if not removed:
        text = f"This channel was not subscribed to {noun}."
        return Answer(text=text, blocks=[bk.section(text)])
    text = f"Unsubscribed this channel from {noun}."
    return Answer(
        text=text,
        blocks=[bk.section(text)],
        extra={"confirmation": f"{who} unsubscribed this channel from {noun}."},
    )


def chart_problem(share: chart_shares.ChartShare) -> str:
    """Why a digest's chart is not in its channel, in a few words."""
    if share.status == chart_shares.UNCONFIRMED:
        return (
            f"chart shared {share.uploaded_at or ''} but not shown by Slack yet "
            "(checked again at each delivery)"
        )
    if share.file_id is None:
        return "chart could not be drawn"
    return f"chart never showed, after {share.uploads} uploads"


def _listing(
    found: list[subs.Subscription],
    families: Families,
    schedules: Schedules,
    missing: list[chart_shares.ChartShare] | None = None,
) -> Answer:
    if not found:
        text = (
            "This channel has no subscriptions. Try `/openmodels subscribe digest` or "
            "`/openmodels subscribe alerts`."
        )
        return Answer(text=text, blocks=[bk.section(text)])
    lines = []
    for sub in found:
        if sub.kind == "digest":
            line = f"• *Weekly digest*, {schedules.digest}"
        elif sub.kind == "launches":
            line = f"• *Launches* of {_scope(sub, families)}, after each collection that finds any"
        else:
            scope = (
                ", ".join(escape(families.label(k)) for k in sub.families)
                if sub.families
                else "every tracked family"
            )
            line = f"• *Overtake alerts* for {scope}"
        line += f" (since {sub.created_at[:10]})"
        if sub.failing:
            line += (
                f"\n   :warning: delivery failing since {sub.failing_since} "
                f"(`{escape(sub.failure or 'error')}`). {INVITE_HINT}"
            )
        if sub.kind == "digest":
            for share in (missing or [])[-3:]:  # the latest digests'
                line += f"\n   :warning: {escape(share.event)}: {chart_problem(share)}."
        lines.append(line)
    text = "*This channel gets:*\n" + "\n".join(lines)
    return Answer(text=text, blocks=[bk.section(text)])


def _scope(sub: subs.Subscription, families: Families) -> str:
    """The families a subscription covers, in words."""
    if not sub.families:
        return "every tracked family"
    return ", ".join(escape(families.label(k)) for k in sub.families)


def channel_refused(
    answer: Answer, store: Store, channel: Channel, error: str, now: datetime
) -> Answer:
    """The bot could not post the confirmation in the channel: mark the channel's
    subscriptions failing and tell the user how to fix it."""
    with store.writing() as db:
        subs.mark_failing(db, channel.team_id, channel.channel_id, error, format_timestamp(now))
    text = (
        f"{answer.text}\n:warning: But I cannot post in this channel (`{escape(error)}`), so "
        f"nothing will arrive yet. {INVITE_HINT}"
    )
    return Answer(text=text, blocks=[bk.section(text)], error=True)
