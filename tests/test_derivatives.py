"""Derivative counts: how the Hub reports them, how they are stored, how answers show them.

Derivatives are the models on the Hub that name a model as their base (the Hub's
`childrenModelCount`). The Hub's model listing refuses to expand that field, so a
collection's listing leaves the figure unknown (a step after it looks up the top models'
counts, see test_live_derivatives.py); history import and the sample carry it. An
unknown count is shown as unknown, never as 0.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlite_utils import Database

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.render import render_text
from openmodels import hub
from openmodels.collector import collect_snapshot
from openmodels.errors import HubError
from openmodels.families import load_families, parse_families
from openmodels.hub import EXPAND_FIELDS, HubClient, derivative_count
from storage import open_store
from storage import queries as q
from storage.schema import migrations
from storage.snapshots import FamilyTotal, family_totals, write_snapshot
from tests.builders import DAY0, record
from tests.fakes import hub_model

FAMILIES = parse_families(
    """
[families.qwen]
label = "Qwen"
orgs = ["Qwen"]

[families.llama]
label = "Llama"
orgs = ["meta-llama"]
""",
    "test families",
)


# -- what the Hub sends ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # The Hub counts derivatives per kind; the total is their sum.
        ({"adapter": 716, "finetune": 328, "merge": 19, "quantized": 190}, 1253),
        ({}, 0),
        (42, 42),  # huggingface_hub types it as an int
        (0, 0),
        (None, None),  # not sent: unknown
        (-1, None),
        (True, None),
        ("12", None),
        ({"adapter": -3}, None),
        ({"adapter": "many"}, None),
    ],
)
def test_derivative_count_totals_what_the_hub_sends(value, expected):
    assert derivative_count(value) == expected


def test_the_hub_listing_refuses_to_expand_derivatives(fake_hub, monkeypatch):
    # Asking the listing for childrenModelCount fails the whole request on the real Hub,
    # which is why a collection never asks for it.
    fake_hub.add("Qwen", hub_model("Qwen/Qwen3-8B", downloads=1, all_time=2))
    monkeypatch.setattr(hub, "EXPAND_FIELDS", [*EXPAND_FIELDS, "childrenModelCount"])

    with pytest.raises(HubError, match="HTTP 400"):
        HubClient(fake_hub.url).list_org("Qwen")


def test_a_collection_makes_the_same_requests_and_leaves_derivatives_unknown(fake_hub, tmp_store):
    fake_hub.add("Qwen", *(hub_model(f"Qwen/m{i}", downloads=i, all_time=10 * i) for i in range(7)))
    fake_hub.add("meta-llama", hub_model("meta-llama/L", downloads=5, all_time=50))

    collect_snapshot(FAMILIES, HubClient(fake_hub.url), tmp_store, now=DAY0, concurrency=1)

    # One paged listing per organisation (pages of 3), exactly the fields read before.
    per_org = {org: len(fake_hub.requests_for(org)) for org in ("Qwen", "meta-llama")}
    assert per_org == {"Qwen": math.ceil(7 / 3), "meta-llama": 1}
    assert len(fake_hub.requests) == 4
    assert {r.path for r in fake_hub.requests} == {"/api/models"}
    assert all(sorted(r.values("expand")) == sorted(EXPAND_FIELDS) for r in fake_hub.requests)
    with tmp_store.reading() as db:
        latest = q.latest_snapshot(db)
        assert latest is not None
        assert q.totals_at(db, latest.id)["qwen"].derivatives is None
        assert (
            db.execute(
                "SELECT count(*) FROM model_counts WHERE derivatives IS NOT NULL"
            ).fetchone()[0]
            == 0
        )


# -- storing ---------------------------------------------------------------------------


def test_family_totals_sum_the_known_counts_and_keep_unknown_apart():
    records = [
        record("Qwen/A", "qwen", 1, derivatives=40),
        record("Qwen/B", "qwen", 1, derivatives=None),
        record("Qwen/C", "qwen", 1, derivatives=0),
        record("meta-llama/L", "llama", 1),
    ]

    totals = {t.family: t.derivatives for t in family_totals(records)}

    assert totals == {"qwen": 40, "llama": None}


def test_a_snapshot_stores_each_models_count_and_the_family_sum(tmp_store):
    write_snapshot(
        tmp_store,
        DAY0,
        "hub",
        [
            record("Qwen/A", "qwen", 100, derivatives=40),
            record("Qwen/B", "qwen", 60, derivatives=25),
            record("meta-llama/L", "llama", 300),
        ],
    )

    with tmp_store.reading() as db:
        snapshot = q.latest_snapshot(db)
        assert snapshot is not None
        totals = q.totals_at(db, snapshot.id)
        built_upon = q.top_models(db, snapshot.id, "qwen", "derivatives")
        values = q.values_at(db, snapshot.id, "derivatives")

    assert totals["qwen"] == FamilyTotal("qwen", 0, 160, 0, 2, 65)
    assert totals["llama"].derivatives is None
    assert [(m.repo_id, m.derivatives) for m in built_upon] == [("Qwen/A", 40), ("Qwen/B", 25)]
    assert values == {"qwen": 65}  # an unknown count is left out, not 0


def test_a_store_from_before_derivatives_is_migrated_and_its_snapshots_say_unknown(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m006_derivatives")
    db.execute(
        "INSERT INTO snapshots (id, taken_at, source, model_count) VALUES (1, ?, 'hub', 1)",
        ["2026-01-01T06:00:00Z"],
    )
    db.execute("INSERT INTO models (id, repo_id, family) VALUES (1, 'Qwen/A', 'qwen')")
    db.execute("INSERT INTO model_counts VALUES (1, 1, 10, 100, 1)")
    db.execute("INSERT INTO family_totals VALUES (1, 'qwen', 10, 100, 1, 1)")
    db.conn.commit()
    db.close()

    store = open_store(path)
    out = render_text(answer_text("family qwen", AnswerContext(store, FAMILIES)))

    with store.reading() as db:
        assert db.execute("SELECT derivatives FROM model_counts").fetchall() == [(None,)]
        assert db.execute("SELECT derivatives FROM family_totals").fetchall() == [(None,)]
    assert "Derivatives\n      unknown" in out
    assert "Most built upon" not in out


# -- answers ---------------------------------------------------------------------------


@pytest.fixture
def ctx(new_store) -> AnswerContext:
    """Day 0: no counts (an old snapshot). Day 7 and day 14: counts for Qwen and Llama;
    DeepSeek's is never known."""
    store = new_store("d")
    write_snapshot(
        store,
        DAY0,
        "hub",
        [record("Qwen/A", "qwen", 100), record("meta-llama/L", "llama", 300)],
    )
    for day, (a, b, llama) in ((7, (40, 25, 50)), (14, (44, 26, 49))):
        write_snapshot(
            store,
            DAY0 + timedelta(days=day),
            "hub",
            [
                record("Qwen/A", "qwen", 100 + day, derivatives=a),
                record("Qwen/B", "qwen", 60 + day, derivatives=b),
                record("meta-llama/L", "llama", 300 + day, derivatives=llama),
                record("deepseek-ai/R", "deepseek", 50 + day),
            ],
        )
    return AnswerContext(store=store, families=load_families())


