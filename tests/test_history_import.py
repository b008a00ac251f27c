"""History import: a CSV file becomes dated snapshots, all or nothing, once, and silently.

tests/data/history.csv holds three moments (2025-12-01, 2025-12-08, 2025-12-15 06:00)
of two Qwen models, one Llama model and one model no family owns. Summed by hand:
Qwen all-time 30,000 / 33,000 / 36,000 and derivatives 140 / 149 / 162; Llama all-time
31,000 / 32,000 / 33,000 with no derivative counts. Qwen passes Llama on 2025-12-08.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from commands import AnswerContext, answer_text
from commands.alert_message import alert_message
from commands.digest_message import digest_message
from commands.render import render_text
from openmodels.alerts import check_overtakes
from openmodels.cli import main
from openmodels.digest import plan_digests
from openmodels.errors import OpenModelsError
from openmodels.families import load_families
from openmodels.history_import import (
    MAX_PROBLEMS,
    PROGRESS_EVERY,
    HistoryFileError,
    RowError,
    import_history,
    parse_count,
    parse_header,
    parse_moment,
    plan_import,
    read_history,
)
from openmodels.progress import TerminalImportProgress, import_progress_line
from openmodels.timeline import TimelineCache
from storage import Store, open_store
from storage import outbox as ob
from storage import queries as q
from storage import subscriptions as subs
from storage.estimates import estimate_notes, insert_estimate
from storage.snapshots import write_snapshot
from tests.builders import dump, record

HISTORY = Path(__file__).parent / "data" / "history.csv"
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
FAMILIES = load_families()
HEADER = "date,repo_id,downloads,downloads_all_time"


def read(text: str):
    return read_history(io.StringIO(text), "h.csv", NOW)


def problems_of(text: str) -> list[str]:
    with pytest.raises(HistoryFileError) as caught:
        read(text)
    return [str(p) for p in caught.value.problems]


def run_import(store: Store | None, path: Path = HISTORY, **kwargs: object):
    return import_history(path, store, FAMILIES, now=NOW, **kwargs)  # type: ignore[arg-type]


# -- parsing one value (pure) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("2025-12-01", "2025-12-01T00:00:00Z"),  # a date means 00:00 UTC
        (" 2025-12-01 ", "2025-12-01T00:00:00Z"),
        ("2025-12-01T06:30:00Z", "2025-12-01T06:30:00Z"),
        ("2025-12-01t06:30:00z", "2025-12-01T06:30:00Z"),
        ("2025-12-01T06:30:00+02:00", "2025-12-01T04:30:00Z"),
        ("2025-12-01T06:30:00-0500", "2025-12-01T11:30:00Z"),
        ("2025-12-01 06:30", "2025-12-01T06:30:00Z"),  # no offset: UTC
        ("2025-12-01T06:30:00.999Z", "2025-12-01T06:30:00Z"),  # stored to the second
    ],
)
def test_a_date_or_timestamp_becomes_a_utc_snapshot_time(cell, stored):
    assert parse_moment(cell, NOW) == stored


@pytest.mark.parametrize(
    "cell",
    ["", "01/12/2025", "2025-13-01", "2025-02-30", "20251201", "yesterday", "2025-12-01T25:00Z"],
)
def test_a_bad_date_is_refused(cell):
    with pytest.raises(RowError, match="expected YYYY-MM-DD or an ISO 8601 timestamp") as caught:
        parse_moment(cell, NOW)
    assert caught.value.column == "date"


def test_a_date_in_the_future_is_refused():
    with pytest.raises(RowError, match="'2026-01-11' is in the future"):
        parse_moment("2026-01-11", NOW)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            "0001-01-01T00:30+01:00",
            "'0001-01-01T00:30+01:00' is before 2000",
        ),  # before year 1 in UTC
        ("0999-01-01", "'0999-01-01' is before 2000"),
        ("1999-12-31T23:59Z", "'1999-12-31T23:59Z' is before 2000"),
        ("2000-01-01T00:30+01:00", "'2000-01-01T00:30+01:00' is before 2000 in UTC"),
    ],
)
def test_a_date_before_2000_or_out_of_range_is_a_named_problem(cell, message):
    with pytest.raises(RowError) as caught:
        parse_moment(cell, NOW)
    assert (caught.value.column, caught.value.message) == ("date", message)


def test_a_date_out_of_range_is_a_problem_with_its_line_not_a_traceback():
    text = (
        f"{HEADER}\n2025-12-01,Qwen/A,1,2\n"
        "0001-01-01T00:30+01:00,Qwen/A,1,2\n0999-01-01,Qwen/A,1,2\n"
    )

    assert problems_of(text) == [
        "line 3, column date: '0001-01-01T00:30+01:00' is before 2000",
        "line 4, column date: '0999-01-01' is before 2000",
    ]


@pytest.mark.parametrize(
    "repo_id",
    ["Qwen/..", "Qwen/.", "Qwen/-a", "Qwen/a-", "Qwen/.hidden", "Qwen/a--b", "Qwen/a..b",
     "Qwen/a.git", "../a", "Qwen/a/b", "Qwen/", "/a", "Qwen/a b", "Qwen/café", "Q" * 97 + "/a"],
)  # fmt: skip
def test_a_repo_id_the_hub_would_not_spell_is_refused(repo_id):
    [problem] = problems_of(f"{HEADER}\n2025-12-01,{repo_id},1,2\n")

    assert problem.startswith("line 2, column repo_id: expected ORG/NAME as the Hub spells them")


@pytest.mark.parametrize(
    "repo_id",
    ["Qwen/Qwen2.5-7B-Instruct", "TheBloke/Llama-2-7B-GGUF", "a_b/_c_", "0x/1", "Q" * 96 + "/a"],
)
def test_repo_ids_as_the_hub_spells_them_are_read(repo_id):
    assert read(f"{HEADER}\n2025-12-01,{repo_id},1,2\n").rows == 1


# -- rows that look wrong: reported, refused when strict ------------------------------------

DOUBTFUL = (
    f"{HEADER}\n"
    "2025-12-01,Qwen/A,10,200\n"
    "2025-12-01,meta-llama/B,900,800\n"  # 30 days above all time
    "2025-12-02,Qwen/A,10,150\n"  # all time fell from 200
    "2025-12-02,meta-llama/B,5,810\n"
)


def test_rows_that_look_wrong_are_named_with_their_lines():
    history = read(DOUBTFUL)

    assert [str(d) for d in history.doubts] == [
        "line 3, column downloads: 30-day downloads 900 are above all-time downloads 800",
        "line 4, column downloads_all_time: Qwen/A's all-time downloads fell from 200 at "
        "2025-12-01T00:00:00Z (line 2) to 150 at 2025-12-02T00:00:00Z",
    ]
    assert history.doubt_count == 2


def test_an_all_time_count_that_rises_again_is_judged_against_the_date_before():
    text = f"{HEADER}\n2025-12-01,Qwen/A,1,200\n2025-12-02,Qwen/A,1,150\n2025-12-03,Qwen/A,1,160\n"

    assert [d.line for d in read(text).doubts] == [3]


def test_rows_that_look_wrong_are_imported_and_reported(store, tmp_path):
    path = tmp_path / "doubtful.csv"
    path.write_text(DOUBTFUL)

    report = run_import(store, path)

    assert report.doubt_count == 2 and [d.line for d in report.doubts] == [3, 4]
    with store.reading() as db:
        assert len(q.list_snapshots(db)) == 2


def test_a_strict_import_refuses_a_file_with_rows_that_look_wrong(store, tmp_path):
    path = tmp_path / "doubtful.csv"
    path.write_text(DOUBTFUL)
    before = dump(store)

    with pytest.raises(HistoryFileError, match=r"2 problems \(refused: --strict\), nothing"):
        run_import(store, path, strict=True)

    assert dump(store) == before


def test_cli_import_lists_rows_that_look_wrong_and_strict_refuses_them(tmp_path, capsys):
    path, db = tmp_path / "doubtful.csv", tmp_path / "cli.db"
    path.write_text(DOUBTFUL)

    code, out, _ = cli(capsys, "import", "--dry-run", str(path), "--db", str(db))
    strict_code, strict_out, err = cli(capsys, "import", "--strict", str(path), "--db", str(db))

    assert code == 0
    assert out.splitlines()[1:] == [
        "2 figures look wrong (would be imported as they are; --strict refuses such a file):",
        "  line 3, column downloads: 30-day downloads 900 are above all-time downloads 800",
        "  line 4, column downloads_all_time: Qwen/A's all-time downloads fell from 200 at "
        "2025-12-01T00:00:00Z (line 2) to 150 at 2025-12-02T00:00:00Z",
    ]
    assert strict_code == 1 and strict_out == ""
    assert err.startswith(f"openmodels: error: {path}: 2 problems (refused: --strict)")


@pytest.mark.parametrize(
    ("cell", "column", "value"),
    [("0", "downloads", 0), ("123456789", "downloads", 123456789), ("", "likes", None)],
)
def test_counts(cell, column, value):
    assert parse_count(cell, column) == value


@pytest.mark.parametrize(
    ("cell", "column", "message"),
    [
        ("", "downloads", "is empty; expected a whole number"),
        ("-5", "downloads_all_time", "'-5' is negative"),
        ("12.5", "downloads", "expected a whole number, got '12.5'"),
        ("1e6", "downloads", "expected a whole number"),
        ("1,000", "likes", "expected a whole number"),
        ("１２", "downloads", "expected a whole number"),  # full-width digits
        ("many", "derivatives", "expected a whole number, got 'many'"),
        ("9" * 20, "downloads", "is too large"),
    ],
)
def test_bad_counts_are_refused(cell, column, message):
    with pytest.raises(RowError, match=message) as caught:
        parse_count(cell, column)
    assert caught.value.column == column


def test_the_header_is_matched_in_any_case_and_extra_columns_are_ignored():
    columns = parse_header([" Date", "REPO_ID", "downloads", "downloads_all_time", "notes"])

    assert columns.positions == {"date": 0, "repo_id": 1, "downloads": 2, "downloads_all_time": 3}
    assert columns.ignored == ("notes",)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["date", "repo_id", "downloads"], "the header lacks column downloads_all_time"),
        (["date", "repo_id", "downloads", "downloads_all_time", "date"], "named twice"),
    ],
)
def test_a_bad_header_is_refused(header, message):
    with pytest.raises(RowError, match=message):
        parse_header(header)


# -- reading a whole file (pure) ----------------------------------------------------------


def test_a_valid_file_is_grouped_by_snapshot_time():
    history = read(HISTORY.read_text())

    assert history.rows == 11
    assert sorted(history.moments) == [
        "2025-12-01T00:00:00Z",
        "2025-12-08T00:00:00Z",
        "2025-12-15T06:00:00Z",
    ]
    row = history.moments["2025-12-08T00:00:00Z"]["qwen/qwen3-8b"]
    assert (row.line, row.repo_id, row.downloads_30d, row.downloads_all_time) == (
        6,
        "Qwen/Qwen3-8B",
        1200,
        12000,
    )
    assert (row.likes, row.derivatives) == (11, 45)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"{HEADER}\n2025-12-01,Qwen/A,1,2\n2025/12/02,Qwen/A,1,2\n",
            "line 3, column date: expected YYYY-MM-DD or an ISO 8601 timestamp, got '2025/12/02'",
        ),
        (f"{HEADER}\n2025-12-01,Qwen/A,-1,2\n", "line 2, column downloads: '-1' is negative"),
        (
            f"{HEADER}\n2025-12-01,Qwen/A,1,2.5\n",
            "line 2, column downloads_all_time: expected a whole number, got '2.5'",
        ),
        (f"{HEADER}\n2025-12-01,Qwen,1,2\n", "line 2, column repo_id: expected ORG/NAME"),
        (f"{HEADER}\n2025-12-01,Qwen/A,1\n", "line 2: expected 4 fields, found 3"),
        ("date,repo_id\n2025-12-01,Qwen/A\n", "line 1: the header lacks column downloads"),
        ("", "line 1: the file is empty; expected a header line"),
        ("\n\n", "line 1: the file is empty"),
        (f"{HEADER}\n", "line 1: no rows after the header"),
    ],
)
def test_each_problem_names_its_line_and_column(text, expected):
    [problem] = problems_of(text)
    assert problem.startswith(expected)


@pytest.mark.parametrize(
    "second",
    [
        "2025-12-01,Qwen/A,3,4",  # the same row twice
        "2025-12-01,qwen/a,3,4",  # repo ids ignore case, as on the Hub
        "2025-12-01T00:00:00Z,Qwen/A,3,4",  # the same moment written another way
    ],
)
def test_a_model_twice_at_one_moment_is_refused(second):
    text = f"{HEADER}\n2025-12-01,Qwen/A,1,2\n2025-12-02,Qwen/A,1,2\n{second}\n"

    assert problems_of(text) == [
        "line 4, column repo_id: Qwen/A at 2025-12-01T00:00:00Z again (first on line 2)"
    ]


def test_every_problem_is_counted_and_the_first_ones_shown():
    bad_rows = "".join(f"2025-12-01,Qwen/m{i},x,1\n" for i in range(1000))

    with pytest.raises(HistoryFileError) as caught:
        read(f"{HEADER}\n2025-12-01,Qwen/A,1,2\n{bad_rows}")

    error = caught.value
    assert error.total == 1000
    assert len(error.problems) == MAX_PROBLEMS
    assert str(error.problems[0]) == "line 3, column downloads: expected a whole number, got 'x'"
    assert str(error).startswith("h.csv: 1,000 problems, nothing imported:\n  line 3, ")
    assert str(error).endswith(f"…and {1000 - MAX_PROBLEMS} more problems")


def test_a_field_too_large_for_csv_is_one_problem_with_its_line():
    text = f"{HEADER}\n2025-12-01,Qwen/A,1,2\n2025-12-01,Qwen/{'x' * 200_000},1,2\n"

    assert problems_of(text) == ["line 3: unreadable CSV (field larger than field limit (131072))"]


def test_blank_lines_are_skipped_and_quoted_fields_read():
    history = read(f'\n{HEADER}\n\n"2025-12-01","Qwen/A","1","2"\n\n')

    assert history.rows == 1


def test_rows_read_are_reported_as_reading_goes():
    rows = "".join(f"2025-12-01,Qwen/m{i},1,2\n" for i in range(PROGRESS_EVERY * 2 + 5))
    heard: list[int] = []

    read_history(io.StringIO(f"{HEADER}\n{rows}"), "h.csv", NOW, on_rows=heard.append)

    assert heard == [PROGRESS_EVERY, PROGRESS_EVERY * 2, PROGRESS_EVERY * 2 + 5]


# -- planning (pure) ------------------------------------------------------------------


def test_the_plan_classifies_by_family_and_counts_what_it_leaves_out():
    history = read(HISTORY.read_text())

    plan = plan_import(history, FAMILIES, {"2025-12-08"}, {"qwen/qwen3-8b": "Qwen/QWEN3-8B"})

    assert [s.taken_at for s in plan.snapshots] == ["2025-12-01T00:00:00Z", "2025-12-15T06:00:00Z"]
    assert plan.days_present == ["2025-12-08"]
    assert plan.untracked_models == ["TheBloke/Llama-2-7B-GGUF"]
    assert plan.untracked_rows == 1  # the 2025-12-08 row is on a day left out
    first = {r.repo_id: r for r in plan.snapshots[0].records}
    # A model the store already holds keeps the store's spelling.
    assert set(first) == {"Qwen/QWEN3-8B", "Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B"}
    assert (first["Qwen/QWEN3-8B"].family, first["Qwen/QWEN3-8B"].derivatives) == ("qwen", 40)
    assert first["meta-llama/Llama-3.1-8B"].derivatives is None
    assert (plan.rows, plan.models, plan.families) == (6, 3, {"qwen", "llama"})


def test_a_moment_with_only_untracked_models_is_no_snapshot():
    history = read(f"{HEADER}\n2025-12-01,TheBloke/x,1,2\n2025-12-02,Qwen/A,1,2\n")

    plan = plan_import(history, FAMILIES, set(), {})

    assert [s.taken_at for s in plan.snapshots] == ["2025-12-02T00:00:00Z"]
    assert plan.empty_moments == ["2025-12-01T00:00:00Z"]


# -- importing into a store -----------------------------------------------------------


@pytest.fixture
def store(new_store) -> Store:
    return new_store("s")


def test_each_moment_becomes_one_imported_snapshot_with_hand_summed_totals(store):
    report = run_import(store)

    with store.reading() as db:
        snapshots = q.list_snapshots(db)
        totals = [q.totals_at(db, s.id) for s in snapshots]
    assert [(s.taken_at, s.source, s.model_count) for s in snapshots] == [
        ("2025-12-01T00:00:00Z", "import", 3),
        ("2025-12-08T00:00:00Z", "import", 3),
        ("2025-12-15T06:00:00Z", "import", 3),
    ]
    assert all(s.is_history and not s.is_live for s in snapshots)
    assert [t["qwen"].downloads_all_time for t in totals] == [30_000, 33_000, 36_000]
    assert [t["qwen"].downloads_30d for t in totals] == [1_800, 2_050, 2_400]
    assert [t["qwen"].likes for t in totals] == [30, 31, 33]
    assert [t["qwen"].derivatives for t in totals] == [140, 149, 162]
    assert [t["llama"].downloads_all_time for t in totals] == [31_000, 32_000, 33_000]
    assert [t["llama"].derivatives for t in totals] == [None, None, None]
    assert (report.rows, len(report.plan.snapshots), report.plan.untracked_rows) == (11, 3, 2)


def test_importing_the_same_file_twice_changes_nothing(store):
    run_import(store)
    before = dump(store)

    again = run_import(store)

    assert dump(store) == before
    assert again.plan.snapshots == []
    assert again.plan.days_present == ["2025-12-01", "2025-12-08", "2025-12-15"]


def test_a_day_that_already_holds_a_live_snapshot_is_left_out(store):
    live = datetime(2025, 12, 8, 6, 0, tzinfo=UTC)
    write_snapshot(store, live, "hub", [record("Qwen/Qwen3-8B", "qwen", 99_999)])

    report = run_import(store)

    assert report.plan.days_present == ["2025-12-08"]
    with store.reading() as db:
        assert [(s.date, s.source) for s in q.list_snapshots(db)] == [
            ("2025-12-01", "import"),
            ("2025-12-08", "hub"),
            ("2025-12-15", "import"),
        ]


def test_an_invalid_file_writes_nothing(store, tmp_path):
    run_import(store)
    before = dump(store)
    bad = tmp_path / "bad.csv"
    text = HISTORY.read_text().replace("2025-12-", "2024-11-")  # all new days…
    bad.write_text(text + "2024-11-20,Qwen/Qwen3-8B,1,-2,,\n")  # …and one bad row at the end

    with pytest.raises(HistoryFileError, match="line 13, column downloads_all_time"):
        run_import(store, bad)

    assert dump(store) == before


def test_a_model_spelled_in_another_case_joins_its_stored_history(store, tmp_path):
    write_snapshot(
        store, datetime(2025, 12, 20, tzinfo=UTC), "hub", [record("Qwen/Qwen3-8B", "qwen", 1)]
    )
    lower = tmp_path / "lower.csv"
    lower.write_text(f"{HEADER}\n2025-12-01,qwen/qwen3-8b,1,2\n")

    run_import(store, lower)

    with store.reading() as db:
        assert [p.downloads_all_time for p in q.model_history(db, "Qwen/Qwen3-8B")] == [2, 1]
        assert db.execute("SELECT count(*) FROM models").fetchone()[0] == 1


def test_bytes_that_are_not_utf8_are_refused_with_their_line(store, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + f"{HEADER}\n2025-12-01,Qwen/A,1,2\n".encode()
        + b"2025-12-02,Qwen/\xe9,1,2\n"
    )

    with pytest.raises(HistoryFileError, match="line 3, column repo_id: expected ORG/NAME") as e:
        run_import(store, path)
    assert str(e.value).endswith("(not UTF-8 text)")


def test_a_missing_file_or_a_folder_is_one_clear_error(store, tmp_path):
    with pytest.raises(OpenModelsError, match="no such file"):
        run_import(store, tmp_path / "missing.csv")
    with pytest.raises(OpenModelsError, match="is a directory"):
        run_import(store, tmp_path)


def test_a_dry_run_writes_nothing(store):
    before = dump(store)

    report = run_import(store, dry_run=True)

    assert dump(store) == before
    assert report.dry_run and len(report.plan.snapshots) == 3


def test_a_large_file_is_imported_whole_with_progress(store, tmp_path):
    days, models = 30, 2_000  # 60,000 rows
    path = tmp_path / "large.csv"
    start = datetime(2025, 6, 1, tzinfo=UTC)
    with path.open("w") as out:
        out.write(HEADER + ",derivatives\n")
        for d in range(days):
            day = (start + timedelta(days=d)).date().isoformat()
            for m in range(models):
                out.write(f"{day},Qwen/m{m},{m},{m * 100 + d},{m % 7}\n")
    progress = RecordingProgress()

    report = run_import(store, path, progress=progress)

    assert report.plan.rows == days * models
    with store.reading() as db:
        latest = q.latest_snapshot(db)
        assert latest is not None and latest.model_count == models
        total = q.totals_at(db, latest.id)["qwen"]
    assert total.downloads_all_time == sum(m * 100 + days - 1 for m in range(models))
    assert total.derivatives == sum(m % 7 for m in range(models))
    assert progress.events[0] == ("read", PROGRESS_EVERY)
    assert ("read", days * models) in progress.events
    assert progress.events[-2:] == [("wrote", days, days), ("finish",)]


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def read(self, rows: int) -> None:
        self.events.append(("read", rows))

    def wrote(self, snapshots: int, total: int) -> None:
        self.events.append(("wrote", snapshots, total))

    def finish(self) -> None:
        self.events.append(("finish",))


def test_the_progress_line_is_rewritten_in_place():
    stream = io.StringIO()
    progress = TerminalImportProgress(stream)

    progress.read(50_000)
    progress.wrote(1, 365)
    progress.finish()

    assert import_progress_line(1_200) == "read 1,200 rows"
    assert stream.getvalue().split("\r")[1:] == [
        "read 50,000 rows",
        "read 50,000 rows, wrote 1/365 snapshots\n",
    ]


# -- history is never news ------------------------------------------------------------


@pytest.fixture
def subscribed(store) -> Store:
    with store.writing() as db:
        subs.subscribe(db, "T1", "C_ALERTS", "alerts", (), "2025-11-01T00:00:00Z")
        subs.subscribe(db, "T1", "C_DIGEST", "digest", (), "2025-11-01T00:00:00Z")
    return store


def queued(store: Store) -> list[str]:
    with store.reading() as db:
        return [item.event for item in ob.all_items(db)]


def test_imported_history_never_alerts_though_it_holds_an_overtake(subscribed):
    run_import(subscribed)  # Qwen passes Llama on 2025-12-08

    check = check_overtakes(subscribed, FAMILIES, message=alert_message, now=NOW)

    assert check.reason == "imported history never alerts"
    assert check.overtakes == [] and queued(subscribed) == []


def test_the_first_live_snapshot_after_an_import_is_compared_with_no_history(subscribed, tmp_path):
    # History ends with Llama ahead; the first live snapshot has Qwen ahead. Against the
    # history it would be an overtake, but imported data never takes part in alerts.
    ahead = tmp_path / "llama-ahead.csv"
    ahead.write_text(f"{HEADER}\n2025-12-01,Qwen/A,1,100\n2025-12-01,meta-llama/L,1,200\n")
    run_import(subscribed, ahead)
    write_snapshot(
        subscribed,
        datetime(2025, 12, 2, 6, tzinfo=UTC),
        "hub",
        [record("Qwen/A", "qwen", 300), record("meta-llama/L", "llama", 210)],
    )

    check = check_overtakes(subscribed, FAMILIES, message=alert_message, now=NOW)

    assert check.reason == "first snapshot"
    assert queued(subscribed) == []


def test_no_digest_is_sent_when_the_newest_snapshot_is_history(subscribed):
    run_import(subscribed)

    plan = plan_digests(subscribed, FAMILIES, NOW, slot=NOW, message=digest_message)

    assert plan.queued == []
    assert plan.skipped == [("C_DIGEST", "the newest snapshot is imported history")]
    assert queued(subscribed) == []


def test_answers_say_the_snapshot_is_imported_history(store):
    run_import(store)
    ctx = AnswerContext(store=store, families=FAMILIES)

    top = render_text(answer_text("top", ctx))
    status = render_text(answer_text("status", ctx))

    assert "Snapshot 2025-12-15 · changes since 2025-12-08" in top
    assert "(imported history)" in top
    assert "Snapshots: 3 (3 imported)" in status


def test_imported_snapshots_record_the_families_they_were_counted_by(store):
    # The rows are classified by today's families file, so a live snapshot taken with the
    # same file compares with the history like for like: movers across the boundary rank
    # the families instead of setting every one aside as redefined.
    run_import(store)
    write_snapshot(
        store,
        datetime(2025, 12, 22, 6, tzinfo=UTC),
        "hub",
        [
            record("Qwen/Qwen3-8B", "qwen", 40_000),
            record("meta-llama/Llama-3.1-8B", "llama", 34_000),
        ],
        FAMILIES.definitions(),
    )

    with store.reading() as db:
        first = q.list_snapshots(db)[0]
        assert q.definitions_at(db, first.id) == dict(FAMILIES.definitions())
    movers = render_text(
        answer_text("movers --days 14", AnswerContext(store=store, families=FAMILIES))
    )

    assert "definition changed" not in movers
    assert "Qwen" in movers and "Llama" in movers
    # And the week's change crosses from history to the live snapshot: Qwen 36,000 on
    # 15 Dec (14,000 + 22,000), 40,000 on 22 Dec; Llama 33,000, then 34,000.
    top = render_text(answer_text("top", AnswerContext(store=store, families=FAMILIES)))
    assert "1. Qwen  40.0K · 54.1% · +4.0K this week" in top
    assert "2. Llama  34.0K · 45.9% · +1.0K this week" in top


# -- the command line -------------------------------------------------------------------


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_import_reports_what_it_wrote_and_left_out(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENMODELS_FAMILIES", raising=False)
    db = tmp_path / "cli.db"

    code, out, _ = cli(capsys, "import", str(HISTORY), "--db", str(db))
    again_code, again, _ = cli(capsys, "import", str(HISTORY), "--db", str(db))

    assert code == 0
    assert out.splitlines() == [
        f"imported 3 snapshots (2025-12-01 to 2025-12-15): 9 rows of 3 models in 2 families"
        f" -> {db}",
        "skipped 2 rows of 1 model no tracked family owns (e.g. TheBloke/Llama-2-7B-GGUF)",
    ]
    assert again_code == 0
    assert again.splitlines()[:2] == [
        f"nothing to import from {HISTORY} (11 rows read)",
        "skipped 3 days that already hold a snapshot: 2025-12-01, 2025-12-08, 2025-12-15",
    ]


def test_cli_import_of_a_bad_file_names_the_line_and_writes_nothing(tmp_path, capsys):
    db, bad = tmp_path / "cli.db", tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\n2025-12-01,Qwen/A,1,2\n2025-12-02,Qwen/A,lots,2\n")

    code, out, err = cli(capsys, "import", str(bad), "--db", str(db))

    assert code == 1 and out == ""
    assert err == (
        f"openmodels: error: {bad}: 1 problem, nothing imported:\n"
        "  line 3, column downloads: expected a whole number, got 'lots'\n"
    )
    with open_store(db).reading() as conn:
        assert q.list_snapshots(conn) == []


def test_cli_dry_run_creates_no_store(tmp_path, capsys):
    db = tmp_path / "none.db"

    code, out, _ = cli(capsys, "import", "--dry-run", str(HISTORY), "--db", str(db))

    assert code == 0
    assert out.startswith("would import 3 snapshots")
    assert not db.exists()


# -- measured history over the day-one estimate --------------------------------------------


def store_with_estimate(path: Path | Store) -> Store:
    """A store (a new SQLite file, or an empty store) whose first collection, on 31 Jan
    2026, wrote its estimate for 1 Jan: Qwen/Qwen3-8B at 62,000 all-time then (92,000
    less 30,000 in 30 days)."""
    store = path if isinstance(path, Store) else open_store(path)
    collected = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)
    live = write_snapshot(
        store, collected, "hub", [record("Qwen/Qwen3-8B", "qwen", 92_000, d30=30_000)]
    )
    with store.writing() as db:
        insert_estimate(
            db,
            collected - timedelta(days=30),
            [record("Qwen/Qwen3-8B", "qwen", 62_000)],
            FAMILIES.definitions(),
            based_on=live,
            floored=0,
            whole=True,
        )
    return store


def measured_january(tmp_path: Path) -> Path:
    """Measured history for 1-30 Jan: 60,000 all-time on 1 Jan, 1,000 more a day."""
    lines = ["date,repo_id,downloads,downloads_all_time"] + [
        f"2026-01-{d:02d},Qwen/Qwen3-8B,30000,{60_000 + 1_000 * (d - 1)}" for d in range(1, 31)
    ]
    path = tmp_path / "january.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_measured_history_replaces_the_estimate_of_its_day(tmp_path, new_store):
    store = store_with_estimate(new_store("s"))

    report = import_history(
        measured_january(tmp_path), store, FAMILIES, now=datetime(2026, 2, 1, tzinfo=UTC)
    )

    assert report.plan.replaced == ["2026-01-01"]
    assert report.plan.days_present == []
    with store.reading() as db:
        snapshots = q.list_snapshots(db)
        first = q.totals_at(db, snapshots[0].id)["qwen"].downloads_all_time
        assert estimate_notes(db) == []
        history = q.model_history(db, "Qwen/Qwen3-8B")
        [(first_seen,)] = db.execute(
            "SELECT first_seen_at FROM models WHERE repo_id = 'Qwen/Qwen3-8B'"
        ).fetchall()
    assert [s.source for s in snapshots] == ["import"] * 30 + ["hub"]
    assert first_seen[:10] == "2026-01-01"  # first listed by the measured day now
    assert (snapshots[0].date, first) == ("2026-01-01", 60_000)
    assert not any(p.estimated for p in history)


def test_the_import_report_says_which_estimate_measured_history_replaced(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("OPENMODELS_FAMILIES", raising=False)
    db = tmp_path / "s.db"
    store_with_estimate(db)

    code, out, _ = cli(capsys, "import", str(measured_january(tmp_path)), "--db", str(db))

    assert code == 0
    assert (
        "replaced the estimate of 2026-01-01 (from the Hub's 30-day counts) with measured history"
        in out.splitlines()
    )


def test_a_process_answering_questions_sees_the_estimate_replaced(tmp_path, new_store):
    # One measured day in place of the estimate: as many snapshots as before, and the
    # new one may take the estimate's id (on SQLite).
    store = store_with_estimate(new_store("s"))
    timelines = TimelineCache()
    with store.reading() as db:
        before = timelines.read(db)
    day = tmp_path / "day.csv"
    day.write_text("date,repo_id,downloads,downloads_all_time\n2026-01-01,Qwen/Qwen3-8B,0,60000\n")

    import_history(day, store, FAMILIES, now=datetime(2026, 2, 1, tzinfo=UTC))

    with store.reading() as db:
        after = timelines.read(db)
    assert [s.source for s in before.snapshots] == ["estimate", "hub"]
    assert [s.source for s in after.snapshots] == ["import", "hub"]
