"""Families: named sets of Hub organisations, loaded from a TOML file.

The file format is a public interface (docs/operations.md, "Defining families").
Loading validates the whole file and refuses it with one message naming the file, the
family and the problem.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from openmodels.errors import FamiliesError
from openmodels.sizes import ModelSize, model_size, parse_size

DEFAULT_FAMILIES_RESOURCE = "families.toml"
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_ALLOWED_KEYS = {"label", "orgs", "match", "aliases", "region", "sizes"}
MAX_REGION = 40  # shown in rankings and chart legends: keep it a name, not a sentence


@dataclass(frozen=True)
class Family:
    """One tracked family: its key (as typed in Slack), label and Hub organisations."""

    key: str
    label: str
    orgs: tuple[str, ...]
    match: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    region: str | None = None  # free text, shown as written; None counts under "Other"
    # Sizes set by hand: (glob on the model name, total parameters), first match wins.
    sizes: tuple[tuple[str, int], ...] = ()

    def owns(self, repo_id: str) -> bool:
        """True if the model `org/name` belongs to this family."""
        org, _, name = repo_id.partition("/")
        return org.lower() in {o.lower() for o in self.orgs} and self.owns_name(name)

    def owns_name(self, name: str) -> bool:
        """True if a model named `name`, of one of this family's organisations, is its."""
        return self._pattern is None or self._pattern.match(name.lower()) is not None

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        """The globs as one compiled pattern (None: every model of the orgs), so that a
        collection's tens of thousands of models are matched without a glob each."""
        if not self.match:
            return None
        return re.compile("|".join(fnmatch.translate(glob.lower()) for glob in self.match))

    def size_by_hand(self, repo_id: str) -> int | None:
        """The total parameters the file sets for model `repo_id`, if it sets any."""
        name = repo_id.partition("/")[2].lower()
        for glob, parameters in self.sizes:
            if fnmatch.fnmatchcase(name, glob.lower()):
                return parameters
        return None

    @property
    def hub_url(self) -> str:
        return f"https://huggingface.co/{self.orgs[0]}"


@dataclass(frozen=True)
class Families:
    """The tracked families, in file order, with name resolution for users."""

    items: tuple[Family, ...]
    source: str

    def __iter__(self) -> Iterator[Family]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.items]

    def get(self, key: str) -> Family | None:
        for family in self.items:
            if family.key == key:
                return family
        return None

    def label(self, key: str) -> str:
        """The display label of family `key` (the key itself if it is not tracked)."""
        family = self.get(key)
        return family.label if family else key

    def resolve(self, name: str) -> Family | None:
        """The family a user meant by `name` (key, alias or label, any case), or None."""
        wanted = name.strip().lower()
        for family in self.items:
            names = {family.key, family.label.lower(), *(a.lower() for a in family.aliases)}
            if wanted in names:
                return family
        return None

    def suggest(self, name: str) -> str | None:
        """The closest family key to a mistyped `name`, if one is close enough."""
        candidates: dict[str, str] = {}
        for family in self.items:
            for n in (family.key, family.label.lower(), *(a.lower() for a in family.aliases)):
                candidates.setdefault(n, family.key)
        close = difflib.get_close_matches(name.strip().lower(), list(candidates), n=1, cutoff=0.6)
        return candidates[close[0]] if close else None

    def family_of(self, repo_id: str) -> Family | None:
        """The first family (in file order) that owns model `repo_id`: one look-up of its
        organisation, then the globs of that organisation's families only."""
        org, _, name = repo_id.partition("/")
        for family in self._by_org.get(org.lower(), ()):
            if family.owns_name(name):
                return family
        return None

    @cached_property
    def _by_org(self) -> dict[str, tuple[Family, ...]]:
        """Each organisation (lowercased) with the families listing it, in file order."""
        index: dict[str, list[Family]] = {}
        for family in self.items:
            for org in {o.lower() for o in family.orgs}:
                index.setdefault(org, []).append(family)
        return {org: tuple(found) for org, found in index.items()}

    def size_by_hand(self, repo_id: str) -> int | None:
        """The size the file sets by hand for model `repo_id` (in the family owning it)."""
        family = self.family_of(repo_id)
        return family.size_by_hand(repo_id) if family else None

    def size_of(
        self,
        repo_id: str,
        parameters: int | None = None,
        by_dtype: Mapping[str, int] | None = None,
    ) -> ModelSize:
        """Model `repo_id`'s size: set by hand here, else the Hub's count (`parameters`,
        and per dtype) when given, else read from its name (`openmodels.sizes`)."""
        return model_size(repo_id, parameters, by_dtype, self.size_by_hand(repo_id))

    def definitions(self) -> dict[str, str]:
        """Each family's definition as canonical JSON: exactly what decides which models
        it counts, so equal text means totals that compare like with like.

        Organisations and globs are compared case-insensitively, so they are lowercased
        and sorted; labels, aliases and sizes change no family's totals and are left
        out. A model goes to the first family that owns it, so a family also records the
        rules of the earlier families that share one of its organisations ("yields_to").
        """
        found: dict[str, str] = {}
        for i, family in enumerate(self.items):
            orgs = {o.lower() for o in family.orgs}
            earlier = [e for e in self.items[:i] if orgs & {o.lower() for o in e.orgs}]
            rules = _rules(family) | {"yields_to": sorted((_rules(e) for e in earlier), key=str)}
            found[family.key] = json.dumps(rules, sort_keys=True, separators=(",", ":"))
        return found

    def orgs(self) -> list[str]:
        """Every organisation to list, each once, in file order."""
        seen: dict[str, None] = {}
        for family in self.items:
            for org in family.orgs:
                seen.setdefault(org, None)
        return list(seen)


