"""The App Home tab: published for a user when they open it, and again after each
snapshot for everyone who opened it in the last 7 days.

What the tab shows is built in commands.home_view; this module asks Slack the one
thing the store cannot say: which channels the user is in. users.conversations with
`user` lists them, public and private, a private channel only when the bot is in it
too ("Private channel membership is only listed when the calling user, bot user, or
app shares membership", its reference page), in cursor pages that may be short before
the end (so every page is followed until the cursor is empty). It needs channels:read
and groups:read. When Slack cannot say, the tab lists no subscription at all: a
private channel is never shown to someone outside it.

users.conversations is rate-limited (Tier 3, per workspace): each workspace's calls
keep a pace, and what it said is kept for a while (bot.home_pace). A visitor opening
the tab is asked about at once; the refresh after a snapshot runs in the background at
the pace, its waits yielded as steps (bot.posting), taking the workspaces' visitors in
turn so that one workspace's pace holds up no other's, and skips whoever opened their
tab since it began. Such a refresh can outlast a bot token (a rotating one is refreshed
two hours before it expires): the workspace's client is asked for at each visit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from itertools import zip_longest
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.handlers import BotServices
from bot.home_pace import HomePace
from bot.installations import TeamClients, team_clients_of
from bot.posting import Steps, run_now
from bot.slack_client import lane_client, paced
from commands import AnswerContext
from commands.home_view import HomeFacts, Membership, home_view, read_home
from openmodels.errors import OpenModelsError
from storage import Store, home_visits
from storage.home_visits import HomeVisit
from storage.snapshots import format_timestamp

log = logging.getLogger(__name__)

REFRESH_DAYS = 7  # a tab opened within this many days is refreshed after each snapshot
CONVERSATION_TYPES = "public_channel,private_channel"
PAGE_SIZE = 200  # "We recommend no more than 200 results at a time" (users.conversations)
MAX_PAGES = 100  # 20,000 channels: beyond that, stop rather than loop


def register(app: App, services: BotServices) -> None:
    """Publish the home tab whenever a user opens it."""

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        handle_home_opened(services, event, body, client)


def handle_home_opened(
    services: BotServices, event: dict[str, Any], body: dict[str, Any], client: WebClient
) -> None:
    """Remember the visit, then publish the user's home tab."""
    if event.get("tab") != "home":
        return  # the Messages tab was opened: it shows the conversation, not a view
    user_id = str(event.get("user") or "")
    team_id = str(body.get("team_id") or "")
    dm_channel = event.get("channel")
    now = services.context.now()
    remember_visit(services.context.store, team_id, user_id, dm_channel, now)
    # At once, and fresh: a person is looking (the background refresh waits behind it).
    pace = services.home_pace
    publish_home(client, services.context, team_id, user_id, dm_channel, now, pace=pace)
    pace.memberships.opened(team_id, user_id)


def remember_visit(
    store: Store, team_id: str, user_id: str, dm_channel: str | None, now: datetime
) -> None:
    """Record the visit, so that the tab is refreshed after the next snapshots."""
    if store.sample:
        return  # the bundled sample is read-only and never gets a new snapshot
    try:
        with store.writing() as db:
            home_visits.record(db, team_id, user_id, dm_channel, format_timestamp(now))
    except OpenModelsError as exc:  # the tab is still worth publishing
        log.warning("could not record the home tab visit of %s: %s", user_id, exc)


def member_channels(
    client: WebClient, user_id: str, pace: Callable[[], float] = lambda: 0.0
) -> Steps[frozenset[str]]:
    """The public and private channels `user_id` is in that the bot can see (raises
    SlackApiError when Slack will not say, e.g. missing_scope): steps that wait, before
    each page, as long as `pace()` says."""
    channels: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        wait = pace()
        if wait:
            yield wait
        page = yield from paced(partial(_page, client, user_id, cursor), "users.conversations")
        channels |= {str(c["id"]) for c in page.get("channels") or []}
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return frozenset(channels)
    log.warning("user %s is in more than %d pages of channels; listing those", user_id, MAX_PAGES)
    return frozenset(channels)


def _page(client: WebClient, user_id: str, cursor: str | None) -> Any:
    """One page of the channels `user_id` is in."""
    return client.users_conversations(
        user=user_id,
        types=CONVERSATION_TYPES,
        exclude_archived=True,
        limit=PAGE_SIZE,
        cursor=cursor,
    )


