"""Family definitions over time: which families' rules changed between two snapshots,
and whether a model was counted only because they did. Pure functions over the
canonical definitions of `Families.definitions()`.

A change to the families file (a wider glob, another organisation, a renamed family)
moves a family's totals without any real growth, so figures compare like with like
only between snapshots that counted the family by the same rules: whether they did is
`openmodels.comparability`'s to say; this module describes the change, and tells a
model counted only because of it from a new one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openmodels.comparability import same_definition
from openmodels.families import Family

Definitions = Mapping[str, str]  # family key -> canonical definition (JSON text)


@dataclass(frozen=True)
class DefinitionChange:
    """Family `family` was counted by other rules in the newer snapshot.

    `old` or `new` is None where no definition was recorded: the family was not in the
    families file, or the snapshot was taken by an openmodels that did not record them.
    """

    family: str
    old: str | None
    new: str | None

    def describe(self) -> str:
        """'orgs google; match gemma* -> orgs google; match gemma*, codegemma*'."""
        return f"{describe(self.old)} -> {describe(self.new)}"


def definition_changes(old: Definitions, new: Definitions) -> list[DefinitionChange]:
    """Families whose recorded definition differs between two snapshots, by key, as
    `comparability.same_definition` judges (the first snapshot to record definitions
    differs from the one before for every family)."""
    return [
        DefinitionChange(family, old.get(family), new.get(family))
        for family in sorted(set(old) | set(new))
        if not same_definition(old, new, family)
    ]


def describe(definition: str | None) -> str:
    """A definition in a log line's words."""
    if definition is None:
        return "not recorded"
    rules = json.loads(definition)
    text = f"orgs {', '.join(rules['orgs'])}"
    if rules["match"]:
        text += f"; match {', '.join(rules['match'])}"
    if rules["yields_to"]:
        earlier = ", ".join(_rules_text(r) for r in rules["yields_to"])
        text += f"; except models of earlier families ({earlier})"
    return text


def owns_under(definition: str, repo_id: str) -> bool:
    """Whether a family defined by `definition` counts model `repo_id`.

    A model goes to the first family in the file that owns it, so a definition that
    yields to earlier families sharing its organisations does not count theirs.
    """
    rules = json.loads(definition)
    if not _family(rules).owns(repo_id):
        return False
    return not any(_family(earlier).owns(repo_id) for earlier in rules["yields_to"])


def counted_because_redefined(
    old: Definitions, new: Definitions, family: str, repo_id: str
) -> bool:
    """True if `repo_id`, counted in `family` in the newer snapshot, would not have been
    counted under the family's definition in the older one.

    For telling a model that appeared because the families file changed from a model new
    on the Hub: a finer rule on top of `comparability.same_definition`, which says False
    for unchanged definitions (both unrecorded included). When the old definition is
    unrecorded but the new one is not, nothing shows the model was counted before: True,
    so nothing is called new on no evidence.
    """
    if same_definition(old, new, family):
        return False
    before = old.get(family)
    if before is None:
        return True
    return not owns_under(before, repo_id)


def _family(rules: Mapping[str, Any]) -> Family:
    return Family("_", "_", tuple(rules["orgs"]), tuple(rules["match"]))


def _rules_text(rules: Mapping[str, Any]) -> str:
    orgs = ", ".join(rules["orgs"])
    return f"{orgs}: {', '.join(rules['match'])}" if rules["match"] else orgs
