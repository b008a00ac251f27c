"""Delivering the outbox to Slack: each alert and digest once, a failing channel apart.

The order of writes bounds what a crash can do:
1. the item is claimed — marked 'sending' with this deliverer as owner and an expiry —
   in one committed statement before anything is posted;
2. Slack is asked to post, with message metadata carrying the item's key;
3. the item is marked 'sent' (committed) with Slack's timestamp.
A crash before 2 leaves 'sending' with nothing posted; a crash between 2 and 3 leaves
'sending' with the message in Slack. Another deliverer running at the same time (the
scheduler in `serve`, a cron `openmodels deliver`) cannot claim an item under a live
claim, so it skips it. Once the claim has expired, the next run takes the item over and
looks it up by its metadata key, and posts it again only if absent, so a duplicate
needs both a crash in that window and a look-up that fails. The look-up reads where the
item was posted: the channel's recent history, or, for an alert posted as a reply, its
thread (conversations.replies), since Slack's history lists no thread replies. A post
whose answer never came (a read timeout, a dropped connection) may have reached Slack
too: it is left interrupted in the same way, and looked up before it is posted again.
When Slack does not answer at all the run stops, and no item spends an attempt on it. For a
digest the chart upload follows the message; its own window is recorded the same way
through `slack_ts` (message done, chart not yet). A digest counts as the channel's last
digest only once it is recorded as sent.

An alert whose every pair of families was announced in the channel within the last
30 days goes as a reply in the thread of the most recent of those announcements
(`openmodels.threads`). The thread is chosen as the alert is posted, from the
announcements delivered so far, and written on the item (committed) before the post,
so a run that takes over an interrupted item knows which thread to look in. An alert
counts as announced only once it is recorded as sent.

A digest's chart is shared into the channel by its upload, and Slack shows such a
share only once it has processed it, or never: shares are reported dropped while
every call answers ok (slackapi/bolt-js#2115; paradigmxyz/centaur#311). So after the
upload the share is confirmed through files.info, polled at Slack's pace (waits
doubling from 1 s to 16 s, about 31 s: bot.delivery). One not confirmed by then is
logged with its file id, marked 'unconfirmed' on the item, and checked again on the
next delivery run; it is shared again only if files.info still
shows it in no channel RESHARE_AFTER after its upload, so a late share never gives
two charts. Until then it never counts as a delivered chart. The chart's description
goes in the message, not in the upload's `alt_txt` (see bot.delivery).

Each workspace's items go with its own bot token (bot.installations). A workspace whose
token is gone (uninstalled, revoked) is skipped, logged once: its items are not
claimed but dropped, and nothing more is queued for it until it installs again
(storage.workspaces.stop), so a reinstall never bursts out a stale backlog. One whose
token Slack refuses stops for this run, its items released as they were, as does one
whose token cannot be read from the installation store just now; the other workspaces
go on. Slack's rate limits are per workspace (and per channel for posts:
about one a second), so with a token per workspace, WORKSPACES_AT_ONCE workspaces are
delivered at the same time, each one's channels in order; with one token
(SLACK_BOT_TOKEN) everything goes in order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery import (
    DeliveryOptions,
    confirm_share,
    share_state,
    upload_args,
    with_chart_description,
)
from bot.identity import holder_id
from bot.installations import (
    OneWorkspace,
    TeamClients,
    WorkspaceUnavailable,
    stop_queuing,
    team_clients_of,
)
from bot.posting import run_now
from commands.answer import ChartSpec
from openmodels.threads import reply_thread
from storage import Store
from storage import announcements as an
from storage import chart_shares as cs
from storage import outbox as ob
from storage import subscriptions as subs
from storage.outbox import OutboxItem
from storage.snapshots import format_timestamp, parse_timestamp
from storage.sql import Connection

log = logging.getLogger(__name__)

METADATA_EVENT = "openmodels_delivery"
# Slack refuses these for the channel itself: retrying cannot help until a person acts.
CHANNEL_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "ekm_access_denied"}
)
# These concern the whole app: stop this run, keep everything pending.
APP_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked"})
HISTORY_LOOKBACK_SECONDS = 3600
MAX_LOOKUP_PAGES = 10  # of 100 messages each: far more than an hour of a thread holds
# A share files.info has not shown this long after its upload is taken as dropped.
RESHARE_AFTER = timedelta(minutes=10)
MAX_CHART_UPLOADS = 3  # then the chart is marked failed, for status and subscriptions
# How long a claim protects an item from other deliverers: far longer than one post and
# chart upload take, short enough that a crashed deliverer's items are soon taken over.
CLAIM_SECONDS = 300
# Workspaces delivered at the same time, each with its own token and its own rate limits.
WORKSPACES_AT_ONCE = 8


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)  # found already in Slack
    held: list[int] = field(default_factory=list)  # another deliverer had them
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    failing_channels: list[str] = field(default_factory=list)
    charts: list[int] = field(default_factory=list)  # shown in their channel (files.info)
    charts_unconfirmed: list[int] = field(default_factory=list)  # shared, not shown yet
    charts_reshared: list[int] = field(default_factory=list)
    charts_failed: list[int] = field(default_factory=list)
    stopped: str | None = None  # Slack refused the app itself (a revoked token): its error
    unreachable: str | None = None  # Slack did not answer at all: why
    # Workspaces whose token Slack refused (team -> error), and those with no token left
    # (uninstalled, revoked): their items stay as they were.
    stopped_teams: dict[str, str] = field(default_factory=dict)
    skipped_teams: list[str] = field(default_factory=list)
    # Workspaces whose token could not be read from the installation store (team ->
    # why): their items stay as they were, for the next run.
    unavailable_teams: dict[str, str] = field(default_factory=dict)


class _AppError(Exception):
    pass


class _Unreachable(Exception):
    """Slack did not answer at all (refused connection, DNS failure, timeout)."""


def item_key(item: OutboxItem) -> str:
    return f"{item.id}:{item.kind}:{item.event}"


def deliver(
    store: Store,
    client: WebClient | TeamClients,
    *,
    render: Callable[[ChartSpec], bytes],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    pause: Callable[[float], None] = time.sleep,
    per_channel_interval: float = 1.0,
    failpoint: Callable[[str], None] = lambda _where: None,
    share_waits: tuple[float, ...] = DeliveryOptions.share_waits,
    claim_seconds: float = CLAIM_SECONDS,
    workspaces_at_once: int = WORKSPACES_AT_ONCE,
) -> DeliveryReport:
    """Post every pending item, each with its workspace's token (`client`: one client for
    every workspace, or a client per workspace); one channel's failure never holds up the
    others, nor one workspace's the other workspaces. Then check the charts earlier runs
    shared but Slack had not shown yet.

    Each item is claimed just before it is posted, so deliverers running at once share
    the work instead of posting twice. `failpoint` is called at 'before_post',
    'after_post' and 'after_record': the reliability suite kills the process there to
    prove what a crash can and cannot do. `pause` also spaces the files.info polls
    (`share_waits`) confirming a chart's share.
    """
    clients = team_clients_of(client)
    run = _Run(
        store,
        clients,
        render,
        clock,
        pause,
        per_channel_interval,
        failpoint,
        share_waits,
        claim_seconds,
    )
    with store.reading() as db:
        stamp = format_timestamp(clock())
        items = ob.deliverable(db, stamp)
        run.report.held = [i.id for i in ob.held(db, stamp)]
        waiting = cs.unconfirmed(db)
    if run.report.held:
        log.info("delivery: %d items are being delivered by another process", len(run.report.held))
    by_team: dict[str, dict[str, list[OutboxItem]]] = {}
    for item in items:
        by_team.setdefault(item.team_id, {}).setdefault(item.channel_id, []).append(item)
    shares: dict[str, list[cs.ChartShare]] = {}
    for share in waiting:
        by_team.setdefault(share.team_id, {})
        shares.setdefault(share.team_id, []).append(share)
    teams = list(by_team)
    at_once = (
        1 if isinstance(clients, OneWorkspace) else max(1, min(workspaces_at_once, len(teams)))
    )
    if at_once == 1:
        for team in teams:
            run.workspace(team, by_team[team], shares.get(team, []))
    else:
        with ThreadPoolExecutor(at_once, thread_name_prefix="deliver") as pool:
            for done in [
                pool.submit(run.workspace, team, by_team[team], shares.get(team, []))
                for team in teams
            ]:
                done.result()
    report = run.report
    if items or report.charts or report.charts_unconfirmed or report.charts_failed:
        log.info(
            "delivery: %d sent, %d found already posted, %d to retry, %d failed, "
            "%d left to another deliverer; "
            "charts: %d shown in their channel, %d not shown yet, %d failed",
            len(report.sent),
            len(report.recovered),
            len(report.retry),
            len(report.failed),
            len(report.held),
            len(report.charts),
            len(report.charts_unconfirmed),
            len(report.charts_failed),
        )
    return report


@dataclass
class _Run:
    """One delivery run: what every workspace's delivery shares."""

    store: Store
    clients: TeamClients
    render: Callable[[ChartSpec], bytes]
    clock: Callable[[], datetime]
    pause: Callable[[float], None]
    per_channel_interval: float
    failpoint: Callable[[str], None]
    share_waits: tuple[float, ...]
    claim_seconds: float
    report: DeliveryReport = field(default_factory=DeliveryReport)
    owner: str = field(default_factory=holder_id)
    # Set when Slack does not answer at all, or refuses the one token every workspace
    # shares: every workspace's delivery stops.
    halted: threading.Event = field(default_factory=threading.Event)

    def workspace(
        self, team_id: str, channels: dict[str, list[OutboxItem]], shares: list[cs.ChartShare]
    ) -> None:
        """Deliver one workspace's channels in order, then recheck its charts."""
        if self.halted.is_set():
            return
        try:
            client = self.clients.client_for(team_id)
        except WorkspaceUnavailable as exc:
            # This workspace waits for the next run, its items as they were; the others
            # go on.
            self.report.unavailable_teams[team_id] = str(exc)
            return
        if client is None:
            # No token to post with until it installs again: its items go unclaimed
            # (no attempt spent) and are dropped, and nothing more is queued for it.
            self.report.skipped_teams.append(team_id)
            stop_queuing(self.store, team_id, self.clock())
            return
        charts = _Charts(self.store, client, self.render, self.clock, self.pause, self.share_waits)
        report = self.report
        try:
            for queue in channels.values():
                posted_here = False
                for listed in queue:
                    if self.halted.is_set():
                        return
                    claimed = _claim(self.store, listed, self.owner, self.clock, self.claim_seconds)
                    if claimed is None:
                        report.held.append(listed.id)  # another deliverer got there first
                        continue
                    if posted_here:
                        self.pause(self.per_channel_interval)  # about one message a second
                    posted_here = True
                    delivered = _deliver_one(
                        self.store, client, claimed, charts, self.clock, report, self.failpoint
                    )
                    if not delivered:
                        break  # the channel is refused: its other items were failed with it
            charts.recheck(shares, report)
        except _AppError as exc:
            report.stopped_teams[team_id] = str(exc)
            report.stopped = report.stopped or str(exc)
            if isinstance(self.clients, OneWorkspace):
                self.halted.set()  # the other workspaces' token is the same one
            log.error(
                "delivery to workspace %s stopped: Slack refused its token (%s); its items "
                "stay pending",
                team_id,
                exc,
            )
        except _Unreachable as exc:
            report.unreachable = str(exc)
            self.halted.set()
            log.warning("delivery stopped: Slack did not answer (%s); items stay pending", exc)


