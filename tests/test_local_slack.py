"""The local Slack behaves as Slack does, reported quirks included, through the real SDK.

Each behaviour here is one the bot must cope with in a real workspace; the stand-in's
comments name the public source of each.
"""

from __future__ import annotations

import threading

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.slack_client import make_web_client
from localslack.server import LocalSlack
from tests.slack_helpers import tiny_png


def web(slack: LocalSlack):
    return make_web_client("xoxb-test", slack.api_url)


def upload(slack: LocalSlack, channel: str | None = None, **extra):
    response = web(slack).files_upload_v2(
        file=tiny_png(), filename="chart.png", title="A chart", channel=channel, **extra
    )
    return response["file"]["id"]


def info(slack: LocalSlack, file_id: str) -> dict:
    return web(slack).files_info(file=file_id)["file"]


# -- response URLs ------------------------------------------------------------------------


def test_a_slash_commands_response_url_adds_a_message_for_every_post(slack):
    url = slack.response_url("command")
    hook = WebhookClient(url)

    hook.send(text="first", response_type="ephemeral")
    hook.send(text="second", response_type="ephemeral", replace_original=True)

    assert [m["text"] for m in slack.visible(url)] == ["first", "second"]


def test_an_interactions_response_url_may_replace_its_message(slack):
    url = slack.response_url("action")
    hook = WebhookClient(url)

    hook.send(text="first", response_type="ephemeral")
    hook.send(text="second", replace_original=True)

    assert [m["text"] for m in slack.visible(url)] == ["second"]


def test_a_response_url_takes_five_posts(slack):
    url = slack.response_url()
    hook = WebhookClient(url)

    statuses = [hook.send(text=str(i)).status_code for i in range(6)]

    assert statuses == [200] * 5 + [404]


# -- threads ---------------------------------------------------------------------------------


def test_a_reply_goes_in_its_thread_and_the_parent_counts_it(slack):
    parent = slack.user_message("C1", "<@U0BOT> top", user="U1")

    reply = web(slack).chat_postMessage(channel="C1", thread_ts=parent["ts"], text="answer")

    assert reply["message"]["thread_ts"] == parent["ts"]
    history = web(slack).conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in history] == ["<@U0BOT> top"]  # replies stay in their thread
    assert (history[0]["reply_count"], history[0]["thread_ts"]) == (1, parent["ts"])
    assert history[0]["latest_reply"] == reply["ts"]
    assert history[0]["reply_users"] == ["U0BOT"]
    thread = web(slack).conversations_replies(channel="C1", ts=parent["ts"])["messages"]
    assert [m["text"] for m in thread] == ["<@U0BOT> top", "answer"]
    assert slack.thread("C1", parent["ts"]) == thread[1:]


def test_the_replies_of_a_message_that_does_not_exist_are_thread_not_found(slack):
    with pytest.raises(SlackApiError) as refused:
        web(slack).conversations_replies(channel="C1", ts="1.000001")

    assert refused.value.response["error"] == "thread_not_found"


def test_a_reply_to_a_ts_the_channel_never_had_is_taken_and_shows_nowhere(slack):
    # slackapi/python-slack-sdk#840: ok, and the message is nowhere to be seen.
    reply = web(slack).chat_postMessage(channel="C1", thread_ts="1.000001", text="lost")

    assert reply["ok"]
    assert slack.channel_messages.get("C1") is None


def test_a_file_shared_in_a_thread_lands_in_the_thread(slack):
    parent = slack.user_message("C1", "<@U0BOT> compare qwen llama", user="U1")

    file_id = upload(slack, channel="C1", thread_ts=parent["ts"])
    info(slack, file_id)  # processing, as for any share
    file = info(slack, file_id)

    [share] = file["shares"]["public"]["C1"]
    assert share["thread_ts"] == parent["ts"]
    [landed] = slack.thread("C1", parent["ts"])
    assert landed["ts"] == share["ts"] and landed["files"][0]["id"] == file_id
    assert [m["ts"] for m in slack.channel_messages["C1"]] == [parent["ts"]]


# -- uploads and shares -------------------------------------------------------------------


def test_an_upload_without_a_channel_is_private(slack):
    file = info(slack, upload(slack))

    assert file["channels"] == [] and file["shares"] == {} and file["is_public"] is False


def test_a_share_shows_in_files_info_only_after_processing(slack):
    file_id = upload(slack, channel="C1")
    [complete] = slack.calls_to("files.completeUploadExternal")

    first = info(slack, file_id)
    in_channel_before = slack.channel_messages.get("C1")
    second = info(slack, file_id)

    assert complete.status == 200
    assert first["shares"] == {} and first["channels"] == []
    assert in_channel_before is None  # nothing in the channel yet
    [share] = second["shares"]["public"]["C1"]
    assert second["channels"] == ["C1"] and second["groups"] == []
    assert share["ts"] == slack.channel_messages["C1"][0]["ts"]
    assert slack.channel_messages["C1"][0]["files"][0]["id"] == file_id


