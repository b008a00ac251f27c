"""Muting a pair from an alert, unmuting it from the subscriptions list, and who may:
through the real app, in HTTP mode (signed requests) and in Socket Mode (envelopes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.outbox_sender import deliver
from bot.slack_client import make_web_client
from commands.alert_message import MUTE_ACTION, UNMUTE_ACTION, alert_message
from commands.permissions import NOT_AN_ADMIN
from commands.render import plain
from localslack.workspaces import CHANNEL_ID, TEAM_ID
from openmodels.alerts import check_overtakes
from openmodels.config import Config
from openmodels.errors import ConfigError
from openmodels.families import load_families
from storage import mutes as mu
from storage import outbox as ob
from storage import subscriptions as subs
from tests.builders import DAY0, family_day
from tests.slack_helpers import BOT_TOKEN, CHANNEL, TEAM, USER, running_bot, tiny_png
from tests.socket_helpers import running_socket_bot

FAMILIES = load_families()
NOW = "2026-01-01T00:00:00Z"
ADMIN = "U0ADMIN"
MUTED = (
    "Muted overtake alerts about Llama and Qwen in this channel. "
    "`/openmodels subscriptions` lists muted pairs, each with an Unmute button."
)


@pytest.fixture
def store(new_store):
    return new_store("s")


def check(store, n: int):
    return check_overtakes(store, FAMILIES, message=alert_message, now=DAY0 + timedelta(days=n))


def channel_texts(slack, channel: str = CHANNEL) -> list[str]:
    return [m["text"] for m in slack.channel_messages.get(channel, [])]


def muted(store, team: str = TEAM, channel: str = CHANNEL) -> list[tuple[str, str]]:
    with store.reading() as db:
        return [m.pair for m in mu.for_channel(db, team, channel)]


def texts_of(message) -> list[str]:
    """Each block's text (a context's elements), in order, as plain text."""
    texts = []
    for block in message["blocks"]:
        if "text" in block:
            texts.append(plain(block["text"]["text"]))
        texts += [plain(e["text"]) for e in block.get("elements", [])]
    return texts


# -- HTTP mode ---------------------------------------------------------------------------


def test_the_mute_button_on_an_alert_stops_that_pairs_alerts_in_the_channel(store):
    with store.writing() as db:
        subs.subscribe(db, TEAM, CHANNEL, "alerts", (), NOW)
    family_day(store, 0, qwen=90, llama=100)
    check(store, 0)
    family_day(store, 1, qwen=120, llama=105)
    check(store, 1)

    with running_bot(store) as bot:
        deliver(
            store,
            make_web_client(BOT_TOKEN, bot.slack.api_url),
            render=tiny_png,
            clock=lambda: datetime.now(UTC),
            pause=lambda _s: None,
        )
        [alert] = bot.slack.channel_messages[CHANNEL]
        button = alert["blocks"][0]["accessory"]
        clicked = bot.click(button["action_id"], button["value"], message_ts=alert["ts"])

        [answer] = clicked.posts
        assert (answer["text"], answer["response_type"]) == (MUTED, "ephemeral")
        assert answer["replace_original"] is False  # the alert stays as it is for everyone
        assert channel_texts(bot.slack)[-1] == (
            f"<@{USER}> muted overtake alerts about Llama and Qwen in this channel."
        )
    assert muted(store) == [("llama", "qwen")]
    family_day(store, 2, qwen=125, llama=130)  # Llama passes back: muted, either way round
    check(store, 2)
    with store.reading() as db:
        assert len(ob.all_items(db)) == 1


def test_subscriptions_lists_muted_pairs_and_unmute_replaces_the_list(store):
    with store.writing() as db:
        subs.subscribe(db, TEAM, CHANNEL, "alerts", (), NOW)
        mu.mute(db, TEAM, CHANNEL, ("qwen", "llama"), "2026-01-02T00:00:00Z", USER)
        mu.mute(db, TEAM, CHANNEL, ("gemma", "deepseek"), "2026-01-03T00:00:00Z", USER)

    with running_bot(store) as bot:
        [listing] = bot.command("subscriptions").posts
        buttons = [b["accessory"] for b in listing["blocks"] if "accessory" in b]
        clicked = bot.click(UNMUTE_ACTION, "llama|qwen")

    assert [(b["action_id"], b["value"], b["text"]["text"]) for b in buttons] == [
        (UNMUTE_ACTION, "llama|qwen", "Unmute"),
        (UNMUTE_ACTION, "deepseek|gemma", "Unmute"),
    ]
    assert "• Llama and Qwen (muted 2026-01-02)" in texts_of(listing)
    [shown] = clicked.visible
    assert shown["replace_original"] is True
    assert texts_of(shown)[0] == "Unmuted overtake alerts about Llama and Qwen in this channel."
    assert "• DeepSeek and Gemma (muted 2026-01-03)" in texts_of(shown)
    assert not any("Llama and Qwen (muted" in t for t in texts_of(shown))
    assert muted(store) == [("deepseek", "gemma")]


def test_a_muted_pair_whose_family_is_no_longer_tracked_is_not_listed(store):
    # Its Unmute button would be refused as naming no pair of tracked families.
    with store.writing() as db:
        subs.subscribe(db, TEAM, CHANNEL, "alerts", (), NOW)
        mu.mute(db, TEAM, CHANNEL, ("qwen", "llama"), "2026-01-02T00:00:00Z", USER)
        mu.mute(db, TEAM, CHANNEL, ("qwen", "removed"), "2026-01-03T00:00:00Z", USER)

    with running_bot(store) as bot:
        [listing] = bot.command("subscriptions").posts

    assert "*Muted pairs* (1): no overtake alerts about them here." in listing["text"]
    assert [b["accessory"]["value"] for b in listing["blocks"] if "accessory" in b] == [
        "llama|qwen"
    ]


@pytest.mark.parametrize("value", ["qwen|qwen", "qwen|nosuchfamily", "qwen", ""])
def test_a_button_naming_no_pair_of_tracked_families_changes_nothing(store, value):
    with running_bot(store) as bot:
        [answer] = bot.click(MUTE_ACTION, value, message_ts="1.000001").posts
        assert channel_texts(bot.slack) == []

    assert answer["text"] == "That button names no pair of tracked families; nothing was changed."
    assert muted(store) == []


def test_only_admins_may_change_a_channels_settings_when_admins_are_set(store):
    with running_bot(store, admins=frozenset({ADMIN})) as bot:
        refused = [
            bot.command(text).posts[0]["text"]
            for text in ("subscribe alerts", "subscribe digest --always", "unsubscribe digest")
        ]
        mute = bot.click(MUTE_ACTION, "llama|qwen", message_ts="1.000001").posts[0]["text"]
        unmute = bot.click(UNMUTE_ACTION, "llama|qwen").posts[0]["text"]
        listing = bot.command("subscriptions").posts[0]["text"]  # reading is open to all
        allowed = bot.command("subscribe alerts --30d", user_id=ADMIN).posts[0]["text"]
        said = channel_texts(bot.slack)

    assert refused == [NOT_AN_ADMIN] * 3
    assert mute == unmute == NOT_AN_ADMIN
    assert "no subscriptions" in listing
    assert allowed.startswith("Subscribed this channel to overtake alerts for every tracked")
    assert said == [
        f"<@{ADMIN}> subscribed this channel to overtake alerts for every tracked family in "
        "30-day downloads (checked after each collection, daily at 06:00 UTC)."
    ]
    with store.reading() as db:
        assert [(s.kind, s.metrics) for s in subs.for_channel(db, TEAM, CHANNEL)] == [
            ("alerts", ("30d",))
        ]
    assert muted(store) == []


def test_a_mention_is_held_to_the_same_admins(store):
    with running_bot(store, admins=frozenset({ADMIN})) as bot:
        asked = bot.mention("subscribe digest")

    assert [m["text"] for m in asked.answers] == [NOT_AN_ADMIN]
    with store.reading() as db:
        assert subs.for_channel(db, TEAM, CHANNEL) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("U012AB3CD", frozenset({"U012AB3CD"})),
        ("U012AB3CD,W0GRID42 , U09", frozenset({"U012AB3CD", "W0GRID42", "U09"})),
        ("U012AB3CD  U0TWO", frozenset({"U012AB3CD", "U0TWO"})),
    ],
)
def test_admins_are_slack_user_ids_separated_by_commas_or_spaces(raw, expected):
    env = {} if raw is None else {"OPENMODELS_ADMINS": raw}
    assert Config.from_env(env).admins == expected


@pytest.mark.parametrize("raw", ["alice", "@U012AB3CD", "u012ab3cd", "C0CHANNEL"])
def test_anything_but_user_ids_is_refused_in_one_line(raw):
    with pytest.raises(ConfigError) as refused:
        Config.from_env({"OPENMODELS_ADMINS": raw})
    assert str(refused.value).startswith("OPENMODELS_ADMINS must list Slack user ids")
    assert "\n" not in str(refused.value)


# -- Socket Mode ---------------------------------------------------------------------------


def test_mute_and_unmute_work_over_socket_mode_and_only_for_admins(store):
    with running_socket_bot(store, admins=frozenset({"U0LOCAL"})) as bot:
        on_alert = {"type": "message", "channel_id": CHANNEL_ID, "message_ts": "1.000001"}
        done = bot.click(MUTE_ACTION, "qwen|llama", container=on_alert)
        after_mute = muted(store, TEAM_ID, CHANNEL_ID)
        refused = bot.click(MUTE_ACTION, "gemma|deepseek", user_id="U0OTHER", container=on_alert)
        undone = bot.click(UNMUTE_ACTION, "llama|qwen")

    assert done.acked and refused.acked and undone.acked
    assert [p["text"] for p in done.posts] == [MUTED]
    assert after_mute == [("llama", "qwen")]
    assert [p["text"] for p in refused.posts] == [NOT_AN_ADMIN]
    assert undone.posts[0]["replace_original"] is True
    assert muted(store, TEAM_ID, CHANNEL_ID) == []
