"""Model sizes: how many parameters a model has, where that figure came from, and the size
class it falls in. Pure functions.

A model's size comes from, in order of trust:

1. the families file, where an operator set it by hand (`sizes` in a family's table);
2. the Hub's `safetensors` count, the parameters in the repository's weights;
3. the model's name (`Qwen3-0.6B`, `gpt-oss-120b`, `Mixtral-8x7B`), said to be read
   from the name wherever it is shown.

The Hub's count is not used when most of it is packed integers: quantised repositories
(AWQ and GPTQ pack eight 4-bit weights into each I32, bitsandbytes two into each U8)
list a fraction of their parameters, so `Qwen2.5-72B-Instruct-AWQ` counts about 12B on
the Hub. Their names carry the real size, which is then read instead.

Size classes are those the ATOM Project reports adoption by: total parameters under
1B, 1–5B, 5–10B, 10–50B, 50–100B, 100–250B, 250B and over, and "unknown".
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

BILLION = 1_000_000_000

# Where a size came from (the store keeps these words).
FROM_FILE = "file"  # set by hand in the families file
FROM_HUB = "safetensors"  # the Hub's count of the weights' parameters
FROM_NAME = "name"  # read from the model's name
UNKNOWN = "unknown"

# Integer dtypes that hold several weights each in quantised repositories.
PACKED_DTYPES = frozenset({"I32", "U32", "U8"})
PACKED_SHARE = 0.1  # a count this much packed is a count of storage, not of parameters


@dataclass(frozen=True)
class ModelSize:
    """A model's total parameters (None: unknown), where the figure came from, and its
    active parameters per token when its name gives them (a mixture of experts)."""

    parameters: int | None
    source: str
    active: int | None = None

    @property
    def size_class(self) -> SizeClass:
        return class_of(self.parameters)


@dataclass(frozen=True)
class NameSize:
    """What a model's name says of its size: total and active parameters."""

    total: int | None
    active: int | None = None


# -- reading sizes ----------------------------------------------------------------------------

_UNIT = {"m": 1_000_000, "b": BILLION}
_TOTAL = re.compile(r"(\d+(?:\.\d+)?)([mb])")
_EXPERTS_TIMES = re.compile(r"(\d+)x(\d+(?:\.\d+)?)([mb])")
_ACTIVE = re.compile(r"a(\d+(?:\.\d+)?)b")  # Qwen3-30B-A3B: 3B active
_EFFECTIVE = re.compile(r"e\d+(?:\.\d+)?b")  # gemma-3n-E4B: "effective" 4B, not the total
_EXPERT_COUNT = re.compile(r"\d+e")  # Llama-4-Scout-17B-16E: 17B active, 16 experts
_SEPARATORS = re.compile(r"[-_\s]+")


def size_from_name(repo_id: str) -> NameSize:
    """The size a model's name states, if it states one clearly.

    The name is cut into words at hyphens, underscores and spaces, and a word is a size
    when it is a number followed by M or B (`0.6B`, `270m`, `6.7b`). `NxMB` is N experts
    of M each (Mixtral-8x7B: 56B; experts share some layers, so the real total is lower,
    46.7B). `A3B` is active parameters, as is a size followed by an expert count
    (`17B-16E`): neither is the total. `E4B` (Gemma 3n) is "effective" parameters, not
    the total either. T is never read: `bitnet-b1.58-2B-4T` was trained on 4T tokens.
    Several sizes of the largest unit named (`t5gemma-2b-2b`, an encoder and a decoder)
    say nothing certain: no total. A size in B wins over one in M, which names a context
    length (`Qwen2.5-7B-Instruct-1M`).
    """
    name = repo_id.rsplit("/", 1)[-1].lower()
    words = [w for w in _SEPARATORS.split(name) if w]
    totals: list[tuple[str, int]] = []  # (unit, parameters)
    active: int | None = None
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if (found := _TOTAL.fullmatch(word)) is not None:
            parameters = _parameters(found.group(1), found.group(2))
            if _EXPERT_COUNT.fullmatch(following):
                active = parameters
            else:
                totals.append((found.group(2), parameters))
        elif (found := _EXPERTS_TIMES.fullmatch(word)) is not None:
            each = _parameters(found.group(2), found.group(3))
            totals.append((found.group(3), int(found.group(1)) * each))
        elif (found := _ACTIVE.fullmatch(word)) is not None:
            active = _parameters(found.group(1), "b")
        elif _EFFECTIVE.fullmatch(word):
            continue
    for unit in ("b", "m"):
        candidates = [parameters for u, parameters in totals if u == unit]
        if candidates:
            return NameSize(candidates[0] if len(candidates) == 1 else None, active)
    return NameSize(None, active)


def _parameters(number: str, unit: str) -> int:
    return int(Decimal(number) * _UNIT[unit])


