"""Mentions and direct messages, end to end: `@openmodels top` in a channel is answered
in a thread under the mention, a DM in the DM, with the same parser and answers as the
slash command. Signed Events API requests over HTTP, and envelopes over Socket Mode, into
the real Bolt app; answers checked where they land on the stand-in Slack.

The store is tests.builders.growing_store: on 2026-01-10 Qwen has 262,000 all-time
downloads, Llama 209,000, DeepSeek 54,500.
"""

from __future__ import annotations

import json
import logging

import pytest

from bot.conversations import RecentEvents, command_text, ignored, reply_thread
from bot.delivery import CHART_NOT_LANDED, INVITE_HINT
from commands.blocks import check_limits
from localslack.payloads import app_mention, message_im
from localslack.server import LocalSlack
from localslack.workspaces import BOT_USER_ID
from storage.engines.sqlite import SQLiteEngine
from tests.builders import growing_store
from tests.slack_helpers import (
    CHANNEL,
    DM,
    USER,
    dm_event,
    event_body,
    from_the_app,
    mention_event,
    new_event_id,
    post,
    running_bot,
    signed,
)
from tests.socket_helpers import running_socket_bot

TOP_HEADER = "Top 3 model families by all-time downloads"


@pytest.fixture
def store(tmp_path):
    return growing_store(tmp_path / "s.db")


@pytest.fixture
def bot(store):
    with running_bot(store) as running:
        yield running


def header(message):
    return message["blocks"][0]["text"]["text"]


# -- which events are answered: pure rules --------------------------------------------------


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (app_mention("<@U0BOT> top"), None),
        (message_im("top"), None),
        ({**app_mention("<@U0BOT> top"), "thread_ts": "1.0"}, None),  # a mention in a thread
        # an edit: Slack sends app_mention again, with `edited`
        ({**app_mention("<@U0BOT> top"), "edited": {"user": USER, "ts": "2.0"}}, "edited"),
        ({**message_im("top"), "subtype": "message_changed"}, "message_changed"),
        ({**message_im("top"), "subtype": "message_deleted", "hidden": True}, "message_deleted"),
        ({**message_im("top"), "subtype": "bot_message", "bot_id": "B1"}, "bot_message"),
        ({**message_im("top"), "subtype": "file_share"}, "file_share"),
        ({**message_im("top"), "bot_id": "B0LOCAL", "user": BOT_USER_ID}, "bot"),  # our own
        ({**app_mention("<@U0BOT> top"), "bot_id": "B9"}, "bot"),  # another app mentions us
        ({**message_im("top"), "channel_type": "channel"}, "not a DM"),
        ({**message_im("top"), "channel_type": "mpim"}, "not a DM"),
        ({"type": "app_home_opened", "user": USER, "tab": "home"}, "app_home_opened"),
        ({k: v for k, v in message_im("top").items() if k != "user"}, "without a user"),
    ],
)
def test_only_a_persons_new_mention_or_dm_is_answered(event, why):
    reason = ignored(event)

    if why is None:
        assert reason is None
    else:
        assert reason is not None and why in reason


@pytest.mark.parametrize(
    ("text", "bot_user_id", "command"),
    [
        ("<@U0BOT> top", "U0BOT", "top"),
        ("<@U0BOT|openmodels>  compare qwen   llama", "U0BOT", "compare qwen llama"),
        ("<@U0BOT>", "U0BOT", ""),  # a bare mention is `top`
        ("hey <@U0BOT> qwen", "U0BOT", "hey qwen"),
        ("<@U0BOT> compare <@U123> qwen", "U0BOT", "compare <@U123> qwen"),  # others stay
        ("top 5", "U0BOT", "top 5"),  # a DM needs no mention
        ("<@UOTHER> top", None, "top"),  # the app's id unknown: a leading mention is its
        ("top <@UOTHER>", None, "top <@UOTHER>"),
    ],
)
def test_the_command_is_the_message_without_the_apps_mention(text, bot_user_id, command):
    assert command_text(text, bot_user_id) == command


@pytest.mark.parametrize(
    ("event", "thread"),
    [
        ({"type": "app_mention", "ts": "5.0"}, "5.0"),  # a thread under the mention
        ({"type": "app_mention", "ts": "5.0", "thread_ts": "1.0"}, "1.0"),  # its own thread
        ({"type": "message", "ts": "5.0"}, None),  # a DM: in the DM
        ({"type": "message", "ts": "5.0", "thread_ts": "1.0"}, "1.0"),
    ],
)
def test_the_answer_goes_under_the_mention_or_in_the_dm(event, thread):
    assert reply_thread(event) == thread


