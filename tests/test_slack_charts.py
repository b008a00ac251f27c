"""Charts through the real app: signed slash commands into Bolt, answered on the faithful
local Slack (a command's response URL adds a message per post, channel shares land
only after processing, `alt_txt` shares are never shown).

The promise: a private answer's text reaches the user exactly once, with its chart in
the same message or in a chart-only message after it (or a one-line note saying why
there is none); a public chart really lands in the channel, as files.info shows.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from bot.delivery import (
    CHART_NOT_DRAWN,
    CHART_NOT_LANDED,
    CHART_NOT_SHOWN,
    INVITE_HINT,
)
from bot.slack_client import make_web_client
from commands.answer import ChartSpec
from localslack.server import LocalSlack
from openmodels.charts import render_chart
from tests.builders import growing_store
from tests.slack_helpers import CHANNEL, QUICK, all_strings, running_bot, tiny_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ANSWER = "Qwen leads Llama by 53.0K all-time downloads"
DESCRIPTION = "Qwen from 190.0K on 2026-01-01 to 262.0K on 2026-01-10"
# Wide enough that a chart drawn at once is always ready in time, even on a busy machine.
PATIENT = replace(QUICK, text_wait=30.0)
HURRIED = replace(QUICK, text_wait=0.05)


@pytest.fixture
def store(tmp_path):
    return growing_store(tmp_path / "s.db")


def images(message):
    return [b for b in message.get("blocks") or [] if b["type"] == "image"]


def answer_texts(messages):
    """How many messages repeat the answer: its text or its Block Kit body."""
    return [m for m in messages if ANSWER in m["text"] or ANSWER in str(m.get("blocks"))]


def has_image(body):
    return any(b.get("type") == "image" for b in body.get("blocks") or [])


class GatedRender:
    """Draws only once the test opens the gate: a chart slower than the text's wait."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def __call__(self, spec: ChartSpec) -> bytes:
        assert self.gate.wait(10), "the test never opened the gate"
        return tiny_png(spec)


# -- private answers: one message when the chart is ready in time --------------------------


def test_a_private_compare_with_its_chart_ready_in_time_is_one_message(store):
    with running_bot(store, render=render_chart, delivery=PATIENT) as bot:
        exchange = bot.command("compare qwen llama")

    [message] = exchange.visible
    assert message["response_type"] == "ephemeral"
    assert ANSWER in message["text"]
    [image] = images(message)
    [file] = bot.slack.files.values()
    assert image["slack_file"] == {"id": file.id}
    assert DESCRIPTION in image["alt_text"]
    assert image["title"]["text"] == "Qwen vs Llama: cumulative downloads"
    # The chart above the footer, the share button last.
    assert [b["type"] for b in message["blocks"]][-3:] == ["image", "context", "actions"]
    # Uploaded privately (no channel), never with alt_txt, and a real PNG.
    [complete] = bot.slack.calls_to("files.completeUploadExternal")
    assert not complete.params.get("channel_id") and file.requested_channels == []
    assert file.alt_txt is None
    assert file.data is not None and file.data.startswith(PNG_MAGIC)
    assert file.filename == "openmodels-compare-qwen-llama-2026-01-10.png"


def test_family_carries_a_chart_too(store):
    with running_bot(store, delivery=PATIENT) as bot:
        [message] = bot.command("family qwen").visible

    [image] = images(message)
    assert bot.slack.files[image["slack_file"]["id"]].filename == (
        "openmodels-family-qwen-2026-01-10.png"
    )


def test_regions_carries_a_chart_of_regions_over_time(store):
    with running_bot(store, delivery=PATIENT) as bot:
        [message] = bot.command("regions").visible

    [image] = images(message)
    assert bot.slack.files[image["slack_file"]["id"]].filename == (
        "openmodels-regions-2026-01-10.png"
    )
    assert "China leads US by" in message["text"]


def test_the_chart_is_shown_only_once_slack_has_processed_it(store):
    slack = LocalSlack(processing_polls=2)
    with running_bot(store, slack=slack, delivery=PATIENT) as bot:
        [message] = bot.command("compare qwen llama").visible

    assert len(slack.calls_to("files.info")) == 3
    assert len(images(message)) == 1


