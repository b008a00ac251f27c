"""The label of the period a change covers."""

import pytest

from openmodels.periods import change_period


@pytest.mark.parametrize(
    ("latest", "baseline", "label"),
    [
        ("2026-01-10", "2026-01-03", "this week"),
        ("2026-01-10T06:00:00Z", "2026-01-03T23:59:00Z", "this week"),  # dates count, not hours
        ("2026-01-10", "2026-01-04", "since 4 Jan"),  # six days
        ("2026-01-10", "2026-01-02", "since 2 Jan"),  # eight days: a missed collection
        ("2026-01-03", "2025-12-28", "since 28 Dec 2025"),  # another year
        ("2026-11-10", "2026-10-31", "since 31 Oct"),
    ],
)
def test_this_week_is_said_of_seven_days_only(latest, baseline, label):
    assert change_period(latest, baseline) == label
