"""Answering subscribe, unsubscribe and subscriptions for the channel a command came from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from commands import blocks as bk
from commands.alert_message import UNMUTE_ACTION, pair_value, parse_pair_value
from commands.answer import Answer
from commands.format import escape
from commands.parser import Subscribe, Subscriptions, Unsubscribe, UsageError, usage_line
from commands.permissions import Roles, refusal
from openmodels.families import Families
from storage import Store, chart_shares
from storage import mutes as mu
from storage import subscriptions as subs
from storage.snapshots import format_timestamp

INVITE_HINT = "Invite me with `/invite @openmodels` in this channel, then subscribe again."
METRIC_WORDS = {"all_time": "all-time", "30d": "30-day"}
MAX_MUTES_SHOWN = 40  # one section each, within Block Kit's 50 blocks


def metrics_words(metrics: tuple[str, ...]) -> str:
    """'all-time downloads', '30-day downloads', 'all-time and 30-day downloads'."""
    return " and ".join(METRIC_WORDS[m] for m in metrics) + " downloads"


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
    admins: frozenset[str] | None = None,
    roles: Roles | None = None,
) -> Answer:
    """Change or list this channel's subscriptions.

    A change carries `extra["confirmation"]`: the line the bot posts in the channel so
    everyone there sees who subscribed it to what. Who may change anything is
    commands.permissions' rule (`admins`: OPENMODELS_ADMINS; `roles`: what Slack says of
    the person); listing is open to all.
    """
    stamp = format_timestamp(now)
    who = _who(channel)
    if isinstance(command, Subscriptions):
        return listing(store, families, channel, schedules)
    refused = refusal(store, channel.team_id, channel.user_id, admins, roles)
    if refused is not None:
        return refused
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
                metrics=command.metrics,
                always=command.always,
            )
        scope = ", ".join(families.label(k) for k in chosen) if chosen else "every tracked family"
        if command.kind == "digest":
            when = (
                "every week, saying so when nothing changed"
                if command.always
                else "only in weeks when the rankings change"
            )
            what = f"the weekly openmodels digest ({schedules.digest}, {when})"
        elif command.kind == "launches":
            what = (
                f"new-model launches of {scope} (a message after each collection that "
                f"finds any, {schedules.collect})"
            )
        else:
            what = (
                f"overtake alerts for {scope} in {metrics_words(command.metrics)} "
                f"(checked after each collection, {schedules.collect})"
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


def listing(store: Store, families: Families, channel: Channel, schedules: Schedules) -> Answer:
    """What this channel gets, its delivery problems, and its muted pairs (each with an
    Unmute button)."""
    with store.reading() as db:
        found = subs.for_channel(db, channel.team_id, channel.channel_id)
        missing = chart_shares.not_landed(db, channel.team_id, channel.channel_id)
        muted = mu.for_channel(db, channel.team_id, channel.channel_id)
    return _listing(found, families, schedules, missing, muted)


def _listing(
    found: list[subs.Subscription],
    families: Families,
    schedules: Schedules,
    missing: list[chart_shares.ChartShare] | None = None,
    muted: list[mu.Mute] | None = None,
) -> Answer:
    # A pair with a family since removed from the families file gets no alerts anyway,
    # and its Unmute button would be refused as naming no pair of tracked families.
    muted = [m for m in muted or [] if all(families.get(k) is not None for k in m.pair)]
    if not found and not muted:
        text = (
            "This channel has no subscriptions. Try `/openmodels subscribe digest`, "
            "`/openmodels subscribe alerts` or `/openmodels subscribe launches`."
        )
        return Answer(text=text, blocks=[bk.section(text)])
    lines = []
    for sub in found:
        if sub.kind == "digest":
            line = f"• *Weekly digest*, {schedules.digest}"
            if sub.always:
                line += ", every week (quiet ones too)"
        elif sub.kind == "launches":
            line = f"• *Launches* of {_scope(sub, families)}, after each collection that finds any"
        else:
            line = (
                f"• *Overtake alerts* for {_scope(sub, families)} in {metrics_words(sub.metrics)}"
            )
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
    text = "*This channel gets:*\n" + "\n".join(lines) if lines else "*This channel gets:* nothing."
    blocks = [bk.section(text)]
    if muted:
        heading = f"*Muted pairs* ({len(muted)}): no overtake alerts about them here."
        blocks.append(bk.section(heading))
        text += "\n" + heading
        for m in muted[:MAX_MUTES_SHOWN]:
            a, b = (escape(families.label(k)) for k in m.pair)
            line = f"• {a} and {b} (muted {m.muted_at[:10]})"
            text += "\n" + line
            blocks.append(
                bk.section(line, accessory=bk.button("Unmute", UNMUTE_ACTION, pair_value(*m.pair)))
            )
        if len(muted) > MAX_MUTES_SHOWN:
            blocks.append(bk.context(f"_…and {len(muted) - MAX_MUTES_SHOWN} more muted pairs_"))
    return Answer(text=text, blocks=blocks)


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


def change_mute(
    muting: bool,
    value: str,
    store: Store,
    families: Families,
    channel: Channel,
    now: datetime,
    admins: frozenset[str] | None = None,
    roles: Roles | None = None,
) -> Answer:
    """Mute (or unmute) the pair a "Mute this pair here" (or "Unmute") button names, in
    the channel it was clicked in (who may: commands.permissions' rule).

    A change carries `extra["confirmation"]`, the line posted for everyone in the
    channel, like a subscription change. A value naming no pair of tracked families (a
    forged click, a family since removed from the families file) changes nothing.
    """
    refused = refusal(store, channel.team_id, channel.user_id, admins, roles)
    if refused is not None:
        return refused
    pair = parse_pair_value(value)
    if pair is None or any(families.get(k) is None for k in pair):
        text = "That button names no pair of tracked families; nothing was changed."
        return Answer(text=text, blocks=[bk.section(text)], error=True)
    names = " and ".join(escape(families.label(k)) for k in pair)
    with store.writing() as db:
        if muting:
            stamp = format_timestamp(now)
            changed = mu.mute(db, channel.team_id, channel.channel_id, pair, stamp, channel.user_id)
        else:
            changed = mu.unmute(db, channel.team_id, channel.channel_id, pair)
    if muting:
        text = (
            f"Muted overtake alerts about {names} in this channel."
            if changed
            else f"Alerts about {names} were already muted in this channel."
        ) + " `/openmodels subscriptions` lists muted pairs, each with an Unmute button."
    else:
        text = (
            f"Unmuted overtake alerts about {names} in this channel."
            if changed
            else f"Alerts about {names} were not muted in this channel."
        )
    extra = {}
    if changed:
        verb = "muted" if muting else "unmuted"
        extra["confirmation"] = (
            f"{_who(channel)} {verb} overtake alerts about {names} in this channel."
        )
    return Answer(text=text, blocks=[bk.section(text)], extra=extra)


def _who(channel: Channel) -> str:
    # The user id comes from Slack's signed payload; check its shape anyway, since it is
    # the one piece of markup we emit on purpose.
    valid_user = channel.user_id and re.fullmatch(r"[UW][A-Z0-9]{2,20}", channel.user_id)
    return f"<@{channel.user_id}>" if valid_user else "Someone"