def test_the_ack_never_waits_for_the_chart(store):
    render = GatedRender()
    with running_bot(store, render=render, delivery=PATIENT) as bot:
        exchange = bot.command("compare qwen llama", wait=False)

        assert exchange.reply.status == 200 and exchange.reply.body == b""
        assert bot.slack.posts(exchange.response_url) == []  # answered later, in one go
        render.gate.set()
        bot.wait_done(exchange.response_url)
        [message] = bot.slack.visible(exchange.response_url)
    assert ANSWER in message["text"] and images(message)


# -- private answers: the text first when the chart is late or refused ---------------------


def test_a_late_chart_follows_the_text_as_a_message_holding_only_the_chart(store):
    render = GatedRender()
    with running_bot(store, render=render, delivery=HURRIED) as bot:
        exchange = bot.command("compare qwen llama", wait=False)
        url = exchange.response_url

        assert bot.slack.wait_for(lambda: len(bot.slack.posts(url)) == 1)
        [text_alone] = bot.slack.visible(url)  # while the chart is still being drawn
        render.gate.set()
        bot.wait_done(url)
        shown = bot.slack.visible(url)

    assert ANSWER in text_alone["text"] and images(text_alone) == []
    assert text_alone["blocks"][-1]["type"] == "actions"  # the share button is on the text
    assert shown[0] == text_alone
    chart_only = shown[1]
    assert len(shown) == 2
    assert [b["type"] for b in chart_only["blocks"]] == ["image"]
    assert chart_only["text"] == "Qwen vs Llama: cumulative downloads"
    assert answer_texts(shown) == [text_alone]  # the text exactly once
    assert DESCRIPTION in images(chart_only)[0]["alt_text"]


def test_an_image_slack_refuses_once_comes_after_the_text_alone(store):
    slack = LocalSlack()
    slack.fail("response_url", "invalid_blocks", when=has_image)
    with running_bot(store, slack=slack, delivery=PATIENT) as bot:
        exchange = bot.command("compare qwen llama")

    text_alone, chart_only = exchange.visible
    assert answer_texts(exchange.visible) == [text_alone] and images(text_alone) == []
    assert [b["type"] for b in chart_only["blocks"]] == ["image"]
    assert [c.status for c in slack.calls_to("response_url")] == [404, 200, 200]


def test_an_image_slack_always_refuses_leaves_the_text_and_a_note(store, caplog):
    slack = LocalSlack()
    slack.fail("response_url", "invalid_blocks", times=5, when=has_image)
    with running_bot(store, slack=slack, delivery=PATIENT) as bot:
        exchange = bot.command("compare qwen llama")

    text_alone, note = exchange.visible
    assert answer_texts(exchange.visible) == [text_alone] and images(text_alone) == []
    assert note["text"] == CHART_NOT_SHOWN
    assert len(slack.posts(exchange.response_url)) <= 4  # within the URL's five
    assert "Slack refused the chart" in caplog.text


def test_a_file_slack_never_finishes_processing_ends_in_a_note(store):
    slack = LocalSlack(processing_polls=100)  # every image block is refused
    with running_bot(store, slack=slack, delivery=replace(PATIENT, file_ready_waits=())) as bot:
        exchange = bot.command("compare qwen llama")

    text_alone, note = exchange.visible
    assert ANSWER in text_alone["text"] and note["text"] == CHART_NOT_SHOWN


