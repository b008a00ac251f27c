"""A workspace's rows in the store: what openmodels keeps beside Slack's record of an
install, and forgetting every row of a workspace that uninstalled, and nothing else."""

from __future__ import annotations

from storage import announcements as an
from storage import home_visits, mutes, workspaces
from storage import outbox as ob
from storage import subscriptions as subs
from storage.port import column_names, table_names
from storage.sql import Connection

NOW = "2026-01-05T06:00:00Z"


def fill(db: Connection, team: str) -> None:
    """A workspace that has used everything: subscriptions, a mute, outbox items sent and
    pending, an announcement, an App Home visit, its settings."""
    subs.subscribe(db, team, f"C{team}", "digest", (), NOW, "U1")
    subs.subscribe(db, team, f"C{team}", "alerts", ("qwen",), NOW, "U1")
    mutes.mute(db, team, f"C{team}", ("qwen", "llama"), NOW, "U1")
    ob.enqueue(db, team, f"C{team}", "digest", "digest:1", {"text": "d"}, NOW)
    ob.enqueue(db, team, f"C{team}", "alert", "overtake:1", {"text": "a"}, NOW)
    ob.mark_sent(db, 1 if team == "T1" else 3, NOW, "1.0")
    an.record(
        db,
        team,
        f"C{team}",
        [("qwen", "llama")],
        announced_at=NOW,
        message_ts="1.0",
        thread_ts="1.0",
    )
    home_visits.record(db, team, "U1", "D1", NOW)
    workspaces.record_install(db, team, None, "U1", NOW)


def rows(db: Connection, team: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of `team`, table by table, exactly as stored."""
    return {
        table: db.execute(
            f"SELECT * FROM {table} WHERE team_id = ? ORDER BY 1, 2", [team]
        ).fetchall()
        for table in workspaces.TEAM_TABLES
    }


def test_forgetting_a_workspace_deletes_all_its_rows_and_says_how_many(tmp_store):
    with tmp_store.writing() as db:
        fill(db, "T1")
        fill(db, "T2")

    with tmp_store.writing() as db:
        counts = workspaces.forget(db, "T2")

    assert counts == {
        "subscriptions": 2,
        "mutes": 1,
        "outbox": 2,
        "announcements": 1,
        "home_visits": 1,
        "workspaces": 1,
    }
    with tmp_store.reading() as db:
        assert all(found == [] for found in rows(db, "T2").values())


def test_forgetting_a_workspace_leaves_every_other_workspaces_rows_exactly_as_they_were(
    tmp_store,
):
    with tmp_store.writing() as db:
        fill(db, "T1")
        fill(db, "T2")
    with tmp_store.reading() as db:
        before = rows(db, "T1")

    with tmp_store.writing() as db:
        workspaces.forget(db, "T2")

    with tmp_store.reading() as db:
        assert rows(db, "T1") == before


def test_every_table_with_a_workspaces_rows_is_forgotten_with_it(tmp_store):
    # A table added later with a team_id column must join TEAM_TABLES, or an uninstalled
    # workspace's rows would stay in it. (slack_sdk's own are emptied by its store.)
    with tmp_store.reading() as db:
        keyed = {n for n in table_names(db) if "team_id" in column_names(db, n)}

    assert keyed == {*workspaces.TEAM_TABLES, *workspaces.INSTALLATION_TABLES}


def test_a_reinstall_keeps_the_workspaces_settings(tmp_store):
    with tmp_store.writing() as db:
        workspaces.record_install(db, "T1", "E1", "U1", NOW)
        workspaces.set_changes_by(db, "T1", "admins", "U1", NOW)
        workspaces.record_install(db, "T1", "E1", "U2", "2026-02-01T00:00:00Z")

    with tmp_store.reading() as db:
        found = workspaces.get(db, "T1")

    assert found is not None
    assert (found.enterprise_id, found.installed_by, found.changes_by) == ("E1", "U2", "admins")


def test_who_may_change_is_anyone_until_set_and_says_whether_it_changed(tmp_store):
    with tmp_store.writing() as db:
        assert workspaces.get(db, "T9") is None
        assert workspaces.set_changes_by(db, "T9", "admins", "U1", NOW) is True
        assert workspaces.set_changes_by(db, "T9", "admins", "U1", NOW) is False
        assert workspaces.set_changes_by(db, "T9", "anyone", "U2", NOW) is True
        found = workspaces.get(db, "T9")

    assert found is not None and (found.changes_by, found.changes_set_by) == ("anyone", "U2")
