"""Parsing and answering `/openmodels` commands: the same code for Slack and the CLI."""

from commands.answer import Answer, ChartSpec
from commands.answers import AnswerContext, answer, answer_text
from commands.parser import Command, UsageError, parse

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
