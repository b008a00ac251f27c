"""The answer thread waits while commands are still arriving, never longer than `longest`.
A fake clock: nothing here sleeps."""

from __future__ import annotations

import pytest

from bot.acks_first import AcksFirst


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def gate(time: FakeTime, **options: float) -> AcksFirst:
    return AcksFirst(clock=time.clock, sleep=time.sleep, **options)


def test_an_answer_starts_at_once_when_no_command_is_arriving(time):
    acks_first = gate(time)
    acks_first.arrived()
    time.now = 1.0

    acks_first.wait_turn()

    assert time.slept == []


def test_a_lone_commands_answer_waits_for_a_short_calm(time):
    acks_first = gate(time, quiet=0.005)
    acks_first.arrived()

    acks_first.wait_turn()

    assert time.now == pytest.approx(0.005)


def test_answers_wait_while_commands_keep_arriving_but_never_longer_than_longest(time):
    def a_command_arrives_during_every_wait(seconds: float) -> None:
        time.sleep(seconds)
        acks_first.arrived()

    acks_first = AcksFirst(
        quiet=0.005, longest=0.05, clock=time.clock, sleep=a_command_arrives_during_every_wait
    )
    acks_first.arrived()

    acks_first.wait_turn()

    assert time.now == pytest.approx(0.05)


def test_before_any_command_nothing_waits(time):
    gate(time).wait_turn()

    assert time.slept == []
