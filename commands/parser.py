"""Parsing `/openmodels` command text into a command value. Pure: no store, no Slack.

The same parser serves Slack and `openmodels ask`, so both answer a text the same way.
It knows no families: a text whose first word is no subcommand parses to `Unresolved`,
which commands.shorthand resolves against the families (`qwen` is `family qwen`,
`qwen llama` is `compare qwen llama`, a mistyped subcommand gets a suggestion).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from commands.format import echo, visible

MAX_TEXT = 500
MIN_COMPARE, MAX_COMPARE = 1, 6  # one family is answered for itself, with its neighbours
MOVERS_DAYS, MAX_DAYS = 7, 365
NEW_DAYS = 7  # as openmodels.launches.NEW_DAYS: the parser imports nothing of the core
SUBSCRIPTION_KINDS = ("digest", "alerts", "launches")
MIN_RACE, MAX_RACE = 2, 6
# Options that take a value, written `--days 30` or `--days=30`.
_VALUE_FLAGS = frozenset({"days", "size"})
# A period among a command's words: a number and its unit, one word (`30`, `30d`, `2w`)
# or two (`30 days`, `2 weeks`), or a unit alone (`week`, `last month`). A week is seven
# days and a month thirty; any other unit is asked for in days.
_AMOUNT = re.compile(r"(\d+)([a-z]*)")
_UNIT_DAYS = {
    **dict.fromkeys(("d", "day", "days"), 1),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7),
    **dict.fromkeys(("mo", "mos", "month", "months"), 30),
}
_OTHER_UNITS = frozenset(
    {"h", "hr", "hrs", "hour", "hours", "m", "min", "mins", "minute", "minutes", "y", "yr"}
    | {"yrs", "year", "years", "fortnight", "fortnights", "quarter", "quarters"}
)
# Units that may stand alone as a word (`movers week`), and words that may come before one.
_UNIT_WORDS = frozenset(
    {"day", "days", "week", "weeks", "month", "months", "hour", "hours", "year", "years"}
    | {"fortnight", "fortnights", "quarter", "quarters"}
)
_BEFORE_UNIT = frozenset({"last", "past", "this", "a", "an"})
MAX_SHOWN = 500  # `top N` beyond this shows as many: no store tracks that many families

# Slack (and macOS) often turn a typed "--" into an em or en dash.
_DASHES = ("--", "—", "–")
# With one hyphen (`-30d`, as with a single dash above), only these names are options:
# anything else (`-1`, a name starting with a hyphen) stays a word.
_OPTIONS = frozenset(
    {
        "30d",
        "all-time",
        "public",
        "models",
        "derivatives",
        "days",
        "size",
        "always",
        "help",
        "weekly",
        "share",
    }
)
# A chart's views (openmodels.chart_spec): the metric's figure over time (no flag), the
# all-time downloads gained per week, or a share of everything tracked.
VIEW_FLAGS = {"weekly": "weekly", "share": "share"}


TOP_DEFAULT = 10


@dataclass(frozen=True)
class Top:
    n: int | None = None  # None: TOP_DEFAULT; more than the families tracked: all of them
    metric: str = "all_time"  # or "30d", or "derivatives"
    public: bool = False
    size: str | None = None  # a size class as typed (`1-5B`); None = every model


@dataclass(frozen=True)
class Sizes:
    metric: str = "all_time"
    public: bool = False


@dataclass(frozen=True)
class Compare:
    names: tuple[str, ...]  # one to six
    metric: str = "all_time"
    public: bool = False
    view: str = "total"  # the chart's: "total", "weekly" or "share"


@dataclass(frozen=True)
class FamilyDetail:
    name: str
    metric: str = "all_time"
    public: bool = False
    models: bool = False  # the family's top models, in full, instead of its card
    view: str = "total"


@dataclass(frozen=True)
class ModelDetail:
    repo_id: str  # ORG/NAME, or a name alone for the store to find
    public: bool = False
    view: str = "total"


@dataclass(frozen=True)
class Race:
    names: tuple[str, ...]  # models as ORG/NAME, or families (their latest launch)
    public: bool = False


@dataclass(frozen=True)
class Regions:
    metric: str = "all_time"
    public: bool = False
    view: str = "total"


@dataclass(frozen=True)
class FamiliesList:
    public: bool = False


@dataclass(frozen=True)
class Movers:
    days: int = MOVERS_DAYS
    public: bool = False


@dataclass(frozen=True)
class Forecast:
    public: bool = False


@dataclass(frozen=True)
class New:
    family: str | None = None  # as typed; None = every family
    days: int = NEW_DAYS
    public: bool = False


@dataclass(frozen=True)
class Status:
    public: bool = False


@dataclass(frozen=True)
class Help:
    public: bool = False


@dataclass(frozen=True)
class Subscribe:
    kind: str  # "digest" | "alerts" | "launches"
    families: tuple[str, ...] = ()
    public: bool = False
    metrics: tuple[str, ...] = ("all_time",)  # alerts: the rankings to follow
    always: bool = False  # digest: every week, quiet ones too


@dataclass(frozen=True)
class Unsubscribe:
    kind: str
    public: bool = False


@dataclass(frozen=True)
class Subscriptions:
    public: bool = False


@dataclass(frozen=True)
class Permissions:
    """Who may change the workspace's subscriptions and mutes: shown, or set."""

    changes_by: Literal["anyone", "admins"] | None = None  # None: say who may
    public: bool = False


