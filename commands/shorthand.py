"""What a text whose first word is no subcommand means, given the families. Pure.

`/openmodels qwen` is `family qwen`, `/openmodels qwen llama` is `compare qwen llama`
(and `/openmodels` alone is `top`, which the parser settles by itself). The parser
knows no families, so it hands such a text over as `Unresolved`; this module decides,
the first rule that matches winning:

1. a subcommand name: already settled by the parser (`top` is never a family);
2. a family name (key, alias or label, any case): one is `family NAME`, two to six are
   `compare A B …`, each name checked as those commands check theirs;
3. a subcommand mistyped by at most two edits (`comapre`): "did you mean `compare`?";
4. a family mistyped closely enough for a suggestion (`qwne`): answered as `family` or
   `compare`, whose answer suggests the family as for any unknown family name;
5. anything else: the help, saying which word it did not know.

An exact family name comes before a mistyped subcommand: a family a couple of letters
away from a subcommand (OPT from `top`, a `step` family from `top`) stays reachable,
since the user typed a name openmodels knows. A mistyped subcommand still comes before
a mistyped family, so `comapre qwen llama` suggests `compare`.
"""

from __future__ import annotations

from commands.format import echo
from commands.parser import Command, Help, Unresolved, UsageError, parse, usage_line
from openmodels.families import Families


def resolve(command: Unresolved, families: Families) -> Command:
    """The command `command` stands for. Raises UsageError for a mistyped subcommand
    (naming it) and for what the resolved command refuses (options, counts)."""
    first = command.words[0]
    if families.resolve(first) is None:
        if command.near is not None:
            raise UsageError(
                f"I don't know the command '{echo(first)}' — did you mean `{command.near}`?",
                usage_line(command.near),
            )
        if families.suggest(first) is None:
            return Help(unknown=first)
    verb = "family" if len(command.words) == 1 else "compare"
    return parse(command.text, verb=verb)
