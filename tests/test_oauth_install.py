"""Any workspace installs openmodels through Slack's OAuth flow, gets answered and
delivered to with its own token, and is forgotten when it uninstalls.

Everything goes over HTTP the way it does in production: a browser opens the real
app's /slack/install, follows "Add to Slack" to the Slack stand-in's consent page and
comes back to /slack/oauth_redirect; Slack's events (app_uninstalled, tokens_revoked)
come signed to /slack/events. The stand-in is strict: it refuses a token it did not
issue, and a channel of another workspace does not exist for a workspace's token.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from slack_sdk.oauth.installation_store import InstallationStore

from bot.app import BOT_SCOPES, NOT_INSTALLED
from bot.installations import (
    STATE_SECONDS,
    Installations,
    InstalledWorkspaces,
    WorkspaceUnavailable,
    open_installations,
)
from bot.oauth import FAILURES, ORG_WIDE_REFUSED, REDIRECT_PATH
from bot.outbox_sender import deliver
from bot.settings import OAuthCredentials
from bot.slack_stores import open_slack_stores
from commands.digest_message import digest_message
from localslack.browser import Browser
from openmodels.digest import plan_digests
from openmodels.families import load_families
from storage import outbox as ob
from storage import subscriptions as subs
from storage import workspaces as ws
from storage.workspaces import INSTALLATION_TABLES
from tests.builders import DAY0, growing_store, waits_for_lock
from tests.oauth_helpers import (
    CHANNELS,
    CLIENT_ID,
    CLIENT_SECRET,
    GRID,
    PEOPLE,
    T1,
    T2,
    T3,
    OAuthBot,
    all_rows,
    rows_but_states,
    running_oauth_bot,
    states_later,
    team_rows,
)
from tests.slack_helpers import QUICK, tiny_png

NOW = DAY0 + timedelta(days=10)
STAMP = "2026-01-11T06:00:00Z"  # NOW, as the outbox keys a digest by its slot
NEXT_WEEK = NOW + timedelta(days=7)


@pytest.fixture
def store(new_store):
    """The store, on either engine: slack_sdk's stores are in its database."""
    return growing_store(new_store("s"))


@pytest.fixture
def bot(store):
    with running_oauth_bot(store) as running:
        yield running


def installations(store) -> InstallationStore:
    """slack_sdk's installation store in `store`'s database, as the app opens it."""
    return open_slack_stores(store, CLIENT_ID, STATE_SECONDS).installations


def channel_calls(bot: OAuthBot, method: str) -> list[tuple[str | None, str, int | None]]:
    """(workspace of the token, channel, token serial) of each call of `method`."""
    return [
        (c.team, str(c.params.get("channel") or c.params.get("channel_id")), c.token_serial)
        for c in bot.slack.calls_to(method)
    ]


def queue_digests(store, slot=NOW) -> None:
    plan_digests(store, load_families(), slot, slot=slot, message=digest_message)


def deliver_all(bot: OAuthBot, store, clients=None):
    """A delivery run as `serve`'s scheduler does it: each workspace's token from the
    installation store the app uses (`clients`: those of an earlier run)."""
    return deliver(
        store,
        clients or bot.clients(),
        render=tiny_png,
        pause=lambda _s: None,
        share_waits=QUICK.share_waits,
    )


# -- installing ---------------------------------------------------------------------------


def test_the_install_page_offers_add_to_slack_for_the_apps_scopes_with_a_state(bot):
    page = Browser().get(bot.install_url)

    assert page.status == 200 and "Add to Slack" in page.text
    [link] = page.links()
    query = {k: v[-1] for k, v in parse_qs(urlsplit(link).query).items()}
    assert link.startswith(bot.slack.authorize_url)
    assert query["client_id"] == CLIENT_ID and query["state"]
    assert sorted(query["scope"].split(",")) == sorted(BOT_SCOPES)
    assert query["state"] in page.headers["set-cookie"]  # tied to this browser


def test_installing_keeps_the_workspaces_own_token_and_who_installed_it(bot, store):
    done = bot.install(T2)

    assert done.status == 200 and "openmodels is installed" in done.text and "In Two," in done.text
    found = installations(store).find_installation(enterprise_id=None, team_id=T2)
    assert found is not None and found.bot_token and found.user_id == PEOPLE[T2][0]
    with store.reading() as db:
        row = ws.get(db, T2)
    assert row is not None and (row.installed_by, row.enterprise_id) == (PEOPLE[T2][0], None)


