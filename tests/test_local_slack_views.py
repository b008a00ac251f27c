"""The stand-in's conversations and views behave as Slack documents them: users.conversations
with its pages, its privacy rule and its scopes; views.publish, views.open and
views.update with a view's limits, triggers that expire and view hashes. Driven through
slack_sdk's real WebClient."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack_client import make_web_client
from commands import blocks as bk
from localslack.server import LocalSlack
from localslack.workspaces import BOT_USER_ID

ALICE, BOB = "U0ALICE", "U0BOB"
HOME = {"type": "home", "blocks": [bk.section("hello")]}
MODAL = {"type": "modal", "title": bk.plain_text("openmodels", 24), "blocks": [bk.section("hi")]}


def client_for(slack: LocalSlack) -> WebClient:
    return make_web_client("xoxb-1-test", slack.api_url)


@pytest.fixture
def workspace():
    """#general (public, everyone and the bot), #secret (private, Alice and the bot),
    #bob-only (private, Bob, without the bot), #old (public, archived, Alice)."""
    slack = LocalSlack(
        channel_members={
            "C0GENERAL": {ALICE, BOB},
            "G0SECRET": {ALICE},
            "G0BOBONLY": {BOB},
            "C0OLD": {ALICE},
        },
        members={"C0GENERAL", "G0SECRET", "C0OLD"},
        private_channels={"G0SECRET", "G0BOBONLY"},
        archived_channels={"C0OLD"},
    )
    with slack:
        yield slack


def listed(client: WebClient, user: str, **args: object) -> list[str]:
    response = client.users_conversations(user=user, **args)
    return [c["id"] for c in response["channels"]]


# -- users.conversations ------------------------------------------------------------------


def test_users_conversations_lists_only_public_channels_by_default(workspace):
    client = client_for(workspace)

    assert listed(client, ALICE) == ["C0GENERAL", "C0OLD"]


def test_a_private_channel_is_listed_only_for_its_members_and_only_if_the_bot_is_in_it(
    workspace,
):
    client = client_for(workspace)
    types = "public_channel,private_channel"

    assert listed(client, ALICE, types=types, exclude_archived=True) == ["C0GENERAL", "G0SECRET"]
    # Bob is in #bob-only, but the bot is not: Slack does not list it to the bot.
    assert listed(client, BOB, types=types, exclude_archived=True) == ["C0GENERAL"]


def test_pages_can_be_short_or_empty_before_the_cursor_runs_out(workspace):
    client = client_for(workspace)
    pages, cursor = [], None
    while True:
        response = client.users_conversations(
            user=BOB, types="public_channel,private_channel", limit=1, cursor=cursor
        )
        pages.append([c["id"] for c in response["channels"]])
        cursor = response["response_metadata"]["next_cursor"]
        if not cursor:
            break

    assert [] in pages[:-1]  # an empty page, with more to come
    assert [c for page in pages for c in page] == ["C0GENERAL"]


def test_the_channel_objects_have_slacks_shape_without_is_member(workspace):
    [channel] = client_for(workspace).users_conversations(user=ALICE, types="private_channel")[
        "channels"
    ]

    assert channel["id"] == "G0SECRET" and channel["is_private"] is True
    assert "is_member" not in channel and "num_members" not in channel


def test_a_type_whose_scope_the_token_lacks_is_refused_with_missing_scope():
    with LocalSlack(scopes={"channels:read"}) as slack:
        client = client_for(slack)
        assert client.users_conversations(types="public_channel")["ok"]
        with pytest.raises(SlackApiError) as refused:
            client.users_conversations(types="public_channel,private_channel")

    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "groups:read"


@pytest.mark.parametrize(
    ("args", "error"),
    [({"user": "U0NOBODY"}, "user_not_found"), ({"cursor": "not-a-cursor"}, "invalid_cursor")],
)
def test_bad_arguments_get_slacks_errors(workspace, args, error):
    with pytest.raises(SlackApiError) as refused:
        client_for(workspace).users_conversations(**args)

    assert refused.value.response["error"] == error


def test_the_bot_itself_is_listed_in_its_own_channels(workspace):
    assert listed(client_for(workspace), BOT_USER_ID, types="private_channel") == ["G0SECRET"]


