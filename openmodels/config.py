"""Configuration read once from the environment at start-up, into a frozen value.

Nothing deeper in the code reads the environment: it is handed a `Config`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openmodels.errors import ConfigError

DEFAULT_DB = "openmodels.db"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"


def default_chart_workers() -> int:
    """One fewer chart worker than the cores, 1 to 4: a core stays for acknowledging Slack."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


@dataclass(frozen=True)
class Config:
    """Settings from the environment (and CLI flags layered over it by the CLI)."""

    db_path: Path | None = None  # explicit --db or OPENMODELS_DB; None = default/sample
    families_path: Path | None = None
    hf_endpoint: str = DEFAULT_HF_ENDPOINT
    hf_token: str | None = None
    hub_timeout: float = 30.0
    hub_concurrency: int = 4
    collect_at: str = "06:00"  # UTC
    digest_at: str = "Monday 09:00"  # weekday and UTC time
    alert_confirm: int = 1  # snapshots the new order must hold before an alert
    # Processes drawing charts in `serve`, the console and the demo.
    chart_workers: int = field(default_factory=default_chart_workers)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        return cls(
            db_path=Path(env["OPENMODELS_DB"]) if env.get("OPENMODELS_DB") else None,
            families_path=(
                Path(env["OPENMODELS_FAMILIES"]) if env.get("OPENMODELS_FAMILIES") else None
            ),
            hf_endpoint=(env.get("HF_ENDPOINT") or DEFAULT_HF_ENDPOINT).rstrip("/"),
            hf_token=env.get("HF_TOKEN") or None,
            hub_timeout=_positive_float(env, "OPENMODELS_HUB_TIMEOUT", 30.0),
            hub_concurrency=int(_positive_float(env, "OPENMODELS_HUB_CONCURRENCY", 4)),
            collect_at=env.get("OPENMODELS_COLLECT_AT") or "06:00",
            digest_at=env.get("OPENMODELS_DIGEST_AT") or "Monday 09:00",
            alert_confirm=_whole_number(env, "OPENMODELS_ALERT_CONFIRM", 1),
            chart_workers=_whole_number(env, "OPENMODELS_CHART_WORKERS", default_chart_workers()),
        )

    def __repr__(self) -> str:  # never print the token
        return (
            f"Config(db_path={self.db_path!r}, families_path={self.families_path!r}, "
            f"hf_endpoint={self.hf_endpoint!r}, hf_token={'set' if self.hf_token else None})"
        )


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.strip().isdecimal() or not 1 <= int(raw) <= 100:
        raise ConfigError(f"{name} must be a whole number from 1 to 100, got {raw!r}")
    return int(raw)


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0, got {raw!r}")
    return value
