"""The command line: ask, status, digest --dry-run, backup; errors are one line, no traceback."""

import json
import sqlite3
from pathlib import Path

import pytest

from openmodels.cli import main, split_ask_text
from openmodels.locate import sample_store_path
from tests.builders import growing_store
from tests.fakes import hub_model


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENMODELS_DB", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    path = tmp_path / "s.db"
    growing_store(path)
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_prints_a_readable_answer(db, capsys):
    code, out, _ = run(capsys, "ask", "--db", str(db), "compare", "qwen", "llama")
    assert code == 0
    assert "Qwen leads Llama by 53.0K all-time downloads" in out


def test_ask_passes_command_options_through(db, capsys):
    code, out, _ = run(capsys, "ask", "--db", str(db), "top", "2", "--30d")
    assert code == 0 and "by 30-day downloads" in out


def test_ask_json_prints_the_block_kit_payload(db, capsys):
    code, out, _ = run(capsys, "ask", "--db", str(db), "top", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["response_type"] == "ephemeral"
    assert payload["blocks"][0]["type"] == "header"


def test_ask_passes_valued_options_through_and_prints_json(db, capsys):
    code, out, _ = run(capsys, "ask", "--db", str(db), "movers", "--days", "3", "--json")

    assert code == 0
    payload = json.loads(out)
    assert payload["blocks"][0]["text"]["text"] == "Movers: all-time downloads gained in 3 days"


def test_ask_reads_the_bundled_sample_when_there_is_no_store(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENMODELS_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "ask", "compare", "qwen", "llama")
    assert code == 0
    assert "sample data" in out
    # The answer is Slack's too, so the hint to collect goes to the terminal only.
    assert "openmodels collect" not in out
    assert "run `openmodels collect` to take live numbers" in err
    assert not (tmp_path / "openmodels.db").exists()


def test_the_sample_named_by_its_path_stays_the_read_only_sample(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENMODELS_DB", raising=False)
    sample = sample_store_path()
    before = sample.read_bytes()

    code, out, _ = run(capsys, "ask", "--db", str(sample), "top")
    assert code == 0 and "sample data" in out
    code, _, err = run(capsys, "collect", "--db", str(sample))
    assert code == 1 and "the bundled sample store is read-only" in err

    assert sample.read_bytes() == before  # not switched to WAL, nothing written
    assert not Path(f"{sample}-wal").exists()


# -- ask: options anywhere, exit codes ----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "arguments", "text"),
    [
        (["ask", "--db", "X", "top"], ["ask", "--db", "X"], ["top"]),
        (["ask", "top", "--db", "X"], ["ask", "--db", "X"], ["top"]),
        (["ask", "top", "--db=X"], ["ask", "--db=X"], ["top"]),
        (
            ["ask", "compare", "qwen", "--families", "f.toml", "llama", "--30d", "--json"],
            ["ask", "--families", "f.toml", "--json"],
            ["compare", "qwen", "llama", "--30d"],
        ),
        (
            ["ask", "movers", "--days", "3", "--db", "X", "--public"],
            ["ask", "--db", "X"],
            ["movers", "--days", "3", "--public"],
        ),
        (["-v", "ask", "top"], ["-v", "ask"], ["top"]),
        (["ask", "top", "-v"], ["-v", "ask"], ["top"]),
        (["ask"], ["ask"], []),
        (["ask", "--30d"], ["ask"], ["--30d"]),
        (["ask", "--", "top", "--db", "X"], ["ask"], ["top", "--db", "X"]),
        (["ask", "top", "--db"], ["ask", "--db"], ["top"]),  # argparse says what is missing
        (["status", "--db", "X"], ["status", "--db", "X"], None),
        ([], [], None),
    ],
)
def test_ask_takes_its_own_options_out_of_the_command_text(argv, arguments, text):
    assert split_ask_text(argv) == (arguments, text)


def test_ask_takes_its_options_after_the_command_text(db, capsys):
    code, out, _ = run(capsys, "ask", "top", "2", "--db", str(db), "--30d")

    assert code == 0 and "Top 2 model families by 30-day downloads" in out


def test_ask_takes_json_and_valued_options_after_the_command_text(db, capsys):
    code, out, _ = run(capsys, "ask", "movers", "--days", "3", "--json", "--db", str(db))

    assert code == 0
    payload = json.loads(out)
    assert payload["blocks"][0]["text"]["text"] == "Movers: all-time downloads gained in 3 days"


def test_ask_alone_answers_top(db, capsys):
    code, out, _ = run(capsys, "ask", "--db", str(db))

    assert code == 0 and out.startswith("Top 3 model families by all-time downloads")


@pytest.mark.parametrize(
    ("text", "first_line"),
    [
        (["frobnicate"], "“frobnicate” is not a command I know. Perhaps:"),
        (["comapre", "qwen", "llama"], "I don't know the command 'comapre' — did you mean"),
        (["family", "qwne"], "Unknown family 'qwne' — did you mean qwen?"),
        (["qwne"], "Unknown family 'qwne' — did you mean qwen?"),
        (["top", "0"], "N must be a whole number from 1 up."),
        (["compare"], "Name the families to compare."),
        (["top", "--weekly"], "Unknown option --weekly."),
        (["subscribe", "digest"], "Subscriptions belong to a Slack channel"),
    ],
)
def test_an_answer_that_is_an_error_exits_1(db, capsys, text, first_line):
    code, out, err = run(capsys, "ask", "--db", str(db), *text)

    assert code == 1
    assert out.startswith(first_line)
    assert err == ""


@pytest.mark.parametrize("text", [["top"], ["qwen", "llama"], ["help"], []])
def test_an_answer_exits_0(db, capsys, text):
    assert run(capsys, "ask", "--db", str(db), *text)[0] == 0


def test_an_empty_store_exits_1_and_says_how_to_collect(tmp_path, capsys):
    from storage import open_store

    open_store(tmp_path / "empty.db")
    code, out, _ = run(capsys, "ask", "top", "--db", str(tmp_path / "empty.db"))

    assert code == 1
    assert "No snapshots yet. Run `openmodels collect`" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "top", "--db"],
        ["ask", "--families"],
        ["frobnicate"],
        ["status", "--nonsense"],
    ],
)
def test_a_command_line_argparse_refuses_exits_2(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert "usage: openmodels" in capsys.readouterr().err


def test_status(db, capsys):
    code, out, _ = run(capsys, "status", "--db", str(db))
    assert code == 0 and "Snapshots: 10" in out


def test_digest_dry_run_writes_the_chart_and_posts_nothing(db, tmp_path, capsys):
    out_png = tmp_path / "digest.png"
    code, out, _ = run(capsys, "digest", "--db", str(db), "--dry-run", "--out", str(out_png))
    assert code == 0
    assert out_png.read_bytes().startswith(b"\x89PNG")
    assert "openmodels weekly digest" in out and "dry run: nothing posted" in out


def test_a_digest_of_the_sample_counts_from_its_last_snapshot_and_says_so(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("OPENMODELS_DB", raising=False)
    monkeypatch.chdir(tmp_path)  # no store here: the bundled sample is read

    code, out, _ = run(capsys, "digest", "--dry-run", "--out", str(tmp_path / "d.png"))

    assert code == 0
    text = " ".join(out.split())
    assert (
        "Next pass: DeepSeek is on course to pass Gemma around 2026-05-08 (111 days after "
        "the sample's last snapshot, 2026-01-17; range 104–119)."
    ) in text
    assert "sample data as of 2026-01-17 (synthetic)" in text


@pytest.mark.parametrize("out", ["missing-folder/digest.png", "."])
def test_a_dry_run_digest_chart_that_cannot_be_written_is_one_line(db, tmp_path, capsys, out):
    code, _, err = run(capsys, "digest", "--dry-run", "--db", str(db), "--out", str(tmp_path / out))
    assert code == 1
    assert err.startswith("openmodels: error: cannot write the chart to ")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_digest_without_a_token_says_what_is_missing(db, capsys):
    code, _, err = run(capsys, "digest", "--db", str(db))
    assert code == 1
    assert err.strip().splitlines() == [
        "openmodels: error: neither SLACK_BOT_TOKEN nor SLACK_CLIENT_ID and "
        "SLACK_CLIENT_SECRET is set; one of them is needed to post (use --dry-run to preview)"
    ]


def test_deliver_without_a_token_says_what_is_missing(db, capsys):
    code, _, err = run(capsys, "deliver", "--db", str(db))
    assert code == 1
    assert err.strip().splitlines() == [
        "openmodels: error: neither SLACK_BOT_TOKEN nor SLACK_CLIENT_ID and "
        "SLACK_CLIENT_SECRET is set; one of them is needed to post what is queued"
    ]


def test_backup_writes_a_consistent_copy(db, tmp_path, capsys):
    copy = tmp_path / "copy.db"
    code, out, _ = run(capsys, "backup", "--db", str(db), str(copy))
    assert code == 0 and "backed up" in out
    with sqlite3.connect(db) as a, sqlite3.connect(copy) as b:
        for table in ("snapshots", "model_counts", "family_totals"):
            query = f"SELECT * FROM {table} ORDER BY 1, 2"
            assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_backup_never_overwrites(db, tmp_path, capsys):
    existing = tmp_path / "keep.db"
    existing.write_bytes(b"precious")
    code, _, err = run(capsys, "backup", "--db", str(db), str(existing))
    assert code == 1 and "already exists" in err
    assert existing.read_bytes() == b"precious"


@pytest.mark.parametrize("where", ["--db", "cwd"])
def test_backup_of_a_store_that_does_not_exist_is_refused(tmp_path, capsys, monkeypatch, where):
    # A mistyped --db, or a cron job started in the wrong folder: no empty store is made
    # and backed up, and the bundled sample is never taken for the team's store.
    monkeypatch.delenv("OPENMODELS_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    store = ["--db", str(tmp_path / "typo.db")] if where == "--db" else []
    code, _, err = run(capsys, "backup", *store, str(tmp_path / "copy.db"))
    assert code == 1
    assert err.startswith("openmodels: error: no store at ") and "to back up" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a database, just text" * 100, "is not a readable openmodels SQLite store"),
    ],
)
def test_a_corrupt_store_is_one_clear_line(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    code, _, err = run(capsys, "status", "--db", str(bad))
    assert code == 1
    assert message in err and "Traceback" not in err
    assert bad.read_bytes() == content


def test_a_broken_families_file_is_one_clear_line(db, tmp_path, capsys):
    broken = tmp_path / "families.toml"
    broken.write_text("[families.qwen]\nlabel = 'Qwen'\n")
    code, _, err = run(capsys, "ask", "--db", str(db), "--families", str(broken), "top")
    assert code == 1
    assert err.strip() == (
        f"openmodels: error: {broken}: family 'qwen': has no orgs; "
        "give at least one Hub organisation"
    )


def test_deliver_exits_1_and_says_so_when_slack_refuses_the_token(db, capsys, monkeypatch):
    from localslack.server import LocalSlack
    from storage import open_store
    from storage import outbox as ob

    with open_store(db).writing() as conn:
        ob.enqueue(conn, "T1", "C1", "alert", "e1", {"text": "Qwen passed Llama"}, "2026-01-05")
    with LocalSlack() as slack:
        slack.fail("chat.postMessage", "token_revoked")
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)

        code, out, _ = run(capsys, "deliver", "--db", str(db))

    assert code == 1
    assert "Slack refused the app (token_revoked): queued items stay pending" in out


@pytest.mark.parametrize(
    ("variable", "value"),
    [("OPENMODELS_COLLECT_AT", "25:00"), ("OPENMODELS_DIGEST_AT", "Funday 09:00")],
)
def test_a_bad_schedule_stops_collect_before_it_asks_the_hub(
    tmp_path, capsys, monkeypatch, fake_hub, variable, value
):
    # Found only after the snapshot, it would fail a collection that had been written
    # (and a cron job retrying it would collect twice).
    fake_hub.add("Qwen", hub_model("Qwen/Qwen3-8B", downloads=5, all_time=50))
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")  # nothing listens
    monkeypatch.setenv(variable, value)
    families = tmp_path / "families.toml"
    families.write_text('[families.qwen]\norgs = ["Qwen"]\n')
    store = tmp_path / "s.db"

    code, out, err = run(capsys, "collect", "--db", str(store), "--families", str(families))

    assert code == 1 and out == ""
    assert err.startswith(f"openmodels: error: {variable} must be")
    assert fake_hub.requests == [] and not store.exists()
