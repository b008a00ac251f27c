"""The comparability rule: which families two snapshots may compare, and from where a
change may run when they may not. Snapshots are plain data; figures are hand-written."""

from __future__ import annotations

import pytest

from openmodels.comparability import (
    Basis,
    Break,
    Counted,
    Fall,
    Figures,
    Why,
    basis,
    breaks,
    comparable,
    comparable_run,
    falls,
    findings,
    last_break,
    same_definition,
    set_aside,
    why_not,
)

NARROW = '{"match":["aurora*"],"orgs":["aurora"],"yields_to":[]}'
WIDE = '{"match":["aurora*"],"orgs":["aurora","aurora-community"],"yields_to":[]}'


def snap(
    day: int,
    definitions: dict[str, str] | None = None,
    present: str = "aurora borealis",
    anomalous: str = "",
    source: str = "hub",
    hour: int = 6,
) -> Counted:
    return Counted(
        day,
        f"2026-02-{day:02d}T{hour:02d}:00:00Z",
        source,
        definitions if definitions is not None else {"aurora": NARROW, "borealis": "b"},
        frozenset(present.split()),
        frozenset(anomalous.split()),
    )


WIDENED = {"aurora": WIDE, "borealis": "b"}


# -- the rule --------------------------------------------------------------------------------


def test_the_same_definition_at_both_ends_and_no_anomaly_compare():
    assert comparable(snap(1), snap(8), "aurora")
    assert why_not(snap(1), snap(8), "borealis") is None


@pytest.mark.parametrize(
    ("earlier", "later", "why"),
    [
        (snap(1, present="borealis"), snap(8), Why.NEW),
        (snap(1), snap(8, present="borealis"), Why.GONE),
        (snap(1), snap(8, WIDENED), Why.REDEFINED),
        (snap(1, {}), snap(8), Why.UNRECORDED),
        (snap(1, anomalous="aurora"), snap(8), Why.FELL),
        (snap(1), snap(8, anomalous="aurora"), Why.FELL),
    ],
    ids=["new", "gone", "redefined", "first-recorded", "earlier-anomaly", "later-anomaly"],
)
def test_each_reason_two_snapshots_do_not_compare(earlier, later, why):
    assert why_not(earlier, later, "aurora") is why
    if why is not Why.UNRECORDED:  # which breaks every family at once
        assert why_not(earlier, later, "borealis") is None  # the other still compares


def test_snapshots_that_recorded_no_definitions_compare_with_each_other():
    assert comparable(snap(1, {}), snap(8, {}), "aurora")
    assert same_definition({}, {}, "aurora")
    assert not same_definition({}, {"aurora": NARROW}, "aurora")


def test_the_source_decides_nothing():
    # Imported history, the sample, and any other source compare by their definitions.
    for source in ("import", "sample", "estimate"):
        assert comparable(snap(1, source=source), snap(8), "aurora")
        assert not comparable(snap(1, source=source), snap(8, WIDENED), "aurora")


def test_a_definition_changed_and_changed_back_compares_at_the_two_ends():
    # Counted by the same rules at both ends: the difference is downloads.
    assert comparable(snap(1), snap(10), "aurora")


def test_set_aside_names_the_families_that_do_not_compare():
    assert set_aside(snap(1), snap(8, WIDENED, present="aurora"), ["aurora", "borealis"]) == {
        "aurora": Why.REDEFINED,
        "borealis": Why.GONE,
    }


# -- anomalies --------------------------------------------------------------------------------


def test_a_figure_below_an_earlier_one_is_an_anomaly_until_it_is_back_above():
    # Aurora's listing is partial on days 2 and 3 (100 -> 50 -> 60), whole again on day 4.
    found = falls(
        [
            Figures({"aurora": 100, "borealis": 10}),
            Figures({"aurora": 50, "borealis": 11}),
            Figures({"aurora": 60, "borealis": 12}),
            Figures({"aurora": 104, "borealis": 13}),
        ]
    )

    assert found == [[], [Fall("aurora", 100, 50)], [Fall("aurora", 100, 60)], []]


def test_a_family_that_loses_all_its_models_is_an_anomaly_once():
    found = falls([Figures({"a": 10, "b": 5}), Figures({"b": 6}), Figures({"b": 7})])

    assert found == [[], [Fall("a", 10, None)], []]


def test_a_new_definition_starts_a_family_afresh():
    # A narrower glob lowers the total legitimately: counted by other rules, no anomaly.
    found = falls(
        [
            Figures({"aurora": 100}, {"aurora": WIDE}),
            Figures({"aurora": 70}, {"aurora": NARROW}),
            Figures({"aurora": 71}, {"aurora": NARROW}),
        ]
    )

    assert found == [[], [], []]


