"""Parsing and answering `/openmodels` commands: the same code for Slack and the CLI.

The answering code is imported on first use of `AnswerContext`, `answer` or
`answer_text`: a job that only words an alert (`openmodels collect`) imports
`commands.alert_message` without loading every answer.
"""

from typing import TYPE_CHECKING, Any

from commands.answer import Answer, ChartSpec
from commands.parser import Command, UsageError, parse

if TYPE_CHECKING:
    from commands.answers import AnswerContext, answer, answer_text

_ANSWERING = frozenset({"AnswerContext", "answer", "answer_text"})


def __getattr__(name: str) -> Any:
    if name in _ANSWERING:
        from commands import answers

        return getattr(answers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Answer",
    "AnswerContext",
    "ChartSpec",
    "Command",
    "UsageError",
    "answer",
    "answer_text",
    "parse",
]
