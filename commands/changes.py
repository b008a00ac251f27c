"""A family's change over a period in words, as the comparability rule allows it. Pure.

One wording for every answer that shows changes (`top`, `compare`, `family`, the App
Home, the digest): "+56.0K this week ▲1"; for a family whose definition changed in the
period, or whose count fell for good, the change since then, said as such ("+6.0M since
15 Feb, when its definition changed", "+2.0M since 15 Feb, when its count fell"), or why
there is none.
"""

from __future__ import annotations

from commands.format import arrow, signed
from openmodels.comparability import Basis, Why
from openmodels.periods import day
from openmodels.ranking import RankedFamily

# A change without a baseline: no snapshot lies a day before the latest
# (`storage.queries.MIN_BASELINE_AGE`), though one from the same morning may.
NO_BASELINE = "no figure a day older"


def change_text(
    r: RankedFamily,
    basis: Basis | None,
    period: str | None,
    latest: str,
    *,
    missing: str | None = None,
    with_period: bool = True,
) -> str:
    """'+56.0K this week ▲1' (or 'since 3 Jan'), or what the rule lets be said instead.

    `period` names the period ('this week'), None without a baseline; `latest` is the
    latest snapshot's time (`taken_at`). `missing` says why a family compared over the
    period has no earlier figure (default: new). `with_period` False leaves the period
    out where a title already says it.
    """
    if period is None:
        return NO_BASELINE
    if basis is None or basis.why is None or basis.why is Why.NEW:
        if r.value_change is None:
            return missing or f"new {period}"
        moved = f" {arrow(r.rank_change)}" if r.rank_change else ""
        return signed(r.value_change) + (f" {period}" if with_period else "") + moved
    return instead(r, basis, latest)


def instead(r: RankedFamily, basis: Basis, latest: str) -> str:
    """The change of a family not compared over the whole period: since its break, or
    why there is no figure."""
    at = day(basis.at.taken_at, latest) if basis.at is not None else ""
    if basis.start is not None and r.value_change is not None:
        since = day(basis.start.taken_at, latest)
        if basis.why is Why.REDEFINED:
            return f"{signed(r.value_change)} since {since}, when its definition changed"
        if basis.why is Why.UNRECORDED:
            return (
                f"{signed(r.value_change)} since {since}, the first snapshot to record "
                "its definition"
            )
        if basis.why is Why.DROPPED:
            return f"{signed(r.value_change)} since {since}, when its count fell"
        if basis.why is Why.RETURNED:
            return f"{signed(r.value_change)} since {since}, when missing models came back"
        return f"{signed(r.value_change)} since {since}, after incomplete figures on {at}"
    if basis.why is Why.REDEFINED:
        return f"definition changed on {at}: no change to show yet"
    if basis.why is Why.UNRECORDED:
        return f"definition first recorded on {at}: no change to show yet"
    if basis.why is Why.DROPPED:
        return f"count fell for good on {at}: no change to show yet"
    if basis.why is Why.RETURNED:
        return f"missing models came back on {at}: no change to show yet"
    if basis.why is Why.FELL and basis.at is not None and basis.at.taken_at == latest:
        return "total below an earlier one (missing data): no change to show"
    return f"figures incomplete on {at}: no change to show"


def aside_reason(basis: Basis, period: str, latest: str) -> str:
    """Why a family is not in a sum of comparable changes, in a few words: 'new this
    week', 'definition changed on 15 Feb', 'figures incomplete'. `latest`: the latest
    snapshot's time."""
    at = day(basis.at.taken_at, latest) if basis.at is not None else None
    if basis.why is Why.NEW:
        return f"new {period}"
    if basis.why is Why.GONE:
        return "no models in the latest snapshot"
    if basis.why is Why.REDEFINED:
        return f"definition changed on {at}" if at else f"definition changed {period}"
    if basis.why is Why.UNRECORDED:
        return f"definition first recorded on {at}" if at else "definition first recorded"
    if basis.why is Why.DROPPED:
        return f"count fell for good on {at}" if at else f"count fell for good {period}"
    if basis.why is Why.RETURNED:
        return f"missing models came back on {at}" if at else f"missing models came back {period}"
    return "total below an earlier one: missing data"