def size_from_safetensors(total: int | None, per_dtype: Mapping[str, int]) -> int | None:
    """The Hub's parameter count, unless there is none or most of it is packed weights."""
    if total is None or total <= 0:
        return None
    packed = sum(n for dtype, n in per_dtype.items() if dtype.upper() in PACKED_DTYPES)
    if packed >= PACKED_SHARE * total:
        return None
    return total


def model_size(
    repo_id: str,
    safetensors_total: int | None = None,
    per_dtype: Mapping[str, int] | None = None,
    by_hand: int | None = None,
) -> ModelSize:
    """A model's size from what is known of it, by the order of trust above."""
    named = size_from_name(repo_id)
    if by_hand is not None:
        return ModelSize(by_hand, FROM_FILE, named.active)
    counted = size_from_safetensors(safetensors_total, per_dtype or {})
    if counted is not None:
        return ModelSize(counted, FROM_HUB, named.active)
    if named.total is not None:
        return ModelSize(named.total, FROM_NAME, named.active)
    return ModelSize(None, UNKNOWN, named.active)


_WRITTEN = re.compile(r"(\d+(?:\.\d+)?)\s*([mbt])")


def parse_size(text: str) -> int | None:
    """A size as an operator writes it in the families file: `7B`, `7.6b`, `560M`,
    `1T`, or a whole number of parameters. None when it is not one."""
    found = _WRITTEN.fullmatch(text.strip().lower())
    if found is not None:
        try:
            value = Decimal(found.group(1)) * {"m": 10**6, "b": 10**9, "t": 10**12}[found.group(2)]
        except InvalidOperation:
            return None
        return int(value) if value >= 1 else None
    digits = text.strip().replace(",", "").replace("_", "")
    return int(digits) if digits.isdecimal() and int(digits) > 0 else None


def size_text(parameters: int) -> str:
    """'7.6B', '270M', '1.0T', '56B': parameters as people write them."""
    for unit, scale in (("T", 10**12), ("B", BILLION), ("M", 10**6)):
        if parameters >= scale:
            value = parameters / scale
            whole = value >= 100 or value == int(value)
            return f"{value:.0f}{unit}" if whole else f"{value:.1f}{unit}"
    return f"{parameters:,}"


# -- size classes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeClass:
    """Models with at least `low` and fewer than `high` parameters (None: no bound);
    the unknown class has neither. `key` is what people type, `label` what is shown."""

    key: str
    label: str
    low: int | None
    high: int | None
    names: tuple[str, ...] = ()  # other spellings people type

    @property
    def known(self) -> bool:
        return self.key != UNKNOWN

    @property
    def models(self) -> str:
        """The class's models in a sentence: '1–5B models', 'models under 1B'."""
        if self.label[0].isdigit() and " " not in self.label:
            return f"{self.label} models"
        return f"models {'of ' if not self.label.startswith('under') else ''}{self.label}"


CLASSES = (
    SizeClass("under-1b", "under 1B", 0, BILLION, ("<1b", "0-1b", "1b-")),
    SizeClass("1-5b", "1–5B", BILLION, 5 * BILLION),
    SizeClass("5-10b", "5–10B", 5 * BILLION, 10 * BILLION),
    SizeClass("10-50b", "10–50B", 10 * BILLION, 50 * BILLION),
    SizeClass("50-100b", "50–100B", 50 * BILLION, 100 * BILLION),
    SizeClass("100-250b", "100–250B", 100 * BILLION, 250 * BILLION),
    SizeClass("250b+", "250B and over", 250 * BILLION, None, ("over-250b", ">250b", "250b")),
)
UNKNOWN_CLASS = SizeClass(UNKNOWN, "unknown size", None, None, ("?",))
ALL_CLASSES = (*CLASSES, UNKNOWN_CLASS)


def class_of(parameters: int | None) -> SizeClass:
    """The class of a model with `parameters` total parameters (None: unknown)."""
    if parameters is None:
        return UNKNOWN_CLASS
    for size_class in CLASSES:
        if size_class.high is None or parameters < size_class.high:
            return size_class
    raise AssertionError("the last class has no upper bound")


def by_key(key: str) -> SizeClass:
    """The class whose key is `key` (as the store and `class_of` give them)."""
    for size_class in ALL_CLASSES:
        if size_class.key == key:
            return size_class
    raise KeyError(key)


def parse_class(text: str) -> SizeClass | None:
    """The class someone meant by `text`: `1-5B`, `1–5b`, `1 to 5B`, `<1B` (also as Slack
    escapes it, `&lt;1B`), `under 1B`, `250B+`, `unknown`… None when it names none."""
    wanted = unicodedata.normalize("NFKC", html.unescape(text)).lower().strip()
    wanted = re.sub(r"\s*(?:–|—|\bto\b)\s*", "-", wanted)
    wanted = re.sub(r"\s+", "-", wanted).removesuffix("params").strip("-")
    candidates = {wanted, wanted + "b" if wanted[-1:].isdigit() else wanted}
    for size_class in ALL_CLASSES:
        spellings = {size_class.key, size_class.label.lower().replace(" ", "-"), *size_class.names}
        if candidates & spellings:
            return size_class
    return None