def test_an_event_id_is_new_once_and_forgotten_after_an_hour():
    now = [0.0]
    recent = RecentEvents(keep=3600, clock=lambda: now[0])

    assert recent.first_time("Ev1")
    assert not recent.first_time("Ev1")
    now[0] = 3599
    assert not recent.first_time("Ev1")
    now[0] = 3601 + 3599
    assert recent.first_time("Ev1")


def test_the_event_ids_kept_are_bounded():
    recent = RecentEvents(limit=3)
    for i in range(5):
        assert recent.first_time(f"Ev{i}")

    assert recent.first_time("Ev0")  # the oldest made way
    assert not recent.first_time("Ev4")


def test_replicas_on_postgresql_answer_an_event_once_whichever_gets_its_retry(
    postgresql_store,
):
    # Two replicas' memories, one store: Slack's retry reaches the other replica.
    first, other = (RecentEvents(shared=postgresql_store) for _ in range(2))

    assert first.first_time("Ev1")
    assert not other.first_time("Ev1")
    assert not first.first_time("Ev1")
    assert other.first_time("Ev2")


# -- mentions, over HTTP ------------------------------------------------------------------------


def test_a_mention_is_acknowledged_empty_then_answered_in_a_thread_under_it(bot):
    talk = bot.mention("top")

    assert (talk.reply.status, talk.reply.body) == (200, b"")
    [answer] = talk.answers
    assert header(answer) == TOP_HEADER
    assert answer["thread_ts"] == talk.message["ts"]
    assert answer["user"] == BOT_USER_ID  # chat.postMessage: the channel sees it
    assert "share_in_channel" not in json.dumps(answer["blocks"])
    assert check_limits(answer["blocks"]) == []
    # in the thread, not in the channel itself
    assert [m["ts"] for m in bot.slack.channel_messages[CHANNEL]] == [talk.message["ts"]]
    parent = bot.slack.channel_messages[CHANNEL][0]
    assert parent["reply_count"] == 1


def test_a_mention_inside_a_thread_is_answered_in_that_thread(bot):
    parent = bot.slack.user_message(CHANNEL, "which model should we use?", user=USER)

    talk = bot.mention("qwen", thread_ts=parent["ts"])

    assert talk.message["thread_ts"] == parent["ts"]
    answers = from_the_app(bot.slack.thread(CHANNEL, parent["ts"]))
    assert header(answers[0]) == "Qwen family"
    assert all(m["thread_ts"] == parent["ts"] for m in answers)


@pytest.mark.parametrize(
    ("text", "first_line"),
    [
        ("", TOP_HEADER),  # a bare mention is top
        ("qwen llama", "Qwen vs Llama — all-time downloads"),
    ],
)
def test_a_mention_takes_shorthand(bot, text, first_line):
    assert header(bot.mention(text).answers[0]) == first_line


def test_a_mistyped_subcommand_in_a_mention_gets_did_you_mean(bot):
    [answer] = bot.mention("comapre qwen llama").answers

    assert answer["text"].startswith("I don't know the command 'comapre' — did you mean `compare`?")


def test_a_mentions_chart_is_shared_in_its_thread_and_confirmed(bot):
    talk = bot.mention("compare qwen llama")

    text, shared = talk.answers
    assert text["text"].startswith("Qwen leads Llama by 53.0K all-time downloads")
    assert "Chart: Line chart of cumulative Hub downloads" in text["text"]
    file_id = shared["files"][0]["id"]
    assert shared["thread_ts"] == talk.message["ts"]
    [upload] = bot.slack.calls_to("files.completeUploadExternal")
    assert (upload.params["channel_id"], upload.params["thread_ts"]) == (
        CHANNEL,
        talk.message["ts"],
    )
    assert bot.slack.calls_to("files.info")  # the share was confirmed, not assumed
    [share] = bot.slack.files[file_id].shares
    assert share.landed and share.thread_ts == talk.message["ts"]


