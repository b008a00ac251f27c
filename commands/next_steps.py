"""The buttons under an answer that lead to the obvious next step. Pure.

Each button or option carries the command text it answers (the value a click sends
back), so a click is answered like the command itself, by the same parser, and a
forged value can name nothing but an answer that only reads (the listener checks).

- a metric toggle: `--30d` to all-time and back, replacing the answer in place (on
  `top`, `top --size`, `sizes`, `compare` and `family`);
- "Compare with…": a select of the families not in the answer yet;
- on `family`, "Top models": the family's top models in full (`family NAME --models`).
"""

from __future__ import annotations

from commands import blocks as bk
from commands.parser import MAX_COMPARE, Command, Compare, FamilyDetail, Sizes, Top
from openmodels.families import Families, Family
from openmodels.sizes import parse_class

TOGGLE_ACTION = "answer_toggle"
COMPARE_WITH_ACTION = "answer_compare_with"
TOP_MODELS_ACTION = "answer_top_models"
ACTIONS = (TOGGLE_ACTION, COMPARE_WITH_ACTION, TOP_MODELS_ACTION)
# Only the toggle shows the same question another way: its answer replaces the one it
# was pressed on. The others are new questions, answered beside it.
REPLACES = frozenset({TOGGLE_ACTION})

_FLAGS = {"all_time": "", "30d": " --30d", "derivatives": " --derivatives"}


Toggled = Top | Sizes | Compare | FamilyDetail


def command_text(command: Toggled, families: Families) -> str | None:
    """The canonical text of a command (family keys and size class keys, not what was
    typed); None when a family or size class it names is unknown."""
    metric = _FLAGS[command.metric]
    if isinstance(command, Sizes):
        return f"sizes{metric}"
    if isinstance(command, Top):
        size = ""
        if command.size is not None:
            found = parse_class(command.size)
            if found is None:
                return None
            size = f" --size {found.key}"
        return f"top{'' if command.n == 10 else f' {command.n}'}{metric}{size}"
    if isinstance(command, Compare):
        chosen = _resolved(command.names, families)
        return None if chosen is None else f"compare {' '.join(f.key for f in chosen)}{metric}"
    family = families.resolve(command.name)
    if family is None:
        return None
    return f"family {family.key}{' --models' if command.models else ''}{metric}"


def next_steps(command: Command, families: Families) -> bk.Block | None:
    """The actions block for an answer to `command`, or None when it has no next step."""
    if not isinstance(command, Toggled):
        return None
    elements = [_toggle(command, families)]
    if isinstance(command, Compare):
        chosen = _resolved(command.names, families) or []
        if len(chosen) < MAX_COMPARE:
            elements.append(_compare_with(chosen, command.metric, families))
    if isinstance(command, FamilyDetail):
        family = families.resolve(command.name)
        if family is not None:
            elements.append(_compare_with([family], command.metric, families))
            if not command.models:
                models = FamilyDetail(family.key, metric=command.metric, models=True)
                text = command_text(models, families) or ""
                elements.append(bk.button("Top models", TOP_MODELS_ACTION, text))
    kept = [
        e
        for e in elements
        if e is not None
        and len(e.get("value", "")) <= bk.MAX_BUTTON_VALUE
        and (e["type"] != "static_select" or e["options"])
    ]
    return bk.actions(*kept) if kept else None


def _toggle(command: Toggled, families: Families) -> bk.Block | None:
    """'Last 30 days' on an all-time answer; 'All-time' on any other."""
    metric = "all_time" if command.metric != "all_time" else "30d"
    label = "Last 30 days" if metric == "30d" else "All-time"
    if isinstance(command, Sizes):
        other: Toggled = Sizes(metric=metric)
    elif isinstance(command, Top):
        other = Top(n=command.n, metric=metric, size=command.size)
    elif isinstance(command, Compare):
        other = Compare(names=command.names, metric=metric)
    else:
        other = FamilyDetail(name=command.name, metric=metric, models=command.models)
    text = command_text(other, families)
    return None if text is None else bk.button(label, TOGGLE_ACTION, text)


def _compare_with(chosen: list[Family], metric: str, families: Families) -> bk.Block:
    """A select of every family not already `chosen`; each option compares them all."""
    base = " ".join(f.key for f in chosen)
    options = [
        (family.label, f"compare {base} {family.key}{_FLAGS[metric]}")
        for family in families
        if family not in chosen
    ]
    return bk.static_select("Compare with…", COMPARE_WITH_ACTION, options)


def _resolved(names: tuple[str, ...], families: Families) -> list[Family] | None:
    chosen = [families.resolve(name) for name in names]
    return None if any(f is None for f in chosen) else [f for f in chosen if f is not None]
