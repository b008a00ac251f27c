"""Importing download history from a CSV file, so a store starts with a trend.

A history file has one row per model and moment:

    date,repo_id,downloads,downloads_all_time,likes,derivatives
    2025-06-01,Qwen/Qwen3-8B,1200345,4500012,310,1250

`date` is YYYY-MM-DD (meaning 00:00 UTC) or an ISO 8601 timestamp (UTC when it names
no offset), from 2000 on; `downloads` is the Hub's 30-day count; `likes` and
`derivatives` are optional; `repo_id` is ORG/NAME as the Hub spells them. Each distinct
moment becomes one snapshot with source `import`.

The work is three steps. `read_history` parses and validates the whole file (pure:
lines in, rows or problems out), and names the rows that are valid but unlikely to be
right (`doubts`: a 30-day count above the all-time count, a model's all-time count
falling from one date to the next); `plan_import` classifies the rows by the current
families and leaves out days the store already holds (pure); `import_history` runs
both and writes every planned snapshot in one transaction, so a file is imported
completely or not at all, and importing it twice changes nothing. Doubts are reported
with their lines; a strict import refuses the file for them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from openmodels.errors import OpenModelsError
from openmodels.families import Families
from openmodels.progress import ImportProgress
from storage import Store
from storage import queries as q
from storage.estimates import delete_estimate, estimate_notes
from storage.model_sizes import record_sizes, unsized
from storage.returns import recount_returns
from storage.snapshots import (
    SOURCE_IMPORT,
    ModelRecord,
    format_timestamp,
    insert_snapshot,
    parse_timestamp,
)
from storage.sql import Connection

REQUIRED_COLUMNS = ("date", "repo_id", "downloads", "downloads_all_time")
OPTIONAL_COLUMNS = ("likes", "derivatives")
MAX_PROBLEMS = 20  # shown in full; any more are counted
MAX_COUNT = 2**63 - 1  # SQLite's largest INTEGER
PROGRESS_EVERY = 50_000  # rows between progress reports

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?",
    re.IGNORECASE,
)
EARLIEST_YEAR = 2000  # no Hub download count is older; an earlier date is a mistake
# Hub repo ids, as huggingface_hub's validate_repo_id spells out the Hub's rules: an
# organisation and a name, each of 1 to 96 ASCII letters, digits, '-', '_' and '.',
# starting and ending with a letter, digit or '_', with no '--' or '..' and no '.git'
# at the end.
_HUB_NAME = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?"
_REPO_ID = re.compile(rf"(?!.*(?:--|\.\.))(?!.*\.git$){_HUB_NAME}/{_HUB_NAME}")


# -- parsing (pure) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a history file is refused, with where it is."""

    line: int
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class HistoryFileError(OpenModelsError):
    """The file is not valid history. Nothing was written."""

    def __init__(
        self, source: str, problems: list[Problem], total: int | None = None, why: str = ""
    ) -> None:
        total = len(problems) if total is None else total
        lines = [str(p) for p in problems]
        if total > len(problems):
            lines.append(f"…and {total - len(problems):,} more problems")
        noun = "problem" if total == 1 else "problems"
        super().__init__(
            f"{source}: {total:,} {noun}{why}, nothing imported:\n  " + "\n  ".join(lines)
        )
        self.problems = problems
        self.total = total


class RowError(ValueError):
    """A value that is not valid, in a named column."""

    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class Columns:
    """Where each known column is in a row, from the header line."""

    positions: Mapping[str, int]
    width: int
    ignored: tuple[str, ...] = ()

    @cached_property
    def _indices(self) -> list[int | None]:
        # Looked up once rather than for every cell of a million rows.
        return [self.positions.get(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)]

    def cells(self, fields: list[str]) -> list[str | None]:
        """The known columns' cells, stripped, in REQUIRED then OPTIONAL order."""
        return [None if i is None else fields[i].strip() for i in self._indices]


class HistoryRow(NamedTuple):
    """One valid row. A tuple, so a million of them stay small in memory."""

    line: int
    repo_id: str
    downloads_30d: int
    downloads_all_time: int
    likes: int | None
    derivatives: int | None


