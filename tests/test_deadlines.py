"""Deadlines: each callback once its time has come, never a cancelled one, none lost at close."""

from __future__ import annotations

import threading

import pytest

from bot.deadlines import Deadlines


def test_callbacks_run_in_the_order_of_their_times():
    deadlines = Deadlines(workers=1)
    ran: list[str] = []
    done = threading.Event()
    now = deadlines.now()

    deadlines.at(now + 0.06, lambda: (ran.append("late"), done.set()))
    deadlines.at(now + 0.02, lambda: ran.append("early"))
    deadlines.at(now - 1.0, lambda: ran.append("past"))

    assert done.wait(10)
    deadlines.close()
    assert ran == ["past", "early", "late"]


def test_a_cancelled_callback_never_runs():
    deadlines = Deadlines()
    ran: list[str] = []
    done = threading.Event()
    now = deadlines.now()

    deadlines.at(now + 0.01, lambda: ran.append("cancelled")).cancel()
    deadlines.at(now + 0.03, done.set)

    assert done.wait(10)
    deadlines.close()
    assert ran == []


def test_close_runs_what_is_still_scheduled_and_refuses_more():
    deadlines = Deadlines()
    ran: list[str] = []
    deadlines.at(deadlines.now() + 3600, lambda: ran.append("an hour away"))

    deadlines.close()

    assert ran == ["an hour away"]
    with pytest.raises(RuntimeError):
        deadlines.at(deadlines.now(), lambda: None)


def test_a_failing_callback_is_logged_and_does_not_stop_the_others(caplog):
    deadlines = Deadlines(workers=1)
    done = threading.Event()

    def broken() -> None:
        raise RuntimeError("boom")

    now = deadlines.now()
    deadlines.at(now, broken)
    deadlines.at(now + 0.01, done.set)

    assert done.wait(10)
    deadlines.close()
    assert "a scheduled callback failed" in caplog.text