@dataclass(frozen=True)
class NotACommand:
    """A text that names no command, family or model: a question, a typo too far from
    anything. Answered briefly, with the commands nearest to what it says."""

    text: str


@dataclass(frozen=True)
class Unresolved:
    """A text whose first word is no subcommand: family names in shorthand, a mistyped
    subcommand, or nothing openmodels knows. Only the families can tell which
    (commands.shorthand.resolve); it is never more than a read-only answer or an error.
    """

    text: str  # the whole text, to parse again as `family …` or `compare …`
    words: tuple[str, ...]  # its words, options left out: the first is not a subcommand
    near: str | None = None  # the subcommand at most MAX_TYPO edits from the first word


Command = (
    Top
    | Compare
    | FamilyDetail
    | ModelDetail
    | Regions
    | Movers
    | Forecast
    | New
    | Status
    | Help
    | Subscribe
    | Unsubscribe
    | Subscriptions
    | Sizes
    | Race
    | Permissions
    | FamiliesList
    | NotACommand
    | Unresolved
)

USAGE = {
    "top": (
        "top [N] [--30d|--derivatives] [--size CLASS]",
        "the N biggest families (default 10), or those most built upon; "
        "`--size 1-5B`: among models of one size class",
    ),
    "sizes": (
        "sizes [--30d]",
        "downloads by model size (under 1B, 1–5B … 250B and over): each class's total, "
        "share and leading family",
    ),
    "compare": (
        "compare A B [C…] [--30d|--weekly|--share]",
        "up to 6 families side by side, with a chart",
    ),
    "family": (
        "family NAME [--30d|--weekly|--share] [--models]",
        "one family's totals, chart, top models and the models most built upon "
        "(`--models`: its top models in full)",
    ),
    "model": ("model [ORG/]NAME [--weekly]", "one model's downloads, with a chart"),
    "regions": (
        "regions [--30d|--weekly|--share]",
        "China, US, Europe…: each region's total, share and families",
    ),
    "movers": ("movers [N days]", "who gained most downloads in N days (default 7)"),
    "forecast": ("forecast", "which families are on course to pass the one ahead, and when"),
    "new": (
        "new [FAMILY] [N days]",
        "models launched in the last N days (default 7), newest first, and how they started",
    ),
    "race": (
        "race A B [C…]",
        "2 to 6 launches from day 0, charted: models as ORG/NAME, or families "
        "(each one's latest launch)",
    ),
    "families": ("families", "the families tracked, their organisations, regions and aliases"),
    "status": ("status", "what the store holds"),
    "subscribe": (
        "subscribe digest [--always] | alerts [FAMILY…] [--all-time|--30d] | launches [FAMILY…]",
        "weekly chart, overtake alerts or new-model launches here",
    ),
    "unsubscribe": ("unsubscribe digest|alerts|launches", "stop them in this channel"),
    "subscriptions": ("subscriptions", "what this channel gets"),
    "permissions": (
        "permissions [admins|everyone]",
        "who may change subscriptions here: anyone, or only workspace admins",
    ),
    "help": ("help", "this list"),
}
# A first word this many edits (or fewer) from a subcommand is taken for a typo of it.
MAX_TYPO = 2


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
    if token.startswith("-") and token[1:].partition("=")[0].lower() in _OPTIONS:
        return token[1:].lower()
    return None