@dataclass
class History:
    """A whole valid file: its rows grouped by snapshot time, then by lower-case repo id,
    and the rows that look wrong (the first MAX_PROBLEMS of them, and their count)."""

    moments: dict[str, dict[str, HistoryRow]] = field(default_factory=dict)
    rows: int = 0
    ignored_columns: tuple[str, ...] = ()
    doubts: list[Problem] = field(default_factory=list)
    doubt_count: int = 0


def parse_header(fields: list[str]) -> Columns:
    """The columns of a header line; a RowError if one is missing or named twice."""
    names = [f.strip().lower() for f in fields]
    for name in names:
        if names.count(name) > 1 and name:
            raise RowError(name, "named twice in the header")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise RowError(
            None,
            f"the header lacks column {', '.join(missing)} (found: "
            f"{', '.join(n or '(blank)' for n in names)}); required: "
            f"{', '.join(REQUIRED_COLUMNS)}; optional: {', '.join(OPTIONAL_COLUMNS)}",
        )
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    return Columns(
        positions={name: i for i, name in enumerate(names) if name in known},
        width=len(names),
        ignored=tuple(n for n in names if n not in known),
    )


def parse_moment(text: str, now: datetime) -> str:
    """A `date` cell as a snapshot time (UTC, as stored). Raises RowError."""
    text = text.strip()
    try:
        if _DATE.fullmatch(text):
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        elif _TIMESTAMP.fullmatch(text):
            moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        else:
            raise ValueError
    except ValueError:
        raise RowError(
            "date",
            f"expected YYYY-MM-DD or an ISO 8601 timestamp, got {_quote(text)}",
        ) from None
    # Checked before converting to UTC, which fails for a moment near year 1.
    if moment.year < EARLIEST_YEAR:
        raise RowError("date", f"{_quote(text)} is before {EARLIEST_YEAR}")
    if moment > now:
        raise RowError("date", f"{_quote(text)} is in the future")
    try:
        stored = format_timestamp(moment)
    except (OverflowError, ValueError):
        raise RowError("date", f"{_quote(text)} is out of range") from None
    if stored < f"{EARLIEST_YEAR}":  # 2000-01-01T00:30+01:00 is still 1999 in UTC
        raise RowError("date", f"{_quote(text)} is before {EARLIEST_YEAR} in UTC")
    return stored


def parse_count(text: str | None, column: str) -> int | None:
    """A count cell: a whole number from 0; None for an empty optional cell."""
    if text and text.isdigit() and text.isascii():
        value = int(text)
        if value > MAX_COUNT:
            raise RowError(column, f"{text[:30]} is too large")
        return value
    if not text:
        if column in OPTIONAL_COLUMNS:
            return None
        raise RowError(column, "is empty; expected a whole number")
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        raise RowError(column, f"{_quote(text)} is negative; counts start at 0")
    raise RowError(column, f"expected a whole number, got {_quote(text)}")


def parse_row(
    fields: list[str],
    columns: Columns,
    now: datetime,
    line: int = 0,
    moments: dict[str, str] | None = None,
) -> tuple[str, HistoryRow]:
    """(snapshot time, row) from the fields of data line `line`. Raises RowError.

    `moments` caches parsed date cells: a file repeats each date on many rows.
    """
    if len(fields) != columns.width:
        raise RowError(None, f"expected {columns.width} fields, found {len(fields)}")
    cell, repo_id, d30, all_time, likes, derivatives = columns.cells(fields)
    moment = moments.get(cell or "") if moments is not None else None
    if moment is None:
        moment = parse_moment(cell or "", now)
        if moments is not None:
            moments[cell or ""] = moment
    if not repo_id or not _REPO_ID.fullmatch(repo_id):
        raise RowError(
            "repo_id",
            f"expected ORG/NAME as the Hub spells them, got {_quote(repo_id or '')}",
        )
    return moment, HistoryRow(
        line,
        repo_id,
        _required(parse_count(d30, "downloads")),
        _required(parse_count(all_time, "downloads_all_time")),
        parse_count(likes, "likes"),
        parse_count(derivatives, "derivatives"),
    )


