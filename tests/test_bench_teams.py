"""benchmarks/bench_teams.py runs in CI at a small size: many installed workspaces' digests
are each delivered with the workspace's own token, and their one chart drawn once. Its
figures (time, and per digest against one workspace) are printed, never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_workspaces_digests_go_with_its_own_token_and_one_chart_is_drawn():
    run = subprocess.run(
        [sys.executable, "bench_teams.py", "--teams", "3", "--channels", "2"],
        cwd=ROOT / "benchmarks",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    print(run.stdout)

    for case, teams in (("one", 1), ("all", 3)):
        found = figures[case]
        assert found["teams"] == teams and found["digests"] == 2 * teams
        assert found["sent"] == found["own_token"] == 2 * teams
        assert found["retry"] == found["failed"] == found["skipped"] == 0
        assert found["charts_drawn"] == 1 and found["charts_shown"] == 2 * teams
