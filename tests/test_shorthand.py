"""Shorthand: `/openmodels qwen` is `family qwen`, `/openmodels qwen llama` is
`compare qwen llama`, `/openmodels` alone is `top`; and which reading wins when a word
could be more than one.

Precedence: a subcommand name, then a family name, then a mistyped subcommand (at most
two edits), then a model the store holds by that name, then a mistyped family (the
suggestion every unknown family gets), then a model id, then the nearest commands. The
store is tests.builders.growing_store (Qwen 262,000 all-time downloads, Llama 209,000,
DeepSeek 54,500 on 2026-01-10).
"""

import pytest

from commands import AnswerContext, answer_text
from commands.answers import only_reads
from commands.parser import (
    Compare,
    FamilyDetail,
    ModelDetail,
    NotACommand,
    Top,
    Unresolved,
    UsageError,
    parse,
)
from commands.shorthand import resolve
from openmodels.families import load_families, parse_families
from tests.builders import growing_store, record, store_with

# Families whose names sit a couple of letters from a subcommand: OPT (Meta's) and
# StepFun's `step` are two edits from `top`; and one family named like a subcommand.
NEAR_SUBCOMMANDS = parse_families(
    """
[families.qwen]
orgs = ["Qwen"]

[families.opt]
label = "OPT"
orgs = ["facebook"]

[families.step]
label = "Step"
orgs = ["stepfun-ai"]
aliases = ["stepfun"]

[families.top]
orgs = ["someone"]
""",
    "test families",
)


STORED_MODELS = {"qwen3-8b"}  # models the store holds, by name without organisation


def resolved(text, families=NEAR_SUBCOMMANDS):
    command = parse(text)
    if not isinstance(command, Unresolved):
        return command
    return resolve(command, families, lambda name: name.lower() in STORED_MODELS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 1. a subcommand name wins, even over a family of that very name
        ("top", Top()),
        ("top 5", Top(n=5)),
        # 2. then a family name: one is `family`, two to six are `compare`
        ("qwen", FamilyDetail("qwen")),
        ("OPT", FamilyDetail("OPT")),
        ("opt --30d", FamilyDetail("opt", "30d")),
        ("stepfun", FamilyDetail("stepfun")),  # an alias
        ("opt step", Compare(("opt", "step"))),
        ("qwen opt step --public", Compare(("qwen", "opt", "step"), public=True)),
        # a second name need not be known: `compare` names the unknown one
        ("qwen nonsense", Compare(("qwen", "nonsense"))),
        # 4. then a model the store holds by that name, though near a family's name
        ("Qwen3-8B", ModelDetail("Qwen3-8B")),
        ("qwen3-8b --weekly", ModelDetail("qwen3-8b", view="weekly")),
        ("Qwen3-8B/", ModelDetail("Qwen3-8B")),
        # 5. then a mistyped family: answered as family/compare, which suggest the name
        ("qwne", FamilyDetail("qwne")),
        ("Qwen3-14B", FamilyDetail("Qwen3-14B")),  # no such model: a mistyped family
        ("qwne opt", Compare(("qwne", "opt"))),
        # 6. a model id is `model`
        ("Qwen/Qwen3-8B", ModelDetail("Qwen/Qwen3-8B")),
        # 7. then no command at all: answered with the nearest commands
        ("frobnicate", NotACommand("frobnicate")),
        ("frobnicate qwen", NotACommand("frobnicate qwen")),
        ("who is winning?", NotACommand("who is winning?")),
        # `/openmodels` alone is `top`
        ("", Top()),
        ("--30d", Top(metric="30d")),
    ],
)
def test_each_text_resolves_by_precedence(text, expected):
    assert resolved(text) == expected


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        # 3. a mistyped subcommand, when no family has that exact name
        ("comapre qwen llama", "compare"),
        ("tpo", "top"),
        ("famliy qwen", "family"),
        ("subscibe digest", "subscribe"),
        # ... even when the word is as close to a family name (the family `top`)
        ("tops", "top"),
    ],
)
def test_a_mistyped_subcommand_gets_did_you_mean(text, suggested):
    with pytest.raises(UsageError) as caught:
        resolved(text)

    assert f"did you mean `{suggested}`?" in caught.value.message
    assert caught.value.usage is not None
    assert caught.value.usage.startswith(f"`/openmodels {suggested}")


def test_a_mistyped_subcommand_is_never_run():
    with pytest.raises(UsageError):
        resolved("subscrbe digest")
    with pytest.raises(UsageError):
        resolved("unsubscrbe alerts")


# -- answered from a store ----------------------------------------------------------------


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    store = growing_store(tmp_path_factory.mktemp("shorthand") / "s.db")
    return AnswerContext(store=store, families=load_families())


@pytest.mark.parametrize(
    ("shorthand", "longhand"),
    [
        ("", "top"),
        ("--30d", "top --30d"),
        ("qwen", "family qwen"),
        ("Meta", "family meta"),
        ("qwen --30d", "family qwen --30d"),
        ("qwen llama", "compare qwen llama"),
        ("qwen vs llama, deepseek --30d", "compare qwen llama deepseek --30d"),
        ("ｑｗｅｎ　ｌｌａｍａ", "compare qwen llama"),  # full-width letters
        # mrkdwn marks around words (bold, code, italics) are not part of the names
        ("*qwen*", "family qwen"),
        ("`qwen` _llama_", "compare qwen llama"),
        ("*family qwen*", "family qwen"),
        # options may come before the names
        ("--30d qwen", "family qwen --30d"),
        ("--30d qwen llama", "compare qwen llama --30d"),
    ],
)
def test_shorthand_answers_as_its_longhand(ctx, shorthand, longhand):
    short, long = answer_text(shorthand, ctx), answer_text(longhand, ctx)

    assert not short.error
    assert (short.text, short.blocks, short.chart) == (long.text, long.blocks, long.chart)
    assert short.shareable


