"""Numbers in a few characters ('1.2M'): for answers, messages and chart labels alike."""

from __future__ import annotations

_UNITS = ((1_000_000_000_000, "T"), (1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K"))


def human(n: int | float) -> str:
    """1234567 -> '1.2M', 385_400_000 -> '385.4M', 1_200_000_000 -> '1.2B', 950 -> '950'."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    bigger: tuple[int, str] | None = None
    for size, unit in _UNITS:
        if n >= size:
            # 999.96M would print as "1000.0M"; say "1.0B" instead.
            if round(n / size, 1) >= 1000 and bigger is not None:
                size, unit = bigger
            return f"{sign}{n / size:.1f}{unit}"
        bigger = (size, unit)
    if round(n) >= 1000:
        return f"{sign}1.0K"
    return f"{sign}{int(n)}"