def _required(count: int | None) -> int:
    # parse_count raises for an empty required cell; None only comes from optional ones.
    assert count is not None
    return count


def read_history(
    lines: Iterable[str],
    source: str,
    now: datetime,
    on_rows: Callable[[int], None] | None = None,
) -> History:
    """Parse and validate a whole history file. Raises HistoryFileError naming each problem.

    The whole file is checked, so the error counts every problem (and shows the first
    MAX_PROBLEMS). `on_rows` hears the number of rows read every PROGRESS_EVERY rows
    and at the end.
    """
    problems: list[Problem] = []
    total_problems = 0

    def problem(line: int, error: RowError) -> None:
        nonlocal total_problems
        total_problems += 1
        if len(problems) < MAX_PROBLEMS:
            problems.append(Problem(line, error.message, error.column))

    reader = csv.reader(lines)
    history = History()
    columns: Columns | None = None
    # Lower-case repo id -> (that key, the id's first spelling in the file): one string
    # object per model, however many rows name it.
    spelling: dict[str, tuple[str, str]] = {}
    moments: dict[str, str] = {}  # date cell -> snapshot time, parsed once per distinct cell
    try:
        for fields in reader:
            line = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            if columns is None:
                try:
                    columns = parse_header(fields)
                except RowError as exc:
                    problem(line, exc)
                    break
                history.ignored_columns = columns.ignored
                continue
            history.rows += 1
            if on_rows is not None and history.rows % PROGRESS_EVERY == 0:
                on_rows(history.rows)
            try:
                moment, row = parse_row(fields, columns, now, line, moments)
            except RowError as exc:
                problem(line, exc)
                continue
            lower = row.repo_id.lower()
            key, repo_id = spelling.setdefault(lower, (lower, row.repo_id))
            if repo_id != row.repo_id:
                row = row._replace(repo_id=repo_id)  # the file's first spelling of it
            day = history.moments.setdefault(moment, {})
            first = day.get(key)
            if first is not None:
                problem(
                    line,
                    RowError(
                        "repo_id",
                        f"{repo_id} at {moment} again (first on line {first.line})",
                    ),
                )
                continue
            day[key] = row
    except csv.Error as exc:
        problem(reader.line_num, RowError(None, f"unreadable CSV ({exc})"))
    if on_rows is not None:
        on_rows(history.rows)
    if columns is None and not problems:
        raise HistoryFileError(
            source,
            [
                Problem(
                    1,
                    "the file is empty; expected a header line naming the columns "
                    + ", ".join(REQUIRED_COLUMNS),
                )
            ],
        )
    if columns is not None and history.rows == 0 and not problems:
        raise HistoryFileError(source, [Problem(reader.line_num, "no rows after the header")])
    if problems:
        raise HistoryFileError(source, problems, total_problems)
    history.doubts, history.doubt_count = find_doubts(history)
    return history


def find_doubts(history: History) -> tuple[list[Problem], int]:
    """Valid rows unlikely to be right, in line order (the first MAX_PROBLEMS found), and
    how many there are: a 30-day count above the all-time count, and a model's all-time
    count below the one of its previous date (all-time downloads only grow). Pure."""
    found: list[Problem] = []
    total = 0
    last: dict[str, tuple[str, HistoryRow]] = {}  # lower-case repo id -> its previous row
    for moment in sorted(history.moments):
        for key, row in history.moments[moment].items():
            doubts = []
            if row.downloads_30d > row.downloads_all_time:
                doubts.append(
                    Problem(
                        row.line,
                        f"30-day downloads {row.downloads_30d:,} are above all-time downloads "
                        f"{row.downloads_all_time:,}",
                        "downloads",
                    )
                )
            before = last.get(key)
            if before is not None and row.downloads_all_time < before[1].downloads_all_time:
                then, previous = before
                doubts.append(
                    Problem(
                        row.line,
                        f"{row.repo_id}'s all-time downloads fell from "
                        f"{previous.downloads_all_time:,} at {then} (line {previous.line}) to "
                        f"{row.downloads_all_time:,} at {moment}",
                        "downloads_all_time",
                    )
                )
            last[key] = (moment, row)
            total += len(doubts)
            found.extend(doubts[: MAX_PROBLEMS - len(found)])
    return sorted(found, key=lambda p: p.line), total