# -- views.publish ------------------------------------------------------------------------


def test_views_publish_stores_the_users_home_view_and_answers_with_it(workspace):
    response = client_for(workspace).views_publish(user_id=ALICE, view=HOME)

    view = response["view"]
    assert view["type"] == "home" and view["id"] and view["hash"]
    assert view["blocks"][0]["block_id"]  # Slack names every block
    assert workspace.home_views[ALICE]["id"] == view["id"]


def test_a_home_view_takes_100_blocks_and_refuses_101_as_slack_does(workspace):
    client = client_for(workspace)
    blocks = [bk.section(str(i)) for i in range(100)]

    assert client.views_publish(user_id=ALICE, view={"type": "home", "blocks": blocks})["ok"]
    with pytest.raises(SlackApiError) as refused:
        client.views_publish(user_id=ALICE, view={"type": "home", "blocks": [*blocks, blocks[0]]})

    assert refused.value.response["error"] == "invalid_arguments"
    assert refused.value.response["response_metadata"]["messages"] == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]


@pytest.mark.parametrize(
    ("slack_args", "publish_args", "error"),
    [
        ({"home_tab_enabled": False}, {"user_id": ALICE, "view": HOME}, "not_enabled"),
        ({}, {"user_id": "U0NOBODY", "view": HOME}, "invalid_arguments"),
        ({}, {"user_id": ALICE, "view": MODAL}, "invalid_arguments"),
        ({}, {"user_id": ALICE, "view": HOME, "hash": "1.stale"}, "hash_conflict"),
    ],
)
def test_views_publish_refusals(slack_args, publish_args, error):
    with LocalSlack(channel_members={"C0GENERAL": {ALICE}}, **slack_args) as slack:
        client = client_for(slack)
        if slack.home_tab_enabled:
            client.views_publish(user_id=ALICE, view=HOME)  # the hash in force
        with pytest.raises(SlackApiError) as refused:
            client.views_publish(**publish_args)

    assert refused.value.response["error"] == error


# -- views.open and views.update ----------------------------------------------------------


def test_views_open_takes_a_fresh_trigger_once(workspace):
    client = client_for(workspace)
    trigger = workspace.trigger_id(ALICE)

    opened = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    with pytest.raises(SlackApiError) as again:
        client.views_open(trigger_id=trigger, view=MODAL)

    assert opened["type"] == "modal" and workspace.modal(opened["id"])["user"] == ALICE
    assert again.value.response["error"] == "exchanged_trigger_id"


@pytest.mark.parametrize(
    ("age", "trigger", "error"),
    [(3.5, None, "expired_trigger_id"), (0, "12.34.made-up", "invalid_trigger_id")],
)
def test_views_open_refuses_an_expired_or_unknown_trigger(workspace, age, trigger, error):
    issued = workspace.trigger_id(ALICE)
    workspace.age_triggers(age)  # three seconds pass, as they would for a slow app

    with pytest.raises(SlackApiError) as refused:
        client_for(workspace).views_open(trigger_id=trigger or issued, view=MODAL)

    assert refused.value.response["error"] == error


def test_a_modal_title_longer_than_24_characters_is_refused(workspace):
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}

    with pytest.raises(SlackApiError) as refused:
        client_for(workspace).views_open(trigger_id=workspace.trigger_id(), view=long_title)

    assert refused.value.response["error"] == "invalid_arguments"


def test_views_update_replaces_a_view_when_its_hash_is_current(workspace):
    client = client_for(workspace)
    opened = client.views_open(trigger_id=workspace.trigger_id(), view=MODAL)["view"]
    updated = {**MODAL, "blocks": [bk.section("the answer")]}

    first = client.views_update(view_id=opened["id"], hash=opened["hash"], view=updated)["view"]
    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)

    assert first["hash"] != opened["hash"]
    assert stale.value.response["error"] == "hash_conflict"
    assert workspace.modal(opened["id"])["blocks"][0]["text"]["text"] == "the answer"


def test_views_update_of_an_unknown_view_is_not_found(workspace):
    with pytest.raises(SlackApiError) as refused:
        client_for(workspace).views_update(view_id="V0NOPE", view=MODAL)

    assert refused.value.response["error"] == "not_found"