def test_a_family_dropped_from_the_families_file_is_no_anomaly():
    found = falls([Figures({"a": 10}, {"a": NARROW}), Figures({}, {})])

    assert found == [[], []]


# -- falls for good: a new level -------------------------------------------------------------


def aurora(*values: int | None) -> list[Figures]:
    """Aurora's all-time figures, one snapshot each (None: no models); Borealis grows."""
    return [
        Figures({"borealis": 10 + i} | ({} if v is None else {"aurora": v}))
        for i, v in enumerate(values)
    ]


def test_a_fall_that_lasts_three_snapshots_is_a_new_level_from_its_first():
    # A model of 20 is deleted on day 2: 100 -> 80, and Aurora grows on from there.
    found = findings(aurora(100, 80, 81, 82, 83))

    assert found.falls == [[], [], [], [], []]  # no longer missing data
    assert found.drops == [[], [Fall("aurora", 100, 80)], [], [], []]
    assert found.levels == [{}, {"aurora": 1}, {"aurora": 1}, {"aurora": 1}, {"aurora": 1}]


def test_a_fall_not_yet_three_snapshots_long_is_missing_data():
    found = findings(aurora(100, 80, 81))

    assert found.falls == [[], [Fall("aurora", 100, 80)], [Fall("aurora", 100, 81)]]
    assert found.drops == [[], [], []]
    assert found.levels == [{}, {}, {}]


def test_a_dip_that_comes_back_within_three_snapshots_stays_missing_data():
    # A partial listing on days 2 and 3; on day 4 the Hub lists everything again.
    found = findings(aurora(100, 80, 81, 104, 105))

    assert found.falls == [[], [Fall("aurora", 100, 80)], [Fall("aurora", 100, 81)], [], []]
    assert found.drops == [[], [], [], [], []]


def test_a_dip_within_a_new_level_is_missing_data_against_that_level():
    # 100 -> 80 for good (80, 79, 81 all below 100); 79 is below the new level's 80.
    found = findings(aurora(100, 80, 79, 81))

    assert found.drops == [[], [Fall("aurora", 100, 80)], [], []]
    assert found.falls == [[], [], [Fall("aurora", 80, 79)], []]
    assert found.levels == [{}, {"aurora": 1}, {"aurora": 1}, {"aurora": 1}]


def test_a_snapshot_without_the_family_neither_counts_nor_ends_the_run():
    # Day 3 lists no Aurora model at all (an anomaly of its own); days 2, 4, 5 are below.
    found = findings(aurora(100, 80, None, 81, 82))

    assert found.drops == [[], [Fall("aurora", 100, 80)], [], [], []]
    assert found.falls == [[], [], [Fall("aurora", 80, None)], [], []]


def test_a_new_definition_ends_a_run_of_falls():
    history = [
        Figures({"aurora": 100}, {"aurora": NARROW}),
        Figures({"aurora": 90}, {"aurora": NARROW}),
        Figures({"aurora": 91}, {"aurora": NARROW}),
        Figures({"aurora": 70}, {"aurora": WIDE}),
        Figures({"aurora": 71}, {"aurora": WIDE}),
    ]

    found = findings(history)

    assert found.drops == [[], [], [], [], []]
    assert found.falls == [[], [Fall("aurora", 100, 90)], [Fall("aurora", 100, 91)], [], []]


def test_models_that_come_back_start_a_new_level_where_they_return():
    # A 50 model is not listed on days 2-4 (a fall for good from day 2) and comes back on
    # day 5: Aurora reads 50 more there, none of it downloaded on the day.
    history = aurora(100, 50, 51, 52, 103, 104)
    history[4] = Figures(history[4].all_time, returned=frozenset({"aurora"}))

    found = findings(history)

    assert found.drops == [[], [Fall("aurora", 100, 50)], [], [], [], []]
    assert found.returns == [[], [], [], [], ["aurora"], []]
    assert found.levels == [
        {},
        {"aurora": 1},
        {"aurora": 1},
        {"aurora": 1},
        {"aurora": 4},
        {"aurora": 4},
    ]
    assert found.level_why("aurora", 4) is Why.RETURNED
    assert found.level_why("aurora", 1) is Why.DROPPED


def test_a_model_back_after_a_day_away_starts_a_new_level_though_nothing_fell():
    # Growing by 10 a day, Aurora hides a 5 model missing on day 2 (105 > 100).
    history = aurora(100, 105, 120)
    history[2] = Figures(history[2].all_time, returned=frozenset({"aurora"}))

    found = findings(history)

    assert found.falls == [[], [], []]
    assert found.levels == [{}, {}, {"aurora": 2}]