def test_a_command_in_a_workspace_is_answered_with_that_workspaces_token(bot, store):
    bot.install(T1)
    bot.install(T2)
    installer, _, _ = PEOPLE[T2]

    [answer] = bot.command("subscribe digest", CHANNELS[T2][0], user_id=installer, team_id=T2).posts
    compared = bot.command(
        "compare qwen llama --public", CHANNELS[T2][1], user_id=installer, team_id=T2
    )

    assert answer["text"].startswith("Subscribed this channel to the weekly openmodels digest")
    assert channel_calls(bot, "chat.postMessage") == [(T2, CHANNELS[T2][0], 1)]
    assert {c.team for c in bot.slack.calls_to("files.completeUploadExternal")} == {T2}
    assert compared.posts and not any("Sorry" in p["text"] for p in compared.posts)
    with store.reading() as db:
        assert subs.get(db, T2, CHANNELS[T2][0], "digest") is not None


def test_each_workspaces_digests_go_with_its_own_token(bot, store):
    for team in (T1, T2):
        bot.install(team)
        for channel in CHANNELS[team]:
            bot.command("subscribe digest", channel, user_id=PEOPLE[team][0], team_id=team)
    queue_digests(store)
    before = len(bot.slack.calls_to("chat.postMessage"))

    report = deliver_all(bot, store)

    assert len(report.sent) == 4 and report.retry == report.failed == []
    posted = channel_calls(bot, "chat.postMessage")[before:]
    assert sorted(posted) == sorted(
        (team, channel, 1) for team in (T1, T2) for channel in CHANNELS[team]
    )
    team_of = {channel: team for team, channels in CHANNELS.items() for channel in channels}
    uploads = bot.slack.calls_to("files.completeUploadExternal")
    assert len(uploads) == 4
    assert all(c.team == team_of[c.params["channel_id"]] for c in uploads)


# -- uninstalling -------------------------------------------------------------------------


def test_uninstalling_forgets_the_workspace_and_leaves_the_other_byte_for_byte(bot, store, caplog):
    for team in (T1, T2):
        bot.install(team)
        for channel in CHANNELS[team]:
            bot.command("subscribe alerts qwen", channel, user_id=PEOPLE[team][0], team_id=team)
            bot.command("subscribe digest", channel, user_id=PEOPLE[team][0], team_id=team)
    queue_digests(store)
    deliver_all(bot, store)
    with store.writing() as db:  # one still waiting
        ob.enqueue(db, T2, CHANNELS[T2][0], "alert", "later", {"text": "x"}, "2026-01-12")
    kept = team_rows(store, T1)

    with caplog.at_level(logging.INFO, logger="bot.uninstall"):
        bot.uninstall(T2)

    assert all(rows == [] for rows in team_rows(store, T2).values())
    assert team_rows(store, T1) == kept
    [said] = [r.getMessage() for r in caplog.records if "uninstalled" in r.getMessage()]
    assert f"workspace {T2}" in said
    assert "4 subscriptions" in said and "3 outbox" in said and "1 workspaces" in said


def test_a_command_after_uninstalling_says_it_is_not_installed(bot):
    bot.install(T2)
    bot.uninstall(T2)

    refused = bot.command(
        "subscribe digest", CHANNELS[T2][0], user_id=PEOPLE[T2][0], team_id=T2, wait=False
    )

    assert refused.reply.status == 200
    bot.slack.wait_for(lambda: bool(bot.slack.posts(refused.response_url)))
    assert [p["text"] for p in bot.slack.posts(refused.response_url)] == [NOT_INSTALLED]