def _rules(family: Family) -> dict[str, list[str]]:
    return {
        "orgs": sorted({o.lower() for o in family.orgs}),
        "match": sorted({m.lower() for m in family.match}),
    }


def parse_families(text: str, source: str) -> Families:
    """Parse and validate the TOML text of a families file named `source`."""

    def fail(problem: str, family: str | None = None) -> FamiliesError:
        where = f"family '{family}': " if family else ""
        return FamiliesError(f"{source}: {where}{problem}")

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"not valid TOML ({exc})") from None
    unknown_top = set(data) - {"families"}
    if unknown_top:
        raise fail(
            f"unknown top-level key(s) {', '.join(sorted(unknown_top))}; expected [families.NAME]"
        )
    table = data.get("families")
    if not isinstance(table, Mapping) or not table:
        raise fail("no families defined; expected at least one [families.NAME] table")

    items: list[Family] = []
    taken: dict[str, str] = {}  # every name a user may type -> family key

    def claim(name: str, key: str, what: str) -> None:
        lowered = name.lower()
        if lowered in taken and taken[lowered] != key:
            raise fail(f"{what} '{name}' is already used by family '{taken[lowered]}'", key)
        taken[lowered] = key

    for key, body in table.items():
        if not _KEY_RE.match(key):
            raise fail("name must be lowercase letters, digits, '-' or '_' (at most 40)", key)
        if not isinstance(body, Mapping):
            raise fail("must be a table with label, orgs, match, aliases, region and sizes", key)
        unknown = set(body) - _ALLOWED_KEYS
        if unknown:
            raise fail(
                f"unknown key(s) {', '.join(sorted(unknown))}; allowed: "
                f"{', '.join(sorted(_ALLOWED_KEYS))}",
                key,
            )
        orgs = _string_list(body.get("orgs", []), "orgs", key, fail)
        if not orgs:
            raise fail("has no orgs; give at least one Hub organisation", key)
        match = _string_list(body.get("match", []), "match", key, fail)
        aliases = _string_list(body.get("aliases", []), "aliases", key, fail)
        label = body.get("label", key)
        if not isinstance(label, str) or not label.strip():
            raise fail("label must be a non-empty string", key)
        region = body.get("region")
        if region is not None and (
            not isinstance(region, str) or not region.strip() or len(region.strip()) > MAX_REGION
        ):
            raise fail(f"region must be a non-empty string of at most {MAX_REGION} characters", key)
        sizes = _sizes(body.get("sizes", {}), key, fail)
        claim(key, key, "name")
        claim(label.strip(), key, "label")
        for alias in aliases:
            if alias.lower() == key:
                continue
            claim(alias, key, "alias")
        items.append(
            Family(
                key,
                label.strip(),
                tuple(orgs),
                tuple(match),
                tuple(aliases),
                region.strip() if region is not None else None,
                sizes,
            )
        )
    return Families(tuple(items), source)


_SIZES_EXAMPLE = 'e.g. sizes = { "Kimi-K2-*" = "1T" }'


def _sizes(
    value: object, key: str, fail: Callable[[str, str], FamiliesError]
) -> tuple[tuple[str, int], ...]:
    """A family's `sizes` table: model-name globs and the sizes set for them by hand."""
    if not isinstance(value, Mapping):
        raise fail(f"sizes must be a table of model names (globs) and sizes, {_SIZES_EXAMPLE}", key)
    found = []
    for glob, size in value.items():
        if not glob.strip() or "/" in glob:
            raise fail(
                f"sizes: '{glob}' must be a model name or glob without its organisation, "
                f"{_SIZES_EXAMPLE}",
                key,
            )
        parameters = parse_size(size) if isinstance(size, str) else None
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            parameters = size
        if parameters is None:
            raise fail(
                f'sizes: \'{glob}\' = {size!r} is not a size; write it as "7B", "560M", '
                '"1T" or a whole number of parameters',
                key,
            )
        found.append((glob.strip(), parameters))
    return tuple(found)


def _string_list(
    value: object, field: str, key: str, fail: Callable[[str, str], FamiliesError]
) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(f"{field} must be a list of non-empty strings", key)
    return [v.strip() for v in value]


def load_families(path: str | os.PathLike[str] | None = None) -> Families:
    """Load the families file at `path`, or the defaults shipped with openmodels."""
    if path is None:
        # Beside this module: openmodels is installed as plain files, never zipped (the
        # sample store is opened by path too), and importlib.resources would cost every
        # command the import of tempfile, zipfile and the compression modules.
        text = Path(__file__).with_name(DEFAULT_FAMILIES_RESOURCE).read_text("utf-8")
        return parse_families(text, "default families")
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise FamiliesError(f"{file}: cannot read families file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise FamiliesError(f"{file}: families file is not UTF-8 text") from None
    return parse_families(text, str(file))
