"""The Slack app end to end: signed slash commands through waitress into the real Bolt app,
answers checked where they land, on a local stand-in for Slack's Web API (localslack.server).

The store is tests.builders.growing_store: on its last snapshot (2026-01-10) Qwen has
262,000 all-time downloads, Llama 209,000, DeepSeek 54,500.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
from dataclasses import dataclass, field

import pytest

from bot.delivery import ResponseUrl
from bot.settings import SlackSettings
from localslack.server import LocalSlack
from openmodels.cli import main
from openmodels.errors import StoreError
from storage import Store, open_store
from storage.engines.sqlite import SQLiteEngine
from storage.snapshots import write_snapshot
from tests.builders import DAY0, growing_store, record
from tests.slack_helpers import (
    BOT_TOKEN,
    SIGNING_SECRET,
    RunningBot,
    post,
    running_bot,
    serving_over_http,
    signed,
    slash_form,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def store(tmp_path):
    return growing_store(tmp_path / "s.db")


@pytest.fixture
def bot(store):
    with running_bot(store) as running:
        yield running


def block_types(message):
    return [b["type"] for b in message["blocks"]]


def image_blocks(message):
    return [b for b in message["blocks"] if b["type"] == "image"]


def methods(slack: LocalSlack) -> list[str]:
    return [c.method for c in slack.calls]


# -- start-up ---------------------------------------------------------------------------


def test_the_app_checks_its_token_with_auth_test_at_start(bot: RunningBot):
    assert methods(bot.slack) == ["auth.test"]


# -- text answers -----------------------------------------------------------------------


def test_top_is_acknowledged_empty_then_answered_privately_at_the_response_url(bot):
    exchange = bot.command("top")

    assert exchange.reply.status == 200
    assert exchange.reply.body == b""  # the empty ack shows nothing; the answer follows
    [message] = exchange.posts
    assert message["response_type"] == "ephemeral"
    assert block_types(message)[:2] == ["header", "section"]
    body = message["blocks"][1]["text"]["text"]
    assert "1. *<https://huggingface.co/Qwen|Qwen>*  262.0K · 49.9% · +56.0K this week" in body
    footer = message["blocks"][-2]
    assert footer["type"] == "context"
    assert "Snapshot 2026-01-10" in footer["elements"][0]["text"]
    assert message["text"].startswith("Top 3 model families by all-time downloads (2026-01-10)")


def test_private_answers_carry_a_share_in_channel_button_after_their_next_steps(bot):
    [message] = bot.command("top 2 --30d").posts

    actions = message["blocks"][-1]
    assert actions["type"] == "actions"
    assert [e["action_id"] for e in actions["elements"]] == ["answer_toggle", "share_in_channel"]
    assert actions["elements"][-1]["value"] == "top 2 --30d"


def test_answers_from_sample_data_say_so(tmp_path):
    store = open_store(tmp_path / "sample.db")
    write_snapshot(store, DAY0, "sample", [record("Qwen/a", "qwen", 1_200_000_000)])
    with running_bot(store) as bot:
        [message] = bot.command("top").posts
    footer = message["blocks"][-2]["elements"]
    assert any("sample data" in e["text"] for e in footer)
    assert "1.2B" in message["blocks"][1]["text"]["text"]


def test_an_unknown_command_suggests_the_nearest_commands(bot):
    [message] = bot.command("frobnicate now").posts

    everything = str(message["blocks"])
    assert "/openmodels compare A B" in everything
    assert "“frobnicate now” is not a command I know" in everything
    assert "/openmodels subscribe" not in everything  # not the whole help


@pytest.mark.parametrize("text", ["", "   "])
def test_the_command_alone_is_top_and_shares_as_top(bot, text):
    [message] = bot.command(text).posts

    assert message["blocks"][0]["text"]["text"] == "Top 3 model families by all-time downloads"
    share = message["blocks"][-1]["elements"][-1]
    assert (share["action_id"], share["value"]) == ("share_in_channel", "top")


@pytest.mark.parametrize(
    ("text", "header"),
    [("qwen", "Qwen family"), ("qwen llama", "Qwen vs Llama — all-time downloads")],
)
def test_shorthand_is_answered_and_shared_as_typed(bot, text, header):
    exchange = bot.command(text)

    first = exchange.posts[0]
    assert first["blocks"][0]["text"]["text"] == header
    share = first["blocks"][-1]["elements"][-1]
    assert share["value"] == text
    [shared] = bot.click_share(text).posts
    assert shared["response_type"] == "in_channel"
    assert shared["blocks"][0]["text"]["text"] == header


def test_a_mistyped_subcommand_is_answered_with_did_you_mean(bot):
    [message] = bot.command("comapre qwen llama").posts

    assert message["text"].startswith(
        "I don't know the command 'comapre' — did you mean `compare`?"
    )
    assert "share_in_channel" not in str(message["blocks"])


def test_a_too_long_command_is_refused_with_the_limit(bot):
    [message] = bot.command("compare " + "qwen " * 200).posts

    assert "the limit is 500" in message["text"]


def test_model_answer_links_to_the_hub(bot):
    [message] = bot.command("model Qwen/Qwen3-8B").posts

    assert message["blocks"][0]["text"]["text"] == "Qwen/Qwen3-8B"
    assert "<https://huggingface.co/Qwen/Qwen3-8B|Open on the Hub>" in str(message["blocks"])


# -- charts: see tests/test_slack_charts.py ----------------------------------------------


def test_movers_and_forecast_answer_in_text(bot):
    [movers] = bot.command("movers --days 3").posts
    [forecast] = bot.command("forecast").posts

    assert movers["blocks"][0]["text"]["text"] == "Movers: all-time downloads gained in 3 days"
    assert "No family is on course to pass" in forecast["text"]


# -- failures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenStore(Store):
    def reading(self):  # type: ignore[override]
        raise RuntimeError("disk on fire")


@dataclass(frozen=True)
class UnreadableStore(Store):
    def reading(self):  # type: ignore[override]
        raise StoreError("store /srv/openmodels.db is not a readable openmodels SQLite store")


@dataclass(frozen=True)
class GatedStore(Store):
    """A store whose reads wait for the test to open the gate: a very slow store."""

    gate: threading.Event = field(default_factory=threading.Event)

    def reading(self):  # type: ignore[override]
        assert self.gate.wait(10)
        return super().reading()


def test_a_failure_in_the_handler_apologises_and_logs_the_traceback_once(tmp_path, caplog):
    with running_bot(BrokenStore(SQLiteEngine(tmp_path / "x.db"))) as bot:
        exchange = bot.command("top")

    [message] = exchange.posts
    assert message["text"].startswith("Sorry, something went wrong")
    assert message["response_type"] == "ephemeral"
    logged = [r for r in caplog.records if r.exc_info is not None]
    assert len(logged) == 1
    assert "disk on fire" in str(logged[0].exc_info[1])
    assert "/openmodels 'top'" in logged[0].getMessage()


def test_a_user_facing_error_is_told_plainly_without_a_traceback(tmp_path, caplog):
    with running_bot(UnreadableStore(SQLiteEngine(tmp_path / "x.db"))) as bot:
        [message] = bot.command("top").posts

    assert "is not a readable openmodels SQLite store" in message["text"]
    assert all(r.exc_info is None for r in caplog.records)


def test_ack_comes_at_once_however_slow_the_answer(tmp_path):
    store = GatedStore(growing_store(tmp_path / "s.db").engine)
    with running_bot(store) as bot:
        exchange = bot.command("top", wait=False)

        assert exchange.reply.status == 200  # acknowledged while the answer is blocked
        assert bot.slack.posts(exchange.response_url) == []
        store.gate.set()
        bot.wait_done(exchange.response_url)
        assert len(bot.slack.posts(exchange.response_url)) == 1


def test_a_response_url_is_never_posted_to_more_than_five_times():
    sent = []

    class Ok:
        status_code = 200
        body = "ok"

    url = ResponseUrl(lambda **message: sent.append(message) or Ok())
    results = [url.post(text=str(i)) for i in range(7)]

    assert results == ["ok"] * 5 + ["refused"] * 2
    assert len(sent) == 5


# -- settings and the CLI ---------------------------------------------------------------

GOOD_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-123-456-abcDEF",
    "SLACK_APP_TOKEN": "xapp-1-A111-222-abc",
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
}


@pytest.mark.parametrize(
    ("argv", "env", "variable"),
    [
        (["serve"], {"SLACK_BOT_TOKEN": None}, "SLACK_BOT_TOKEN"),
        (["serve"], {"SLACK_BOT_TOKEN": "xoxp-user-token-123"}, "SLACK_BOT_TOKEN"),
        (["serve"], {"SLACK_APP_TOKEN": None}, "SLACK_APP_TOKEN"),
        (["serve"], {"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN"),
        (["serve", "--http"], {"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
        (["serve", "--http"], {"SLACK_SIGNING_SECRET": "not hex!"}, "SLACK_SIGNING_SECRET"),
        (["serve", "--http"], {"SLACK_BOT_TOKEN": "xoxb-bad token"}, "SLACK_BOT_TOKEN"),
    ],
)
def test_serve_with_a_missing_or_malformed_token_stops_with_one_line(
    argv, env, variable, monkeypatch, capsys
):
    for name, value in {**GOOD_ENV, **env}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)

    code = main(argv)

    err = capsys.readouterr().err
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("openmodels: error: ")
    assert variable in lines[0]
    for value in env.values():
        if value:
            assert value not in err  # a token is never printed


def test_a_token_slack_refuses_stops_start_up_with_one_line(store, monkeypatch, capsys):
    with LocalSlack() as slack:
        slack.fail("auth.test", "invalid_auth")
        monkeypatch.setenv("SLACK_API_URL", slack.api_url.rstrip("/"))
        monkeypatch.setenv("SLACK_BOT_TOKEN", GOOD_ENV["SLACK_BOT_TOKEN"])
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)

        code = main(["serve", "--http", "--db", store.location])

    err = capsys.readouterr().err
    assert code == 1
    assert err.strip() == (
        "openmodels: error: SLACK_BOT_TOKEN was refused by Slack (invalid_auth): copy the Bot "
        "User OAuth Token again and reinstall the app if it was revoked"
    )


def test_an_app_token_slack_refuses_stops_socket_mode_with_one_line(store, monkeypatch, capsys):
    with LocalSlack() as slack:
        slack.fail("apps.connections.open", "invalid_auth")
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        monkeypatch.setenv("SLACK_BOT_TOKEN", GOOD_ENV["SLACK_BOT_TOKEN"])
        monkeypatch.setenv("SLACK_APP_TOKEN", GOOD_ENV["SLACK_APP_TOKEN"])

        code = main(["serve", "--db", store.location])

        assert len(slack.calls_to("apps.connections.open")) == 1
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [
        "openmodels: error: SLACK_APP_TOKEN was refused by Slack (invalid_auth): create an "
        "app-level token with the connections:write scope under Basic Information"
    ]


def test_settings_never_show_their_secrets():
    settings = SlackSettings.from_env("socket", GOOD_ENV)

    for value in GOOD_ENV.values():
        assert value not in repr(settings) and value not in str(settings)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "https://slack.com/api/"),
        ("https://slack-gov.com/api", "https://slack-gov.com/api/"),
        ("http://127.0.0.1:9999/api/", "http://127.0.0.1:9999/api/"),
    ],
)
def test_slack_api_url_is_normalised_to_end_with_a_slash(given, expected):
    env = dict(GOOD_ENV) if given is None else {**GOOD_ENV, "SLACK_API_URL": given}

    assert SlackSettings.from_env("http", env).api_url == expected


def test_slack_api_url_must_be_a_url():
    from openmodels.errors import ConfigError

    with pytest.raises(ConfigError, match="SLACK_API_URL"):
        SlackSettings.from_env("http", {**GOOD_ENV, "SLACK_API_URL": "slack.com"})


def test_serve_http_answers_a_signed_compare_with_text_and_chart(store, tmp_path):
    """`openmodels serve --http`, as a real process, on a fake Slack."""
    with LocalSlack() as slack:
        env = {
            **os.environ,
            **GOOD_ENV,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "OPENMODELS_DB": store.location,
        }
        with serving_over_http(env) as url:
            response_url = slack.response_url()
            body = slash_form("compare qwen llama", response_url)

            reply = post(url, body, signed(body))

            assert reply.status == 200
            # One message with text and chart, or (chart later than 2 s, as the first
            # chart of a fresh process may be) the text, then the chart alone.
            assert slack.wait_for(lambda: _has_chart(slack.posts(response_url)), timeout=30)
            posts = slack.posts(response_url)
            assert ["Qwen leads Llama" in p["text"] for p in posts].count(True) == 1
            [image] = [b for p in posts for b in image_blocks(p)]
            assert image["slack_file"]["id"] in slack.files


def _has_chart(posts: list[dict]) -> bool:
    return any(image_blocks(p) for p in posts if p.get("blocks"))


# -- console and demo -------------------------------------------------------------------


def test_demo_tours_the_real_app_and_writes_the_charts(store, tmp_path, capsys):
    out_dir = tmp_path / "charts"

    code = main(["demo", "--db", store.location, "--out", str(out_dir)])

    out = capsys.readouterr().out
    assert code == 0
    assert "$ /openmodels compare qwen llama" in out
    assert "Qwen leads Llama by 53.0K all-time downloads" in out
    assert "1. Qwen  262.0K" in out
    assert "[Share in channel]" in out
    assert "$ /openmodels regions" in out
    assert "$ /openmodels movers" in out
    assert "$ /openmodels new" in out
    assert "$ /openmodels families" in out
    assert (
        "[Last 30 days] [Weekly] [Share] [Compare with… ▾] [Top models] [Share in channel]" in out
    )
    # The App Home tab, then a pair chosen in its Compare… menu, shown in a modal.
    home = out[out.index("$ (open the openmodels App Home tab)") :]
    assert "Leaderboard — all-time downloads, change this week" in home
    assert "[Family… ▾] [Compare… ▾]" in home
    assert '$ (choose "Qwen vs Llama" in the home tab\'s Compare… menu)' in home
    assert "Qwen vs Llama — all-time downloads" in home
    # Each workspace installs it through /slack/install and Slack's consent page; the
    # second is answered with its own token.
    assert out.count("openmodels is installed: In ") == 2
    second = out[out.index('$ (install openmodels in "Second workspace"') :]
    assert "$ /openmodels compare qwen llama --public    (in Second workspace)" in second
    assert "[visible to everyone in the channel]" in second
    assert "calls to Slack for Second workspace all went with its own bot token" in second
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "openmodels-compare-gemma-deepseek-2026-01-10.png",
        "openmodels-compare-qwen-llama-2026-01-10.png",
        "openmodels-compare-qwen-llama-weekly-2026-01-10.png",
        "openmodels-family-qwen-2026-01-10.png",
        "openmodels-movers-7d-2026-01-10.png",
        "openmodels-regions-2026-01-10.png",
    ]
    assert (out_dir / "openmodels-family-qwen-2026-01-10.png").read_bytes().startswith(PNG_MAGIC)


def test_console_answers_typed_lines_through_the_app(store, tmp_path, capsys, monkeypatch):
    typed = "/openmodels compare qwen llama --public\n\nsubscribe digest\nfamily <!channel>\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))

    code = main(["console", "--db", store.location, "--out", str(tmp_path / "c")])

    out = capsys.readouterr().out
    assert code == 0
    assert "[visible to everyone in the channel]" in out
    assert "chart (shared in the channel) written to" in out
    assert "the console leaves them alone" in out
    assert "Unknown family '" in out


def test_logging_does_not_leak_the_token(store, caplog):
    caplog.set_level(logging.DEBUG)
    with running_bot(store) as bot:
        bot.command("compare qwen llama")

    assert BOT_TOKEN not in caplog.text
    assert SIGNING_SECRET not in caplog.text


def test_store_path_is_not_needed_for_help(tmp_path):
    # Help never touches the store: it answers even when the store is broken.
    with running_bot(BrokenStore(SQLiteEngine(tmp_path / "x.db"))) as bot:
        [message] = bot.command("help").posts
    assert "/openmodels top" in str(message["blocks"])


def test_building_the_app_leaves_our_own_loggers_alone(store, caplog):
    # Bolt names a logger after the app; ours must not be silenced by it. The CLI logs
    # at INFO: an INFO line of ours must still get through once the app is built.
    caplog.set_level(logging.INFO)
    with running_bot(store) as bot:
        bot.command("top")

    logging.getLogger("openmodels.collector").info("snapshot 7: 120 models")

    assert logging.getLogger("openmodels").level == logging.NOTSET
    ours = [r.getMessage() for r in caplog.records if r.name == "openmodels.collector"]
    assert ours == ["snapshot 7: 120 models"]