def membership(
    client: WebClient,
    team_id: str,
    user_id: str,
    dm_channel: str | None,
    subscribed: set[str],
    pace: HomePace,
    *,
    fresh: bool,
) -> Steps[Membership]:
    """Which of the `subscribed` channels the user is in; an error when Slack cannot say.

    With `fresh` (a person opened the tab) Slack is asked now, whatever the pace; else
    what it said lately is used, or it is asked at the pace.
    """
    if not subscribed:
        return Membership()  # nothing to list: no need to ask
    known = None if fresh else pace.memberships.get(team_id, user_id)
    if known is None:
        try:
            calls = pace.calls(team_id)
            known = yield from member_channels(client, user_id, calls.now if fresh else calls.wait)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "error")
            log.warning("could not list the channels of %s (%s): none shown", user_id, error)
            return Membership(error=error)
        pace.memberships.put(team_id, user_id, known)
    # The user's direct-message channel with the bot, where they may have subscribed.
    channels = known | {dm_channel} if dm_channel else known
    return Membership(channels & frozenset(subscribed))


def publish_home(
    client: WebClient,
    context: AnswerContext,
    team_id: str,
    user_id: str,
    dm_channel: str | None,
    now: datetime,
    facts: HomeFacts | None = None,
    *,
    pace: HomePace,
) -> bool:
    """Build and publish `user_id`'s home tab now, asking Slack afresh which channels
    they are in (from `facts`, the team's as read now, if given). True if Slack took it."""
    facts = facts or read_home(context.store, team_id, now, context.timelines)
    subscribed = {s.channel_id for s in facts.subscriptions}
    # Fresh: no pace is waited for; only a 429 (whose Retry-After this client waits
    # out itself, on a listener thread) could make it sleep.
    member = run_now(
        membership(client, team_id, user_id, dm_channel, subscribed, pace, fresh=True),
        time.sleep,
    )
    return run_now(_publish(client, context, user_id, facts, member, now), time.sleep)


def _publish(
    client: WebClient,
    context: AnswerContext,
    user_id: str,
    facts: HomeFacts,
    member: Membership,
    now: datetime,
) -> Steps[bool]:
    view = home_view(facts, context.families, member, now, context.schedules)
    try:
        yield from paced(lambda: client.views_publish(user_id=user_id, view=view), "views.publish")
    except SlackApiError as exc:
        log.warning("could not publish the home tab of %s (%s)", user_id, exc.response.get("error"))
        return False
    return True


def in_turn(visits: list[HomeVisit]) -> list[HomeVisit]:
    """`visits` with the workspaces taking turns (the first of each, then the second of
    each, …), each workspace's own in order: each keeps its own pace, so while one waits
    for its next call the next workspace's is made."""
    by_team: dict[str, list[HomeVisit]] = {}
    for visit in visits:
        by_team.setdefault(visit.team_id, []).append(visit)
    turns = zip_longest(*by_team.values())
    return [visit for turn in turns for visit in turn if visit is not None]


def refresh_home_tabs(
    client: WebClient | TeamClients,
    context: AnswerContext,
    now: datetime,
    pace: HomePace,
    days: int = REFRESH_DAYS,
) -> Steps[int]:
    """Publish the tab again for everyone who opened it in the last `days`, at the pace of
    users.conversations; forget the others. Steps that wait; their result is how many
    tabs Slack took. One user's failure never stops the rest; a user who opened their
    tab since the refresh began is skipped (they have it fresh). Each workspace's tabs
    go with its own token (`client`: one for all, or one per workspace); a workspace
    with no token left is skipped."""
    clients = team_clients_of(client)
    if context.store.sample:
        return 0
    began = pace.memberships.now()
    cutoff = format_timestamp(now - timedelta(days=days))
    with context.store.writing() as db:
        home_visits.forget_before(db, cutoff)
        visits = home_visits.since(db, cutoff)
    published = 0
    by_team: dict[str, HomeFacts] = {}  # every visitor of a team sees the same figures
    for visit in in_turn(visits):
        if pace.memberships.opened_since(visit.team_id, visit.user_id, began):
            continue
        try:
            # Asked at each visit: a token fetched at the start would expire under a
            # long refresh, and the clients refresh one that expires soon.
            found = clients.client_for(visit.team_id)
            if found is None:
                continue  # no token left there: logged once by the clients
            # A 429 waits as a step: in `serve` this runs on the shared posting threads.
            client_of_team = lane_client(found)
            if visit.team_id not in by_team:
                by_team[visit.team_id] = read_home(
                    context.store, visit.team_id, now, context.timelines
                )
            facts = by_team[visit.team_id]
            member = yield from membership(
                client_of_team,
                visit.team_id,
                visit.user_id,
                visit.channel_id,
                {s.channel_id for s in facts.subscriptions},
                pace,
                fresh=False,
            )
            if pace.memberships.opened_since(visit.team_id, visit.user_id, began):
                continue  # opened while we waited our turn: theirs is fresher
            published += yield from _publish(
                client_of_team, context, visit.user_id, facts, member, now
            )
        except Exception:
            log.exception("refreshing the home tab of %s failed", visit.user_id)
    if visits:
        log.info("refreshed %d of %d App Home tabs", published, len(visits))
    return published