def test_a_revoked_bot_token_stops_queuing_there_and_drops_what_was_queued(bot, store, caplog):
    for team in (T1, T2):
        bot.install(team)
        bot.command("subscribe digest", CHANNELS[team][0], user_id=PEOPLE[team][0], team_id=team)
    queue_digests(store)  # this week's digest waits for both
    before = len(bot.slack.calls_to("chat.postMessage"))

    with caplog.at_level(logging.WARNING):
        bot.revoke(T2)
    queue_digests(store, NEXT_WEEK)
    report = deliver_all(bot, store)

    with store.reading() as db:
        theirs = [(i.event, i.status, i.attempts) for i in ob.all_items(db) if i.team_id == T2]
        stopped = subs.get(db, T2, CHANNELS[T2][0], "digest")
    # This week's is dropped, spending no attempt; next week's was never queued.
    assert theirs == [(f"digest:{STAMP}", "failed", 0)]
    assert stopped is not None and stopped.failure == ws.NO_TOKEN  # kept, for a reinstall
    assert report.skipped_teams == []  # nothing of its left to deliver
    assert {team for team, *_ in channel_calls(bot, "chat.postMessage")[before:]} == {T1}
    assert (
        f"workspace {T2} has no usable token: 1 subscriptions stopped until it installs "
        "again, 1 queued messages dropped"
    ) in [r.getMessage() for r in caplog.records]


def test_a_workspace_that_installs_again_starts_afresh_with_no_backlog(bot, store):
    bot.install(T2)
    bot.command("subscribe digest", CHANNELS[T2][0], user_id=PEOPLE[T2][0], team_id=T2)
    queue_digests(store)
    bot.revoke(T2)
    queue_digests(store, NEXT_WEEK)

    bot.install(T2)
    deliver_all(bot, store)  # nothing queued while it was away bursts out
    posted_on_return = channel_calls(bot, "chat.postMessage")
    queue_digests(store, NEXT_WEEK + timedelta(days=7))
    deliver_all(bot, store)

    [confirmation] = posted_on_return  # of the subscription, before the revocation
    later = channel_calls(bot, "chat.postMessage")[1:]
    assert later == [(T2, CHANNELS[T2][0], confirmation[2] + 1)]  # one digest, a new token
    with store.reading() as db:
        resumed = subs.get(db, T2, CHANNELS[T2][0], "digest")
    assert resumed is not None and resumed.failure is None


def test_a_workspace_found_without_a_token_at_delivery_is_stopped_the_same_way(bot, store):
    # Its token went without an event reaching us (say, one missed while we were down).
    for team in (T1, T2):
        bot.install(team)
        bot.command("subscribe digest", CHANNELS[team][0], user_id=PEOPLE[team][0], team_id=team)
    queue_digests(store)
    installations(store).delete_installation(enterprise_id=None, team_id=T2)

    first = deliver_all(bot, store)
    second = deliver_all(bot, store)

    assert first.skipped_teams == [T2] and second.skipped_teams == []
    with store.reading() as db:
        theirs = [(i.status, i.attempts) for i in ob.all_items(db) if i.team_id == T2]
        assert subs.of_kind(db, "digest") == [subs.get(db, T1, CHANNELS[T1][0], "digest")]
    assert theirs == [("failed", 0)]


class T2Unreadable:
    """The workspaces' clients as `serve` gets them, but T2's token cannot be read just
    now (as when its installation store's database is locked too long)."""

    def __init__(self, clients: InstalledWorkspaces) -> None:
        self.clients = clients

    def client_for(self, team_id: str):
        if team_id == T2:
            raise WorkspaceUnavailable("its token cannot be read just now (database is locked)")
        return self.clients.client_for(team_id)


def test_a_workspace_whose_token_cannot_be_read_waits_for_the_next_run_alone(bot, store):
    for team in (T1, T2):
        bot.install(team)
        bot.command("subscribe digest", CHANNELS[team][0], user_id=PEOPLE[team][0], team_id=team)
    queue_digests(store)

    first = deliver_all(bot, store, T2Unreadable(bot.clients()))

    assert list(first.unavailable_teams) == [T2] and first.skipped_teams == []
    with store.reading() as db:
        items = {i.team_id: (i.status, i.attempts) for i in ob.all_items(db)}
        assert len(subs.of_kind(db, "digest")) == 2  # neither workspace stopped
    assert items == {T1: ("sent", 1), T2: ("pending", 0)}
    second = deliver_all(bot, store)
    assert second.sent and not second.unavailable_teams


def test_a_store_error_reading_a_token_is_that_workspaces_alone(bot, store):
    bot.install(T2)
    clients = bot.clients()
    with store.writing() as db:  # what the store keeps of workspaces, unreadable
        db.execute("ALTER TABLE workspaces RENAME TO workspaces_away")

    with pytest.raises(WorkspaceUnavailable, match="cannot be read just now"):
        clients.client_for(T2)


