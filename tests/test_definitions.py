"""Family definitions: what is recorded with each snapshot, what counts as a change,
and whether a model was counted only because of one."""

import json

import pytest

from openmodels.definitions import (
    DefinitionChange,
    counted_because_redefined,
    definition_changes,
    describe,
    owns_under,
)
from openmodels.families import parse_families
from storage import queries as q
from storage.snapshots import write_snapshot
from tests.builders import DAY0, record

NARROW = """
[families.gemma]
label = "Gemma"
orgs = ["google"]
match = ["gemma*"]
"""
WIDE = """
[families.gemma]
label = "Gemma"
orgs = ["google"]
match = ["gemma*", "codegemma*"]
"""


def definition(toml: str, key: str = "gemma") -> str:
    return parse_families(toml, "test").definitions()[key]


def test_a_definition_holds_exactly_the_rules_that_decide_which_models_count():
    assert json.loads(definition(NARROW)) == {
        "orgs": ["google"],
        "match": ["gemma*"],
        "yields_to": [],
    }


@pytest.mark.parametrize(
    "edited",
    [
        NARROW.replace('label = "Gemma"', 'label = "Google Gemma"'),  # labels count nothing
        NARROW.replace('orgs = ["google"]', 'orgs = ["Google"]'),  # orgs match in any case
        NARROW.replace('match = ["gemma*"]', 'match = ["GEMMA*"]\naliases = ["g"]'),
    ],
)
def test_edits_that_change_no_figure_leave_the_definition_equal(edited):
    assert definition(edited) == definition(NARROW)


def test_a_family_records_the_earlier_families_that_take_models_of_its_organisations():
    families = parse_families(
        NARROW
        + '\n[families.google-other]\norgs = ["google"]\n[families.phi]\norgs = ["microsoft"]',
        "test",
    )

    rules = json.loads(families.definitions()["google-other"])

    assert rules["yields_to"] == [{"orgs": ["google"], "match": ["gemma*"]}]
    assert json.loads(families.definitions()["phi"])["yields_to"] == []
    assert not owns_under(families.definitions()["google-other"], "google/gemma-3-4b-it")
    assert owns_under(families.definitions()["google-other"], "google/t5gemma-2b")


def test_changes_are_listed_per_family_with_old_and_new_rules():
    old = {"gemma": definition(NARROW), "phi": "p"}
    new = {"gemma": definition(WIDE), "phi": "p", "kimi": "k"}

    changes = definition_changes(old, new)

    assert changes == [
        DefinitionChange("gemma", definition(NARROW), definition(WIDE)),
        DefinitionChange("kimi", None, "k"),  # added to the families file
    ]
    assert changes[0].describe() == (
        "orgs google; match gemma* -> orgs google; match codegemma*, gemma*"
    )


def test_unrecorded_definitions_are_unchanged_among_themselves_and_changed_against_recorded():
    assert definition_changes({}, {}) == []
    assert [c.family for c in definition_changes({}, {"gemma": "g", "phi": "p"})] == [
        "gemma",
        "phi",
    ]
    assert describe(None) == "not recorded"


@pytest.mark.parametrize(
    ("old", "repo_id", "expected"),
    [
        ({"gemma": definition(NARROW)}, "google/codegemma-7b", True),  # the new glob's
        ({"gemma": definition(NARROW)}, "google/gemma-4-9b", False),  # new on the Hub
        ({}, "google/gemma-4-9b", True),  # nothing recorded before: no evidence it is new
        ({"gemma": definition(WIDE)}, "google/codegemma-7b", False),  # no change at all
    ],
)
def test_a_model_counted_only_because_the_definition_changed_is_told_apart(old, repo_id, expected):
    new = {"gemma": definition(WIDE)}

    assert counted_because_redefined(old, new, "gemma", repo_id) is expected


def test_unchanged_unrecorded_definitions_claim_no_redefinition():
    assert counted_because_redefined({}, {}, "gemma", "google/codegemma-7b") is False


def test_a_snapshot_records_its_definitions_in_the_same_write(tmp_store):
    families = parse_families(WIDE, "test")
    first = write_snapshot(tmp_store, DAY0, "hub", [record("google/gemma-2b", "gemma", 5)])
    second = write_snapshot(
        tmp_store, DAY0, "hub", [record("google/gemma-2b", "gemma", 6)], families.definitions()
    )
    third = write_snapshot(
        tmp_store, DAY0, "hub", [record("google/gemma-2b", "gemma", 7)], families.definitions()
    )

    with tmp_store.reading() as db:
        recorded = [q.definitions_at(db, i) for i in (first, second, third)]
        stored_texts = db.execute("SELECT count(*) FROM family_definitions").fetchone()[0]

    assert recorded == [{}, families.definitions(), families.definitions()]
    assert stored_texts == 1  # the same text is kept once
