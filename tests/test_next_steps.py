"""The buttons under an answer: each carries the command text of its next step."""

from __future__ import annotations

import pytest

from commands import blocks as bk
from commands.next_steps import (
    COMPARE_WITH_ACTION,
    REPLACES,
    SUGGESTED_ACTIONS,
    TOGGLE_ACTION,
    TOP_MODELS_ACTION,
    VIEW_ACTIONS,
    command_text,
    next_steps,
)
from commands.parser import parse
from openmodels.families import load_families, parse_families

FAMILIES = load_families()


def elements(text: str) -> dict[str, dict]:
    block = next_steps(parse(text), FAMILIES)
    assert block is not None and bk.check_limits([block]) == []
    return {e["action_id"]: e for e in block["elements"]}


@pytest.mark.parametrize(
    ("text", "toggled", "label"),
    [
        ("top", "top --30d", "Last 30 days"),
        ("top 5 --30d", "top 5", "All-time"),
        ("top --derivatives", "top", "All-time"),
        ("compare Qwen LLAMA", "compare qwen llama --30d", "Last 30 days"),
        ("family qwen --30d", "family qwen", "All-time"),
        ("family qwen --models", "family qwen --models --30d", "Last 30 days"),
        ("top --size 1–5B", "top --30d --size 1-5b", "Last 30 days"),
        ("top 3 --size &lt;1B --30d", "top 3 --size under-1b", "All-time"),
        ("sizes", "sizes --30d", "Last 30 days"),
        ("sizes --30d", "sizes", "All-time"),
    ],
)
def test_the_toggle_switches_the_metric_of_the_same_question(text, toggled, label):
    toggle = elements(text)[TOGGLE_ACTION]

    assert (toggle["value"], toggle["text"]["text"]) == (toggled, label)


def test_compare_with_offers_every_other_family_added_to_the_comparison():
    select = elements("compare qwen llama --30d")[COMPARE_WITH_ACTION]

    values = [o["value"] for o in select["options"]]
    assert "compare qwen llama deepseek --30d" in values
    assert not any(v.endswith((" qwen --30d", " llama --30d")) for v in values)
    assert len(values) == len(FAMILIES) - 2


def test_a_full_comparison_offers_no_family_to_add():
    assert COMPARE_WITH_ACTION not in elements("compare qwen llama deepseek gemma phi glm")


def test_family_offers_compare_with_and_its_top_models():
    steps = elements("family Qwen")

    assert steps[TOP_MODELS_ACTION]["value"] == "family qwen --models"
    assert "compare qwen llama" in [o["value"] for o in steps[COMPARE_WITH_ACTION]["options"]]
    assert TOP_MODELS_ACTION not in elements("family qwen --models")


@pytest.mark.parametrize(
    ("text", "views"),
    [
        ("compare qwen llama", {"weekly": "compare qwen llama --weekly",
                                "share": "compare qwen llama --share"}),
        ("compare qwen llama --weekly", {"total": "compare qwen llama",
                                         "share": "compare qwen llama --share"}),
        ("family qwen --share", {"total": "family qwen", "weekly": "family qwen --weekly"}),
        ("regions", {"weekly": "regions --weekly", "share": "regions --share"}),
        ("model Qwen/Qwen3-8B", {"weekly": "model Qwen/Qwen3-8B --weekly"}),
        ("model Qwen/Qwen3-8B --weekly", {"total": "model Qwen/Qwen3-8B"}),
    ],
)  # fmt: skip
def test_a_chart_answer_offers_its_other_views_each_replacing_it(text, views):
    found = elements(text)

    shown = {v: found[a]["value"] for v, a in VIEW_ACTIONS.items() if a in found}
    assert shown == views
    assert all(VIEW_ACTIONS[v] in REPLACES for v in views)


def test_a_list_of_models_has_no_views():
    assert not set(VIEW_ACTIONS.values()) & set(elements("family qwen --models"))


def test_an_answer_s_suggestions_become_buttons():
    block = next_steps(
        parse("compare qwen"), FAMILIES, (("Compare with Llama", "compare llama qwen"),)
    )
    assert block is not None
    [suggested] = [e for e in block["elements"] if e["action_id"] == SUGGESTED_ACTIONS[0]]
    assert (suggested["text"]["text"], suggested["value"]) == (
        "Compare with Llama",
        "compare llama qwen",
    )


@pytest.mark.parametrize(
    "text", ["help", "status", "forecast", "race qwen gemma", "top --size huge"]
)
def test_answers_without_a_next_step_get_no_buttons(text):
    assert next_steps(parse(text), FAMILIES) is None


def test_every_value_parses_back_to_an_answer_that_only_reads():
    from commands.answers import only_reads

    for text in (
        "top",
        "compare qwen llama",
        "family qwen",
        "family qwen --models --30d",
        "top --size 1-5B",
        "sizes",
    ):
        for element in elements(text).values():
            values = [o["value"] for o in element.get("options", [])] or [element["value"]]
            assert all(only_reads(v) and parse(v) for v in values)


def test_a_hundred_and_twenty_families_stay_within_a_selects_hundred_options():
    many = parse_families(
        "\n".join(f'[families.f{i}]\nlabel = "F{i}"\norgs = ["org{i}"]\n' for i in range(120)),
        "test",
    )

    block = next_steps(parse("family f0"), many)

    assert block is not None and bk.check_limits([block]) == []
    [select] = [e for e in block["elements"] if e["type"] == "static_select"]
    assert len(select["options"]) == bk.MAX_OPTIONS


def test_command_text_names_families_by_key():
    assert command_text(parse("compare Qwen Llama --30d"), FAMILIES) == "compare qwen llama --30d"
    assert command_text(parse("family nosuch"), FAMILIES) is None