def test_a_share_in_a_private_channel_shows_under_private_and_groups():
    with LocalSlack(private_channels={"G1"}) as slack:
        file_id = upload(slack, channel="G1")
        info(slack, file_id)

        file = info(slack, file_id)

    assert list(file["shares"]) == ["private"] and "G1" in file["shares"]["private"]
    assert file["groups"] == ["G1"] and file["channels"] == [] and file["is_public"] is False


def test_a_share_in_a_direct_message_shows_under_ims_and_private(slack):
    file_id = upload(slack, channel="D0DM")
    info(slack, file_id)

    file = info(slack, file_id)

    assert file["ims"] == ["D0DM"] and "D0DM" in file["shares"]["private"]
    assert file["channels"] == [] and file["groups"] == []


def test_processing_takes_its_time_whatever_files_info_is_asked():
    with LocalSlack(processing_seconds=3600, share_seconds=3600) as slack:
        file_id = upload(slack, channel="C1")
        seen = [info(slack, file_id) for _ in range(6)]
        blocks = [{"type": "image", "slack_file": {"id": file_id}, "alt_text": "chart"}]
        shown = WebhookClient(slack.response_url()).send(text="x", blocks=blocks)

    assert all(f["mimetype"] == "" and f["channels"] == [] for f in seen)
    assert shown.status_code == 404  # invalid slack file: not processed yet


def test_an_upload_with_alt_txt_is_never_shared_though_every_call_says_ok(slack):
    file_id = upload(slack, channel="C1", alt_txt="A line chart")

    files = [info(slack, file_id) for _ in range(5)]

    assert all(c.status == 200 for c in slack.calls)
    assert all(f["shares"] == {} and f["channels"] == [] for f in files)
    assert slack.channel_messages.get("C1") is None


def test_a_dropped_share_never_lands_unless_it_lands_late(slack):
    slack.drop_next_shares()
    file_id = upload(slack, channel="C1")

    never = [info(slack, file_id)["channels"] for _ in range(5)]
    slack.land_late(file_id)

    assert never == [[]] * 5
    assert info(slack, file_id)["channels"] == ["C1"]
    assert len(slack.channel_messages["C1"]) == 1


def test_share_polls_0_lands_a_share_at_once_for_tests_that_need_it():
    with LocalSlack(share_polls=0) as slack:
        file_id = upload(slack, channel="C1")

        assert info(slack, file_id)["channels"] == ["C1"]


def test_an_image_block_is_refused_until_the_file_is_processed():
    with LocalSlack(processing_polls=1) as slack:
        file_id = upload(slack)
        blocks = [{"type": "image", "slack_file": {"id": file_id}, "alt_text": "chart"}]
        url = slack.response_url()

        early = WebhookClient(url).send(text="x", blocks=blocks)
        info(slack, file_id)
        info(slack, file_id)
        later = WebhookClient(url).send(text="x", blocks=blocks)

    assert (early.status_code, later.status_code) == (404, 200)


def test_a_slow_response_url_delays_only_its_own_posts(slack):
    slow, quick, gate = slack.response_url(), slack.response_url(), threading.Event()
    slack.slow_response_url(slow, gate)
    answered = threading.Event()

    def post_slowly() -> None:
        WebhookClient(slow).send(text="slow")
        answered.set()

    held = threading.Thread(target=post_slowly)

    held.start()
    quick_answer = WebhookClient(quick).send(text="quick")

    assert quick_answer.status_code == 200 and not answered.is_set()
    gate.set()
    held.join(10)
    assert answered.is_set() and [m["text"] for m in slack.posts(slow)] == ["slow"]


def test_an_answer_can_be_lost_after_slack_acted_on_the_request(slack):
    url = slack.response_url()
    slack.lose_answers("response_url")

    with pytest.raises(ConnectionError):  # the connection closes without an answer
        WebhookClient(url, retry_handlers=[]).send(text="posted")

    assert [m["text"] for m in slack.posts(url)] == ["posted"]


def test_a_failure_can_be_limited_to_matching_posts(slack):
    slack.fail("response_url", "invalid_blocks", when=lambda body: "blocks" in body)
    url = slack.response_url()
    hook = WebhookClient(url)

    plain = hook.send(text="plain")
    with_blocks = hook.send(text="x", blocks=[{"type": "divider"}])
    again = hook.send(text="x", blocks=[{"type": "divider"}])

    assert [plain.status_code, with_blocks.status_code, again.status_code] == [200, 404, 200]


# -- threads, as a delivery looking for an interrupted post reads them ------------------


def post(slack: LocalSlack, text: str, **extra) -> str:
    return web(slack).chat_postMessage(channel="C1", text=text, **extra)["ts"]


def test_a_reply_is_in_its_thread_and_not_in_the_channels_history(slack):
    parent = post(slack, "parent")
    reply = post(slack, "reply", thread_ts=parent)

    history = web(slack).conversations_history(channel="C1")["messages"]
    thread = web(slack).conversations_replies(channel="C1", ts=parent)["messages"]

    assert [m["text"] for m in history] == ["parent"]
    assert [m["text"] for m in thread] == ["parent", "reply"]
    assert thread[1]["thread_ts"] == parent and thread[1]["parent_user_id"] == "U0BOT"
    assert (history[0]["reply_count"], history[0]["latest_reply"]) == (1, reply)