def test_a_late_uninstall_event_never_undoes_a_reinstall(bot, store):
    bot.install(T2)
    bot.command("subscribe digest", CHANNELS[T2][0], user_id=PEOPLE[T2][0], team_id=T2)
    kept = team_rows(store, T2)

    # Slack delivers an uninstall from before the current install (slackapi/bolt-js#1558).
    bot.send_event(T2, {"type": "app_uninstalled"}, event_time=1_600_000_000)

    assert team_rows(store, T2) == kept


# -- bad input to the install pages ----------------------------------------------------------


def redirect_of(bot: OAuthBot, browser: Browser) -> str:
    """Open the install page and allow the app on Slack's page; the URL Slack sends the
    browser back to (not opened yet)."""
    page = browser.get(bot.install_url)
    consent = browser.get(page.links()[0])
    assert consent.status == 302 and consent.location is not None
    return consent.location


def test_a_forged_state_gets_a_clear_page_and_changes_nothing(bot, store):
    browser = bot.browser(T2)
    back = redirect_of(bot, browser)
    code = parse_qs(urlsplit(back).query)["code"][0]
    forged = "forged-state-0000"
    browser.set_cookie(bot.server.base_url, "slack-app-oauth-state", forged)
    before = all_rows(store)

    page = browser.get(f"{bot.server.base_url}{REDIRECT_PATH}?code={code}&state={forged}")

    assert page.status == 401 and "expired" in page.text and "Nothing was installed" in page.text
    assert all_rows(store) == before
    assert bot.slack.oauth.exchanges == 0


def test_a_state_from_another_browser_gets_a_clear_page_and_changes_nothing(bot, store):
    back = redirect_of(bot, bot.browser(T2))
    before = all_rows(store)

    page = bot.browser(T2).get(back)  # no state cookie in this browser

    assert page.status == 400 and FAILURES["invalid_browser"].split(".")[0] in page.text
    assert all_rows(store) == before


def test_an_expired_state_gets_a_clear_page_and_changes_nothing(bot, store, monkeypatch):
    browser = bot.browser(T2)
    back = redirect_of(bot, browser)
    states_later(monkeypatch, store, 601)  # the install link is good for 10 minutes
    before = all_rows(store)

    page = browser.get(back)

    assert page.status == 401 and "expired" in page.text
    assert all_rows(store) == before


def test_a_replayed_code_gets_a_clear_page_and_changes_nothing(bot, store):
    browser = bot.browser(T2)
    first = redirect_of(bot, browser)
    assert browser.get(first).status == 200  # installed
    code = parse_qs(urlsplit(first).query)["code"][0]
    again = redirect_of(bot, browser)  # a new install link and state, the old code
    replayed = again.replace(parse_qs(urlsplit(again).query)["code"][0], code)
    before = rows_but_states(store)

    page = browser.get(replayed)

    assert page.status == 401 and "was used already, or has expired" in page.text
    assert rows_but_states(store) == before


def test_the_same_redirect_opened_twice_installs_once(bot, store):
    browser = bot.browser(T2)
    back = redirect_of(bot, browser)
    assert browser.get(back).status == 200
    before = all_rows(store)

    page = browser.get(back)

    assert page.status in {400, 401} and "Nothing was installed" in page.text
    assert all_rows(store) == before


def test_a_missing_code_gets_a_clear_page_and_changes_nothing(bot, store):
    browser = bot.browser(T2)
    back = redirect_of(bot, browser)
    state = parse_qs(urlsplit(back).query)["state"][0]
    before = rows_but_states(store)

    page = browser.get(f"{bot.server.base_url}{REDIRECT_PATH}?state={state}")

    assert page.status == 401 and "no authorization code" in page.text
    assert rows_but_states(store) == before


def test_cancelling_on_slacks_page_says_so_and_installs_nothing(bot, store):
    bot.slack.oauth.deny_next()
    before = rows_but_states(store)

    page = bot.install(T2)

    assert page.status == 200 and "cancelled" in page.text
    assert rows_but_states(store) == before


# -- Enterprise Grid ---------------------------------------------------------------------------


def test_an_org_wide_install_is_refused_with_a_page_that_says_so(bot, store):
    before = rows_but_states(store)

    page = bot.install(T3, org_wide=True)

    assert page.status == 400 and ORG_WIDE_REFUSED.split(",")[0] in page.text
    assert rows_but_states(store) == before