def test_figures_across_a_return_do_not_compare_and_say_why():
    days = [snap(1), snap(2)] + [
        Counted(
            d,
            f"2026-02-{d:02d}T06:00:00Z",
            "hub",
            snap(1).definitions,
            snap(1).present,
            frozenset(),
            {"aurora": 3},
            {"aurora": Why.RETURNED},
        )
        for d in (3, 4)
    ]

    assert why_not(days[1], days[3], "aurora") is Why.RETURNED
    assert breaks(days, "aurora") == [Break("aurora", days[2], Why.RETURNED)]
    assert comparable(days[2], days[3], "aurora")


def leveled() -> list[Counted]:
    """Aurora's count fell for good on day 3 (a new level from day 3); Borealis did not."""
    days = [snap(1), snap(2)] + [snap(d) for d in range(3, 7)]
    return [
        Counted(s.id, s.taken_at, s.source, s.definitions, s.present, s.anomalous, levels)
        for s, levels in zip(days, [{}, {}] + [{"aurora": 3}] * 4, strict=True)
    ]


def test_figures_across_a_fall_for_good_do_not_compare_and_after_it_they_do():
    days = leveled()

    assert why_not(days[0], days[5], "aurora") is Why.DROPPED
    assert comparable(days[2], days[5], "aurora")
    assert comparable(days[0], days[5], "borealis")


def test_a_fall_for_good_is_a_break_and_a_change_runs_from_it():
    days = leveled()

    assert breaks(days, "aurora") == [Break("aurora", days[2], Why.DROPPED)]
    assert basis(days, "aurora", days[0], days[5]) == Basis("aurora", days[2], Why.DROPPED, days[2])
    assert comparable_run(days, "aurora", days[5]) == days[2:]


# -- breaks and runs --------------------------------------------------------------------------


def timeline() -> list[Counted]:
    """Days 1-3 narrow, 4-6 wide (Aurora redefined on day 4), day 5 an anomaly."""
    return [
        snap(1),
        snap(2),
        snap(3),
        snap(4, WIDENED),
        snap(5, WIDENED, anomalous="aurora"),
        snap(6, WIDENED),
    ]


def test_breaks_are_where_a_family_starts_counting_by_another_definition():
    days = timeline()

    assert breaks(days, "aurora") == [Break("aurora", days[3], Why.REDEFINED)]
    assert breaks(days, "borealis") == []
    assert last_break(days, "aurora", days[2]) is None
    assert last_break(days, "aurora", days[5]) == Break("aurora", days[3], Why.REDEFINED)


def test_the_first_snapshot_to_record_definitions_is_a_break_of_its_own_kind():
    days = [snap(1, {}), snap(2)]

    assert breaks(days, "aurora") == [Break("aurora", days[1], Why.UNRECORDED)]


def test_a_break_is_found_even_when_the_family_had_no_models_at_the_change():
    days = [snap(1), snap(2, WIDENED, present="borealis"), snap(3, WIDENED)]

    assert breaks(days, "aurora") == [Break("aurora", days[2], Why.REDEFINED)]


def test_a_trend_uses_the_snapshots_since_the_last_break_without_anomalies():
    days = timeline()

    assert comparable_run(days, "aurora", days[5]) == [days[3], days[5]]
    assert comparable_run(days, "borealis", days[5]) == days
    assert comparable_run(days, "aurora", days[4]) == []  # the latest is an anomaly


# -- where a change runs from -------------------------------------------------------------------


def test_a_change_over_a_comparable_period_runs_from_the_baseline():
    days = timeline()

    assert basis(days, "borealis", days[0], days[5]) == Basis("borealis", days[0])


def test_across_a_redefinition_a_change_runs_from_it():
    days = timeline()

    assert basis(days, "aurora", days[0], days[5]) == Basis(
        "aurora", days[3], Why.REDEFINED, days[3]
    )


def test_less_than_a_day_since_a_redefinition_gives_no_figure():
    days = [snap(1), snap(2, WIDENED, hour=0), snap(2, WIDENED, hour=12)]
    days[2] = Counted(3, "2026-02-02T12:00:00Z", "hub", WIDENED, days[2].present)

    assert basis(days, "aurora", days[0], days[2]) == Basis("aurora", None, Why.REDEFINED, days[1])


def test_an_anomaly_in_the_latest_snapshot_gives_no_figure():
    days = timeline()

    assert basis(days, "aurora", days[3], days[4]) == Basis("aurora", None, Why.FELL, days[4])


def test_an_anomaly_at_the_baseline_moves_the_start_to_the_next_comparable_snapshot():
    days = [snap(1, anomalous="aurora"), snap(2), snap(3)]

    assert basis(days, "aurora", days[0], days[2]) == Basis("aurora", days[1], Why.FELL, days[0])


def test_a_family_new_in_the_period_has_no_change():
    days = [snap(1, present="borealis"), snap(2), snap(3)]

    assert basis(days, "aurora", days[0], days[2]) == Basis("aurora", None, Why.NEW)