def test_a_chart_that_cannot_be_drawn_leaves_the_text_and_a_note_and_is_logged(store, caplog):
    def broken(spec):
        raise RuntimeError("no fonts today")

    with running_bot(store, render=broken, delivery=PATIENT) as bot:
        exchange = bot.command("compare qwen llama")

    text_alone, note = exchange.visible
    assert ANSWER in text_alone["text"] and note["text"] == CHART_NOT_DRAWN
    assert bot.slack.calls_to("files.getUploadURLExternal") == []
    failures = [r for r in caplog.records if "could not be drawn" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None


def test_an_upload_slack_refuses_leaves_the_text_and_a_note_and_is_logged(store, caplog):
    slack = LocalSlack()
    slack.fail("files.getUploadURLExternal", "internal_error")
    with running_bot(store, slack=slack, delivery=PATIENT) as bot:
        exchange = bot.command("compare qwen llama")

    text_alone, note = exchange.visible
    assert ANSWER in text_alone["text"]
    assert "internal_error" in note["text"]
    assert "chart upload failed (internal_error)" in caplog.text


def test_a_rate_limited_upload_is_retried_after_retry_after(store):
    slack = LocalSlack()
    slack.fail("files.getUploadURLExternal", "ratelimited", retry_after=0)
    with running_bot(store, slack=slack, delivery=PATIENT) as bot:
        [message] = bot.command("compare qwen llama").visible

    statuses = [c.status for c in slack.calls_to("files.getUploadURLExternal")]
    assert statuses == [429, 200]
    assert len(images(message)) == 1


# -- public answers: the chart lands in the channel ---------------------------------------


def test_a_public_compare_really_shares_its_png_in_the_channel(store):
    with running_bot(store, render=render_chart) as bot:
        exchange = bot.command("compare qwen llama --public")
        [file] = bot.slack.files.values()
        seen = make_web_client("xoxb-test", bot.slack.api_url).files_info(file=file.id)["file"]

    [message] = exchange.visible
    assert message["response_type"] == "in_channel"
    assert message["blocks"][-1]["type"] == "context"  # no share button on a public answer
    # The description is in the message, and not on the upload.
    assert "Chart: Line chart of cumulative Hub downloads" in message["text"]
    assert DESCRIPTION in message["text"]
    assert any(DESCRIPTION in s for b in message["blocks"][-3:] for s in all_strings(b))
    assert file.alt_txt is None
    [complete] = bot.slack.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == CHANNEL
    # files.info shows the share, as Slack lists it once processed.
    [share] = seen["shares"]["public"][CHANNEL]
    assert seen["channels"] == [CHANNEL]
    [in_channel] = bot.slack.channel_messages[CHANNEL]
    assert share["ts"] == in_channel["ts"] and in_channel["files"][0]["id"] == file.id
    assert file.data is not None and file.data.startswith(PNG_MAGIC)
    assert file.title == "Qwen vs Llama: cumulative downloads"


def test_a_public_chart_in_a_private_channel_is_confirmed_through_groups(store):
    slack = LocalSlack(private_channels={CHANNEL})
    with running_bot(store, slack=slack) as bot:
        exchange = bot.command("family qwen --public")

    [message] = exchange.visible  # no note: the share was confirmed
    assert message["response_type"] == "in_channel"
    [file] = slack.files.values()
    assert file.channels == [CHANNEL]


def test_a_public_chart_slack_never_shows_is_polled_for_and_noted(store, caplog):
    slack = LocalSlack()
    slack.drop_next_shares()
    with running_bot(store, slack=slack) as bot:
        exchange = bot.command("compare qwen llama --public")

    answer, note = exchange.visible
    assert answer["response_type"] == "in_channel"
    assert note == {
        "text": CHART_NOT_LANDED,
        "blocks": None,
        "response_type": "ephemeral",
        "replace_original": False,
    }
    [file] = slack.files.values()
    assert len(slack.calls_to("files.info")) == len(QUICK.share_waits)
    assert file.id in caplog.text and "shows it in no channel" in caplog.text


def test_a_public_chart_where_the_bot_is_not_invited_asks_for_an_invite(store):
    with running_bot(store, slack=LocalSlack(members=set())) as bot:
        exchange = bot.command("family qwen --public")

    answer, hint = exchange.visible
    assert answer["response_type"] == "in_channel" and "Qwen" in answer["text"]
    assert hint["text"] == INVITE_HINT and hint["response_type"] == "ephemeral"


def test_share_in_channel_answers_again_for_everyone_with_the_chart_landed(store):
    with running_bot(store) as bot:
        exchange = bot.click_share("compare qwen llama")

    assert exchange.reply.status == 200
    [message] = exchange.visible
    assert message["response_type"] == "in_channel"
    assert ANSWER in message["text"]
    [file] = bot.slack.files.values()
    assert file.channels == [CHANNEL]