def _claim(
    store: Store,
    item: OutboxItem,
    owner: str,
    clock: Callable[[], datetime],
    claim_seconds: float,
) -> OutboxItem | None:
    """Claim `item` for this run; the item as it was before the claim, or None if taken."""
    now = clock()
    with store.claiming() as db:
        return ob.claim(
            db,
            item.id,
            owner,
            format_timestamp(now),
            format_timestamp(now + timedelta(seconds=claim_seconds)),
        )


def _deliver_one(
    store: Store,
    client: WebClient,
    item: OutboxItem,
    charts: _Charts,
    clock: Callable[[], datetime],
    report: DeliveryReport,
    failpoint: Callable[[str], None],
) -> bool:
    """Deliver one claimed item (`item` as it was before the claim). False when the
    channel is refused for good."""
    now = lambda: format_timestamp(clock())  # noqa: E731
    message_ts = item.slack_ts
    thread_ts = item.thread_ts
    if item.status == "sending" and message_ts is None:
        # An earlier delivery was interrupted and its claim has expired: it may have posted.
        message_ts = _find_posted(client, item)
        if message_ts is not None and item.kind != "digest":
            with store.writing() as db:
                _record_sent(db, item, now(), message_ts, thread_ts)
            report.recovered.append(item.id)
            return True
    if message_ts is None and item.kind == "alert":
        thread_ts = _choose_thread(store, item, clock)
    failpoint("before_post")
    recorded = message_ts is not None  # the message is in Slack and its ts in the store
    try:
        chart = item.payload.get("chart")
        if message_ts is None:
            text, blocks = item.payload["text"], item.payload.get("blocks")
            if chart:
                text, blocks = with_chart_description(text, blocks, str(chart["alt_text"]))
            threading: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
            response = client.chat_postMessage(
                channel=item.channel_id,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": item_key(item)}},
                **threading,
            )
            message_ts = str(response.get("ts") or "")
            failpoint("after_post")
            with store.writing() as db:
                db.execute("UPDATE outbox SET slack_ts = ? WHERE id = ?", [message_ts, item.id])
            recorded = True
        if chart:
            charts.deliver(item, chart, report)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or exc)
        if error in APP_ERRORS:
            # The app's problem, not the item's: this attempt does not count against it.
            with store.writing() as db:
                ob.release(db, item, error)
            raise _AppError(error) from None
        if error in CHANNEL_ERRORS:
            with store.writing() as db:
                ob.mark_failed(db, item.id, now(), error)
                ob.fail_channel(db, item.team_id, item.channel_id, now(), error)
                subs.mark_failing(db, item.team_id, item.channel_id, error, now())
            log.warning(
                "channel %s refused delivery (%s): its subscriptions are marked failing and "
                "no longer retried; /invite @openmodels there and subscribe again",
                item.channel_id,
                error,
            )
            report.failed.append(item.id)
            report.failing_channels.append(item.channel_id)
            return False
        _retry(store, item, now(), error, report)
        return True
    except OSError as exc:
        # Slack did not answer (refused connection, DNS, timeout): nothing about this
        # item failed, so no attempt is spent, however long the outage; and the others
        # would only wait out the same, so the run stops. A post that timed out may
        # still have reached Slack: unless its ts is recorded, the item is left
        # interrupted, so the next run looks for it before posting again.
        error = f"{type(exc).__name__}: {exc}"
        with store.writing() as db:
            ob.release(db, item, error, interrupted=not recorded)
        report.retry.append(item.id)
        raise _Unreachable(error) from None
    except Exception as exc:  # anything else: keep it for the next run
        _retry(store, item, now(), f"{type(exc).__name__}: {exc}", report)
        return True
    with store.writing() as db:
        _record_sent(db, item, now(), message_ts, thread_ts)
    failpoint("after_record")
    report.sent.append(item.id)
    return True