@pytest.mark.parametrize(
    ("fault", "note"),
    [
        (lambda slack: slack.fail("files.completeUploadExternal", "not_in_channel"), INVITE_HINT),
        (lambda slack: slack.drop_next_shares(), CHART_NOT_LANDED),
    ],
)
def test_a_chart_that_cannot_be_shown_leaves_the_text_and_a_one_line_note(store, fault, note):
    slack = LocalSlack()
    fault(slack)
    with running_bot(store, slack=slack) as bot:
        answers = bot.mention("compare qwen llama").answers

    assert [m["text"] for m in answers][1:] == [note]
    assert answers[0]["text"].startswith("Qwen leads Llama")


def test_a_mention_where_the_app_cannot_post_is_logged(store, caplog):
    slack = LocalSlack(members={DM})  # not a member of CHANNEL
    with running_bot(store, slack=slack) as bot:
        talk = bot.mention("top")

    assert talk.reply.status == 200 and talk.answers == []
    assert f"could not answer event {talk.event_id} in {CHANNEL}" in caplog.text


def test_a_subscription_by_mention_is_confirmed_in_the_channel(bot):
    talk = bot.mention("subscribe digest")

    [answer] = talk.answers
    assert answer["text"].startswith("Subscribed this channel to the weekly openmodels digest")
    [confirmation] = from_the_app(bot.slack.channel_messages[CHANNEL])
    assert confirmation["text"].startswith(f"<@{USER}> subscribed this channel to the weekly")


# -- direct messages, over HTTP -----------------------------------------------------------------


def test_a_direct_message_is_answered_in_the_dm(bot):
    talk = bot.direct_message("top 2 --30d")

    [answer] = talk.answers
    assert header(answer) == "Top 2 model families by 30-day downloads"
    assert "thread_ts" not in answer  # in the DM itself, not in a thread
    assert [c.params["channel"] for c in bot.slack.calls_to("chat.postMessage")] == [DM]


def test_a_direct_messages_chart_is_shared_in_the_dm(bot):
    talk = bot.direct_message("qwen llama")

    text, shared = talk.answers
    assert text["text"].startswith("Qwen leads Llama")
    assert shared["files"]
    [upload] = bot.slack.calls_to("files.completeUploadExternal")
    assert upload.params["channel_id"] == DM and "thread_ts" not in upload.params


def test_the_help_in_a_dm_explains_shorthand_and_mentions(bot):
    [answer] = bot.direct_message("help").answers

    assert "`/openmodels qwen` is `family qwen`" in answer["text"]
    assert "@openmodels" in answer["text"]


# -- what is not answered, over HTTP ------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"subtype": "message_changed", "hidden": True},
        {"subtype": "message_deleted", "hidden": True},
        {"subtype": "bot_message", "bot_id": "B9"},
        {"bot_id": "B0LOCAL", "user": BOT_USER_ID},  # the app's own answer in the DM
        {"channel_type": "channel", "channel": CHANNEL},  # message.channels: not subscribed
    ],
)
def test_edits_deletions_and_bot_messages_are_acknowledged_and_not_answered(bot, change):
    message = bot.slack.user_message(DM, "top", user=USER)

    reply = bot.post_event(dm_event(message) | change, new_event_id())

    assert (reply.status, reply.body) == (200, b"")  # acknowledged: Slack will not retry
    assert bot.slack.calls_to("chat.postMessage") == []  # decided before the ack


def test_an_edited_mention_is_not_answered_again(bot):
    talk = bot.mention("top")
    edited = mention_event(talk.message) | {"edited": {"user": USER, "ts": "9.0"}}

    reply = bot.post_event(edited, new_event_id())

    assert reply.status == 200
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


# -- retries: acknowledged, never answered twice -------------------------------------------------


def test_a_retried_event_is_acknowledged_and_not_answered_again(bot, caplog):
    caplog.set_level(logging.INFO, logger="bot.conversations")
    talk = bot.mention("top")
    event = mention_event(talk.message)

    retries = [bot.post_event(event, talk.event_id, retry=n) for n in (1, 2, 3)]

    assert [(r.status, r.body) for r in retries] == [(200, b"")] * 3
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    assert f"event {talk.event_id} delivered again (retry 3)" in caplog.text


def test_a_retry_of_an_event_never_received_is_answered(bot):
    message = bot.slack.user_message(CHANNEL, f"<@{BOT_USER_ID}> top", user=USER)
    event_id = new_event_id()

    reply = bot.post_event(mention_event(message), event_id, retry=1)
    bot.wait_done(event_id)

    assert reply.status == 200
    [answer] = bot.slack.thread(CHANNEL, message["ts"])
    assert header(answer) == TOP_HEADER


