"""A digest's chart really lands in its channel, or is known not to have, and is never
shared twice. The outbox delivered to the faithful local Slack (shares land only after
processing, and can be dropped or land late), with an injected clock."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.outbox_sender import RESHARE_AFTER, DeliveryReport, deliver
from bot.slack_client import make_web_client
from commands import AnswerContext, answer_text
from commands.subscriptions import Channel
from localslack.server import LocalSlack
from openmodels.charts import render_chart
from openmodels.families import load_families
from storage import chart_shares as cs
from storage import open_store
from storage import outbox as ob
from storage import subscriptions as subs
from tests.slack_helpers import tiny_png

NOW = "2026-01-05T06:00:00Z"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DESCRIPTION = "Line chart of the leaders' cumulative downloads"
CHART = {
    "title": "Top families",
    "series": {"Qwen": [["2026-01-01T06:00:00Z", 1], ["2026-01-05T06:00:00Z", 5]]},
    "metric": "all_time",
    "snapshot_date": "2026-01-05",
    "alt_text": DESCRIPTION,
    "filename": "digest.png",
    "sample": False,
}
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*This week*"}}]


@pytest.fixture
def store(new_store):
    store = new_store("s")
    with store.writing() as db:
        subs.subscribe(db, "T1", "C1", "digest", (), NOW)
        ob.enqueue(
            db,
            "T1",
            "C1",
            "digest",
            "digest:2026-W02",
            {"text": "The week in open models", "blocks": BLOCKS, "chart": CHART},
            NOW,
        )
    return store


def run(store, slack, at: datetime = T0, render=tiny_png, paused=None) -> DeliveryReport:
    return deliver(
        store,
        make_web_client("xoxb-test", slack.api_url),
        render=render,
        clock=lambda: at,
        pause=(lambda _s: None) if paused is None else paused.append,
    )


def chart_share(store) -> cs.ChartShare:
    with store.reading() as db:
        share = cs.get(db, 1)
    assert share is not None
    return share


def files_in_channel(slack, channel="C1") -> list[str]:
    return [f["id"] for m in slack.channel_messages.get(channel, []) for f in m.get("files", [])]


def test_a_digest_really_shares_its_png_in_the_channel_as_files_info_shows(store):
    with LocalSlack() as slack:
        report = run(store, slack, render=render_chart)
        [file] = slack.files.values()
        seen = make_web_client("xoxb-test", slack.api_url).files_info(file=file.id)["file"]

    assert report.sent == [1] and report.charts == [1]
    assert seen["shares"]["public"]["C1"][0]["ts"] and seen["channels"] == ["C1"]
    assert files_in_channel(slack) == [file.id]
    assert file.data is not None and file.data.startswith(b"\x89PNG") and len(file.data) > 1000
    assert file.title == "Top families" and file.alt_txt is None
    # The description is in the message, text and blocks, instead of on the upload.
    [message] = [m for m in slack.channel_messages["C1"] if "metadata" in m]
    assert message["text"] == f"The week in open models\nChart: {DESCRIPTION}"
    assert DESCRIPTION in str(message["blocks"][-1])
    assert chart_share(store).status == cs.LANDED


def test_an_unconfirmed_share_is_logged_marked_and_not_counted_as_delivered(store, caplog):
    caplog.set_level(logging.INFO)
    with LocalSlack() as slack:
        slack.drop_next_shares()
        paused: list[float] = []
        report = run(store, slack, paused=paused)
        [file] = slack.files.values()

    assert report.sent == [1]  # the message went out
    assert report.charts == [] and report.charts_unconfirmed == [1]
    share = chart_share(store)
    assert (share.status, share.file_id, share.uploads) == (cs.UNCONFIRMED, file.id, 1)
    assert share.uploaded_at == "2026-01-05T09:00:00Z"
    assert file.id in caplog.text and "does not count as delivered" in caplog.text
    # Polled at once, then at Slack's pace: waits doubling from 1 s to 16 s, 31 s in all.
    assert len(slack.calls_to("files.info")) == 6
    assert paused == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_a_share_that_lands_late_is_counted_then_and_never_shared_twice(store):
    with LocalSlack() as slack:
        slack.drop_next_shares()
        run(store, slack)
        [file] = slack.files.values()

        still_waiting = run(store, slack, at=T0 + timedelta(minutes=5))
        slack.land_late(file.id)  # Slack shows it after all, within the 10 minutes
        landed = run(store, slack, at=T0 + timedelta(minutes=20))
        later = run(store, slack, at=T0 + timedelta(minutes=40))

    assert still_waiting.charts_unconfirmed == [1] and still_waiting.charts_reshared == []
    assert landed.charts == [1] and landed.charts_reshared == []
    assert later.charts == later.charts_unconfirmed == []
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    assert files_in_channel(slack) == [file.id]
    assert chart_share(store).status == cs.LANDED


def test_a_share_still_in_no_channel_10_minutes_after_its_upload_is_shared_again(store):
    with LocalSlack() as slack:
        slack.drop_next_shares()
        run(store, slack)
        [dropped] = slack.files.values()

        just_before = run(store, slack, at=T0 + RESHARE_AFTER - timedelta(seconds=1))
        after = run(store, slack, at=T0 + RESHARE_AFTER)
        new_ids = [f for f in slack.files if f != dropped.id]

    assert just_before.charts_reshared == []
    assert after.charts_reshared == [1] and after.charts == [1]
    [reshared] = new_ids
    assert files_in_channel(slack) == [reshared]  # one chart in the channel
    share = chart_share(store)
    assert (share.status, share.file_id, share.uploads) == (cs.LANDED, reshared, 2)


def test_a_chart_that_never_lands_is_marked_failed_and_shown_in_status_and_subscriptions(
    store,
):
    with LocalSlack() as slack:
        slack.drop_next_shares(10)
        run(store, slack)
        run(store, slack, at=T0 + RESHARE_AFTER)
        run(store, slack, at=T0 + 2 * RESHARE_AFTER)
        last = run(store, slack, at=T0 + 3 * RESHARE_AFTER)

    assert last.charts_failed == [1] and last.charts == []
    share = chart_share(store)
    assert (share.status, share.uploads) == (cs.FAILED, 3)
    assert len(slack.calls_to("files.completeUploadExternal")) == 3
    channel = Channel("T1", "C1", "U1")
    context = AnswerContext(store=store, families=load_families(), channel=channel)
    listing = answer_text("subscriptions", context).text
    status = answer_text("status", context).text
    assert "digest:2026-W02: chart never showed, after 3 uploads" in listing
    assert "Digest charts not shown in their channel" in status and "<#C1>" in status


def test_an_unconfirmed_chart_shows_in_status_and_subscriptions(store):
    with LocalSlack() as slack:
        slack.drop_next_shares()
        run(store, slack)

    context = AnswerContext(store=store, families=load_families(), channel=Channel("T1", "C1"))
    listing = answer_text("subscriptions", context).text
    at_terminal = answer_text("status", AnswerContext(store=store, families=load_families()))
    assert "chart shared 2026-01-05T09:00:00Z but not shown by Slack yet" in listing
    assert "C1 digest:2026-W02: chart shared" in at_terminal.text


def test_a_run_interrupted_after_the_upload_confirms_instead_of_uploading_again(store):
    with LocalSlack() as slack:
        client = make_web_client("xoxb-test", slack.api_url)
        # An earlier run posted the message and uploaded the chart, then died; its claim
        # has since expired.
        with store.writing() as db:
            ob.claim(db, 1, "a-dead-deliverer", NOW, until=NOW)
            db.execute("UPDATE outbox SET slack_ts = '1.0' WHERE id = 1")
        file_id = client.files_upload_v2(channel="C1", file=tiny_png(), filename="d.png")["file"][
            "id"
        ]
        with store.writing() as db:
            cs.record_upload(db, 1, file_id, "2026-01-05T09:00:00Z")

        report = run(store, slack)

    assert report.sent == [1] and report.charts == [1]
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    assert slack.calls_to("chat.postMessage") == []


def test_a_digest_chart_that_cannot_be_drawn_is_marked_and_not_retried(store, caplog):
    def broken(spec):
        raise RuntimeError("no fonts today")

    with LocalSlack() as slack:
        report = run(store, slack, render=broken)
        again = run(store, slack, at=T0 + timedelta(hours=1))

    assert report.sent == [1] and report.charts_failed == [1] and report.charts == []
    assert again.charts_failed == [] and slack.calls_to("files.getUploadURLExternal") == []
    assert chart_share(store).status == cs.FAILED
    assert "could not be drawn" in caplog.text


def test_alerts_have_no_chart_and_no_chart_state(new_store):
    store = new_store("a")
    with store.writing() as db:
        ob.enqueue(db, "T1", "C1", "alert", "e1", {"text": "Qwen passed Llama"}, NOW)
    with LocalSlack() as slack:
        report = run(store, slack)

    assert report.sent == [1] and report.charts == report.charts_unconfirmed == []
    share = chart_share(store)
    assert (share.status, share.file_id, share.uploads) == (None, None, 0)
    assert slack.calls_to("files.info") == []


def test_a_store_from_before_chart_shares_is_upgraded_and_keeps_its_outbox(tmp_path):
    from sqlite_utils import Database

    from storage.schema import migrations

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m003_chart_shares")
    old.execute(
        "INSERT INTO outbox (team_id, channel_id, kind, event, payload, status, created_at, "
        "updated_at) VALUES ('T1', 'C1', 'digest', 'd', '{}', 'sent', ?, ?)",
        [NOW, NOW],
    )
    old.conn.commit()
    old.close()

    store = open_store(path)

    share = chart_share(store)
    assert (share.event, share.status, share.file_id, share.uploads) == ("d", None, None, 0)
