"""Running the real `openmodels` program in a subprocess, where a crash is the point."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def program_env(**extra: str) -> dict[str, str]:
    """The environment for a child `openmodels`: this one, minus anything of ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENMODELS_", "SLACK_", "HF_")) or k == "HF_HOME"
    }
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def openmodels(
    *args: str, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openmodels.cli", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def start_openmodels(*args: str, env: Mapping[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "openmodels.cli", *args],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
