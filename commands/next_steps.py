"""The buttons under an answer that lead to the obvious next step. Pure.

Each button or option carries the command text it answers (the value a click sends
back), so a click is answered like the command itself, by the same parser, and a
forged value can name nothing but an answer that only reads (the listener checks).

- a metric toggle: `--30d` to all-time and back, replacing the answer in place (on
  `top`, `top --size`, `sizes`, `compare`, `family` and `regions`);
- on a chart's answer (`compare`, `family`, `regions`, `model`), its other views:
  **Weekly** (all-time downloads gained per week), **Share** (of everything tracked)
  and back to the plain chart, replacing the answer in place;
- "Compare with…": a select of the families not in the answer yet;
- on `family`, "Top models": the family's top models in full (`family NAME --models`);
- the questions the answer itself suggests (`Answer.suggestions`), such as a family's
  comparison with its neighbours in the ranking.
"""

from __future__ import annotations

from collections.abc import Sequence

from commands import blocks as bk
from commands.parser import (
    MAX_COMPARE,
    Command,
    Compare,
    FamilyDetail,
    ModelDetail,
    Regions,
    Sizes,
    Top,
)
from openmodels.families import Families, Family
from openmodels.sizes import parse_class

TOGGLE_ACTION = "answer_toggle"
# One action id per view: the ids of one block's elements must differ.
VIEW_ACTIONS = {view: f"answer_view_{view}" for view in ("total", "weekly", "share")}
COMPARE_WITH_ACTION = "answer_compare_with"
TOP_MODELS_ACTION = "answer_top_models"
SUGGESTED_ACTIONS = ("answer_suggested", "answer_suggested_2")  # at most two suggestions
ACTIONS = (
    TOGGLE_ACTION,
    *VIEW_ACTIONS.values(),
    COMPARE_WITH_ACTION,
    TOP_MODELS_ACTION,
    *SUGGESTED_ACTIONS,
)
# The toggle and the views show the same question another way: their answer replaces
# the one they were pressed on. The others are new questions, answered beside it.
REPLACES = frozenset({TOGGLE_ACTION, *VIEW_ACTIONS.values()})

_FLAGS = {"all_time": "", "30d": " --30d", "derivatives": " --derivatives"}
_VIEW_FLAGS = {"total": "", "weekly": " --weekly", "share": " --share"}
# Each view's button, in the order shown.
_VIEW_BUTTONS = {"total": "Cumulative", "weekly": "Weekly", "share": "Share"}

Charted = Compare | FamilyDetail | Regions | ModelDetail
Asked = Top | Sizes | Compare | FamilyDetail | Regions | ModelDetail


def command_text(command: Asked, families: Families) -> str | None:
    """The canonical text of a command (family keys and size class keys, not what was
    typed); None when a family or size class it names is unknown."""
    if isinstance(command, ModelDetail):
        return f"model {command.repo_id}{_VIEW_FLAGS[command.view]}"
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
        return f"top{'' if command.n is None else f' {command.n}'}{metric}{size}"
    view = _VIEW_FLAGS[command.view]
    if isinstance(command, Regions):
        return f"regions{metric}{view}"
    if isinstance(command, Compare):
        chosen = _resolved(command.names, families)
        if chosen is None:
            return None
        return f"compare {' '.join(f.key for f in chosen)}{metric}{view}"
    family = families.resolve(command.name)
    if family is None:
        return None
    return f"family {family.key}{' --models' if command.models else ''}{metric}{view}"


def next_steps(
    command: Command, families: Families, suggestions: Sequence[tuple[str, str]] = ()
) -> bk.Block | None:
    """The actions block for an answer to `command`, or None when it has no next step.
    `suggestions`: (label, command text) of the questions the answer suggests."""
    elements: list[bk.Block | None] = []
    if isinstance(command, Top | Sizes | Compare | FamilyDetail | Regions):
        elements.append(_toggle(command, families))
    if isinstance(command, Compare | FamilyDetail | Regions | ModelDetail) and not (
        isinstance(command, FamilyDetail) and command.models
    ):
        elements += _views(command, families)
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
    for action, (label, text) in zip(SUGGESTED_ACTIONS, suggestions, strict=False):
        elements.append(bk.button(label, action, text))
    kept = [
        e
        for e in elements
        if e is not None
        and len(e.get("value", "")) <= bk.MAX_BUTTON_VALUE
        and (e["type"] != "static_select" or e["options"])
    ]
    return bk.actions(*kept) if kept else None


def _toggle(
    command: Top | Sizes | Compare | FamilyDetail | Regions, families: Families
) -> bk.Block | None:
    """'Last 30 days' on an all-time answer; 'All-time' on any other."""
    metric = "all_time" if command.metric != "all_time" else "30d"
    label = "Last 30 days" if metric == "30d" else "All-time"
    other: Asked
    if isinstance(command, Sizes):
        other = Sizes(metric=metric)
    elif isinstance(command, Top):
        other = Top(n=command.n, metric=metric, size=command.size)
    elif isinstance(command, Compare):
        other = Compare(names=command.names, metric=metric)
    elif isinstance(command, Regions):
        other = Regions(metric=metric)
    else:
        other = FamilyDetail(name=command.name, metric=metric, models=command.models)
    text = command_text(other, families)
    return None if text is None else bk.button(label, TOGGLE_ACTION, text)


def _views(command: Charted, families: Families) -> list[bk.Block | None]:
    """A button for each view of the chart not shown (a model's: weekly and back)."""
    shown = command.view
    views = ["total", "weekly"] if isinstance(command, ModelDetail) else list(_VIEW_BUTTONS)
    buttons: list[bk.Block | None] = []
    for view in views:
        if view == shown:
            continue
        other: Asked
        if isinstance(command, ModelDetail):
            other = ModelDetail(command.repo_id, view=view)
        elif isinstance(command, Compare):
            other = Compare(names=command.names, view=view)
        elif isinstance(command, Regions):
            other = Regions(view=view)
        else:
            other = FamilyDetail(name=command.name, view=view)
        text = command_text(other, families)
        if text is not None:
            buttons.append(bk.button(_VIEW_BUTTONS[view], VIEW_ACTIONS[view], text))
    return buttons


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
