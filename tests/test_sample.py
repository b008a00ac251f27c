"""The bundled sample store: read-only, complete, shaped like the public reports, reproducible."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlite_utils import Database

from commands import AnswerContext, answer_text
from commands.render import render_text
from openmodels.errors import StoreError
from openmodels.families import load_families
from openmodels.launch_finder import launches_between
from openmodels.locate import sample_store_path
from storage import Store, open_store
from storage import queries as q
from storage.snapshots import parse_timestamp

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_sample.py"
NEXT_EIGHT = ["llama", "deepseek", "gpt-oss", "mistral", "nemotron", "glm", "kimi", "minimax"]


@pytest.fixture(scope="module")
def sample() -> Store:
    return open_store(sample_store_path(), sample=True)


@pytest.fixture
def db(sample: Store) -> Iterator[Database]:
    with sample.reading() as db:
        yield db


def make_sample_module() -> ModuleType:
    # scripts/ is not a package; load the script by path. Registering it first lets
    # its dataclasses resolve their own module.
    spec = importlib.util.spec_from_file_location("make_sample", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def dump(store: Store) -> dict[str, object]:
    """Schema and every row of every table, in a stable order."""
    with store.reading() as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        out: dict[str, object] = {
            "schema": db.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
            ).fetchall()
        }
        for table in tables:
            out[table] = sorted(db.execute(f"SELECT * FROM [{table}]").fetchall(), key=repr)
    return out


def test_sample_opens_read_only(sample):
    with pytest.raises(StoreError, match="read-only"), sample.writing():
        pass


def test_sample_has_about_120_daily_snapshots_all_marked_sample(db):
    snapshots = q.list_snapshots(db)

    assert 115 <= len(snapshots) <= 125
    assert {s.source for s in snapshots} == {"sample"}
    assert all(s.is_sample for s in snapshots)
    assert snapshots[0].date == "2025-09-20"
    assert snapshots[-1].date == "2026-01-17"
    assert len({s.date for s in snapshots}) == len(snapshots)  # one a day


def test_every_default_family_is_in_every_snapshot(db):
    keys = set(load_families().keys)

    per_snapshot = db.execute(
        "SELECT snapshot_id, group_concat(family) FROM family_totals GROUP BY snapshot_id"
    ).fetchall()

    assert len(per_snapshot) == len(q.list_snapshots(db))
    for _, families in per_snapshot:
        assert set(families.split(",")) == keys


def test_models_are_added_as_they_are_released(db):
    snapshots = q.list_snapshots(db)

    counts = [s.model_count for s in snapshots]

    assert counts == sorted(counts)
    assert counts[-1] > counts[0]
    assert 120 <= counts[-1] <= 200


def test_qwen_passes_llama_in_all_time_downloads_in_october_2025(db):
    series = q.family_series(db, ["qwen", "llama"])

    first_lead = next(
        taken
        for (taken, qwen), (_, llama) in zip(series["qwen"], series["llama"], strict=True)
        if qwen > llama
    )

    assert first_lead.startswith("2025-10")
    assert series["qwen"][0][1] < series["llama"][0][1]  # Llama led when the sample starts


def test_qwen_ends_near_700_million_all_time(db):
    latest = q.latest_snapshot(db)
    assert latest is not None

    totals = q.values_at(db, latest.id, "all_time")

    assert 690_000_000 <= totals["qwen"] <= 720_000_000
    assert totals["llama"] < totals["qwen"]


def test_in_december_qwen_30d_exceeds_the_next_eight_together(db):
    december = [s for s in q.list_snapshots(db) if s.date.startswith("2025-12")]

    leads = []
    for snapshot in december:
        values = q.values_at(db, snapshot.id, "30d")
        leads.append(values["qwen"] > sum(values[f] for f in NEXT_EIGHT))

    assert december and any(leads)


def test_family_totals_are_the_sums_of_their_models_in_every_snapshot(db):
    mismatches = db.execute(
        """
        WITH sums AS (
            SELECT c.snapshot_id, m.family,
                   sum(c.downloads_30d) AS d30, sum(c.downloads_all_time) AS all_time,
                   sum(c.likes) AS likes, count(*) AS models, sum(c.derivatives) AS derivatives
            FROM model_counts c JOIN models m ON m.id = c.model_id
            GROUP BY c.snapshot_id, m.family
        )
        SELECT t.snapshot_id, t.family FROM family_totals t
        LEFT JOIN sums s ON s.snapshot_id = t.snapshot_id AND s.family = t.family
        WHERE s.family IS NULL OR t.downloads_30d != s.d30
           OR t.downloads_all_time != s.all_time OR t.likes != s.likes
           OR t.model_count != s.models OR t.derivatives IS NOT s.derivatives
        """
    ).fetchall()
    groups = db.execute(
        """SELECT count(*) FROM (SELECT DISTINCT c.snapshot_id, m.family
           FROM model_counts c JOIN models m ON m.id = c.model_id)"""
    ).fetchone()[0]
    total_rows = db.execute("SELECT count(*) FROM family_totals").fetchone()[0]
    wrong_model_counts = db.execute(
        """SELECT s.id FROM snapshots s
           WHERE s.model_count !=
                 (SELECT count(*) FROM model_counts c WHERE c.snapshot_id = s.id)"""
    ).fetchall()

    assert mismatches == []
    assert groups == total_rows
    assert wrong_model_counts == []


def test_model_counts_are_consistent_over_time(db):
    backwards = db.execute(
        """
        SELECT model_id, taken_at FROM (
            SELECT c.model_id, s.taken_at, c.downloads_all_time AS now,
                   lag(c.downloads_all_time) OVER w AS before,
                   c.likes AS likes_now, lag(c.likes) OVER w AS likes_before,
                   c.derivatives AS derived_now, lag(c.derivatives) OVER w AS derived_before
            FROM model_counts c JOIN snapshots s ON s.id = c.snapshot_id
            WINDOW w AS (PARTITION BY c.model_id ORDER BY s.taken_at)
        )
        WHERE now < before OR likes_now < likes_before OR derived_now < derived_before
        """
    ).fetchall()
    impossible = db.execute(
        "SELECT count(*) FROM model_counts WHERE downloads_30d > downloads_all_time"
        " OR downloads_30d < 0"
    ).fetchone()[0]

    assert backwards == []
    assert impossible == 0


def test_every_model_has_a_derivative_count_and_qwen_is_the_most_built_upon(db):
    latest = q.latest_snapshot(db)
    assert latest is not None

    unmeasured = db.execute("SELECT count(*) FROM model_counts WHERE derivatives IS NULL")
    derivatives = q.values_at(db, latest.id, "derivatives")

    assert unmeasured.fetchone()[0] == 0
    assert set(derivatives) == set(load_families().keys)
    assert max(derivatives, key=derivatives.__getitem__) == "qwen"
    assert 150_000 <= derivatives["qwen"] <= 200_000
    assert derivatives["llama"] < derivatives["qwen"]


def test_every_model_belongs_to_the_family_it_is_filed_under(db):
    families = load_families()

    rows = db.execute("SELECT repo_id, family FROM models").fetchall()

    misfiled = [
        repo_id
        for repo_id, family in rows
        if getattr(families.family_of(repo_id), "key", None) != family
    ]
    assert misfiled == []


def test_regenerating_the_sample_gives_the_same_tables(tmp_path, sample):
    make_sample = make_sample_module()
    out = tmp_path / "sample.db"

    make_sample.build(out)

    assert dump(open_store(out, sample=True)) == dump(sample)


def test_the_sample_has_launches_in_its_last_weeks_with_their_creation_dates(db):
    latest = q.latest_snapshot(db)
    assert latest is not None
    end = parse_timestamp(latest.taken_at)

    launches = launches_between(db, end - timedelta(days=14), end)

    assert len(launches) >= 4
    assert len({x.family for x in launches}) >= 2
    for launch in launches:
        assert launch.created_at is not None
        created = parse_timestamp(launch.created_at[:19] + "Z")
        # Listed by the first snapshot taken after its creation.
        assert timedelta(0) <= parse_timestamp(launch.first_seen) - created <= timedelta(days=1)


def test_new_on_the_sample_shows_the_weeks_launches_and_a_fastest_start(sample):
    out = render_text(answer_text("new", AnswerContext(sample, load_families())))

    assert "New models: launched in the last 7 days" in out
    assert "google/translategemma-4b-it · Gemma · first seen 2026-01-16" in out
    assert ":zap: fastest start: ahead of google/functiongemma-270m-it" in out
    assert "sample data" in out


def test_every_sample_model_has_a_size_and_each_way_of_knowing_one_is_shown(db):
    models = int(db.execute("SELECT count(*) FROM models").fetchone()[0])
    sources = dict(db.execute("SELECT source, count(*) FROM model_sizes GROUP BY source"))

    assert sum(sources.values()) == models
    # Most from the Hub's count; gpt-oss (packed) and recent launches by name; Kimi K2 by
    # the families file; a few that nothing sizes.
    assert sources["safetensors"] > sources["name"] > sources["file"] >= 1
    assert sources["unknown"] >= 1
    packed = db.execute(
        "SELECT z.source, z.parameters FROM model_sizes z JOIN models m ON m.id = z.model_id "
        "WHERE m.repo_id = 'openai/gpt-oss-120b'"
    ).fetchone()
    assert tuple(packed) == ("name", 120_000_000_000)


def test_sizes_on_the_sample_show_every_class(sample):
    out = render_text(answer_text("sizes", AnswerContext(sample, load_families())))

    for label in ("under 1B", "1–5B", "5–10B", "10–50B", "50–100B", "100–250B", "250B and over"):
        assert f"• {label}  " in out
    assert "No downloads:" not in out


def test_the_sample_has_launches_with_a_start_against_their_class(sample):
    out = render_text(answer_text("new --days 120", AnswerContext(sample, load_families())))

    assert "× its class at day" in out
    assert "Best start for its size:" in out


def test_the_demo_shows_sizes_and_a_race_on_the_sample(tmp_path, monkeypatch, capsys):
    from openmodels.cli import main

    monkeypatch.chdir(tmp_path)  # no ./openmodels.db here: the demo reads the sample
    monkeypatch.delenv("OPENMODELS_DB", raising=False)
    charts = tmp_path / "charts"

    code = main(["demo", "--out", str(charts)])

    out = capsys.readouterr().out
    assert code == 0
    sizes = out[out.index("$ /openmodels sizes") :]
    assert "Downloads by model size: all-time downloads" in sizes
    race = out[out.index("$ /openmodels race deepseek glm mistral") :]
    assert "At day 26, deepseek-ai/DeepSeek-V3.2 is ahead" in race
    [drawn] = charts.glob("openmodels-race-*.png")
    assert drawn.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
