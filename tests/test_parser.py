"""The /openmodels command grammar, shared by Slack and `openmodels ask`."""

import pytest

from commands.parser import (
    MAX_TEXT,
    Compare,
    FamiliesList,
    FamilyDetail,
    Forecast,
    Help,
    ModelDetail,
    Movers,
    New,
    Regions,
    Status,
    Subscribe,
    Subscriptions,
    Top,
    Unresolved,
    Unsubscribe,
    UsageError,
    edit_distance,
    nearest_verb,
    parse,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Top()),
        ("   ", Top()),
        ("--30d", Top(metric="30d")),  # options alone are top's
        ("—public", Top(public=True)),
        ("ｔｏｐ　５", Top(n=5)),  # full-width, as a CJK input method types it
        ("ｍｏｖｅｒｓ －－ｄａｙｓ ３０", Movers(days=30)),
        ("--30d 5", Top(n=5, metric="30d")),
        ("--help", Help()),
        ("movers --help", Help()),  # options before a number only: top's too
        # options before the subcommand are still its own
        ("--days 3 movers", Movers(days=3)),
        ("--days=30 --public movers", Movers(days=30, public=True)),
        ("--public forecast", Forecast(public=True)),
        ("--30d compare qwen llama", Compare(("qwen", "llama"), "30d")),
        ("help", Help()),
        ("top", Top()),
        ("TOP 5", Top(n=5)),
        ("top --30d", Top(metric="30d")),
        ("top 3 —30d", Top(n=3, metric="30d")),  # Slack turns -- into an em dash
        ("top 3 -30d -public", Top(n=3, metric="30d", public=True)),  # one hyphen, as one dash
        ("movers -days 30", Movers(days=30)),
        ("top --public", Top(public=True)),
        ("top --derivatives", Top(metric="derivatives")),
        ("top 5 —derivatives", Top(n=5, metric="derivatives")),
        ("compare qwen llama", Compare(("qwen", "llama"))),
        ("compare qwen vs llama", Compare(("qwen", "llama"))),
        ("compare qwen, llama, deepseek --30d", Compare(("qwen", "llama", "deepseek"), "30d")),
        ("family Qwen", FamilyDetail("Qwen")),
        ("model Qwen/Qwen2.5-7B-Instruct", ModelDetail("Qwen/Qwen2.5-7B-Instruct")),
        ("regions", Regions()),
        ("regions --30d --public", Regions(metric="30d", public=True)),
        ("movers", Movers(days=7)),
        ("movers --days 30", Movers(days=30)),
        # a number among the words is the period, as it clearly means
        ("movers 30", Movers(days=30)),
        ("movers 30 days", Movers(days=30)),
        ("movers 14d", Movers(days=14)),
        ("new 14", New(days=14)),
        ("new qwen 14 days", New(family="qwen", days=14)),
        # weeks are seven days, a month thirty
        ("movers 2 weeks", Movers(days=14)),
        ("movers 1w", Movers(days=7)),
        ("movers 3wk", Movers(days=21)),
        ("movers week", Movers(days=7)),
        ("movers last month", Movers(days=30)),
        ("movers past 2 months", Movers(days=60)),
        ("movers last 30 days", Movers(days=30)),
        ("movers 1mo", Movers(days=30)),
        ("movers 2 weeks --days 14", Movers(days=14)),
        ("new 1 week", New(days=7)),
        ("new qwen 2w", New(family="qwen", days=14)),
        ("new qwen last week", New(family="qwen", days=7)),
        # N beyond the families tracked: all of them (the answer says so)
        ("top 500", Top(n=500)),
        ("top 99999999999999999999", Top(n=500)),
        # one family: answered for itself, with its neighbours suggested
        ("compare qwen", Compare(("qwen",))),
        # a model by its name alone, for the store to find
        ("model Qwen2.5-7B-Instruct", ModelDetail("Qwen2.5-7B-Instruct")),
        # a chart's views
        ("compare qwen llama --weekly", Compare(("qwen", "llama"), view="weekly")),
        ("family qwen --share", FamilyDetail("qwen", view="share")),
        ("regions --weekly", Regions(view="weekly")),
        ("model Qwen/Qwen3-8B --weekly", ModelDetail("Qwen/Qwen3-8B", view="weekly")),
        ("families", FamiliesList()),
        ("list --public", FamiliesList(public=True)),
        ("movers --days=1", Movers(days=1)),
        ("Movers —days 365 --public", Movers(days=365, public=True)),
        ("movers --public --days 14", Movers(days=14, public=True)),
        ("forecast", Forecast()),
        ("forecast --public", Forecast(public=True)),
        ("status", Status()),
        ("subscribe digest", Subscribe("digest")),
        ("subscribe alerts qwen llama", Subscribe("alerts", ("qwen", "llama"))),
        ("subscribe alerts", Subscribe("alerts", metrics=("all_time",))),  # 30-day orders flap
        ("subscribe alerts qwen --30d", Subscribe("alerts", ("qwen",), metrics=("30d",))),
        ("subscribe alerts --all-time", Subscribe("alerts", metrics=("all_time",))),
        ("subscribe alerts —30d --all-time", Subscribe("alerts", metrics=("all_time", "30d"))),
        ("subscribe digest --always", Subscribe("digest", always=True)),
        ("unsubscribe alerts", Unsubscribe("alerts")),
        ("subscriptions", Subscriptions()),
        ("frobnicate", Unresolved("frobnicate", ("frobnicate",))),
        ("qwen", Unresolved("qwen", ("qwen",))),
        ("qwen llama --30d", Unresolved("qwen llama --30d", ("qwen", "llama"))),
        (
            "comapre qwen llama",
            Unresolved("comapre qwen llama", ("comapre", "qwen", "llama"), near="compare"),
        ),
    ],
)
def test_valid_texts_parse_to_commands(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("top 0", "from 1 up"),
        ("top -3", "from 1 up"),
        ("top five", "from 1 up"),
        ("top 1 2", "at most one number"),
        ("top --weekly", "Unknown option --weekly"),
        ("top --30d --derivatives", "not both"),
        ("family qwen --derivatives", "Unknown option --derivatives"),
        ("compare", "Name the families"),
        ("compare a b c d e f g", "up to 6 families"),
        ("compare qwen llama --weekly --share", "one view"),
        ("compare qwen llama --30d --weekly", "does not go with `--30d`"),
        ("family qwen --models --share", "no chart"),
        ("family", "Name one family"),
        ("family qwen llama", "Name one family"),
        ("model", "Name one model"),
        ("model a b", "Name one model"),
        ("regions china", "takes no names"),
        ("regions --days 3", "Unknown option --days"),
        ("movers 30 --days 7", "one period"),
        ("movers 2 weeks 30", "one period"),
        ("movers 60 weeks", "1 to 365"),
        ("movers 2 years", "Give the period in days (1–365)"),
        ("movers last year", "Give the period in days (1–365)"),
        ("movers 48h", "Give the period in days (1–365)"),
        ("movers 12 hours", "Give the period in days (1–365)"),
        ("new qwen 1 fortnight", "Give the period in days (1–365)"),
        ("new 3m", "Give the period in days (1–365)"),
        ("movers qwen", "name none"),
        ("movers --days", "1 to 365"),
        ("movers --days 0", "1 to 365"),
        ("movers --days 366", "1 to 365"),
        ("movers --days -7", "1 to 365"),
        ("movers --days 2.5", "1 to 365"),
        ("movers --days week", "1 to 365"),
        ("movers --days=", "1 to 365"),
        ("movers --days --public", "1 to 365"),
        ("movers --30d", "Unknown option --30d"),
        ("top --days 7", "Unknown option --days"),
        ("forecast qwen llama", "compare A B"),
        ("subscribe", "digest"),
        ("subscribe digest qwen", "every family"),
        ("subscribe digest --30d", "Unknown option --30d"),
        ("subscribe alerts --always", "Unknown option --always"),
        ("unsubscribe everything", "digest"),
        ("x" * (MAX_TEXT + 1), "limit is 500"),
    ],
)
def test_bad_texts_get_a_usage_message(text, message):
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert message in caught.value.message