def test_a_workspace_of_an_enterprise_grid_org_works_keyed_by_org_and_workspace(bot, store):
    bot.install(T3)
    installer = PEOPLE[T3][0]

    [answer] = bot.command(
        "subscribe digest", CHANNELS[T3][0], user_id=installer, team_id=T3, enterprise_id=GRID
    ).posts
    queue_digests(store)
    report = deliver_all(bot, store)

    assert answer["text"].startswith("Subscribed this channel")
    assert installations(store).find_installation(enterprise_id=GRID, team_id=T3) is not None
    assert report.sent and not report.skipped_teams
    assert {c.team for c in bot.slack.calls_to("chat.postMessage")} == {T3}


# -- token rotation ------------------------------------------------------------------------------


def test_an_expiring_token_is_refreshed_and_the_new_one_kept_and_used(store):
    # Tokens that last an hour: within Bolt's two hours of refreshing, at every use.
    with running_oauth_bot(store, token_rotation=True, token_seconds=3600) as bot:
        bot.install(T2)
        first = installations(store).find_installation(enterprise_id=None, team_id=T2)

        bot.command("subscribe digest", CHANNELS[T2][0], user_id=PEOPLE[T2][0], team_id=T2)
        queue_digests(store)
        report = deliver_all(bot, store)

        assert first is not None and bot.slack.oauth.refreshes >= 1
        assert report.sent and report.skipped_teams == [] and report.stopped is None
        # Both posts (the confirmation, then the digest) went with a refreshed token,
        # never the first one, and Slack refused none.
        posts = bot.slack.calls_to("chat.postMessage")
        assert [c.status for c in posts] == [200, 200]
        assert all(c.token_serial is not None and c.token_serial >= 2 for c in posts)
        kept = installations(store).find_bot(enterprise_id=None, team_id=T2)
        assert kept is not None and kept.bot_token != first.bot_token


def refreshed_tokens_last_12_hours(bot: OAuthBot) -> None:
    """From now on Slack issues tokens that last 12 hours, as it does: the token of the
    install (which lasts an hour) is due for refreshing, a refreshed one is not."""
    app = bot.slack.oauth.app
    assert app is not None
    bot.slack.register_app(replace(app, token_seconds=12 * 3600))


def keeper(bot: OAuthBot, store) -> Installations:
    """The installation store as another process sharing `store` opens it: nothing in
    common with the app's but the database."""
    return open_installations(store, OAuthCredentials(CLIENT_ID, CLIENT_SECRET), bot.slack.api_url)


