"""A newcomer's first questions: the families, the help, `top` beyond the count, periods
typed as plain numbers, one family to compare, a model by its name alone; wording read at
first sight; and the bundled sample speaking in its own time.

The store is tests.builders.growing_store: on 2026-01-10, Qwen 262,000 all-time downloads
(two models), Llama 209,000, DeepSeek 54,500; the sample's last snapshot is 2026-01-17.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.home_view import Membership, home_view, read_home
from commands.render import render_text
from openmodels.families import load_families
from openmodels.locate import sample_store_path
from storage import open_store
from tests.builders import growing_store, many_families, many_families_store

FAMILIES = load_families()


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    store = growing_store(tmp_path_factory.mktemp("way") / "s.db")
    return AnswerContext(store=store, families=FAMILIES)


@pytest.fixture(scope="module")
def sample():
    return AnswerContext(store=open_store(sample_store_path(), sample=True), families=FAMILIES)


def rendered(text: str, ctx: AnswerContext) -> str:
    result = answer_text(text, ctx)
    assert check_limits(result.blocks) == []
    return render_text(result)


# -- families and help -------------------------------------------------------------------------


def test_families_lists_each_with_its_organisations_region_and_aliases(ctx):
    out = rendered("families", ctx)

    assert out.startswith(f"Tracked families ({len(FAMILIES)})")
    assert "Llama (`llama`) · meta-llama · region: US · also: `meta`" in out
    assert "Phi (`phi`) · microsoft · models matching `phi*`, `mediphi*` · region: US" in out
    assert all(f"({'`'}{family.key}{'`'})" in out for family in FAMILIES)


def test_help_names_the_families(ctx):
    out = rendered("help", ctx)

    assert f"Families tracked ({len(FAMILIES)}): Qwen (`qwen`, `alibaba`)" in out
    assert "Llama (`llama`, `meta`)" in out
    assert "`/openmodels families`" in out


# -- top, periods, compare with one family ---------------------------------------------------


def test_top_beyond_the_number_of_families_shows_them_all_and_says_so(ctx):
    out = rendered("top 500", ctx)

    assert out.startswith("All 3 tracked families by all-time downloads")
    assert "3. DeepSeek  54.5K" in out
    assert "You asked for the top 500: openmodels tracks 3 families" in out.replace("\n", " ")


def test_top_as_asked_says_nothing_of_the_count(ctx):
    out = rendered("top", ctx)

    assert out.startswith("Top 3 model families")
    assert "You asked" not in out


def many(tmp_path, n: int, label: str = "Family {i:03d}") -> AnswerContext:
    return AnswerContext(
        store=many_families_store(tmp_path / "many.db", n), families=many_families(n, label)
    )


def ranks(out: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+)\. ", out, re.MULTILINE)]


def test_top_beyond_a_long_list_shows_every_family(tmp_path):
    out = rendered("top 50", many(tmp_path, 40))

    assert out.startswith("All 40 tracked families by all-time downloads")
    assert ranks(out) == list(range(1, 41))
    assert "40. Family 039  1.0M" in out
    assert "not shown" not in out
    assert "\n\n" not in out[out.index("1. ") : out.index("40. ")]  # one list, no gap


def test_a_long_top_shows_as_many_as_asked_and_counts_the_rest_once(tmp_path):
    out = rendered("top 25", many(tmp_path, 60))

    assert out.startswith("Top 25 model families by all-time downloads")
    assert ranks(out) == list(range(1, 26))
    assert out.count("not shown") == 1
    assert "…and 35 more tracked families not shown" in out


def test_a_top_beyond_fifty_blocks_says_how_many_it_could_not_show(tmp_path):
    # Labels of 160 characters: about 13 rows to a section, too many for 50 blocks.
    out = rendered("top 700", many(tmp_path, 600, "Family {i:03d} " + "x" * 150))

    shown = ranks(out)
    assert shown == list(range(1, len(shown) + 1)) and 400 < len(shown) < 600
    assert out.count("not shown") == 1
    assert f"…and {600 - len(shown)} more tracked families not shown" in out


def test_help_spreads_a_long_list_of_families_and_counts_what_it_leaves_out(tmp_path):
    # Each name escaped (&amp;) and about 70 characters: sixty need two sections.
    out = rendered("help", many(tmp_path, 60, "Family {i:03d} & Sons Laboratories"))

    assert "Families tracked (60):" in out
    assert all(f"Family {i:03d} & Sons Laboratories (`f{i:03d}`)" in out for i in range(60))
    assert "families not shown" not in out


def test_help_with_too_many_families_says_how_many_it_leaves_out(tmp_path):
    out = rendered("help", many(tmp_path, 300, "Family {i:03d} & Sons Laboratories"))

    named = re.findall(r"Family \d{3} & Sons Laboratories \(`f\d{3}`\)", out)
    assert 60 < len(named) < 300
    assert f"…and {300 - len(named)} families not shown" in out
    assert "&am…" not in out and "&amp;" not in out


@pytest.mark.parametrize(
    ("typed", "meant"), [("movers 30", "movers --days 30"), ("new 14", "new --days 14")]
)
def test_a_number_after_movers_or_new_is_the_number_of_days(ctx, typed, meant):
    assert rendered(typed, ctx) == rendered(meant, ctx)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("movers 2 weeks", "movers --days 14"),
        ("movers 1w", "movers --days 7"),
        ("movers last month", "movers --days 30"),
        ("new 1 week", "new --days 7"),
        ("new qwen last week", "new qwen --days 7"),
    ],
)
def test_a_period_in_weeks_or_a_month_is_read_in_days(ctx, typed, meant):
    assert rendered(typed, ctx) == rendered(meant, ctx)


@pytest.mark.parametrize("typed", ["movers 2 years", "movers 48h", "new qwen last quarter"])
def test_a_period_in_other_units_is_asked_for_in_days(ctx, typed):
    result = answer_text(typed, ctx)

    assert result.error
    assert result.text.startswith("Give the period in days (1–365)")


def test_compare_with_one_family_answers_for_it_and_suggests_its_neighbours(ctx):
    result = answer_text("compare llama", ctx)
    out = render_text(result)

    assert out.startswith("Llama family")
    assert (
        "Llama's neighbours in the ranking are Qwen (#1) and DeepSeek (#3): "
        "`/openmodels compare qwen llama deepseek`."
    ) in out.replace("\n", " ")
    [(label, text)] = result.suggestions
    assert (label, text) == ("Compare with Qwen and DeepSeek", "compare qwen llama deepseek")
    assert not result.error and result.chart is not None


# -- models by name --------------------------------------------------------------------------


def test_a_model_name_without_its_organisation_finds_the_model(ctx):
    result = answer_text("model qwen3-8b", ctx)

    assert result.text.startswith("Qwen/Qwen3-8B: 145.0K all-time")
    assert result.chart is not None and result.chart.title == "Qwen/Qwen3-8B: cumulative downloads"


def test_a_bare_model_id_is_the_model_answer(ctx):
    assert answer_text("Qwen/Qwen3-8B", ctx).text.startswith("Qwen/Qwen3-8B: 145.0K all-time")


def test_a_name_the_store_does_not_hold_gets_the_closest_ids(ctx):
    result = answer_text("model Qwen3-8B-Instruct", ctx)

    assert result.error
    assert result.text.startswith("No model 'Qwen3-8B-Instruct' in the store. Did you mean:")
    assert "`Qwen/Qwen3-8B`" in result.text


# -- wording ------------------------------------------------------------------------------------


def test_a_30_day_change_explains_the_rolling_count_once(ctx):
    out = rendered("top --30d", ctx)

    assert out.count("rolling count") == 1
    assert "By all-time" not in out  # footnotes in the metric asked for


def test_three_families_compared_stand_without_blank_lines_between_them(ctx):
    out = rendered("compare qwen llama deepseek", ctx)

    cards = out[out.index("  Qwen  #1") : out.rindex("Models: ")]
    assert "\n\n" not in cards
    assert cards.count("#") == 3


def test_a_familys_models_stand_in_one_list(ctx):
    out = rendered("family qwen --models", ctx)

    header = "All-time downloads · last 30 days · likes\n"
    assert header + "1. Qwen/Qwen3-8B  145.0K · 9.0K · 5\n2." in out


def test_thirty_models_of_the_sample_stand_in_one_list(sample):
    # Each row's Hub link makes thirty too long for one section: the list spans two.
    out = rendered("family qwen --models", sample)

    assert "\n\n" not in out[out.index("1. Qwen/") : out.index("30. Qwen/")]


def test_no_launches_says_so_without_the_definition(ctx):
    out = rendered("new qwen", ctx)

    assert "No Qwen launches" in out
    assert "A launch:" not in out


def test_no_answer_names_a_setting(ctx):
    for text in ("top --derivatives", "family qwen", "help", "status", "forecast"):
        assert "OPENMODELS_" not in rendered(text, ctx)


# -- the sample in its own time ----------------------------------------------------------------


def test_the_sample_says_as_of_when_not_how_long_ago(sample):
    out = rendered("top", sample)

    assert "sample data as of 2026-01-17 (synthetic)" in out


def test_the_samples_forecasts_count_from_its_last_snapshot_and_say_so(sample):
    out = rendered("forecast", sample)

    assert (
        "DeepSeek is on course to pass Gemma around 2026-05-08 (111 days after the sample's "
        "last snapshot, 2026-01-17; range 104–119)."
    ) in out.replace("\n", " ")


def test_the_samples_home_tab_says_as_of_and_no_days_ago(sample):
    now = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    facts = read_home(sample.store, "T1", now)
    view = home_view(facts, FAMILIES, Membership(), now)

    text = str(view["blocks"])
    assert "Sample data as of 2026-01-17." in text
    assert "days ago" not in text
    assert "111 days after the sample's last snapshot, 2026-01-17" in text
