"""Helpers for the tests of installs through Slack's OAuth flow: the real Bolt app in
OAuth mode behind waitress, the Slack stand-in playing Slack (consent page, tokens,
events), and a browser playing the person who installs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.app import build_app
from bot.handlers import BotServices
from bot.installations import Installations, InstalledWorkspaces, open_installations
from bot.oauth import INSTALL_PATH, REDIRECT_PATH
from bot.runtime import BackgroundServer
from bot.settings import OAuthCredentials, SlackSettings
from commands import AnswerContext
from localslack.browser import Browser, Visit
from localslack.oauth import OAuthApp
from localslack.payloads import event_callback
from localslack.server import LocalSlack
from openmodels.families import load_families
from storage import Store
from storage.port import column_names
from storage.sql import Connection
from storage.workspaces import INSTALLATION_TABLES, TEAM_TABLES
from tests.slack_helpers import QUICK, SIGNING_SECRET, RunningBot, post, signed_json, tiny_png

CLIENT_ID, CLIENT_SECRET = "1234.5678", "0123456789abcdef0123456789abcdef"
# Two workspaces, each with an installer, an admin, a member and two channels; a third in
# an Enterprise Grid organisation.
T1, T2, T3, GRID = "T1", "T2", "T3", "E1"
PEOPLE = {T1: ("U1", "U1A", "U1M"), T2: ("U2", "U2A", "U2M"), T3: ("U3", "U3A", "U3M")}
CHANNELS = {T1: ("C1A", "C1B"), T2: ("C2A", "C2B"), T3: ("C3A", "C3B")}


def workspaces(slack: LocalSlack) -> None:
    """The workspaces of these tests, none of them running openmodels yet."""
    for team, name, grid in ((T1, "One", None), (T2, "Two", None), (T3, "Three", GRID)):
        installer, admin, member = PEOPLE[team]
        slack.add_workspace(
            team,
            name,
            members={installer, member},
            admins={admin},
            channels=set(CHANNELS[team]),
            enterprise_id=grid,
        )


@dataclass
class OAuthBot(RunningBot):
    """The real app in OAuth mode, its store, and its installation store."""

    store: Store | None = None
    installations: Installations | None = None

    def clients(self) -> InstalledWorkspaces:
        """Each workspace's client as `serve`'s scheduled jobs get it: from the installation
        store the app uses."""
        assert self.store is not None and self.installations is not None
        return InstalledWorkspaces(self.store, self.installations, self.slack.api_url)

    def install(self, team: str, user: str | None = None, *, org_wide: bool = False) -> Visit:
        """`user` (the workspace's installer by default) opens the install page, clicks
        "Add to Slack" and allows the app: the page the app shows at the end."""
        browser = self.browser(team, user, org_wide=org_wide)
        return browser.add_to_slack(self.install_url)

    def browser(self, team: str, user: str | None = None, *, org_wide: bool = False) -> Browser:
        """A browser signed in to Slack as `user` of `team`."""
        return self.slack.sign_in(team, user or PEOPLE[team][0], org_wide=org_wide)

    @property
    def install_url(self) -> str:
        return self.server.base_url + INSTALL_PATH

    def uninstall(self, team: str) -> None:
        """Slack removes the app from `team` and tells it; wait until it has dealt with it."""
        before = len(self.slack.events_sent)
        assert self.slack.uninstall(team) == [200, 200]
        for callback in self.slack.events_sent[before:]:
            self.wait_done(callback["event_id"])

    def revoke(self, team: str) -> None:
        before = len(self.slack.events_sent)
        assert self.slack.revoke_bot_token(team) == [200]
        for callback in self.slack.events_sent[before:]:
            self.wait_done(callback["event_id"])

    def send_event(self, team: str, event: dict[str, Any], **fields: Any) -> None:
        """POST one signed event callback for `team` (fields of the callback overridden)."""
        workspace = self.slack.workspaces.get(team)
        assert workspace is not None
        callback = (
            event_callback(
                event,
                team_id=team,
                enterprise_id=workspace.enterprise_id,
                bot_user_id=workspace.bot_user_id,
            )
            | fields
        )
        body = json.dumps(callback).encode()
        assert post(self.server.url, body, signed_json(body)).status == 200
        self.wait_done(callback["event_id"])


@contextmanager
def running_oauth_bot(
    store: Store,
    *,
    slack: LocalSlack | None = None,
    token_rotation: bool = False,
    token_seconds: float = 43200.0,
) -> Iterator[OAuthBot]:
    """The real app in OAuth mode against `slack` (a strict stand-in with the tests'
    workspaces by default), with its events coming back to the app."""
    with slack or LocalSlack(strict_tokens=True) as fake:
        if not fake.workspaces.get(T1):
            workspaces(fake)
        credentials = OAuthCredentials(CLIENT_ID, CLIENT_SECRET)
        settings = SlackSettings(
            signing_secret=SIGNING_SECRET, api_url=fake.api_url, oauth=credentials
        )
        installations = open_installations(store, credentials, fake.api_url)
        holder: list[OAuthBot] = []
        services = BotServices(
            context=AnswerContext(store=store, families=load_families()),
            render=tiny_png,
            delivery=QUICK,
            on_done=lambda url: holder[0].finished(url),
        )
        try:
            app = build_app(settings, services, installations=installations)
            with BackgroundServer(app) as server:
                fake.register_app(
                    OAuthApp(
                        CLIENT_ID,
                        CLIENT_SECRET,
                        (server.base_url + REDIRECT_PATH,),
                        token_rotation=token_rotation,
                        token_seconds=token_seconds,
                        events_url=server.url,
                        signing_secret=SIGNING_SECRET,
                    )
                )
                bot = OAuthBot(fake, server, store=store, installations=installations)
                holder.append(bot)
                yield bot
        finally:
            services.close()


def team_rows(store: Store, team: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of `team` in the store: openmodels' tables and the installation store's,
    exactly as stored."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with store.reading() as db:
        for table in (*TEAM_TABLES, *INSTALLATION_TABLES):
            found[table] = [
                tuple(row)
                for row in db.execute(
                    f"SELECT * FROM {table} WHERE team_id = ? ORDER BY {_every_column(db, table)}",
                    [team],
                )
            ]
    return found


def _every_column(db: Connection, table: str) -> str:
    """`1, 2, …`: an order by every column, for a table with or without a rowid."""
    count = len(column_names(db, table))
    return ", ".join(str(i) for i in range(1, count + 1))


def _tables(db: Connection) -> list[str]:
    """Every table of the store but the record of migrations, as each engine lists them."""
    if db.engine == "sqlite":
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return sorted(r[0] for r in rows if not r[0].startswith(("sqlite_", "_sqlite")))
    rows = db.execute(
        """SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'
           AND table_schema = current_schema() AND table_name != 'schema_migrations'"""
    )
    return sorted(r[0] for r in rows)


def all_rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store but the migrations' record."""
    with store.reading() as db:
        return {
            n: [tuple(r) for r in db.execute(f"SELECT * FROM {n} ORDER BY {_every_column(db, n)}")]
            for n in _tables(db)
        }


def states_later(monkeypatch: Any, store: Store, seconds: float) -> None:
    """Move the clock by which slack_sdk's state store judges an install link `seconds`
    ahead: SQLite's reads time.time, SQLAlchemy's datetime.now."""
    import time
    from datetime import datetime

    later = time.time() + seconds
    if store.engine_name == "sqlite":
        monkeypatch.setattr("slack_sdk.oauth.state_store.sqlite3.time.time", lambda: later)
        return

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.fromtimestamp(later, tz)

    monkeypatch.setattr("slack_sdk.oauth.state_store.sqlalchemy.datetime", Later)


def rows_but_states(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """`all_rows` but the OAuth states: opening an install link writes one, and a failed
    install may spend it; nothing else may change."""
    return {table: rows for table, rows in all_rows(store).items() if table != "oauth_states"}
