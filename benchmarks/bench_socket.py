"""Benchmark Socket Mode: how long after its connection is lost the app answers again, and
whether Slack's late pongs make it reconnect for nothing.

For each way a connection is lost, the local Slack's Socket Mode endpoint
(localslack.socket_mode) breaks the app's connection at t0:
- refresh: Slack sends disconnect (refresh_requested) and drops the connection 2 s later;
- black hole: nothing passes any more and neither side is told (a NAT timeout, a lid);
- abrupt close: the TCP connection closes with no close frame.
Recovery is the time from t0 until a slash command sent to a connection opened after t0
is acknowledged (a probe every 0.2 s), against its goal (GOALS: 1 s after a refresh or
a cut, 30 s after a silent drop). Beside it, the commands that failed for the user
(dispatch_failed) among one sent every 0.5 s from t0 until 2 s after both recovery and
Slack letting go of the lost connection, each routed as Slack routes it: to any
connection Slack believes open.
(How soon Slack itself gives up on a silent connection is not published; the stand-in
assumes 10 s of unanswered pings. That affects the black-hole failures of both clients.)

Late pongs: on a quiet link whose every pong Slack sends 0 to 15 s late (at random,
seeded; slackapi/bolt-js#2496), one command every 0.5 s for `--late-pongs` seconds
(2 minutes): the new connections the client opened (apps.connections.open, which is
rate-limited) and the commands that failed, against the goal of none of either.

Both clients run the real Bolt app in the same run:
- this client: bot.socket_mode, as `openmodels serve` runs it;
- the baseline: slack_sdk's built-in client as Bolt's SocketModeHandler runs it, which is
  what `serve` ran before.
The fault lands at a random moment of the ping cycle (seeded), so a repeat shows the
spread. Not a test: it prints figures and asserts nothing.

    python benchmarks/bench_socket.py [--repeat 1] [--limit 120] [--only ours|builtin]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import build_app
from bot.handlers import BotServices
from bot.runtime import socket_mode_client
from bot.settings import SlackSettings
from bot.slack_client import make_web_client
from commands import AnswerContext
from localslack.server import LocalSlack
from localslack.socket_mode import Envelope, LocalSocketMode, SocketConnection
from openmodels.families import load_families
from storage import open_store

GOALS = {"refresh": 1.0, "black hole": 30.0, "abrupt close": 1.0}
LATE_PONGS = 15.0  # the latest a pong comes, in seconds: Slack's pace (see the docstring)
BOT_TOKEN = "xoxb-1-bench"
APP_TOKEN = "xapp-1-A0LOCAL-1-bench"

Fault = Callable[[LocalSocketMode, SocketConnection], None]
FAULTS: dict[str, Fault] = {
    "refresh": lambda socket, c: socket.disconnect(c, "refresh_requested"),
    "black hole": lambda socket, c: socket.black_hole(c),
    "abrupt close": lambda socket, c: socket.cut(c),
}


def start_ours(app: App, settings: SlackSettings) -> Callable[[], None]:
    client = socket_mode_client(app, settings)
    client.connect()
    return client.close


def start_builtin(app: App, settings: SlackSettings) -> Callable[[], None]:
    # What serve ran before: Bolt's handler with its defaults (ping every 10 s).
    quiet = logging.getLogger("bench.builtin_socket_mode")
    quiet.setLevel(logging.CRITICAL)  # it logs every failed ping of the dead socket
    quiet.propagate = False
    assert settings.app_token is not None
    handler = SocketModeHandler(
        app,
        app_token=settings.app_token,
        logger=quiet,
        web_client=make_web_client(None, settings.api_url),
    )
    handler.connect()
    return handler.close


CLIENTS: dict[str, Callable[[App, SlackSettings], Callable[[], None]]] = {
    "ours": start_ours,
    "builtin": start_builtin,
}


@dataclass
class Outcome:
    recovery: float | None  # None: not within the limit
    failed: int
    sent: int


def measure(client: str, fault: str, db: Path, limit: float, phase: float) -> Outcome:
    with LocalSlack() as slack:
        settings = SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=slack.api_url)
        services = BotServices(
            context=AnswerContext(store=open_store(db), families=load_families()),
            render=lambda spec: b"",
        )
        stop = CLIENTS[client](build_app(settings, services), settings)
        try:
            socket = slack.socket_mode
            first = socket.wait_for_connection(timeout=30)
            warm_up = socket.slash_command("top", slack.response_url(), to=first)
            assert socket.wait_acked(warm_up, 10), "the app never answered"
            time.sleep(phase)  # somewhere in the ping cycle
            return _break_and_recover(slack, socket, first, FAULTS[fault], limit)
        finally:
            stop()
            services.close()


def _break_and_recover(
    slack: LocalSlack, socket: LocalSocketMode, first: SocketConnection, fault: Fault, limit: float
) -> Outcome:
    routed: list[Envelope] = []
    stop_routing = threading.Event()

    def route() -> None:
        while not stop_routing.wait(0.5):
            routed.append(socket.slash_command("top", slack.response_url()))

    router = threading.Thread(target=route, daemon=True)
    t0 = time.monotonic()
    fault(socket, first)
    router.start()
    recovery = None
    while time.monotonic() - t0 < limit:
        fresh = [c for c in socket.accepting if c.id > first.id]
        if fresh:
            probe = socket.slash_command("top", slack.response_url(), to=fresh[-1])
            if socket.wait_acked(probe, 3.5) and probe.ack is not None:
                recovery = probe.ack.at - t0
                break
        time.sleep(0.05)
    # Until Slack has let go of the lost connection too (a black hole: once its pings go
    # unanswered), and a little longer: the whole outage as users see it.
    socket.wait_for(lambda: not first.open, limit)
    time.sleep(2.0)
    stop_routing.set()
    router.join()
    socket.wait_for(lambda: all(e.last.acked or e.failure for e in routed), 10)
    failed = sum(1 for e in routed if e.failure == "dispatch_failed")
    return Outcome(recovery, failed, len(routed))


@dataclass
class LatePongs:
    opened: int  # connections opened after the first
    failed: int  # commands that failed for the user
    sent: int
    pongs_late: int  # pings answered more than 5 s late (a 5 s timeout's false alarms)


def measure_late_pongs(client: str, db: Path, seconds: float, seed: int = 15) -> LatePongs:
    """One command every 0.5 s for `seconds`, every pong 0 to LATE_PONGS s late."""
    rng = random.Random(seed)
    delays: list[float] = []

    def late() -> float:
        delay = rng.uniform(0.0, LATE_PONGS)
        delays.append(delay)
        return delay

    with LocalSlack() as slack:
        settings = SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=slack.api_url)
        services = BotServices(
            context=AnswerContext(store=open_store(db), families=load_families()),
            render=lambda spec: b"",
        )
        socket = slack.socket_mode
        socket.pong_delay = late
        stop = CLIENTS[client](build_app(settings, services), settings)
        try:
            socket.wait_for_connection(timeout=30)
            sent: list[Envelope] = []
            ends = time.monotonic() + seconds
            while time.monotonic() < ends:
                sent.append(socket.slash_command("top", slack.response_url()))
                time.sleep(0.5)  # pacing the commands, not timing anything
            socket.wait_for(lambda: all(e.last.acked or e.failure for e in sent), 10)
            opened = len(socket.connections) - 1
        finally:
            stop()
            services.close()
    failed = sum(1 for e in sent if not e.last.acked)
    return LatePongs(opened, failed, len(sent), sum(1 for d in delays if d > 5.0))


def summary(outcomes: list[Outcome], limit: float, goal: float) -> tuple[str, str]:
    times = [o.recovery for o in outcomes]
    if any(t is None for t in times):
        shown = f"> {limit:.0f} s"
        verdict = "misses"
    else:
        known = [t for t in times if t is not None]
        shown = f"{statistics.median(known):.2f} s"
        if len(known) > 1:
            shown += f" ({min(known):.2f}-{max(known):.2f})"
        verdict = "meets" if max(known) <= goal else "misses"
    failed = sum(o.failed for o in outcomes)
    sent = sum(o.sent for o in outcomes)
    return f"{shown}, {verdict} the goal", f"{failed} of {sent}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each client and fault")
    parser.add_argument("--limit", type=float, default=120.0, help="seconds to wait at most")
    parser.add_argument("--only", choices=sorted(CLIENTS), help="measure one client only")
    parser.add_argument(
        "--late-pongs", type=float, default=120.0, help="seconds of late pongs (0: skip)"
    )
    args = parser.parse_args(argv)
    rng = random.Random(8)
    clients = [args.only] if args.only else list(CLIENTS)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        open_store(db)  # empty: `top` answers "No snapshots yet", which is all a probe needs
        rows = []
        for fault in FAULTS:
            cells = []
            for client in clients:
                outcomes = []
                for _ in range(args.repeat):
                    outcome = measure(client, fault, db, args.limit, rng.uniform(0, 10))
                    print(f"  {client:8} {fault:13} recovery {outcome.recovery}", file=sys.stderr)
                    outcomes.append(outcome)
                cells.append(summary(outcomes, args.limit, GOALS[fault]))
            rows.append((fault, cells))
        late = {c: measure_late_pongs(c, db, args.late_pongs) for c in clients if args.late_pongs}
    goals = ", ".join(f"{fault} {goal:.0f} s" for fault, goal in GOALS.items())
    print(f"\nSocket Mode recovery (goals, answering again within: {goals}), {args.repeat} runs")
    header = "".join(f" | {name + ' client':>38}" for name in clients)
    print(f"{'connection lost by':14}{header}")
    for fault, cells in rows:
        print(f"{fault:14}" + "".join(f" | {cell[0]:>38}" for cell in cells))
    print("\ncommands that failed for the user (one every 0.5 s through the outage)")
    for fault, cells in rows:
        print(f"{fault:14}" + "".join(f" | {cell[1]:>38}" for cell in cells))
    if late:
        print(
            f"\nlate pongs: every pong 0 to {LATE_PONGS:.0f} s late for {args.late_pongs:.0f} s, "
            "one command every 0.5 s (goal: no new connection, no command lost)"
        )
        for client, found in late.items():
            print(
                f"{client + ' client':14} | {found.opened} new connections, {found.failed} of "
                f"{found.sent} commands failed ({found.pongs_late} pongs over 5 s late)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