def test_one_refresh_at_a_time_even_when_many_ask_at_once(store):
    with running_oauth_bot(store, token_rotation=True, token_seconds=3600) as bot:
        bot.install(T2)
        refreshed_tokens_last_12_hours(bot)
        one = keeper(bot, store)
        # Five threads find the token expiring at once: one refresh, and all get its token.
        start = threading.Barrier(5)
        got: list[str] = []

        def ask() -> None:
            start.wait()
            found = one.find(None, T2)
            assert found is not None and found.bot_token
            got.append(found.bot_token)

        threads = [threading.Thread(target=ask) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert bot.slack.oauth.refreshes == 1
        assert len(got) == 5 and len(set(got)) == 1


def test_two_processes_never_refresh_one_workspaces_token_at_once(store):
    # Two replicas (or serve and a cron deliver) share the store and nothing else. While
    # the first waits for Slack to answer its refresh, the second finds the same token
    # expiring: it waits for the first, then takes the token the first was given, and
    # never spends the refresh token a second time (Slack would refuse it, and the first
    # refresh's answer would be lost).
    with running_oauth_bot(store, token_rotation=True, token_seconds=3600) as bot:
        bot.install(T2)
        refreshed_tokens_last_12_hours(bot)
        installed_a_minute_ago(store, T2)
        first, second = keeper(bot, store), keeper(bot, store)
        slack_answers = threading.Event()
        bot.slack.delay(
            "oauth.v2.access",
            slack_answers,
            times=1,
            when=lambda params: params.get("grant_type") == "refresh_token",
        )
        got: dict[str, str] = {}

        def ask(name: str, installations: Installations) -> None:
            found = installations.find(None, T2)
            assert found is not None and found.bot_token
            got[name] = found.bot_token

        asking = [threading.Thread(target=ask, args=("first", first))]
        asking[0].start()
        assert bot.slack.wait_for(lambda: bot.slack.holding("oauth.v2.access") == 1)
        asking.append(threading.Thread(target=ask, args=("second", second)))
        asking[1].start()
        assert waits_for_lock(store)  # the second waits for the first's refresh
        slack_answers.set()
        for thread in asking:
            thread.join(timeout=30)

        assert bot.slack.oauth.refreshes == 1
        assert got["first"] == got["second"]
        refreshes = [c for c in bot.slack.calls_to("oauth.v2.access") if c.params.get("grant_type")]
        assert len(refreshes) == 1
        kept = installations(store).find_bot(enterprise_id=None, team_id=T2)
        assert kept is not None and kept.bot_token == got["first"]


def test_a_refreshed_token_is_kept_while_a_long_import_holds_the_store(tmp_path, caplog):
    # Slack revokes the old refresh token as it answers a refresh: the new token must
    # live even when the store cannot take it (a long `openmodels import` holding the
    # write lock past the installation store's wait; 20 ms here for 30 s). It is used
    # from memory meanwhile and saved once the import is over.
    store = growing_store(tmp_path / "s.db")
    with running_oauth_bot(store, token_rotation=True, token_seconds=3600) as bot:
        bot.install(T2)
        refreshed_tokens_last_12_hours(bot)
        installed_a_minute_ago(store, T2)
        credentials = OAuthCredentials(CLIENT_ID, CLIENT_SECRET)
        kept = open_installations(store, credentials, bot.slack.api_url, busy_timeout_ms=20)
        clients = InstalledWorkspaces(store, kept, bot.slack.api_url)
        before = installations(store).find_bot(enterprise_id=None, team_id=T2)
        assert before is not None
        an_import = sqlite3.connect(store.path, isolation_level=None)
        an_import.execute("BEGIN IMMEDIATE")
        caplog.set_level(logging.INFO, logger="bot.installations")
        try:
            during = clients.client_for(T2)
            again = clients.client_for(T2)
            stored_during = installations(store).find_bot(enterprise_id=None, team_id=T2)
        finally:
            an_import.execute("ROLLBACK")
            an_import.close()
        after = clients.client_for(T2)

        assert during is not None and again is not None and after is not None
        assert during.auth_test()["team_id"] == T2  # Slack takes the new token
    assert bot.slack.oauth.refreshes == 1
    assert during.token != before.bot_token
    assert again.token == after.token == during.token
    assert stored_during is not None and stored_during.bot_token == before.bot_token
    assert "IS NOT SAVED" in caplog.text and "saved the refreshed bot token" in caplog.text
    stored = installations(store).find_bot(enterprise_id=None, team_id=T2)
    assert stored is not None and stored.bot_token == during.token


def installed_a_minute_ago(store, team: str) -> None:
    """Date the workspace's install a minute back, as any install is by the time its
    token is refreshed (hours later): slack_sdk's SQLite store keeps each refresh as a
    new record timed to the second, and tells two of the same second apart by chance."""
    if store.engine_name != "sqlite":
        return  # SQLAlchemy's store updates the install's own record
    with store.writing() as db:
        for table in INSTALLATION_TABLES:
            db.execute(
                f"UPDATE {table} SET installed_at = datetime(installed_at, '-1 minute') "
                "WHERE team_id = ?",
                [team],
            )


def test_requests_remember_only_a_workspaces_current_token(store):
    from slack_bolt import BoltContext

    from bot.installations import kept_authorize
    from bot.slack_client import make_web_client

    # Tokens that last three hours: not yet within the two hours before expiry in which
    # a token is refreshed.
    with running_oauth_bot(store, token_rotation=True, token_seconds=3 * 3600) as bot:
        bot.install(T1)
        bot.install(T2)
        client = make_web_client(None, bot.slack.api_url)
        credentials = OAuthCredentials(CLIENT_ID, CLIENT_SECRET)
        authorize = kept_authorize(bot.installations, credentials, client)

        def request_from(team: str) -> str:
            context = BoltContext({"client": client})
            found = authorize(context=context, enterprise_id=None, team_id=team, user_id=None)
            assert found is not None and found.bot_token
            return str(found.bot_token)

        first = request_from(T1)
        tokens = [request_from(T2)]
        # Hours later: the token is now within the window, and the request refreshes it.
        bot.installations.minutes = 4 * 60
        tokens.append(request_from(T2))

        assert tokens[0] != tokens[1]  # rotated
        kept = {token: result.team_id for token, result in authorize.authorize_result_cache.items()}
        assert kept == {first: T1, tokens[-1]: T2}  # none of T2's old tokens; T1's stays


# -- scheduled work and cron ---------------------------------------------------------------


def test_cron_deliver_posts_each_workspaces_items_with_its_own_token(
    bot, store, monkeypatch, capsys
):
    from openmodels.cli import main

    for team in (T1, T2):
        bot.install(team)
        bot.command("subscribe digest", CHANNELS[team][0], user_id=PEOPLE[team][0], team_id=team)
    queue_digests(store)
    before = len(bot.slack.calls_to("chat.postMessage"))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SLACK_API_URL", bot.slack.api_url)

    code = main(["deliver", "--db", store.location])

    assert code == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("2 sent")
    posted = channel_calls(bot, "chat.postMessage")[before:]
    assert sorted(posted) == [(T1, CHANNELS[T1][0], 1), (T2, CHANNELS[T2][0], 1)]


def test_app_home_tabs_are_refreshed_with_each_workspaces_token(bot, store):
    from bot.home import refresh_home_tabs
    from bot.home_pace import HomePace
    from bot.posting import run_now
    from commands import AnswerContext
    from storage import home_visits
    from storage.snapshots import format_timestamp

    for team in (T1, T2, T3):
        bot.install(team)
        with store.writing() as db:
            home_visits.record(db, team, PEOPLE[team][0], None, format_timestamp(NOW))
    bot.revoke(T3)
    context = AnswerContext(store=store, families=load_families(), now=lambda: NOW)

    published = run_now(refresh_home_tabs(bot.clients(), context, NOW, HomePace()), lambda _s: None)

    assert published == 2
    publishes = bot.slack.calls_to("views.publish")
    assert sorted((c.team, c.params["user_id"]) for c in publishes) == [
        (T1, PEOPLE[T1][0]),
        (T2, PEOPLE[T2][0]),
    ]


def test_an_item_posted_while_its_workspace_is_forgotten_leaves_nothing_behind(store):
    from bot.outbox_sender import _record_sent
    from storage import announcements as an

    with store.writing() as db:
        ob.enqueue(db, T2, "C2A", "alert", "e1", {"text": "x", "pairs": [["llama", "qwen"]]}, "t")
        [item] = ob.all_items(db)
        ws.forget(db, T2)  # the uninstall, while the item was being posted
        _record_sent(db, item, "2026-01-12T00:00:00Z", "1.0", None)

        assert an.latest(db, T2, "C2A", [("llama", "qwen")]) == {}
        assert ob.all_items(db) == []


def test_serve_http_as_a_real_process_installs_workspaces_and_answers_each(store):
    """`openmodels serve --http` with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, as a real
    process: a workspace installs it through the flow and is answered with its token."""
    import os

    from localslack.oauth import OAuthApp
    from localslack.server import LocalSlack
    from tests.oauth_helpers import workspaces
    from tests.slack_helpers import SIGNING_SECRET, post, serving_over_http, signed, slash_form

    with LocalSlack(strict_tokens=True) as slack:
        workspaces(slack)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env |= {
            "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "OPENMODELS_DB": store.location,
        }
        with serving_over_http(env) as events:
            base = events.removesuffix("/slack/events")
            slack.register_app(
                OAuthApp(
                    CLIENT_ID,
                    CLIENT_SECRET,
                    (base + REDIRECT_PATH,),
                    events_url=events,
                    signing_secret=SIGNING_SECRET,
                )
            )

            installed = slack.sign_in(T2, PEOPLE[T2][0]).add_to_slack(base + "/slack/install")
            response_url = slack.response_url()
            body = slash_form("subscribe digest", response_url, CHANNELS[T2][0], PEOPLE[T2][0], T2)
            reply = post(events, body, signed(body))

            assert installed.status == 200 and "openmodels is installed" in installed.text
            assert reply.status == 200
            assert slack.wait_for(lambda: bool(slack.posts(response_url)), timeout=30)
            assert [(c.team, c.token_serial) for c in slack.calls_to("chat.postMessage")] == [
                (T2, 1)
            ]