def test_the_same_message_in_two_events_is_answered_twice_only_if_slack_says_so(bot):
    # Slack names a retry by its event_id: a new id is a new event, however alike.
    message = bot.slack.user_message(DM, "top", user=USER)
    for event_id in (new_event_id(), new_event_id()):
        bot.post_event(dm_event(message), event_id)
        bot.wait_done(event_id)

    assert len(bot.slack.calls_to("chat.postMessage")) == 2


# -- acknowledgement, signing and failures ---------------------------------------------------------


def test_an_event_is_acknowledged_at_once_however_slow_the_answer(tmp_path):
    from tests.test_slack_app import GatedStore

    store = GatedStore(growing_store(tmp_path / "s.db").engine)
    with running_bot(store) as bot:
        message = bot.slack.user_message(DM, "top", user=USER)
        event_id = new_event_id()

        reply = bot.post_event(dm_event(message), event_id)

        assert reply.status == 200  # acknowledged while the answer is blocked
        assert bot.slack.calls_to("chat.postMessage") == []
        store.gate.set()
        bot.wait_done(event_id)
        assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_the_apps_mention_is_taken_out_wherever_it_is(bot):
    message = bot.slack.user_message(CHANNEL, f"top 2 <@{BOT_USER_ID}>", user=USER)
    event_id = new_event_id()

    bot.post_event(mention_event(message), event_id)
    bot.wait_done(event_id)

    [answer] = bot.slack.thread(CHANNEL, message["ts"])
    assert header(answer) == "Top 2 model families by all-time downloads"


def test_an_unsigned_event_is_refused_and_not_answered(bot):
    message = bot.slack.user_message(DM, "top", user=USER)
    body = event_body(dm_event(message), new_event_id())
    headers = signed(body, secret="not-the-signing-secret") | {"Content-Type": "application/json"}

    reply = post(bot.server.url, body, headers)

    assert reply.status == 401
    assert bot.slack.calls_to("chat.postMessage") == []


def test_slacks_url_verification_is_answered_with_its_challenge(bot):
    body = json.dumps({"type": "url_verification", "token": "t", "challenge": "c-123"}).encode()

    reply = post(bot.server.url, body, signed(body) | {"Content-Type": "application/json"})

    assert reply.status == 200
    assert json.loads(reply.body) == {"challenge": "c-123"}


def test_a_failure_while_answering_apologises_in_the_thread_and_logs_once(tmp_path, caplog):
    from tests.test_slack_app import BrokenStore

    with running_bot(BrokenStore(SQLiteEngine(tmp_path / "x.db"))) as bot:
        talk = bot.mention("top")

    [answer] = talk.answers
    assert answer["text"].startswith("Sorry, something went wrong")
    logged = [r for r in caplog.records if r.exc_info is not None]
    assert len(logged) == 1
    assert f"app_mention event {talk.event_id}" in logged[0].getMessage()


# -- Socket Mode --------------------------------------------------------------------------------


@pytest.fixture
def socket_bot(store):
    with running_socket_bot(store) as running:
        yield running


def test_a_mention_over_socket_mode_is_acknowledged_then_answered_in_its_thread(socket_bot):
    slack = socket_bot.slack
    message = slack.user_message(CHANNEL, f"<@{BOT_USER_ID}> qwen llama", user=USER)

    envelope = socket_bot.event(mention_event(message))

    assert envelope.acked and envelope.ack is not None and envelope.ack.payload is None
    text, shared = slack.thread(CHANNEL, message["ts"])
    assert header(text) == "Qwen vs Llama — all-time downloads"
    assert shared["files"]


def test_a_direct_message_over_socket_mode_is_answered_in_the_dm(socket_bot):
    slack = socket_bot.slack
    message = slack.user_message(DM, "family llama", user=USER)

    socket_bot.event(dm_event(message))

    answers = from_the_app(slack.channel_messages[DM])
    assert header(answers[0]) == "Llama family"


def test_a_retried_envelope_is_acknowledged_and_not_answered_again(socket_bot):
    slack = socket_bot.slack
    message = slack.user_message(DM, "top", user=USER)
    event_id = new_event_id()
    socket_bot.event(dm_event(message), event_id=event_id)

    retry = socket_bot.event(dm_event(message), event_id=event_id, retry_attempt=1, answered=False)

    assert retry.acked and retry.retry_attempt == 1
    assert len(slack.calls_to("chat.postMessage")) == 1
