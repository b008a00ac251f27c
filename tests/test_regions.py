"""Regions: families grouped by the region their definition carries."""

from __future__ import annotations

import pytest

from openmodels.errors import FamiliesError
from openmodels.families import load_families, parse_families
from openmodels.regions import (
    OTHER,
    region_members,
    region_names,
    region_series,
    region_totals,
)

FAMILIES = parse_families(
    """
    [families.qwen]
    orgs = ["Qwen"]
    region = "China"
    [families.deepseek]
    orgs = ["deepseek-ai"]
    region = "china"          # another spelling: the same region, shown as "China"
    [families.llama]
    orgs = ["meta-llama"]
    region = " US "
    [families.falcon]
    orgs = ["tiiuae"]         # no region: Other
    """,
    "regions.toml",
)


def test_the_defaults_place_each_family_in_its_region():
    regions = region_names(load_families())

    assert regions == {
        "qwen": "China",
        "deepseek": "China",
        "glm": "China",
        "kimi": "China",
        "minimax": "China",
        "llama": "US",
        "gpt-oss": "US",
        "gemma": "US",
        "nemotron": "US",
        "phi": "US",
        "mistral": "Europe",
    }


def test_a_region_is_spelled_as_its_first_family_spells_it():
    assert region_names(FAMILIES) == {
        "qwen": "China",
        "deepseek": "China",
        "llama": "US",
        "falcon": OTHER,
    }


def test_totals_sum_each_region_and_unknown_families_count_under_other():
    values = {"qwen": 700, "deepseek": 180, "llama": 590, "falcon": 20, "retired": 5}

    totals = region_totals(values, region_names(FAMILIES))

    assert totals == {"China": 880, "US": 590, OTHER: 25}


def test_members_are_listed_largest_first():
    values = {"qwen": 700, "deepseek": 180, "llama": 590, "falcon": 20}

    assert region_members(values, region_names(FAMILIES)) == {
        "China": [("qwen", 700), ("deepseek", 180)],
        "US": [("llama", 590)],
        OTHER: [("falcon", 20)],
    }


def test_series_sum_the_families_present_at_each_snapshot():
    t1, t2, t3 = "2026-01-01T06:00:00Z", "2026-01-02T06:00:00Z", "2026-01-03T06:00:00Z"
    series = {
        "qwen": [(t1, 100), (t2, 110), (t3, 130)],
        "deepseek": [(t1, 50), (t3, 60)],  # missing on day 2: adds nothing there
        "llama": [(t1, 200), (t2, 205), (t3, 210)],
    }

    assert region_series(series, region_names(FAMILIES)) == {
        "China": [(t1, 150), (t2, 110), (t3, 190)],
        "US": [(t1, 200), (t2, 205), (t3, 210)],
    }


@pytest.mark.parametrize(
    "region",
    ['""', '"   "', "3", '["China"]', '"' + "x" * 41 + '"'],
    ids=["empty", "blank", "number", "list", "too-long"],
)
def test_a_bad_region_is_refused_naming_the_family(region):
    with pytest.raises(FamiliesError, match="family 'qwen': region must be a non-empty string"):
        parse_families(f'[families.qwen]\norgs = ["Qwen"]\nregion = {region}\n', "f.toml")


def test_a_region_is_kept_as_written():
    families = parse_families(
        '[families.a]\norgs = ["x"]\nregion = "Rest of world (incl. UAE)"\n', "f.toml"
    )

    assert families.items[0].region == "Rest of world (incl. UAE)"
