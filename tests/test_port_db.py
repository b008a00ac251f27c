"""`openmodels port-db`: a SQLite store copied into an empty PostgreSQL database, whole,
counts verified, or not at all; and the copy answers exactly as the original does."""

from __future__ import annotations

import pytest

from commands import AnswerContext, answer_text
from commands.render import render_text
from openmodels.cli import main
from openmodels.errors import StoreError
from openmodels.families import load_families
from openmodels.locate import sample_store_path
from storage import open_store
from storage import port as port_module
from storage.port import port
from tests.builders import dump, growing_store, missing_org_store, slack_installation

SAMPLE = sample_store_path()


@pytest.fixture
def target(postgresql_url):
    from tests.conftest import postgresql_schema

    store = open_store(postgresql_schema(postgresql_url))
    yield store
    store.close()


def test_the_bundled_sample_is_ported_whole(target, capsys):
    assert main(["port-db", str(SAMPLE), target.location]) == 0

    out = capsys.readouterr()
    assert "every table's count matches the source's; 14 migrations recorded" in out.out
    assert "model_counts: 18,069 rows" in out.err
    assert "model_sizes: 168 rows" in out.err
    assert dump(target) == dump(open_store(SAMPLE, sample=True))


@pytest.mark.parametrize(
    "text",
    [
        "top",
        "top 3 --30d",
        "top --derivatives",
        "compare qwen llama",
        "family qwen",
        "family qwen --models",
        "model Qwen/Qwen2.5-7B-Instruct",
        "model qwen/qwen2.5-7b-instruct",
        "model Qwen/no-such-model",
        "regions",
        "movers --days 30",
        "forecast",
        "new --days 30",
        "new gemma --days 90",
        "sizes",
        "sizes --30d",
        "top --size 1-5B",
        "top --size 250B+",
        "family qwen",
        "model moonshotai/Kimi-K2-Instruct",
        "race qwen llama",
        "families",
        "compare qwen",
        "compare qwen llama --weekly",
        "regions --share",
        "movers 30",
        "model qwen2.5-7b-instruct",
        "qwen llama",
    ],
)
def test_the_copy_answers_as_the_original_does(target, text):
    port(open_store(SAMPLE, sample=True), target)
    families = load_families()

    on_sqlite = answer_text(text, AnswerContext(open_store(SAMPLE, sample=True), families))
    on_postgresql = answer_text(text, AnswerContext(target, families))

    assert on_postgresql.error == on_sqlite.error
    assert render_text(on_postgresql) == render_text(on_sqlite)


def test_a_target_that_holds_data_is_refused(target, tmp_path):
    growing_store(tmp_path / "a.db", days=2)
    port(open_store(tmp_path / "a.db"), target)
    before = dump(target)

    with pytest.raises(StoreError, match="already holds data"):
        port(open_store(SAMPLE, sample=True), target)

    assert dump(target) == before


def test_a_port_that_fails_half_way_leaves_the_target_empty(target, tmp_path):
    source = growing_store(tmp_path / "a.db", days=3)
    empty = dump(target)

    def fail_after_snapshots(table, copied, total):
        if table == "snapshots":
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        port(source, target, fail_after_snapshots)

    assert dump(target) == empty
    port(source, target)  # and the same target takes the port again
    assert dump(target) == dump(source)


def test_a_copy_whose_counts_differ_is_rolled_back(target, tmp_path, monkeypatch):
    source = growing_store(tmp_path / "a.db", days=3)
    empty = dump(target)
    counted = port_module.row_count

    def one_row_short(db, table):  # as if a row of the source had not arrived
        n = counted(db, table)
        return n - 1 if n and db.engine == "postgresql" and table == "model_counts" else n

    monkeypatch.setattr(port_module, "row_count", one_row_short)
    with pytest.raises(StoreError, match="row counts differ"):
        port(source, target)

    assert dump(target) == empty


def test_the_models_that_came_back_are_ported_as_counted(target, tmp_path):
    # An organisation the Hub did not list for three days: its models came back on day 10.
    source = missing_org_store(tmp_path / "a.db", 12)

    report = port(source, target)

    assert report.tables["returned_models"] == 1
    assert dump(target) == dump(source)
    with target.reading() as db:
        day, family = db.execute(
            """SELECT s.taken_at, r.family FROM returned_models r
               JOIN snapshots s ON s.id = r.snapshot_id"""
        ).fetchone()
    assert (day[:10], family) == ("2026-01-11", "aurora")


def test_the_command_refuses_a_target_that_is_not_postgresql(tmp_path, capsys):
    assert main(["port-db", str(SAMPLE), str(tmp_path / "copy.db")]) == 1
    assert "the target must be a postgresql:// URL" in capsys.readouterr().err


def test_slack_installations_and_install_links_are_ported_for_the_stores_there(target, tmp_path):
    from bot.slack_stores import open_slack_stores
    from tests.conftest import let_go

    source = growing_store(tmp_path / "a.db", days=2)
    on_sqlite = open_slack_stores(source, "1234.5678", 600)
    on_sqlite.installations.save(slack_installation("T1"))
    on_sqlite.installations.save(slack_installation("T3", enterprise="E1"))
    link = on_sqlite.states.issue()

    report = port(source, target)

    counts = [report.tables[t] for t in ("slack_installations", "slack_bots", "oauth_states")]
    assert counts == [2, 2, 1]
    on_postgresql = open_slack_stores(target, "1234.5678", 600)
    try:
        for team, organisation in (("T1", None), ("T3", "E1")):
            before = on_sqlite.installations.find_installation(
                enterprise_id=organisation, team_id=team
            )
            after = on_postgresql.installations.find_installation(
                enterprise_id=organisation, team_id=team
            )
            assert before is not None and after is not None
            # The same install, tokens, scopes and times; SQLite's store says '' for no
            # organisation where SQLAlchemy's says None.
            assert after.to_dict() == before.to_dict() | {"enterprise_id": organisation}
            bot = on_postgresql.installations.find_bot(enterprise_id=organisation, team_id=team)
            assert bot is not None and bot.bot_token == f"xoxb-{team}"
        assert on_postgresql.states.consume(link) is True
        on_postgresql.installations.save(slack_installation("T4"))  # ids go on after the copy
    finally:
        let_go(target.location)