def _quote(text: str, limit: int = 40) -> str:
    shown = repr(text if len(text) <= limit else text[: limit - 1] + "…")
    # Bytes that were not UTF-8 were read as lone surrogates (see `_read`).
    if any("\udc80" <= c <= "\udcff" for c in text):
        shown += " (not UTF-8 text)"
    return shown


# -- planning (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedSnapshot:
    taken_at: str
    records: list[ModelRecord]

    @property
    def families(self) -> set[str]:
        return {r.family for r in self.records}


@dataclass(frozen=True)
class ImportPlan:
    """What an import writes, and what it leaves out and why."""

    snapshots: list[PlannedSnapshot]
    days_present: list[str]  # days in the file that already hold a snapshot in the store
    untracked_models: list[str]  # repo ids no family owns, sorted
    untracked_rows: int
    empty_moments: list[str]  # times whose every row was of an untracked model
    # days of the day-one estimate the plan writes measured history for: it replaces them
    replaced: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(len(s.records) for s in self.snapshots)

    @property
    def models(self) -> int:
        return len({r.repo_id for s in self.snapshots for r in s.records})

    @property
    def families(self) -> set[str]:
        return {f for s in self.snapshots for f in s.families}


def plan_import(
    history: History,
    families: Families,
    days_present: set[str],
    stored_ids: Mapping[str, str],
    estimated_days: Collection[str] = (),
) -> ImportPlan:
    """The snapshots to write: every moment of a day the store does not hold yet, with
    the rows of models some family owns. Pure.

    `days_present` are the days holding a measured snapshot; `estimated_days` those
    holding the day-one estimate, which measured history replaces (`ImportPlan.replaced`).

    `stored_ids` maps lower-case repo ids to their spelling in the store, so a file that
    spells a model in another case adds to its history instead of a second model.
    """
    family_of: dict[str, str | None] = {}
    untracked: set[str] = set()
    untracked_rows = 0
    snapshots: list[PlannedSnapshot] = []
    skipped_days: set[str] = set()
    empty: list[str] = []
    for moment in sorted(history.moments):
        if moment[:10] in days_present:
            skipped_days.add(moment[:10])
            continue
        records = []
        for key, row in history.moments[moment].items():
            repo_id = stored_ids.get(key, row.repo_id)
            if key not in family_of:
                owner = families.family_of(repo_id)
                family_of[key] = owner.key if owner else None
            family = family_of[key]
            if family is None:
                untracked.add(repo_id)
                untracked_rows += 1
                continue
            records.append(
                ModelRecord(
                    repo_id=repo_id,
                    family=family,
                    downloads_30d=row.downloads_30d,
                    downloads_all_time=row.downloads_all_time,
                    # likes are NOT NULL in the store; a file without them says 0.
                    likes=row.likes or 0,
                    derivatives=row.derivatives,
                )
            )
        if records:
            snapshots.append(PlannedSnapshot(moment, records))
        else:
            empty.append(moment)
    written = {s.taken_at[:10] for s in snapshots}
    replaced = sorted(written.intersection(estimated_days))
    return ImportPlan(
        snapshots, sorted(skipped_days), sorted(untracked), untracked_rows, empty, replaced
    )


