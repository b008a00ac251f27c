"""Finding one's way: `help`, `families`, and a short answer to a text that is no command.

`help` lists the commands and names the tracked families; `families` lists each with
its organisations, region and aliases; a text that names nothing openmodels knows (a
question, a word too far from any command or family) gets a few lines suggesting the
commands nearest to what it says, never the whole help. Pure: families in, blocks out.
"""

from __future__ import annotations

import re

from commands import blocks as bk
from commands.answer import Answer
from commands.format import echo, escape, hub_url, link
from commands.parser import USAGE, edit_distance, usage_line
from openmodels.families import Families
from openmodels.regions import OTHER, region_names

MAX_SUGGESTIONS = 3


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words of a question and the command that answers it, checked in this order.
_HINTS: list[tuple[str, frozenset[str]]] = [
    ("forecast", _words("overtake overtakes overtaking pass passes passing catch catching "
                        "forecast predict prediction projected projection when soon will")),
    ("movers", _words("gaining gained gain gains growing grows growth fastest momentum trend "
                      "trending rising rise movers moving accelerating")),
    ("new", _words("new launch launches launched release released releases latest")),
    ("compare", _words("compare comparison versus vs against beat beats beating better")),
    ("regions", _words("region regions country countries china chinese us american europe "
                       "european")),
    ("top", _words("winning winner wins leads leading leader biggest largest most popular top "
                   "rank ranking ranked downloads downloaded best")),
    ("families", _words("families family list tracked tracks which names")),
    ("model", _words("model models repo repos")),
]  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")


def families_answer(families: Families, public: bool = False) -> Answer:
    """Every tracked family: its organisations, what it matches, its region and aliases."""
    names = region_names(families)
    lines = []
    for family in families:
        orgs = ", ".join(link(hub_url(org), org) for org in family.orgs)
        parts = [f"*{escape(family.label)}* (`{family.key}`) · {orgs}"]
        if family.match:
            parts.append("models matching " + ", ".join(f"`{escape(m)}`" for m in family.match))
        region = names.get(family.key, OTHER)
        parts.append(f"region: {escape(region)}")
        if family.aliases:
            parts.append("also: " + ", ".join(f"`{escape(a)}`" for a in family.aliases))
        lines.append(" · ".join(parts))
    title = f"Tracked families ({len(families)})"
    sections = bk.list_sections(lines, "families", "families")
    note = bk.context(
        "Name a family by its key, label or an alias: `/openmodels family qwen`, "
        "`/openmodels compare qwen llama`. The list comes from the bot's families file."
    )
    text = f"{title}: " + ", ".join(f.label for f in families)
    return Answer(text=text, blocks=[bk.header(title), *sections, note], public=public)


def help_answer(families: Families, public: bool = False) -> Answer:
    """Every command, and the families they can name."""
    intro = (
        "*openmodels* tells you which open-weight model families the world downloads "
        "from the Hugging Face Hub, and when that changes."
    )
    usage = "\n".join(f"• {usage_line(verb)}" for verb in USAGE)
    named = family_names(families)
    options = (
        "Add `--30d` to rank by the last 30 days instead of all-time downloads, "
        "`--weekly` or `--share` to chart the downloads gained each week or the share of "
        "everything tracked, and `--public` to show the answer to the whole channel."
    )
    shorthand = (
        "Shorthand: `/openmodels` alone is `top`, `/openmodels qwen` is `family qwen`, "
        "`/openmodels qwen llama` is `compare qwen llama`. Mention @openmodels in a channel "
        "(`@openmodels top`) to be answered in a thread there, or send it a direct message."
    )
    blocks = [
        bk.section(intro),
        bk.section(usage),
        *(bk.section(text) for text in named),
        bk.context(options),
        bk.context(shorthand),
    ]
    text = "\n".join([intro, usage, *named, options, shorthand])
    return Answer(text=text, blocks=blocks, public=public)


def family_names(families: Families) -> list[str]:
    """'*Families tracked (3):* Qwen (`qwen`, `alibaba`), Llama (`llama`, `meta`), ….'
    and where they are listed in full: section texts, as many as the names need (up to
    three, then a count of those left out), never a name cut in half."""
    names = []
    for family in families:
        keys = [family.key, *family.aliases]
        names.append(f"{escape(family.label)} (" + ", ".join(f"`{k}`" for k in keys) + ")")
    title = f"*Families tracked ({len(families)}):*"
    where = "`/openmodels families` lists their organisations and regions."
    limit = bk.MAX_SECTION_TEXT - len(title) - len(where) - 3
    texts = bk.packed(names, noun="families", limit=limit, sep=", ")
    texts[0] = f"{title} {texts[0]}"
    texts[-1] += f". {where}"
    return texts


def not_a_command_answer(text: str, families: Families) -> Answer:
    """A short answer to a text that is no command: what it was not, and the commands
    nearest to what it says."""
    suggested = suggest_commands(text, families)
    lines = [f"“{echo(text, 80)}” is not a command I know. Perhaps:"]
    lines += [f"• {usage_line(verb)}" for verb in suggested]
    lines.append("`/openmodels help` lists every command.")
    message = "\n".join(lines)
    return Answer(text=message, blocks=[bk.section(message)], error=True)


def suggest_commands(text: str, families: Families) -> list[str]:
    """The commands (USAGE's verbs) nearest to what `text` says, best first, at most
    MAX_SUGGESTIONS: those its words hint at ("who is winning?" -> top), `compare` or
    `family` when it names families, a command a word is a typo of; `top` and
    `compare` when nothing matches."""
    words = _WORD.findall(text.lower())
    found: list[str] = []
    named = [w for w in words if families.resolve(w) is not None]
    if len(named) >= 2:
        found.append("compare")
    elif named:
        found.append("family")
    for verb, hints in _HINTS:
        if any(w in hints for w in words):
            found.append(verb)
    for word in words:
        for verb in USAGE:
            if len(word) >= 3 and edit_distance(word, verb, 3) <= 2:
                found.append(verb)
    if any("/" in w for w in text.split()):
        found.insert(0, "model")
    found += ["top", "compare"]
    return list(dict.fromkeys(found))[:MAX_SUGGESTIONS]
