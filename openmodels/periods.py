"""Naming the period a change covers, so that "this week" is said only of seven days.
Pure."""

from __future__ import annotations

from datetime import date, timedelta

# Daily collections are stamped when they run, and that drifts: a run that waited out the
# Hub's rate limits, or started a little earlier than the day before. Snapshots a day
# apart less this drift are a day apart, so a day-old baseline or a five-day forecast run
# is never lost to a collection that ran minutes early.
DRIFT = timedelta(hours=4)
A_DAY = timedelta(days=1) - DRIFT


def change_period(latest: str, baseline: str) -> str:
    """'this week' when `baseline` is seven days before `latest`, else 'since 3 Jan'.

    Both are ISO dates or timestamps (only the date counts). The year is added when the
    baseline's differs from the latest's: 'since 28 Dec 2025'.
    """
    now, then = date.fromisoformat(latest[:10]), date.fromisoformat(baseline[:10])
    if (now - then).days == 7:
        return "this week"
    return f"since {day(baseline, latest)}"


def day(moment: str, latest: str) -> str:
    """'15 Feb' for a date or timestamp, with the year when it is not `latest`'s:
    '28 Dec 2025'."""
    then = date.fromisoformat(moment[:10])
    text = f"{then.day} {then:%b}"
    return text if then.year == int(latest[:4]) else f"{text} {then.year}"