# -- running it --------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    """What an import read, wrote (or, in a dry run, would write) and left out, and the
    rows it imported that look wrong."""

    path: Path
    rows: int
    plan: ImportPlan
    ignored_columns: tuple[str, ...]
    dry_run: bool
    doubts: tuple[Problem, ...] = ()
    doubt_count: int = 0


def import_history(
    path: Path,
    store: Store | None,
    families: Families,
    *,
    now: datetime,
    dry_run: bool = False,
    strict: bool = False,
    progress: ImportProgress | None = None,
    failpoint: Callable[[str], None] = lambda _where: None,
) -> ImportReport:
    """Validate the history file at `path` and write it into `store`, all or nothing.

    Raises HistoryFileError (nothing written) if any row is invalid, or, when `strict`,
    if any looks wrong (`find_doubts`); otherwise those are reported. Days that already
    hold a snapshot are left out, so a second import of the same file writes nothing.
    Every snapshot is written in one transaction; `failpoint` is called with
    'after_snapshot' after each one, before the commit (crash tests only). A dry run
    writes nothing, and its `store` may be None (no store yet).
    """
    if store is None and not dry_run:
        raise ValueError("only a dry run may go without a store")
    try:
        history = _read(path, now, progress)
        if strict and history.doubts:
            raise HistoryFileError(
                str(path), history.doubts, history.doubt_count, why=" (refused: --strict)"
            )
        if store is None or dry_run:
            plan = _plan(history, families, store)
        else:
            # Planned inside the write transaction, so a collection committing at the
            # same moment cannot put a snapshot on a day the plan thinks is free.
            with store.writing() as db:
                plan = _plan_in(db, history, families)
                # Measured history is worth more than the estimate of its day: the
                # estimate goes, in this same transaction.
                replaced = [n for n in estimate_notes(db) if n.taken_at[:10] in plan.replaced]
                for note in replaced:
                    delete_estimate(db, note.snapshot_id)
                changed = [(n.taken_at, n.snapshot_id) for n in replaced]
                # The rows were counted by today's families, so each snapshot records
                # today's definitions: later figures compare with it like for like.
                definitions = families.definitions()
                for done, snapshot in enumerate(plan.snapshots, 1):
                    taken_at = parse_timestamp(snapshot.taken_at)
                    written = insert_snapshot(
                        db, taken_at, SOURCE_IMPORT, snapshot.records, definitions, recount=False
                    )
                    changed.append((format_timestamp(taken_at), written))
                    failpoint("after_snapshot")
                    if progress is not None:
                        progress.wrote(done, len(plan.snapshots))
                # Once for the whole import: each snapshot counted as written would count
                # every later one again.
                if changed:
                    recount_returns(db, *min(changed))
                # History has no Hub counts: models new to the store get the size the
                # families file or their name gives; a collection may refine it later.
                record_sizes(db, {r: families.size_of(r) for r in unsized(db)})
    finally:
        if progress is not None:
            progress.finish()
    return ImportReport(
        path,
        history.rows,
        plan,
        history.ignored_columns,
        dry_run,
        tuple(history.doubts),
        history.doubt_count,
    )


def _plan(history: History, families: Families, store: Store | None) -> ImportPlan:
    if store is None:
        return plan_import(history, families, set(), {})
    with store.reading() as db:
        return _plan_in(db, history, families)


def _plan_in(db: Connection, history: History, families: Families) -> ImportPlan:
    """The plan for the store `db` holds, read inside the caller's transaction."""
    estimated = {n.taken_at[:10] for n in estimate_notes(db)}
    measured = q.snapshot_days(db, estimates=False)
    return plan_import(history, families, measured, q.repo_ids_by_lowercase(db), estimated)


def _read(path: Path, now: datetime, progress: ImportProgress | None) -> History:
    name = str(path)
    if path.is_dir():
        raise OpenModelsError(f"{name} is a directory, not a CSV file")
    try:
        # utf-8-sig: spreadsheets often start a CSV export with a byte-order mark. Bytes
        # that are not UTF-8 become lone surrogates, which no column accepts, so the
        # error names their line (a decoding error would name a whole chunk's).
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as lines:
            return read_history(
                lines, name, now, on_rows=progress.read if progress is not None else None
            )
    except FileNotFoundError:
        raise OpenModelsError(f"no such file: {name}") from None
    except OSError as exc:
        raise OpenModelsError(f"cannot read {name} ({exc.strerror})") from None
