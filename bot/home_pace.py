"""Asking Slack which channels App Home visitors are in, within Slack's limits.

users.conversations is a Tier 3 method: "50+ per minute" per workspace (its reference
page; Slack's rate-limit tiers, docs.slack.dev/apis/web-api/rate-limits, which are
applied "per API method per workspace/team per app"; java-slack-sdk's MethodsRateLimits
lists it lower still, Tier 2, 20+). After each snapshot every visitor of the last 7
days gets their tab again, and each needs at least one call: a team with more than
about 50 of them got 429s, and tabs that said membership could not be checked. So:
- each workspace's calls are spaced out, `PER_MINUTE` (40) a minute at most, evenly
  (`CallPace`, one per workspace: a workspace's pace holds up no other's);
- what Slack said is kept for `MEMBERSHIP_SECONDS` (10 minutes, `Memberships`), so a
  refresh soon after another, or a visitor opening the tab meanwhile, asks nothing;
- a visitor who opens the tab is asked about at once, ahead of the refresh (whose next
  call then waits a little longer), and the refresh then skips them: they have the
  fresh view already.
Everything here takes the clock as an argument; nothing sleeps: waits are yielded by the
refresh's steps (bot.posting).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

PER_MINUTE = 40  # under Tier 3's 50, with room for the visitors who open their tab
MEMBERSHIP_SECONDS = 600.0


class CallPace:
    """At most `per_minute` calls a minute, one every 60/per_minute seconds."""

    def __init__(
        self, per_minute: float = PER_MINUTE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.gap = 60.0 / per_minute
        self._clock = clock
        self._next = float("-inf")  # when the next call may be made
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Take the next free moment for a call: the seconds to wait until it (0: now)."""
        with self._lock:
            now = self._clock()
            at = max(now, self._next)
            self._next = at + self.gap
            return at - now

    def now(self) -> float:
        """Take a call now, whatever the pace (a person is waiting for it); the calls
        after it wait their turn behind it. Returns 0, the wait."""
        with self._lock:
            self._next = max(self._clock(), self._next) + self.gap
        return 0.0


class Memberships:
    """Which channels each visitor is in, as Slack last said, for `keep` seconds."""

    def __init__(
        self, keep: float = MEMBERSHIP_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.keep = keep
        self._clock = clock
        self._known: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self._opened: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def get(self, team_id: str, user_id: str) -> frozenset[str] | None:
        """What Slack said of the user's channels, if it said so lately."""
        with self._lock:
            found = self._known.get((team_id, user_id))
            if found is None or self._clock() - found[0] > self.keep:
                return None
            return found[1]

    def put(self, team_id: str, user_id: str, channels: frozenset[str]) -> None:
        with self._lock:
            now = self._clock()
            self._known[(team_id, user_id)] = (now, channels)
            for key, (at, _) in list(self._known.items()):
                if now - at > self.keep:
                    del self._known[key]

    def forget(self, team_id: str) -> None:
        """Forget what Slack said of `team_id`'s visitors (the workspace uninstalled)."""
        with self._lock:
            for known in (self._known, self._opened):
                for key in [k for k in known if k[0] == team_id]:
                    del known[key]

    def opened(self, team_id: str, user_id: str) -> None:
        """The user opened their tab now, and got it fresh."""
        with self._lock:
            self._opened[(team_id, user_id)] = self._clock()

    def opened_since(self, team_id: str, user_id: str, since: float) -> bool:
        with self._lock:
            return self._opened.get((team_id, user_id), float("-inf")) >= since

    def now(self) -> float:
        return self._clock()


class HomePace:
    """The pace of each workspace's users.conversations calls and what they said, shared
    by the tab a visitor opens and the refresh after each snapshot."""

    def __init__(
        self,
        per_minute: float = PER_MINUTE,
        keep: float = MEMBERSHIP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.memberships = Memberships(keep, clock)
        self._clock = clock
        self._calls: dict[str, CallPace] = {}
        self._lock = threading.Lock()

    def calls(self, team_id: str) -> CallPace:
        """The pace of `team_id`'s calls: Slack's limit is per workspace."""
        with self._lock:
            pace = self._calls.get(team_id)
            if pace is None:
                pace = self._calls[team_id] = CallPace(self.per_minute, self._clock)
            return pace

    def forget(self, team_id: str) -> None:
        """Forget `team_id`'s pace and what Slack said of its visitors (uninstalled)."""
        with self._lock:
            self._calls.pop(team_id, None)
        self.memberships.forget(team_id)
