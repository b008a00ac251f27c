"""Who may change what a workspace's channels get: anyone by default; a workspace's
installer or an admin or owner can restrict it to its admins and owners from Slack, and
lift it again. Through the real app, installed through OAuth."""

from __future__ import annotations

import pytest

from commands.parser import Permissions, UsageError, parse
from commands.permissions import (
    ONLY_INSTALLER_OR_ADMINS,
    ONLY_WORKSPACE_ADMINS,
    OPERATOR_LIST,
    Role,
    answer_permissions,
    refusal,
)
from storage import subscriptions as subs
from storage import workspaces as ws
from tests.builders import DAY0, growing_store
from tests.oauth_helpers import CHANNELS, PEOPLE, T1, T2, running_oauth_bot

INSTALLER, ADMIN, MEMBER = PEOPLE[T2]
CHANNEL = CHANNELS[T2][0]


@pytest.fixture
def store(new_store):
    return growing_store(new_store("s"))


@pytest.fixture
def bot(store):
    with running_oauth_bot(store) as running:
        running.install(T1)
        running.install(T2)
        yield running


def said(bot, text: str, user: str, team: str = T2) -> str:
    [answer] = bot.command(text, CHANNELS[team][0], user_id=user, team_id=team).posts
    return str(answer["text"])


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("permissions", Permissions()),
        ("permissions admins", Permissions("admins")),
        ("permissions everyone", Permissions("anyone")),
        ("permissions anyone", Permissions("anyone")),
    ],
)
def test_the_permissions_command_parses(text, command):
    assert parse(text) == command


def test_the_permissions_command_refuses_anything_else():
    with pytest.raises(UsageError, match="Say `admins`"):
        parse("permissions owners")


def test_by_default_anyone_may_change_and_is_told_so(bot):
    assert "Anyone in this workspace may change" in said(bot, "permissions", MEMBER)
    assert said(bot, "subscribe digest", MEMBER).startswith("Subscribed this channel")


def test_a_member_cannot_restrict_it(bot, store):
    assert said(bot, "permissions admins", MEMBER) == ONLY_INSTALLER_OR_ADMINS
    with store.reading() as db:
        assert ws.get(db, T2).changes_by == "anyone"  # type: ignore[union-attr]


@pytest.mark.parametrize("who", [INSTALLER, ADMIN])
def test_the_installer_or_an_admin_restricts_it_to_admins_and_owners(bot, store, who):
    assert said(bot, "permissions admins", who).startswith("Now only this workspace's admins")

    assert said(bot, "subscribe digest", MEMBER) == ONLY_WORKSPACE_ADMINS
    assert said(bot, "subscribe digest", ADMIN).startswith("Subscribed this channel")
    assert said(bot, "subscribe alerts", INSTALLER).startswith("Subscribed this channel")
    listing = said(bot, "subscriptions", MEMBER)  # reading stays open to all
    assert "Weekly digest" in listing
    with store.reading() as db:
        assert {s.kind for s in subs.for_channel(db, T2, CHANNEL)} == {"digest", "alerts"}


def test_lifting_it_lets_anyone_change_again_and_it_says_who_set_it(bot):
    said(bot, "permissions admins", ADMIN)
    shown = said(bot, "permissions", MEMBER)
    assert f"set by <@{ADMIN}>" in shown

    said(bot, "permissions everyone", INSTALLER)

    assert said(bot, "subscribe digest", MEMBER).startswith("Subscribed this channel")


def test_one_workspaces_restriction_leaves_the_other_alone(bot):
    said(bot, "permissions admins", ADMIN)

    assert said(bot, "subscribe digest", PEOPLE[T1][2], team=T1).startswith("Subscribed")


def test_slack_is_asked_about_a_person_once_for_a_while(bot):
    said(bot, "permissions admins", ADMIN)
    for _ in range(3):
        said(bot, "subscribe digest", MEMBER)

    asked = [c.params["user"] for c in bot.slack.calls_to("users.info")]
    assert sorted(asked) == [ADMIN, MEMBER]
    assert {c.team for c in bot.slack.calls_to("users.info")} == {T2}  # with T2's own token


# -- the rule, without Slack ---------------------------------------------------------------


class Fixed:
    def __init__(self, role: Role) -> None:
        self.role = role

    def of(self, team_id: str, user_id: str | None) -> Role:
        return self.role


NOW = DAY0


def test_the_operators_list_decides_when_there_is_one(tmp_store):
    assert refusal(tmp_store, "T1", "U1", frozenset({"U1"}), None) is None
    refused = refusal(tmp_store, "T1", "U2", frozenset({"U1"}), Fixed(Role(admin=True)))
    assert refused is not None and "OPENMODELS_ADMINS" not in refused.text
    answer = answer_permissions(
        Permissions("admins"), tmp_store, "T1", "U1", NOW, frozenset({"U1"}), None
    )
    assert answer.error and answer.text == OPERATOR_LIST


def test_when_slack_cannot_say_the_person_is_refused_and_told_why(tmp_store):
    with tmp_store.writing() as db:
        ws.set_changes_by(db, "T1", "admins", "U9", "2026-01-01T00:00:00Z")

    refused = refusal(tmp_store, "T1", "U2", None, Fixed(Role(error="missing_scope")))

    assert refused is not None and "`missing_scope`" in refused.text
