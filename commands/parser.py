"""Parsing `/openmodels` command text into a command value. Pure: no store, no Slack.

The same parser serves Slack and `openmodels ask`, so both answer a text the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.format import echo

MAX_TEXT = 500
MAX_TOP = 50
MIN_COMPARE, MAX_COMPARE = 2, 6
MOVERS_DAYS, MAX_DAYS = 7, 365
# Options that take a value, written `--days 30` or `--days=30`.
_VALUE_FLAGS = frozenset({"days"})

# Slack (and macOS) often turn a typed "--" into an em or en dash.
_DASHES = ("--", "—", "–")


@dataclass(frozen=True)
class Top:
    n: int = 10
    metric: str = "all_time"  # or "30d", or "derivatives"
    public: bool = False


@dataclass(frozen=True)
class Compare:
    names: tuple[str, ...]
    metric: str = "all_time"
    public: bool = False


@dataclass(frozen=True)
class FamilyDetail:
    name: str
    metric: str = "all_time"
    public: bool = False
    models: bool = False  # the family's top models, in full, instead of its card


@dataclass(frozen=True)
class ModelDetail:
    repo_id: str
    public: bool = False


@dataclass(frozen=True)
class Regions:
    metric: str = "all_time"
    public: bool = False


@dataclass(frozen=True)
class Movers:
    days: int = MOVERS_DAYS
    public: bool = False


@dataclass(frozen=True)
class Forecast:
    public: bool = False


@dataclass(frozen=True)
class Status:
    public: bool = False


@dataclass(frozen=True)
class Help:
    unknown: str | None = None  # the unknown subcommand the user typed, if any
    public: bool = False


@dataclass(frozen=True)
class Subscribe:
    kind: str  # "digest" | "alerts"
    families: tuple[str, ...] = ()
    public: bool = False


@dataclass(frozen=True)
class Unsubscribe:
    kind: str
    public: bool = False


@dataclass(frozen=True)
class Subscriptions:
    public: bool = False


Command = (
    Top
    | Compare
    | FamilyDetail
    | ModelDetail
    | Regions
    | Movers
    | Forecast
    | Status
    | Help
    | Subscribe
    | Unsubscribe
    | Subscriptions
)

USAGE = {
    "top": (
        "top [N] [--30d|--derivatives]",
        "the N biggest families (1 to 50, default 10), or those most built upon",
    ),
    "compare": ("compare A B [C…] [--30d]", "2 to 6 families side by side"),
    "family": (
        "family NAME [--30d] [--models]",
        "one family's totals, trend, top models and the models most built upon "
        "(`--models`: its top models in full)",
    ),
    "model": ("model ORG/NAME", "one model's downloads over time"),
    "regions": ("regions [--30d]", "China, US, Europe…: each region's total, share and families"),
    "movers": ("movers [--days N]", "who gained most downloads in N days (default 7)"),
    "forecast": ("forecast", "which families are on course to pass the one ahead, and when"),
    "status": ("status", "what the store holds"),
    "subscribe": ("subscribe digest|alerts [FAMILY…]", "weekly chart or overtake alerts here"),
    "unsubscribe": ("unsubscribe digest|alerts", "stop them in this channel"),
    "subscriptions": ("subscriptions", "what this channel gets"),
    "help": ("help", "this list"),
}


def usage_line(verb: str) -> str:
    """One usage line: the syntax as code, then what it does."""
    syntax, description = USAGE[verb]
    return f"`/openmodels {syntax}` — {description}"


class UsageError(Exception):
    """The text is not a valid command; `usage` is the line that shows how to write it.

    `message` is Slack mrkdwn: any user text quoted in it must already be escaped.
    """

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


def _flag(token: str) -> str | None:
    for dash in _DASHES:
        if token.startswith(dash) and len(token) > len(dash):
            return token[len(dash) :].lower()
    return None


def parse(text: str) -> Command:
    """Parse the text after `/openmodels`. Raises UsageError with a usage line."""
    if len(text) > MAX_TEXT:
        raise UsageError(
            f"That command is {len(text):,} characters long; the limit is {MAX_TEXT}.",
            usage_line("help"),
        )
    tokens = [t for t in text.replace(",", " ").split() if t.lower() not in {"vs", "vs.", "and"}]
    if not tokens:
        return Help()
    verb, rest = tokens[0].lower(), tokens[1:]
    words: list[str] = []
    flags: set[str] = set()
    values: dict[str, str] = {}
    pending: str | None = None  # a value flag still waiting for its value
    for token in rest:
        flag = _flag(token)
        if pending is not None and flag is None:
            values[pending], pending = token, None
        elif flag is None:
            words.append(token)
        else:
            name, eq, value = flag.partition("=")
            pending = None
            if name in _VALUE_FLAGS:
                flags.add(name)
                if eq:
                    values[name] = value
                else:
                    pending = name
            else:
                flags.add(flag)
    public = "public" in flags
    metric = "30d" if "30d" in flags else "all_time"

    def refuse_flags(allowed: set[str]) -> None:
        unknown = sorted(flags - allowed)
        if unknown:
            raise UsageError(
                f"Unknown option --{echo(unknown[0], 40)}.",
                usage_line(verb) if verb in USAGE else None,
            )

    if verb == "top":
        refuse_flags({"30d", "all-time", "derivatives", "public"})
        if "derivatives" in flags:
            if metric == "30d":
                raise UsageError(
                    "Rank by `--30d` or by `--derivatives`, not both.", usage_line("top")
                )
            metric = "derivatives"
        if len(words) > 1:
            raise UsageError("`top` takes at most one number.", usage_line("top"))
        n = 10
        if words:
            raw = words[0]
            if not raw.isdecimal() or len(raw) > 3 or not 1 <= int(raw) <= MAX_TOP:
                raise UsageError(
                    f"N must be a whole number from 1 to {MAX_TOP}.", usage_line("top")
                )
            n = int(raw)
        return Top(n=n, metric=metric, public=public)
    if verb == "compare":
        refuse_flags({"30d", "all-time", "public"})
        if not MIN_COMPARE <= len(words) <= MAX_COMPARE:
            raise UsageError(
                f"Compare needs {MIN_COMPARE} to {MAX_COMPARE} families; you gave {len(words)}.",
                usage_line("compare"),
            )
        return Compare(names=tuple(words), metric=metric, public=public)
    if verb == "family":
        refuse_flags({"30d", "all-time", "public", "models"})
        if len(words) != 1:
            raise UsageError("Name one family.", usage_line("family"))
        return FamilyDetail(name=words[0], metric=metric, public=public, models="models" in flags)
    if verb == "model":
        refuse_flags({"public"})
        if len(words) != 1 or "/" not in words[0].strip("/"):
            raise UsageError("Name one model as ORG/NAME.", usage_line("model"))
        return ModelDetail(repo_id=words[0].strip("/"), public=public)
    if verb == "regions":
        refuse_flags({"30d", "all-time", "public"})
        if words:
            raise UsageError("`regions` takes no names.", usage_line("regions"))
        return Regions(metric=metric, public=public)
    if verb == "movers":
        refuse_flags({"days", "public"})
        if words:
            raise UsageError("Give the period as `--days N`.", usage_line("movers"))
        days = MOVERS_DAYS
        if "days" in flags:
            raw = values.get("days", "")
            if not raw.isdecimal() or len(raw) > 3 or not 1 <= int(raw) <= MAX_DAYS:
                raise UsageError(
                    f"--days takes a whole number of days from 1 to {MAX_DAYS}.",
                    usage_line("movers"),
                )
            days = int(raw)
        return Movers(days=days, public=public)
    if verb == "forecast":
        refuse_flags({"public"})
        if words:
            raise UsageError(
                "`forecast` covers every family; for two, try `compare A B`.",
                usage_line("forecast"),
            )
        return Forecast(public=public)
    if verb == "status":
        refuse_flags({"public"})
        return Status(public=public)
    if verb == "help":
        return Help(public=public)
    if verb == "subscribe":
        refuse_flags(set())
        if not words or words[0].lower() not in {"digest", "alerts"}:
            raise UsageError("Subscribe to `digest` or `alerts`.", usage_line("subscribe"))
        kind = words[0].lower()
        if kind == "digest" and len(words) > 1:
            raise UsageError("The digest covers every family; name none.", usage_line("subscribe"))
        if len(words) - 1 > 20:
            raise UsageError("Name at most 20 families.", usage_line("subscribe"))
        return Subscribe(kind=kind, families=tuple(words[1:]))
    if verb == "unsubscribe":
        refuse_flags(set())
        if len(words) != 1 or words[0].lower() not in {"digest", "alerts"}:
            raise UsageError("Unsubscribe from `digest` or `alerts`.", usage_line("unsubscribe"))
        return Unsubscribe(kind=words[0].lower())
    if verb == "subscriptions":
        refuse_flags(set())
        return Subscriptions()
    return Help(unknown=tokens[0])
