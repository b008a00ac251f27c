"""Configuration read once from the environment at start-up, into a frozen value.

Nothing deeper in the code reads the environment: it is handed a `Config`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openmodels.errors import ConfigError
from storage.locations import display_location

DEFAULT_DB = "openmodels.db"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
MAX_DERIVATIVES_TOP = 1000  # per family, and one request each, every collection
MAX_SECONDS = 86_400  # a timeout or claim longer than a day is a mistake


def default_chart_workers() -> int:
    """One fewer chart worker than the cores, 1 to 4: a core stays for acknowledging Slack."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


@dataclass(frozen=True)
class Config:
    """Settings from the environment (and CLI flags layered over it by the CLI)."""

    # The store: a SQLite file's path or a postgresql:// URL, from --db or OPENMODELS_DB;
    # None = ./openmodels.db, or the bundled sample for answers when there is none.
    db: str | None = None
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
    # How long a deliverer's claim on an outbox item lasts: a crashed deliverer's items
    # are taken over by the next run once it has passed.
    delivery_claim_seconds: float = 300.0
    # How long a scheduled job's lease lasts unless renewed: a replica killed in the
    # middle of a job leaves it to another replica this long after its last renewal.
    job_lease_seconds: float = 300.0
    # Slack user ids who alone may change a channel's subscriptions and mutes;
    # None (OPENMODELS_ADMINS unset) lets anyone.
    admins: frozenset[str] | None = None
    # After each collection, the derivative counts of each family's top K models by
    # all-time downloads are looked up, one Hub request each; 0 turns that off.
    derivatives_top: int = 20

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        return cls(
            db=env.get("OPENMODELS_DB") or None,
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
            delivery_claim_seconds=_positive_float(env, "OPENMODELS_DELIVERY_CLAIM_SECONDS", 300.0),
            job_lease_seconds=_positive_float(env, "OPENMODELS_JOB_LEASE_SECONDS", 300.0),
            admins=_user_ids(env, "OPENMODELS_ADMINS"),
            derivatives_top=_count(env, "OPENMODELS_DERIVATIVES_TOP", 20, MAX_DERIVATIVES_TOP),
        )

    def __repr__(self) -> str:  # never print the token
        return (
            f"Config(db={display_location(self.db) if self.db else None!r}, "
            f"families_path={self.families_path!r}, "
            f"hf_endpoint={self.hf_endpoint!r}, hf_token={'set' if self.hf_token else None})"
        )


# A Slack user id: U… in most workspaces, W… in Enterprise Grid.
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def _user_ids(env: Mapping[str, str], name: str) -> frozenset[str] | None:
    """Slack user ids separated by commas or spaces; None when the variable is unset."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    ids = [part for part in re.split(r"[\s,]+", raw.strip()) if part]
    bad = [part for part in ids if not _USER_ID.fullmatch(part)]
    if bad:
        raise ConfigError(
            f"{name} must list Slack user ids (like U012AB3CD), separated by commas or "
            f"spaces; {bad[0][:40]!r} is not one (find a member's id in their Slack profile, "
            "under More › Copy member ID)"
        )
    return frozenset(ids)


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.strip().isdecimal() or not 1 <= int(raw) <= 100:
        raise ConfigError(f"{name} must be a whole number from 1 to 100, got {raw!r}")
    return int(raw)


def _count(env: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.strip().isdecimal() or int(raw) > maximum:
        raise ConfigError(f"{name} must be a whole number from 0 to {maximum}, got {raw!r}")
    return int(raw)


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    # float() also reads "nan" and "inf", and huge values overflow the date arithmetic
    # of timeouts and claims: refuse them here rather than as a Hub or delivery failure.
    if not 0 < value <= MAX_SECONDS:
        raise ConfigError(
            f"{name} must be a number greater than 0 and at most {MAX_SECONDS:,}, got {raw!r}"
        )
    return value
