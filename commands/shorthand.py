"""What a text whose first word is no subcommand means, given the families. Pure.

`/openmodels qwen` is `family qwen`, `/openmodels qwen llama` is `compare qwen llama`
(and `/openmodels` alone is `top`, which the parser settles by itself). The parser
knows no families, so it hands such a text over as `Unresolved`; this module decides,
the first rule that matches winning:

1. a subcommand name: already settled by the parser (`top` is never a family);
2. a family name (key, alias or label, any case): one is `family NAME`, two to six are
   `compare A B …`, each name checked as those commands check theirs;
3. a subcommand mistyped by at most two edits (`comapre`): "did you mean `compare`?";
4. one word that is the name of a model the store holds (`Qwen3-8B`, as `model NAME`
   finds it): `model`, even when the word is also near a family's name (`qwen`);
5. a family mistyped closely enough for a suggestion (`qwne`), among words that each
   are or nearly are family names: answered as `family` or `compare`, whose answer
   suggests the family as for any unknown family name;
6. a model id (`Qwen/Qwen3-8B`): `model`;
7. anything else (a question, a word too far from anything): `NotACommand`, answered
   with the commands nearest to what it says.

An exact family name comes before a mistyped subcommand: a family a couple of letters
away from a subcommand (OPT from `top`, a `step` family from `top`) stays reachable,
since the user typed a name openmodels knows. A mistyped subcommand still comes before
a mistyped family, so `comapre qwen llama` suggests `compare`; and a model's exact name
comes before a mistyped family, since most model names begin with their family's.
"""

from __future__ import annotations

from collections.abc import Callable

from commands.format import echo
from commands.parser import Command, NotACommand, Unresolved, UsageError, parse, usage_line
from openmodels.families import Families


def resolve(command: Unresolved, families: Families, holds_model: Callable[[str], bool]) -> Command:
    """The command `command` stands for; `holds_model(name)`: whether the store holds a
    model of that name (without its organisation). Raises UsageError for a mistyped
    subcommand (naming it) and for what the resolved command refuses (options, counts)."""
    first = command.words[0]
    if len(command.words) == 1 and "/" in first.strip("/"):
        return parse(command.text, verb="model")  # a bare model id
    if families.resolve(first) is None:
        if command.near is not None:
            raise UsageError(
                f"I don't know the command '{echo(first)}' — did you mean `{command.near}`?",
                usage_line(command.near),
            )
        if len(command.words) == 1 and holds_model(first.strip("/")):
            return parse(command.text, verb="model")  # a model's name without its organisation
        # A first word that is no family is shorthand only as a family mistyped, among
        # words that are each a family or near one; else it is no shorthand (a question).
        if any(families.resolve(w) is None and families.suggest(w) is None for w in command.words):
            return NotACommand(command.text)
    verb = "family" if len(command.words) == 1 else "compare"
    return parse(command.text, verb=verb)