def rendered(text: str, ctx: AnswerContext) -> str:
    return render_text(answer_text(text, ctx))


def test_family_shows_its_derivative_count_and_the_models_most_built_upon(ctx):
    out = rendered("family qwen", ctx)

    assert "Derivatives\n      70" in out  # 44 + 26
    assert "Most built upon\n1. Qwen/A  44 derivatives\n2. Qwen/B  26 derivatives" in out


def test_a_family_whose_counts_are_unknown_says_unknown_never_zero(ctx):
    out = rendered("family deepseek", ctx)

    assert "Derivatives\n      unknown" in out
    assert "Most built upon" not in out


def test_a_family_counted_in_part_says_how_many_models_were_counted(new_store):
    store = new_store("p")
    write_snapshot(
        store,
        DAY0,
        "hub",
        [record("Qwen/A", "qwen", 100, derivatives=40), record("Qwen/B", "qwen", 60)],
    )

    out = rendered("family qwen", AnswerContext(store=store, families=load_families()))

    assert "Derivatives\n      40 (1 of 2 models counted)" in out


def test_top_derivatives_ranks_families_by_their_sum(ctx):
    out = rendered("top --derivatives", ctx)

    assert "Top 2 model families by derivatives" in out
    # 70 of 119 and 49 of 119; a week earlier: 65 and 50.
    assert "1. Qwen  70 · 58.8% · +5 this week" in out
    assert "2. Llama  49 · 41.2% · -1 this week" in out
    assert "No derivative count in this snapshot: DeepSeek" in out
    assert "Derivatives: models on the Hub that name" in out


def test_top_derivatives_against_a_week_without_counts_says_so(ctx):
    with ctx.store.writing() as db:
        db.execute("UPDATE family_totals SET derivatives = NULL WHERE snapshot_id = 2")

    out = rendered("top --derivatives", ctx)

    assert "1. Qwen  70 · 58.8% · no count on 2026-01-08" in out


def test_top_derivatives_without_any_count_explains_where_counts_come_from(new_store):
    store = new_store("n")
    write_snapshot(store, DAY0, "hub", [record("Qwen/A", "qwen", 100)])

    answer = answer_text("top --derivatives", AnswerContext(store, load_families()))

    assert "No derivative counts in the snapshot of 2026-01-01" in answer.text
    assert "load counts from a file" in answer.text
    assert "OPENMODELS_" not in answer.text  # no setting names in Slack
    assert not answer.error


@pytest.mark.parametrize("text", ["top 50 --derivatives", "family qwen", "family deepseek"])
def test_derivative_answers_are_within_block_kit_limits(ctx, text):
    assert check_limits(answer_text(text, ctx).blocks) == []


def test_help_lists_the_derivatives_ranking(ctx):
    assert "top [N] [--30d|--derivatives]" in rendered("help", ctx)


def test_top_derivatives_shows_no_change_when_other_models_were_counted(tmp_path):
    # Only Qwen/a's count (1,000) was looked up until day 6, only Qwen/b's (5,000) on
    # day 7: Qwen's sum rose by 4,000 because another model was counted, not because
    # anyone built on its models.
    store = open_store(tmp_path / "r.db")
    for day in range(8):
        a, b = (1_000, None) if day < 7 else (None, 5_000)
        write_snapshot(
            store,
            DAY0 + timedelta(days=day),
            "hub",
            [
                record("Qwen/a", "qwen", 100 + day, derivatives=a),
                record("Qwen/b", "qwen", 90 + day, derivatives=b),
                record("meta-llama/L", "llama", 300 + day, derivatives=3_000 + day),
            ],
        )

    out = rendered("top --derivatives", AnswerContext(store=store, families=load_families()))

    assert "1. Qwen  5.0K · 62.4% · other models counted on 2026-01-01 · 1 of 2 models" in out
    assert "2. Llama  3.0K · 37.6% · +7 this week" in out
    assert "+4.0K" not in out