INVISIBLE = {
    "zero-width space": "\u200b",
    "byte-order mark": "\ufeff",
    "word joiner": "\u2060",
    "bell": "\x07",
    "right-to-left override": "\u202e",
}


@pytest.mark.parametrize("mark", INVISIBLE.values(), ids=INVISIBLE.keys())
@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("top{}", "top"),
        ("qwen{}", "qwen"),
        ("compare {}qwen llama", "compare qwen llama"),
        ("{}top 5", "top 5"),
        ("family qw{}en", "family qwen"),
    ],
)
def test_invisible_characters_are_not_part_of_a_word(ctx, mark, typed, meant):
    # Pasted text carries them (a zero-width space from a web page, a BOM from a file):
    # the reader sees `top`, so openmodels reads `top`.
    result, expected = answer_text(typed.format(mark), ctx), answer_text(meant, ctx)

    assert not result.error
    assert (result.text, result.blocks) == (expected.text, expected.blocks)


@pytest.mark.parametrize("mark", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_an_echoed_word_carries_no_invisible_character(ctx, mark):
    result = answer_text(f"compare qwen {mark}lalma{mark}", ctx)

    assert result.text.startswith("Unknown family 'lalma' — did you mean llama?")
    assert mark not in str(result.blocks)


def test_a_mistyped_subcommand_is_answered_with_a_suggestion(ctx):
    result = answer_text("comapre qwen llama", ctx)

    assert result.error and not result.shareable
    assert result.text.splitlines()[0] == (
        "I don't know the command 'comapre' — did you mean `compare`?"
    )
    assert "Usage: `/openmodels compare A B" in result.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("qwne", "Unknown family 'qwne' — did you mean qwen?"),
        ("qwen lama", "Unknown family 'lama' — did you mean llama?"),
        ("qwen 5", "Unknown family '5'."),
        ("qwen llama --derivatives", "Unknown option --derivatives."),
        ("qwen llama deepseek gemma phi glm kimi", "Compare takes up to 6 families; you gave 7."),
    ],
)
def test_shorthand_gets_the_errors_of_the_command_it_stands_for(ctx, text, message):
    result = answer_text(text, ctx)

    assert result.error
    assert result.text.startswith(message)


@pytest.fixture(scope="module")
def models_near_families(tmp_path_factory):
    """Models whose names sit close to their family's name (qwen, deepseek, phi, …)."""
    ids = [
        ("Qwen/Qwen3-8B", "qwen"),
        ("deepseek-ai/DeepSeek-V3.2", "deepseek"),
        ("microsoft/Phi-4", "phi"),
        ("zai-org/GLM-4.7", "glm"),
        ("openai/gpt-oss-20b", "gpt-oss"),
        ("meta-llama/Llama-3.1-8B", "llama"),
    ]
    records = [record(repo_id, family, 1_000 * (i + 1)) for i, (repo_id, family) in enumerate(ids)]
    store = store_with(tmp_path_factory.mktemp("named") / "m.db", [records, records])
    return AnswerContext(store=store, families=load_families())


@pytest.mark.parametrize(
    "name", ["Qwen3-8B", "DeepSeek-V3.2", "Phi-4", "GLM-4.7", "gpt-oss-20b", "Llama-3.1-8B"]
)
def test_a_bare_model_name_the_store_holds_opens_the_model(models_near_families, name):
    # Each is also near a family's name; the model with exactly that name wins.
    result = answer_text(name, models_near_families)

    assert not result.error
    assert result.text == answer_text(f"model {name}", models_near_families).text


def test_a_mistyped_family_is_still_suggested_beside_a_store_of_models(models_near_families):
    result = answer_text("qwne", models_near_families)

    assert result.text.startswith("Unknown family 'qwne' — did you mean qwen?")


def test_an_unknown_word_gets_a_short_answer_with_the_nearest_commands_not_the_help(ctx):
    result = answer_text("frobnicate now", ctx)

    assert result.error
    assert result.text.startswith("“frobnicate now” is not a command I know. Perhaps:")
    assert "`/openmodels top" in result.text and "`/openmodels compare A B" in result.text
    assert "`/openmodels subscribe" not in result.text  # not the whole help
    assert result.text.endswith("`/openmodels help` lists every command.")


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("who is winning?", "top"),
        ("when will qwen overtake llama", "compare"),
        ("which models are new this week", "new"),
        ("who is growing fastest", "movers"),
        ("how is china doing", "regions"),
        ("list", None),  # the families command itself
    ],
)
def test_a_question_suggests_the_commands_that_answer_it(ctx, text, first):
    result = answer_text(text, ctx)

    if first is None:
        assert not result.error and result.text.startswith("Tracked families")
        return
    lines = result.text.splitlines()
    assert lines[1].startswith(f"• `/openmodels {first}")
    assert len(lines) <= 5


def test_the_help_explains_the_shorthand(ctx):
    text = answer_text("help", ctx).text

    assert "`/openmodels qwen` is `family qwen`" in text
    assert "`/openmodels qwen llama` is `compare qwen llama`" in text
    assert "`/openmodels` alone is `top`" in text


@pytest.mark.parametrize("text", ["", "qwen", "qwen llama", "comapre qwen", "frobnicate"])
def test_shorthand_only_reads_so_it_may_be_shared(text):
    assert only_reads(text)


@pytest.mark.parametrize("text", ["subscribe digest", "unsubscribe alerts"])
def test_changes_are_still_never_shared(text):
    assert not only_reads(text)
