"""The App Home through the real app: app_home_opened publishes the user's tab, its menus
open a modal and fill it, and tabs are refreshed after a snapshot. In HTTP mode (signed
requests) and in Socket Mode (envelopes over the stand-in's WebSocket)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from bot.home import refresh_home_tabs
from bot.home_pace import HomePace
from bot.jobs import Services, home_job
from bot.posting import run_now
from commands import AnswerContext
from commands import blocks as bk
from commands.home_view import COMPARE_ACTION, FAMILY_ACTION
from localslack.payloads import app_home_opened
from localslack.server import LocalSlack
from localslack.workspaces import BOT_USER_ID
from openmodels.config import Config
from openmodels.families import load_families
from storage import home_visits
from storage import subscriptions as subs
from tests.builders import growing_store
from tests.slack_helpers import CHANNEL, TEAM, USER, all_strings, running_bot, tiny_png
from tests.socket_helpers import running_socket_bot
from tests.test_manifest import REPO

OTHER = "U0OTHER"
SECRET, THEIRS = "G0SECRET", "G0THEIRS"  # private; the user is in the first only


def manifest_scopes() -> set[str]:
    manifest = yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))
    return set(manifest["oauth_config"]["scopes"]["bot"])


def workspace(**kwargs: object) -> LocalSlack:
    """The user is in #general (C0TEST) and #secret; #theirs is private, without them and
    without the bot. The token has exactly the manifest's scopes."""
    return LocalSlack(
        channel_members={CHANNEL: {USER, OTHER}, SECRET: {USER}, THEIRS: {OTHER}},
        members={CHANNEL, SECRET},
        private_channels={SECRET, THEIRS},
        scopes=manifest_scopes(),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(new_store):
    store = growing_store(new_store("home"))
    with store.writing() as db:
        for channel, kind in [(CHANNEL, "digest"), (SECRET, "alerts"), (THEIRS, "alerts")]:
            subs.subscribe(db, TEAM, channel, kind, (), "2026-01-05T00:00:00Z")
    return store


def published(slack: LocalSlack, user: str = USER) -> dict:
    assert slack.wait_for(lambda: user in slack.home_views), "no home tab was published"
    return slack.home_views[user]


def strings(view: dict) -> str:
    return "\n".join(all_strings(view["blocks"]))


# -- HTTP mode ------------------------------------------------------------------------------


def test_opening_the_home_tab_publishes_it_for_that_user(store):
    with running_bot(store, slack=workspace()) as bot:
        reply = bot.event(app_home_opened(USER))
        view = published(bot.slack)

    assert reply.status == 200
    [call] = bot.slack.calls_to("views.publish")
    assert call.params["user_id"] == USER
    assert view["type"] == "home" and bk.check_view_limits(view) == []
    assert "*Leaderboard* — all-time downloads, change this week" in strings(view)
    assert f"<#{CHANNEL}>: weekly digest" in strings(view)


def test_a_private_channel_is_shown_to_its_members_and_never_to_anyone_else(store):
    with running_bot(store, slack=workspace()) as bot:
        bot.event(app_home_opened(USER))
        bot.event(app_home_opened(OTHER))
        mine, theirs = published(bot.slack, USER), published(bot.slack, OTHER)

    assert f"<#{SECRET}>" in strings(mine) and THEIRS not in strings(mine)
    # #theirs: the other user is in it, but the bot is not, so Slack never lists it.
    assert SECRET not in strings(theirs) and THEIRS not in strings(theirs)
    assert f"<#{CHANNEL}>" in strings(theirs)
    for call in bot.slack.calls_to("users.conversations"):
        assert call.params["types"] == "public_channel,private_channel"


def test_without_the_scope_to_ask_the_tab_lists_no_channel_at_all(store):
    slack = workspace()
    slack.scopes = frozenset(manifest_scopes() - {"groups:read"})
    with running_bot(store, slack=slack) as bot:
        bot.event(app_home_opened(USER))
        view = published(bot.slack)

    assert "`missing_scope`" in strings(view)
    assert CHANNEL not in strings(view) and SECRET not in strings(view)


def test_opening_the_messages_tab_publishes_nothing(store):
    with running_bot(store, slack=workspace()) as bot:
        bot.event(app_home_opened(USER, tab="messages"))
        bot.event(app_home_opened(OTHER))
        published(bot.slack, OTHER)

    assert USER not in bot.slack.home_views


def test_each_visit_is_remembered_for_the_refresh(store):
    with running_bot(store, slack=workspace()) as bot:
        bot.event(app_home_opened(USER, channel_id="D0MINE"))
        published(bot.slack)

    with store.reading() as db:
        [visit] = home_visits.since(db, "2000-01-01T00:00:00Z")
    assert (visit.team_id, visit.user_id, visit.channel_id) == (TEAM, USER, "D0MINE")


@pytest.mark.parametrize(
    ("action_id", "option", "header"),
    [
        (FAMILY_ACTION, "family llama", "Llama family"),
        (COMPARE_ACTION, "compare qwen llama", "Qwen vs Llama — all-time downloads"),
    ],
)
def test_a_home_menu_opens_a_modal_at_once_then_fills_it(store, action_id, option, header):
    with running_bot(store, slack=workspace()) as bot:
        bot.event(app_home_opened(USER))
        home = published(bot.slack)
        reply = bot.press_in_view(home, action_id, option)
        bot.wait_for_view(lambda: len(bot.slack.calls_to("views.update")) == 1)

    assert reply.status == 200
    [opened] = bot.slack.calls_to("views.open")
    assert "Working on" in str(opened.params["view"])
    [update] = bot.slack.calls_to("views.update")
    assert update.status == 200
    modal = bot.slack.modal(update.params["view_id"])
    assert modal["type"] == "modal" and modal["blocks"][0]["text"]["text"] == header
    assert any(b["type"] == "actions" for b in modal["blocks"])  # its next steps


def test_a_button_in_the_modal_updates_the_modal_with_the_hash_it_saw(store):
    with running_bot(store, slack=workspace()) as bot:
        bot.event(app_home_opened(USER))
        bot.press_in_view(published(bot.slack), FAMILY_ACTION, "family qwen")
        bot.wait_for_view(lambda: len(bot.slack.calls_to("views.update")) == 1)
        view_id = bot.slack.calls_to("views.update")[0].params["view_id"]
        bot.press_in_view(bot.slack.modal(view_id), "answer_top_models")
        bot.wait_for_view(lambda: len(bot.slack.calls_to("views.update")) == 2)

    modal = bot.slack.modal(view_id)
    assert modal["blocks"][0]["text"]["text"] == "Qwen: top models by all-time downloads"
    assert bot.slack.calls_to("views.open") == bot.slack.calls_to("views.open")[:1]


def test_a_trigger_used_too_late_opens_no_modal_and_breaks_nothing(store, caplog):
    with running_bot(store, slack=workspace()) as bot:
        bot.event(app_home_opened(USER))
        home = published(bot.slack)
        bot.slack.fail("views.open", "expired_trigger_id")
        bot.press_in_view(home, FAMILY_ACTION, "family qwen")
        assert bot.slack.wait_for(lambda: bot.slack.calls_to("views.open"))
        bot.event(app_home_opened(USER))  # the app still answers
        assert bot.slack.wait_for(lambda: len(bot.slack.calls_to("views.publish")) == 2)

    assert bot.slack.calls_to("views.update") == []
    assert "could not open a modal" in caplog.text


# -- after a snapshot -------------------------------------------------------------------------


def test_tabs_opened_in_the_last_seven_days_are_refreshed_after_a_snapshot(store):
    now = datetime(2026, 1, 10, 7, 0, tzinfo=UTC)
    with store.writing() as db:
        home_visits.record(db, TEAM, USER, None, "2026-01-04T07:00:00Z")
        home_visits.record(db, TEAM, OTHER, None, "2026-01-02T07:00:00Z")  # 8 days ago
    with workspace() as slack:
        client = bot_client(slack)
        context = AnswerContext(store=store, families=load_families(), now=lambda: now)

        refreshed = run_now(refresh_home_tabs(client, context, now, HomePace()), lambda _s: None)

    assert refreshed == 1
    assert [c.params["user_id"] for c in slack.calls_to("views.publish")] == [USER]
    with store.reading() as db:
        assert [v.user_id for v in home_visits.since(db, "2000-01-01T00:00:00Z")] == [USER]


def test_the_collect_jobs_refresh_never_fails_the_collection(store):
    now = datetime(2026, 1, 10, 7, 0, tzinfo=UTC)
    with store.writing() as db:
        home_visits.record(db, TEAM, USER, None, "2026-01-09T07:00:00Z")
    with workspace() as slack:
        slack.fail("views.publish", "fatal_error")
        services = Services(
            config=Config(),
            families=load_families(),
            store=store,
            hub=None,  # type: ignore[arg-type]  # the refresh never asks the Hub
            slack=bot_client(slack),
            render=tiny_png,
        )

        assert home_job(services, now) == 0
        assert home_job(services, now + timedelta(minutes=1)) == 1


def bot_client(slack: LocalSlack):
    from bot.slack_client import make_web_client

    return make_web_client("xoxb-1-test", slack.api_url)


# -- Socket Mode -------------------------------------------------------------------------------


def test_socket_mode_home_tab_and_its_menu(store):
    with running_socket_bot(store, slack=workspace()) as bot:
        bot.event(app_home_opened(USER), answered=False)
        home = published(bot.slack)
        bot.press_in_view(home, COMPARE_ACTION, "compare qwen llama")
        assert bot.slack.wait_for(lambda: len(bot.slack.calls_to("views.update")) == 1)
        modal = bot.slack.modal(bot.slack.calls_to("views.update")[0].params["view_id"])

    assert f"<#{SECRET}>" in strings(home)
    assert modal["blocks"][0]["text"]["text"] == "Qwen vs Llama — all-time downloads"
    assert bk.check_view_limits(modal) == []


def test_the_bot_itself_is_never_asked_about(store):
    with running_bot(store, slack=workspace()) as bot:
        bot.event(app_home_opened(USER))
        published(bot.slack)

    assert all(
        c.params.get("user") != BOT_USER_ID for c in bot.slack.calls_to("users.conversations")
    )
