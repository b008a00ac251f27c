"""The /openmodels command grammar, shared by Slack and `openmodels ask`."""

import pytest

from commands.parser import (
    MAX_TEXT,
    Compare,
    FamilyDetail,
    Forecast,
    Help,
    ModelDetail,
    Movers,
    Regions,
    Status,
    Subscribe,
    Subscriptions,
    Top,
    Unsubscribe,
    UsageError,
    parse,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("top", Top()),
        ("TOP 5", Top(n=5)),
        ("top --30d", Top(metric="30d")),
        ("top 3 —30d", Top(n=3, metric="30d")),  # Slack turns -- into an em dash
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
        ("movers --days=1", Movers(days=1)),
        ("Movers —days 365 --public", Movers(days=365, public=True)),
        ("movers --public --days 14", Movers(days=14, public=True)),
        ("forecast", Forecast()),
        ("forecast --public", Forecast(public=True)),
        ("status", Status()),
        ("subscribe digest", Subscribe("digest")),
        ("subscribe alerts qwen llama", Subscribe("alerts", ("qwen", "llama"))),
        ("unsubscribe alerts", Unsubscribe("alerts")),
        ("subscriptions", Subscriptions()),
        ("frobnicate", Help(unknown="frobnicate")),
    ],
)
def test_valid_texts_parse_to_commands(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("top 0", "1 to 50"),
        ("top 51", "1 to 50"),
        ("top 99999999999999999999", "1 to 50"),
        ("top -3", "1 to 50"),
        ("top five", "1 to 50"),
        ("top 1 2", "at most one number"),
        ("top --weekly", "Unknown option --weekly"),
        ("top --30d --derivatives", "not both"),
        ("family qwen --derivatives", "Unknown option --derivatives"),
        ("compare qwen", "2 to 6 families"),
        ("compare a b c d e f g", "2 to 6 families"),
        ("family", "Name one family"),
        ("family qwen llama", "Name one family"),
        ("model qwen", "ORG/NAME"),
        ("regions china", "takes no names"),
        ("regions --days 3", "Unknown option --days"),
        ("movers 30", "--days N"),
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