def _record_sent(
    db: Connection, item: OutboxItem, now: str, slack_ts: str | None, thread_ts: str | None
) -> None:
    """Mark `item` sent; a digest becomes its channel's last digest only now, so one
    that never arrives does not hold back the next, and an alert's pairs count as
    announced (in its thread) only now. An item whose workspace was forgotten while it
    was being posted (uninstalled) leaves nothing behind."""
    if not ob.mark_sent(db, item.id, now, slack_ts):
        return
    rankings = item.payload.get("rankings")
    if item.kind == "digest" and rankings is not None:
        subs.set_last_digest(db, item.team_id, item.channel_id, rankings)
    pairs = _pairs(item)
    if item.kind == "alert" and pairs and slack_ts:
        an.record(
            db,
            item.team_id,
            item.channel_id,
            pairs,
            announced_at=now,
            message_ts=slack_ts,
            thread_ts=thread_ts or slack_ts,
            outbox_id=item.id,
        )


def _pairs(item: OutboxItem) -> list[tuple[str, str]]:
    """The pairs of families an alert announces (none for items queued without them)."""
    return [(str(p[0]), str(p[1])) for p in item.payload.get("pairs") or [] if len(p) == 2]


def _choose_thread(store: Store, item: OutboxItem, clock: Callable[[], datetime]) -> str | None:
    """The thread this alert goes in (None: the channel itself), written on the item
    before it is posted."""
    with store.writing() as db:
        announced = an.latest(db, item.team_id, item.channel_id, _pairs(item))
        thread = reply_thread(
            _pairs(item),
            {pair: (parse_timestamp(at), ts) for pair, (at, ts) in announced.items()},
            clock(),
        )
        ob.set_thread(db, item.id, thread)
    return thread