def test_a_reply_sent_to_the_channel_too_is_in_both(slack):
    parent = post(slack, "parent")
    post(slack, "also in the channel", thread_ts=parent, reply_broadcast=True)

    history = web(slack).conversations_history(channel="C1")["messages"]

    assert [(m["text"], m.get("subtype")) for m in history] == [
        ("also in the channel", "thread_broadcast"),
        ("parent", None),
    ]


def test_replies_come_oldest_first_after_the_threads_first_message_whatever_oldest_says(slack):
    parent = post(slack, "parent")
    first = post(slack, "first", thread_ts=parent)
    post(slack, "second", thread_ts=parent)

    after_first = web(slack).conversations_replies(channel="C1", ts=parent, oldest=first)
    from_a_reply = web(slack).conversations_replies(channel="C1", ts=first)

    assert [m["text"] for m in after_first["messages"]] == ["parent", "second"]
    assert [m["text"] for m in from_a_reply["messages"]] == ["parent", "first", "second"]


def test_later_pages_of_a_thread_hold_replies_only(slack):
    parent = post(slack, "parent")
    for n in range(3):
        post(slack, f"reply {n}", thread_ts=parent)

    first = web(slack).conversations_replies(channel="C1", ts=parent, limit=2)
    cursor = first["response_metadata"]["next_cursor"]
    second = web(slack).conversations_replies(channel="C1", ts=parent, limit=2, cursor=cursor)

    assert first["has_more"] is True
    assert [m["text"] for m in first["messages"]] == ["parent", "reply 0", "reply 1"]
    assert [m["text"] for m in second["messages"]] == ["reply 2"]
    assert second["has_more"] is False


def test_a_message_without_replies_is_its_own_thread(slack):
    alone = post(slack, "alone")

    thread = web(slack).conversations_replies(channel="C1", ts=alone)["messages"]

    assert [m["text"] for m in thread] == ["alone"]


@pytest.mark.parametrize("thread_ts", ["1700000000.0017", "reply"])
def test_a_thread_ts_naming_no_thread_is_accepted_and_the_message_shows_nowhere(slack, thread_ts):
    parent = post(slack, "parent")
    if thread_ts == "reply":  # a reply's ts, where Slack asks for its parent's
        thread_ts = post(slack, "reply", thread_ts=parent)

    answer = web(slack).chat_postMessage(channel="C1", text="lost", thread_ts=thread_ts)

    assert answer["ok"] is True
    seen = web(slack).conversations_replies(channel="C1", ts=parent)["messages"]
    seen += web(slack).conversations_history(channel="C1")["messages"]
    assert "lost" not in [m["text"] for m in seen]
    assert "lost" not in [m["text"] for m in slack.thread("C1", parent)]


def test_metadata_comes_back_only_when_asked_for(slack):
    parent = post(slack, "parent")
    post(slack, "reply", thread_ts=parent, metadata={"event_type": "e", "event_payload": {}})

    plain = web(slack).conversations_replies(channel="C1", ts=parent)["messages"]
    full = web(slack).conversations_replies(channel="C1", ts=parent, include_all_metadata=True)[
        "messages"
    ]

    assert "metadata" not in plain[1]
    assert full[1]["metadata"]["event_type"] == "e"


def test_history_pages_newest_first_from_oldest(slack):
    stamps = [post(slack, f"m{n}") for n in range(3)]

    page = web(slack).conversations_history(channel="C1", oldest=stamps[0], limit=1)

    assert [m["text"] for m in page["messages"]] == ["m2"]
    assert page["has_more"] is True


def test_a_rate_limit_is_per_method_per_workspace_with_retry_after():
    with LocalSlack() as slack:
        other = slack.add_workspace("T0OTHER", "Other", channels={"C0OTHER"})
        other.installed = True
        token = slack.workspaces.issue("T0OTHER", frozenset({"chat:write"}), None)
        slack.rate_limit("chat.postMessage", "T0LOCAL", retry_after=30)
        busy = make_web_client("xoxb-1-test", slack.api_url, wait_out_429=False)

        with pytest.raises(SlackApiError) as refused:
            busy.chat_postMessage(channel="C0LOCAL", text="over the limit")
        others = make_web_client(token, slack.api_url, wait_out_429=False)
        others.chat_postMessage(channel="C0OTHER", text="another workspace")
        busy.auth_test()  # another method of the same workspace
        busy.chat_postMessage(channel="C0LOCAL", text="once the limit is spent")

    response = refused.value.response
    assert response.status_code == 429 and response["error"] == "ratelimited"
    assert {k.lower(): v for k, v in response.headers.items()}["retry-after"] in ("30", ["30"])
    statuses = [(c.team, c.status) for c in slack.calls_to("chat.postMessage")]
    assert statuses == [("T0LOCAL", 429), ("T0OTHER", 200), ("T0LOCAL", 200)]
