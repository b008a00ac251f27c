"""Every answer on a store where models went missing and came back.

Daily live snapshots from 1 Jan 2026 (day 0). Aurora counts two organisations:
aurora/a 60M + 1M·d and aurora-labs/big, a flat 50M that the Hub did not list on days
7–9 (8–10 Jan), as it lists no repositories of an organisation being renamed. Borealis:
borealis/b 100M + 1M·d. Aurora is ahead (116M to 106M on day 6) until aurora-labs goes
missing; the fall lasts three snapshots, so Aurora is counted at a new level from
8 Jan (67M). On day 10 (11 Jan) aurora-labs is back: Aurora reads 120M, but only 1M of
the 51M it rose by that day was downloaded. No answer may count the 50M as growth or
say Aurora passed Borealis: Aurora is counted afresh from 11 Jan, when the missing
models came back. On day 12 (13 Jan): Aurora 122M, +2.0M since 11 Jan; Borealis 112M,
+3.0M over three days, +7.0M over the week.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.render import render_text
from openmodels.alerts import check_overtakes
from openmodels.digest import build_digest
from storage import open_store
from storage import queries as q
from storage.returns import returned_families
from storage.snapshots import write_snapshot
from tests.builders import DAY0, RENAMED_FAMILIES, M, missing_org_store, record

FAMILIES = RENAMED_FAMILIES


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return AnswerContext(missing_org_store(tmp_path_factory.mktemp("back") / "s.db", 12), FAMILIES)


def test_movers_set_aurora_aside_with_its_gain_since_the_models_came_back(ctx):
    out = render_text(answer_text("movers --days 3", ctx))

    assert "Aurora (missing models came back on 11 Jan: +2.0M since)" in out
    assert "1. Borealis  +3.0M" in out
    assert "53.0M" not in out


def test_top_gives_the_change_since_the_models_came_back_said_as_such(ctx):
    out = render_text(answer_text("top", ctx))

    assert "Aurora  122.0M · 52.1% · +2.0M since 11 Jan, when missing models came back" in out
    assert "Borealis  112.0M · 47.9% · +7.0M this week" in out


def test_no_alert_says_aurora_passed_borealis_when_its_models_came_back(new_store):
    store = missing_org_store(new_store("s"), 12)

    check = check_overtakes(store, FAMILIES, message=lambda *_: {}, now=DAY0 + timedelta(days=13))

    assert check.overtakes == []


def test_the_digest_replays_no_overtake_across_the_return(new_store):
    store = missing_org_store(new_store("s"), 12)

    with store.reading() as db:
        digest = build_digest(db, FAMILIES, DAY0 + timedelta(days=13))

    assert digest is not None
    assert digest.overtakes == []
    assert [r.family for r in digest.all_time] == ["aurora", "borealis"]


def test_the_chart_draws_aurora_apart_where_its_models_came_back(ctx):
    chart = answer_text("compare aurora borealis", ctx).chart

    assert chart is not None
    assert "2026-01-11T06:00:00Z" in chart.breaks["Aurora"]
    assert "Aurora's missing models came back on 2026-01-11" in chart.alt_text


def test_a_small_model_missing_for_a_day_inside_a_growing_family_is_no_growth(new_store):
    # aurora-labs/big is a 0.5M model here, missing on day 11 alone: Aurora does not
    # fall that day (71M against 70.5M), and on day 12 it reads 72.5M, +1.5M in a day,
    # 0.5M of it the model coming back.
    store = missing_org_store(new_store("s"), 12, missing={11}, small=M // 2)
    ctx = AnswerContext(store, FAMILIES)

    out = render_text(answer_text("movers --days 1", ctx))

    assert "Aurora (missing models came back on 13 Jan)" in out
    assert "1. Borealis  +1.0M" in out
    assert "+1.5M" not in out


def test_a_return_is_found_whatever_order_the_snapshots_were_written_in(new_store):
    # The live snapshot of day 10 first, listing aurora/b; then history for days 5-9,
    # which lists it on day 5 only: it came back on day 10, as if written in time order.
    store = new_store("s")
    both = [record("aurora/a", "aurora", 70 * M), record("aurora/b", "aurora", M)]
    write_snapshot(store, DAY0 + timedelta(days=10), "hub", both)
    for d in range(5, 10):
        listed = both if d == 5 else both[:1]
        write_snapshot(store, DAY0 + timedelta(days=d), "import", listed)

    with store.reading() as db:
        snapshots = {s.date: s.id for s in q.list_snapshots(db)}
        returned = returned_families(db, list(snapshots.values()))

    assert {day for day, i in snapshots.items() if returned[i]} == {"2026-01-11"}
    assert returned[snapshots["2026-01-11"]] == {"aurora"}


def test_the_alert_check_logs_why_it_draws_no_alert_across_the_return(new_store, caplog):
    store = missing_org_store(new_store("s"), 10)

    with caplog.at_level("WARNING", logger="openmodels.alerts"):
        check_overtakes(store, FAMILIES, message=lambda *_: {}, now=DAY0 + timedelta(days=11))

    assert (
        "aurora: models missing from the snapshot before came back at snapshot "
        "2026-01-11T06:00:00Z; their count is no growth, and no alert is drawn across it"
    ) in caplog.messages


def test_a_store_made_before_returns_were_counted_counts_them_when_upgraded(new_store):
    store = missing_org_store(new_store("s"), 12)
    migrations = "_sqlite_migrations" if store.engine_name == "sqlite" else "schema_migrations"
    with store.writing() as db:  # as an openmodels before m015 left it
        db.execute("DROP TABLE returned_models")
        db.execute(f"DELETE FROM {migrations} WHERE name = 'm015_returned_models'")
    store.close()

    upgraded = open_store(store.location)

    with upgraded.reading() as db:
        snapshots = {s.date: s.id for s in q.list_snapshots(db)}
        returned = returned_families(db, list(snapshots.values()))
    upgraded.close()
    assert {day for day, i in snapshots.items() if returned[i]} == {"2026-01-11"}