def _retry(store: Store, item: OutboxItem, now: str, error: str, report: DeliveryReport) -> None:
    with store.writing() as db:
        ob.mark_retry(db, item.id, now, error)
    log.warning("item %s to %s not delivered (%s); will retry", item.id, item.channel_id, error)
    report.retry.append(item.id)


def _chart_spec(chart: dict[str, Any]) -> ChartSpec:
    return ChartSpec(
        **{**chart, "series": {k: [tuple(p) for p in v] for k, v in chart["series"].items()}}
    )


@dataclass
class _Charts:
    """Sharing digest charts into their channels, and confirming Slack shows them."""

    store: Store
    client: WebClient
    render: Callable[[ChartSpec], bytes]
    clock: Callable[[], datetime]
    pause: Callable[[float], None]
    share_waits: tuple[float, ...]

    def deliver(self, item: OutboxItem, chart: dict[str, Any], report: DeliveryReport) -> None:
        """Share the chart of an item whose message is posted, unless an earlier
        (interrupted) run already did; then confirm it. Slack's refusals propagate."""
        with self.store.reading() as db:
            share = cs.get(db, item.id)
        if share is not None and share.status == cs.LANDED:
            return
        uploaded = share is not None and share.file_id is not None
        if uploaded or self._upload(item, chart, report):
            self._confirm(item.id, item.channel_id, report)

    def _upload(self, item: OutboxItem, chart: dict[str, Any], report: DeliveryReport) -> bool:
        spec = _chart_spec(chart)
        try:
            png = self.render(spec)
        except Exception:
            # The digest text is already in the channel; a chart that cannot be drawn is
            # logged and marked, not retried forever.
            log.exception("digest chart for %s could not be drawn; text only", item.channel_id)
            with self.store.writing() as db:
                cs.mark(db, item.id, cs.FAILED)
            report.charts_failed.append(item.id)
            return False
        response = self.client.files_upload_v2(channel=item.channel_id, **upload_args(spec, png))
        file: dict[str, Any] = response.get("file") or {}
        if not file.get("id"):
            raise ValueError("Slack's upload answer named no file id")
        with self.store.writing() as db:
            cs.record_upload(db, item.id, str(file["id"]), format_timestamp(self.clock()))
        return True

    def _confirm(self, item_id: int, channel_id: str, report: DeliveryReport) -> None:
        with self.store.reading() as db:
            share = cs.get(db, item_id)
        assert share is not None and share.file_id is not None
        state = run_now(
            confirm_share(self.client, share.file_id, channel_id, self.share_waits), self.pause
        )
        if state == "landed":
            with self.store.writing() as db:
                cs.mark(db, item_id, cs.LANDED)
            report.charts.append(item_id)
            return
        log.warning(
            "digest chart %s of item %s is not shown in %s yet (files.info: %s); it does not "
            "count as delivered and is checked again on the next delivery run",
            share.file_id,
            item_id,
            channel_id,
            state,
        )
        report.charts_unconfirmed.append(item_id)

    def recheck(self, waiting: list[cs.ChartShare], report: DeliveryReport) -> None:
        """Look again at charts earlier runs shared but Slack had not shown (`waiting`,
        the workspace's, as they stood when the run began).

        One files.info each: shown now, it counts as delivered (a late share). Still in no
        channel RESHARE_AFTER after its upload, it is shared again, up to
        MAX_CHART_UPLOADS uploads in all; before that, it is left to land late.
        """
        for share in waiting:
            if share.item_id in report.charts_unconfirmed:
                continue  # shared in this very run: its polling is done
            assert share.file_id is not None and share.uploaded_at is not None
            state = share_state(self.client, share.file_id, share.channel_id)
            if state == "landed":
                with self.store.writing() as db:
                    cs.mark(db, share.item_id, cs.LANDED)
                log.info("digest chart %s landed in %s late", share.file_id, share.channel_id)
                report.charts.append(share.item_id)
                continue
            age = self.clock() - parse_timestamp(share.uploaded_at)
            if state == "unknown" or (state == "absent" and age < RESHARE_AFTER):
                log.info(
                    "digest chart %s not shown in %s yet, %d s after its upload (%s); "
                    "checking again on the next run",
                    share.file_id,
                    share.channel_id,
                    age.total_seconds(),
                    state,
                )
                report.charts_unconfirmed.append(share.item_id)
                continue
            if state == "gone":
                self._give_up(share, "its file is gone", report)
            elif share.uploads >= MAX_CHART_UPLOADS:
                self._give_up(share, f"after {share.uploads} uploads", report)
            else:
                self._reshare(share, report)

    def _reshare(self, share: cs.ChartShare, report: DeliveryReport) -> None:
        with self.store.reading() as db:
            item = ob.get(db, share.item_id)
        assert item is not None
        log.warning(
            "digest chart %s is in no channel %d minutes after its upload; sharing it again in %s",
            share.file_id,
            RESHARE_AFTER.total_seconds() // 60,
            share.channel_id,
        )
        try:
            if not self._upload(item, item.payload["chart"], report):
                return
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc)
            if error in APP_ERRORS:
                raise _AppError(error) from None
            if error in CHANNEL_ERRORS:
                self._give_up(share, f"the channel refused it: {error}", report)
                return
            log.warning("sharing chart of item %s again failed (%s)", item.id, error)
            report.charts_unconfirmed.append(item.id)
            return
        except Exception as exc:  # network trouble: the next run tries again
            log.warning("sharing chart of item %s again failed (%s)", item.id, exc)
            report.charts_unconfirmed.append(item.id)
            return
        report.charts_reshared.append(item.id)
        self._confirm(item.id, item.channel_id, report)

    def _give_up(self, share: cs.ChartShare, why: str, report: DeliveryReport) -> None:
        with self.store.writing() as db:
            cs.mark(db, share.item_id, cs.FAILED)
        log.warning(
            "digest chart of item %s never showed in %s (%s, last file %s); marked failed",
            share.item_id,
            share.channel_id,
            why,
            share.file_id,
        )
        report.charts_failed.append(share.item_id)