def test_usage_errors_carry_the_usage_line_of_their_command():
    with pytest.raises(UsageError) as caught:
        parse("top lots")
    assert caught.value.usage is not None
    assert caught.value.usage.startswith("`/openmodels top")


@pytest.mark.parametrize("verb", ["regions", "movers", "forecast"])
def test_new_commands_are_in_the_usage_list(verb):
    with pytest.raises(UsageError) as caught:
        parse(f"{verb} --nonsense")
    assert caught.value.usage is not None
    assert caught.value.usage.startswith(f"`/openmodels {verb}")


# -- shorthand: what the parser hands over, before the families are known ---------------


@pytest.mark.parametrize(
    ("word", "verb"),
    [
        ("comapre", "compare"),  # two letters swapped: one edit
        ("compar", "compare"),
        ("tpo", "top"),
        ("TOPP", "top"),
        ("famly", "family"),
        ("modle", "model"),
        ("stauts", "status"),
        ("subscibe", "subscribe"),
        ("unsubscibe", "unsubscribe"),
        ("subscription", "subscriptions"),
        ("forcast", "forecast"),
        ("region", "regions"),
        ("hlep", "help"),
        ("compare", None),  # a subcommand is no typo
        ("qwen", None),
        ("llama", None),
        ("deepseek", None),
        ("frobnicate", None),
        ("cmpr", None),  # three edits
    ],
)
def test_a_first_word_within_two_edits_of_a_subcommand_is_taken_for_a_typo(word, verb):
    assert nearest_verb(word) == verb


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("top", "top", 0),
        ("top", "tpo", 1),
        ("comapre", "compare", 1),
        ("top", "", 3),
        ("kitten", "sitting", 3),
        ("abc", "xyz", 3),
    ],
)
def test_edit_distance_counts_inserts_deletes_replacements_and_swaps(a, b, distance):
    assert edit_distance(a, b, cap=9) == distance


def test_edit_distance_stops_counting_at_its_cap():
    assert edit_distance("a" * 400, "b" * 400, cap=3) == 3
    assert edit_distance("top", "a" * 50, cap=3) == 3


@pytest.mark.parametrize(
    ("text", "verb", "expected"),
    [
        ("qwen", "family", FamilyDetail("qwen")),
        ("qwen --30d --public", "family", FamilyDetail("qwen", "30d", public=True)),
        ("qwen llama", "compare", Compare(("qwen", "llama"))),
        ("qwen vs llama, deepseek --30d", "compare", Compare(("qwen", "llama", "deepseek"), "30d")),
    ],
)
def test_shorthand_is_parsed_again_as_the_subcommand_it_stands_for(text, verb, expected):
    assert parse(text, verb=verb) == expected


def test_shorthand_parsed_again_keeps_the_length_limit_of_what_was_typed():
    text = "qwen " * 99 + "x"  # 496 characters: "compare " in front would pass 500

    with pytest.raises(UsageError) as caught:
        parse(text, verb="compare")

    assert "up to 6 families" in caught.value.message