def _unformatted(token: str) -> str:
    """A word without the mrkdwn marks around it: `*qwen*`, `` `qwen` ``, `~qwen~` and
    `_qwen_` (bold, code, strike, italics in a message or pasted from one) are `qwen`.
    No Hub name starts or ends with `*`, a backtick or `~`; `_` goes only in pairs."""
    token = token.strip("*`~")
    while len(token) > 2 and token[0] == token[-1] == "_":
        token = token[1:-1].strip("*`~")
    return token


def _first_word(tokens: list[str]) -> int | None:
    """Where the first word that is neither an option nor an option's value is."""
    pending = False
    for i, token in enumerate(tokens):
        flag = _flag(token)
        if flag is not None:
            name, eq, _ = flag.partition("=")
            pending = name in _VALUE_FLAGS and not eq
        elif pending:
            pending = False
        else:
            return i
    return None


def parse(text: str, *, verb: str | None = None) -> Command:
    """Parse the text after `/openmodels`. Raises UsageError with a usage line.

    With `verb`, the whole text is that subcommand's arguments: how shorthand is read
    once resolved (`qwen llama` with verb "compare").
    """
    if len(text) > MAX_TEXT:
        raise UsageError(
            f"That command is {len(text):,} characters long; the limit is {MAX_TEXT}.",
            usage_line("help"),
        )
    # Full-width letters and digits (`ｑｗｅｎ`, `ｔｏｐ　５`) read as the plain ones, and
    # characters that show as nothing (a zero-width space) are no part of a word.
    text = visible(text)
    unformatted = (_unformatted(t) for t in text.replace(",", " ").split())
    tokens = [t for t in unformatted if t and t.lower() not in {"vs", "vs.", "and"}]
    if verb is not None:
        tokens = [verb, *tokens]
    elif not tokens or _flag(tokens[0]) is not None:
        # Options may come first (`/openmodels --public qwen`, `--days 3 movers`): the
        # first word is still the subcommand or a family. Options alone, or before a
        # number only (`/openmodels --30d 5`), are `top`'s.
        first = _first_word(tokens)
        if first is None or tokens[first].isdecimal():
            tokens = ["top", *tokens]
        else:
            tokens = [tokens[first], *tokens[:first], *tokens[first + 1 :]]
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
    if "help" in flags:  # `/openmodels --help`, as most command-line tools take it
        return Help(public=public)
    metric = "30d" if "30d" in flags else "all_time"

    def refuse_flags(allowed: set[str]) -> None:
        unknown = sorted(flags - allowed)
        if unknown:
            raise UsageError(
                f"Unknown option --{echo(unknown[0], 40)}.",
                usage_line(verb) if verb in USAGE else None,
            )

    def days_option(default: int) -> int:
        """The period in days: `--days N`, or a period among the words (`movers 30`,
        `new qwen 14 days`, `movers 30d`, `movers 2 weeks`, `movers last month`), 1 to
        MAX_DAYS; else `default`. The words that gave it are taken out of `words`."""
        found: list[str] = []
        rest: list[str] = []
        lowered = [w.lower() for w in words]
        i = 0
        while i < len(words):
            word, after = lowered[i], lowered[i + 1] if i + 1 < len(words) else ""
            amount = _AMOUNT.fullmatch(word)
            unit = None
            if amount is not None:
                number, unit = amount.groups()
                if not unit and after in _UNIT_WORDS:
                    unit, i = after, i + 1
            elif word in _BEFORE_UNIT and (after in _UNIT_WORDS or _AMOUNT.fullmatch(after)):
                i += 1  # `last month`, `past 2 weeks`: the period follows
                continue
            elif word in _UNIT_WORDS:
                number, unit = "1", word
            if unit is None or (unit and unit not in _UNIT_DAYS and unit not in _OTHER_UNITS):
                rest.append(words[i])  # no period: a name, or `7b`
            elif unit in _OTHER_UNITS:
                raise UsageError(
                    f"Give the period in days (1–{MAX_DAYS}), as `{verb} 30`.", usage_line(verb)
                )
            else:
                days = int(number) * _UNIT_DAYS.get(unit, 1) if len(number) <= 4 else number
                found.append(str(days))
            i += 1
        words[:] = rest
        if "days" in flags:
            found.append(values.get("days", ""))
        if not found:
            return default
        raw = found[0]
        if not raw.isdecimal() or len(raw) > 3 or not 1 <= int(raw) <= MAX_DAYS:
            raise UsageError(
                f"The period is a whole number of days from 1 to {MAX_DAYS}.", usage_line(verb)
            )
        if any(other != raw for other in found):
            raise UsageError("Give one period: a number of days.", usage_line(verb))
        return int(raw)

    def view_option(metric: str) -> str:
        """The chart's view: `--weekly`, `--share`, or the metric's figure over time."""
        chosen = [VIEW_FLAGS[f] for f in sorted(flags & VIEW_FLAGS.keys())]
        if len(chosen) > 1:
            raise UsageError("Choose one view: `--weekly` or `--share`.", usage_line(verb))
        if chosen and metric != "all_time":
            raise UsageError(
                f"`--{chosen[0]}` charts all-time downloads: it does not go with `--30d`.",
                usage_line(verb),
            )
        return chosen[0] if chosen else "total"

    if verb == "top":
        refuse_flags({"30d", "all-time", "derivatives", "public", "size"})
        if "derivatives" in flags:
            if metric == "30d":
                raise UsageError(
                    "Rank by `--30d` or by `--derivatives`, not both.", usage_line("top")
                )
            if "size" in flags:
                raise UsageError(
                    "`--size` ranks families by their downloads in one size class, not by "
                    "`--derivatives`.",
                    usage_line("top"),
                )
            metric = "derivatives"
        size = values.get("size") if "size" in flags else None
        if "size" in flags and not size:
            raise UsageError(
                "--size takes a size class: under-1B, 1-5B, 5-10B, 10-50B, 50-100B, "
                "100-250B, 250B+ or unknown.",
                usage_line("top"),
            )
        if len(words) > 1:
            raise UsageError("`top` takes at most one number.", usage_line("top"))
        n = None
        if words:
            raw = words[0]
            if not raw.isdecimal() or int(raw) < 1:
                raise UsageError("N must be a whole number from 1 up.", usage_line("top"))
            # Beyond the families tracked, all of them are shown (and the answer says so).
            n = min(int(raw), MAX_SHOWN) if len(raw) <= 9 else MAX_SHOWN
        return Top(n=n, metric=metric, public=public, size=size)
    if verb == "sizes":
        refuse_flags({"30d", "all-time", "public"})
        if words:
            raise UsageError(
                "`sizes` covers every family; for one family's sizes, try `family NAME`.",
                usage_line("sizes"),
            )
        return Sizes(metric=metric, public=public)
    if verb == "race":
        refuse_flags({"public"})
        if not MIN_RACE <= len(words) <= MAX_RACE:
            raise UsageError(
                f"A race needs {MIN_RACE} to {MAX_RACE} models or families; you gave {len(words)}.",
                usage_line("race"),
            )
        return Race(names=tuple(w.strip("/") for w in words), public=public)
    if verb == "compare":
        refuse_flags({"30d", "all-time", "public", "weekly", "share"})
        if not MIN_COMPARE <= len(words) <= MAX_COMPARE:
            raise UsageError(
                f"Compare takes up to {MAX_COMPARE} families; you gave {len(words)}."
                if words
                else "Name the families to compare.",
                usage_line("compare"),
            )
        view = view_option(metric)
        return Compare(names=tuple(words), metric=metric, public=public, view=view)
    if verb == "family":
        refuse_flags({"30d", "all-time", "public", "models", "weekly", "share"})
        if len(words) != 1:
            raise UsageError("Name one family.", usage_line("family"))
        view = view_option(metric)
        if view != "total" and "models" in flags:
            raise UsageError("`--models` lists models: it has no chart.", usage_line("family"))
        return FamilyDetail(
            name=words[0], metric=metric, public=public, models="models" in flags, view=view
        )
    if verb == "model":
        refuse_flags({"public", "weekly"})
        if len(words) != 1 or not words[0].strip("/"):
            raise UsageError("Name one model, as ORG/NAME or by its name.", usage_line("model"))
        return ModelDetail(repo_id=words[0].strip("/"), public=public, view=view_option(metric))
    if verb == "regions":
        refuse_flags({"30d", "all-time", "public", "weekly", "share"})
        if words:
            raise UsageError("`regions` takes no names.", usage_line("regions"))
        return Regions(metric=metric, public=public, view=view_option(metric))
    if verb == "movers":
        refuse_flags({"days", "public"})
        days = days_option(MOVERS_DAYS)
        if words:
            raise UsageError("`movers` ranks every family: name none.", usage_line("movers"))
        return Movers(days=days, public=public)
    if verb in ("families", "list"):
        refuse_flags({"public"})
        return FamiliesList(public=public)
    if verb == "forecast":
        refuse_flags({"public"})
        if words:
            raise UsageError(
                "`forecast` covers every family; for two, try `compare A B`.",
                usage_line("forecast"),
            )
        return Forecast(public=public)
    if verb == "new":
        refuse_flags({"days", "public"})
        days = days_option(NEW_DAYS)
        if len(words) > 1:
            raise UsageError("Name at most one family.", usage_line("new"))
        return New(family=words[0] if words else None, days=days, public=public)
    if verb == "status":
        refuse_flags({"public"})
        return Status(public=public)
    if verb == "help":
        return Help(public=public)
    if verb == "subscribe":
        if not words or words[0].lower() not in SUBSCRIPTION_KINDS:
            raise UsageError(
                "Subscribe to `digest`, `alerts` or `launches`.", usage_line("subscribe")
            )
        kind = words[0].lower()
        if kind == "digest":
            refuse_flags({"always"})
            if len(words) > 1:
                raise UsageError(
                    "The digest covers every family; name none.", usage_line("subscribe")
                )
            return Subscribe(kind=kind, always="always" in flags)
        refuse_flags({"all-time", "30d"} if kind == "alerts" else set())
        if len(words) - 1 > 20:
            raise UsageError("Name at most 20 families.", usage_line("subscribe"))
        # All-time orders are steady; 30-day ones flap, so they are followed only when asked.
        chosen = tuple(m for m, flag in (("all_time", "all-time"), ("30d", "30d")) if flag in flags)
        return Subscribe(kind=kind, families=tuple(words[1:]), metrics=chosen or ("all_time",))
    if verb == "unsubscribe":
        refuse_flags(set())
        if len(words) > 1 and words[0].lower() in SUBSCRIPTION_KINDS:
            kind = words[0].lower()
            raise UsageError(
                f"`unsubscribe {kind}` takes no names: it stops them all in this channel. "
                f"To follow fewer families, subscribe again with only those "
                f"(`/openmodels subscribe {kind} FAMILY…`).",
                usage_line("unsubscribe"),
            )
        if len(words) != 1 or words[0].lower() not in SUBSCRIPTION_KINDS:
            raise UsageError(
                "Unsubscribe from `digest`, `alerts` or `launches`.", usage_line("unsubscribe")
            )
        return Unsubscribe(kind=words[0].lower())
    if verb == "subscriptions":
        refuse_flags(set())
        return Subscriptions()
    if verb == "permissions":
        refuse_flags(set())
        choice = words[0].lower() if len(words) == 1 else None
        if words and choice not in {"admins", "everyone", "anyone"}:
            raise UsageError(
                "Say `admins` (only workspace admins and owners, and whoever installed "
                "openmodels) or `everyone`.",
                usage_line("permissions"),
            )
        if choice is None:
            return Permissions()
        return Permissions(changes_by="admins" if choice == "admins" else "anyone")
    return Unresolved(text=text, words=(tokens[0], *words), near=nearest_verb(verb))


def nearest_verb(word: str) -> str | None:
    """The subcommand `word` is a typo of: at most MAX_TYPO edits away (one for a word of
    four letters or fewer, which two edits make nearly any other: `how` is two from
    `new`), the closest (the first in USAGE's order on a tie). None for a subcommand."""
    word = word.lower()
    if word in USAGE:
        return None
    limit = 1 if len(word) <= 4 else MAX_TYPO
    best: tuple[int, str] | None = None
    for verb in USAGE:
        distance = edit_distance(word, verb, limit + 1)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, verb)
    return best[1] if best else None


def edit_distance(a: str, b: str, cap: int) -> int:
    """Edits (insert, delete, replace, or swap two neighbouring letters) that turn `a`
    into `b`, counted up to `cap`: any greater distance is returned as `cap`."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    previous: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        before, previous, row = previous, row, [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], before[j - 2] + 1)  # a swap of two letters
        if min(row) >= cap:
            return cap
    return min(row[-1], cap)