def _find_posted(client: WebClient, item: OutboxItem) -> str | None:
    """The ts of this item's message if an interrupted run already posted it: looked up
    in the thread it was to go in, or in the channel's recent history."""
    oldest = str(parse_timestamp(item.updated_at).timestamp() - HISTORY_LOOKBACK_SECONDS)
    try:
        for message in _recent_messages(client, item, oldest):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and (
                metadata.get("event_payload") or {}
            ).get("key") == item_key(item):
                return str(message.get("ts"))
    except SlackApiError as exc:
        if item.thread_ts and exc.response.get("error") == "thread_not_found":
            return None  # the thread's first message is gone: nothing was posted in it
        _cannot_check(item, exc)
    except Exception as exc:
        _cannot_check(item, exc)
    return None


def _recent_messages(client: WebClient, item: OutboxItem, oldest: str) -> Iterator[dict[str, Any]]:
    """The messages posted since `oldest` where `item` was to go, page by page.

    Slack's history of a channel lists no thread replies (unless also sent to the
    channel), so a reply is looked for in its thread: conversations.replies, whose
    first page starts with the thread's first message whatever `oldest` says.
    """
    cursor: str | None = None
    for _ in range(MAX_LOOKUP_PAGES):
        paging: dict[str, Any] = {"cursor": cursor} if cursor else {}
        if item.thread_ts:
            response = client.conversations_replies(
                channel=item.channel_id,
                ts=item.thread_ts,
                oldest=oldest,
                include_all_metadata=True,
                limit=100,
                **paging,
            )
        else:
            response = client.conversations_history(
                channel=item.channel_id,
                oldest=oldest,
                include_all_metadata=True,
                limit=100,
                **paging,
            )
        yield from response.get("messages") or []
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not response.get("has_more") or not cursor:
            return


def _cannot_check(item: OutboxItem, exc: Exception) -> None:
    log.warning(
        "cannot check %s%s for an interrupted post of item %s (%s); posting again may duplicate it",
        item.channel_id,
        f" (thread {item.thread_ts})" if item.thread_ts else "",
        item.id,
        exc,
    )
