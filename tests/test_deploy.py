"""docs/deploy.md works as written: the systemd units' command lines are ones the CLI
accepts, and its install steps, followed in a temporary folder, give a bot that starts
under the unit's command line, collects, answers, stops cleanly and is backed up by
the backup unit's command line.

The install runs without PyPI: the dependencies pip would download are this test
environment's own, lent to the new virtualenv through PYTHONPATH, and pip is told to
use no index and no build isolation (the build backend comes from here too).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from localslack.server import LocalSlack
from openmodels.cli import build_parser
from storage import Store, open_store
from tests.chart_renderers import wait_until
from tests.fakes import hub_model
from tests.markdown import code_blocks
from tests.slack_helpers import BOT_TOKEN, all_strings
from tests.socket_helpers import APP_TOKEN, WAIT

ROOT = Path(__file__).resolve().parent.parent
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
SERVICE = ROOT / "deploy" / "openmodels.service"
BACKUP_SERVICE = ROOT / "deploy" / "openmodels-backup.service"
ENV_EXAMPLE = ROOT / "deploy" / "openmodels.env.example"
STORE = "/var/lib/openmodels/openmodels.db"
# The machine's folders deploy.md installs into, moved under a temporary root here.
INSTALLED = ("/opt/openmodels", "/var/lib/openmodels", "/var/backups/openmodels", "/etc/openmodels")
# What a clone holds; the rest of a working tree is the developer's own.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", "build", ".*_cache", ".hypothesis",
    ".cache", "openmodels-charts", "openmodels.db*",
)  # fmt: skip


# -- reading the units and the page ------------------------------------------------------


def unit_values(unit: Path, key: str) -> list[str]:
    """Every value of `key` in a systemd unit file, in order (a key may repeat)."""
    prefix = key + "="
    lines = unit.read_text().splitlines()
    return [line[len(prefix) :].strip() for line in lines if line.startswith(prefix)]


def command_words(value: str) -> list[str]:
    """A systemd command line as the words it runs: quotes as a shell reads them, and
    systemd's own escapes undone (`$$` is `$`, `%%` is `%`)."""
    return [word.replace("$$", "$").replace("%%", "%") for word in shlex.split(value)]


def openmodels_words(value: str) -> list[str]:
    """The openmodels command a unit's command line runs, also through `sh -c 'exec …'`."""
    words = command_words(value)
    if words[:2] == ["/bin/sh", "-c"]:
        words = shlex.split(words[2])
        if words[0] == "exec":
            words = words[1:]
    return words


def install_steps() -> list[str]:
    """The lines of deploy.md's install block: the one its comment says this test runs."""
    marked = [b for b in code_blocks(DEPLOY_DOC.read_text()) if "tests/test_deploy.py" in b.after]
    assert len(marked) == 1, "deploy.md marks exactly one block as the tested install"
    return [line for line in marked[0].text.splitlines() if line.strip()]


def venv_of(steps: list[str]) -> str:
    (created,) = [shlex.split(step)[-1] for step in steps if " -m venv " in step]
    return created


def doc_override_lines() -> list[str]:
    """The ExecStart lines of the drop-ins deploy.md shows (`systemctl edit`)."""
    blocks = [b for b in code_blocks(DEPLOY_DOC.read_text()) if b.language == "ini"]
    return [
        line.removeprefix("ExecStart=")
        for block in blocks
        for line in block.text.splitlines()
        if line.startswith("ExecStart=") and line != "ExecStart="
    ]


def environment_file(text: str) -> dict[str, str]:
    """An EnvironmentFile's variables: VARIABLE=value lines; `#` lines are comments."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs if not name.startswith("#")}


# -- the command lines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command_line",
    [*unit_values(SERVICE, "ExecStart"), *doc_override_lines()],
    ids=lambda line: " ".join(shlex.split(line)[1:3]),
)
def test_the_bots_command_lines_are_serve_with_the_scheduler_on_the_installed_store(
    command_line,
):
    program, *arguments = openmodels_words(command_line)

    args = build_parser().parse_args(arguments)  # argparse exits on what it refuses

    assert program == venv_of(install_steps()) + "/bin/openmodels"
    assert args.command == "serve"
    assert not args.no_scheduler, "the unit relies on the built-in scheduler"
    assert str(args.db) == STORE


def test_the_backup_units_command_line_backs_up_that_store_into_a_new_dated_file():
    (command_line,) = unit_values(BACKUP_SERVICE, "ExecStart")
    program, *arguments = openmodels_words(command_line)

    args = build_parser().parse_args(arguments)

    assert program == venv_of(install_steps()) + "/bin/openmodels"
    assert args.command == "backup"
    assert str(args.db) == STORE
    assert "$(date" in str(args.path), "backup refuses an existing file: each copy is new"


def test_the_service_restarts_on_failure_as_its_own_user_with_its_tokens_in_a_file():
    assert unit_values(SERVICE, "Restart") == ["on-failure"]
    assert unit_values(SERVICE, "User") == ["openmodels"]
    (env_file,) = unit_values(SERVICE, "EnvironmentFile")
    assert env_file == "/etc/openmodels/openmodels.env"
    example = environment_file(ENV_EXAMPLE.read_text())
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"} <= example.keys()


# -- following the page --------------------------------------------------------------------


class Machine:
    """deploy.md's folders under `root`, and the environment its commands run in."""

    def __init__(self, root: Path) -> None:
        self.root = root
        site = sysconfig.get_paths()
        borrowed = os.pathsep.join(dict.fromkeys((site["purelib"], site["platlib"])))
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root / "root"),  # root's, for pip's cache
            "PYTHONPATH": borrowed,  # what PyPI would have served
            "PIP_NO_INDEX": "1",
            # pip reads PIP_NO_BUILD_ISOLATION=0 as --no-build-isolation (pypa/pip#5735).
            "PIP_NO_BUILD_ISOLATION": "0",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }

    def path(self, installed: str) -> Path:
        return Path(self.relocate(installed))

    def relocate(self, text: str) -> str:
        pattern = r"(?<![\w/.-])(" + "|".join(map(re.escape, INSTALLED)) + ")"
        return re.sub(pattern, lambda m: str(self.root) + m[1], text)

    def run(self, words: list[str], env: Mapping[str, str] | None = None) -> str:
        done = subprocess.run(
            words,
            env={**self.env, **(env or {})},
            cwd=self.root,  # not the working tree, which `python -c` would import from
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert done.returncode == 0, f"{shlex.join(words)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout


def follow_install_steps(machine: Machine) -> None:
    # "put a clone of the repository at /opt/openmodels/src"
    shutil.copytree(ROOT, machine.path("/opt/openmodels/src"), ignore=NOT_IN_A_CLONE)
    for step in install_steps():
        words = shlex.split(machine.relocate(step), comments=True)
        if words[0] == "python3":  # a Python 3.11 or newer: this one
            words[0] = sys.executable
        machine.run(words)


def test_following_the_install_gives_a_bot_that_starts_collects_answers_and_is_backed_up(
    tmp_path, fake_hub
):
    machine = Machine(tmp_path)
    follow_install_steps(machine)
    venv = machine.path(venv_of(install_steps()))
    imported = machine.run([str(venv / "bin/python"), "-c", "import bot; print(bot.__file__)"])
    assert Path(imported.strip()).is_relative_to(venv), "the installed copy runs, not the tree"

    # "Run it as a service": the folders (the store's is systemd's StateDirectory), and
    # the environment file, the example with its two tokens filled in.
    for folder in ("/var/lib/openmodels", "/var/backups/openmodels", "/etc/openmodels"):
        machine.path(folder).mkdir(parents=True)
    (env_file,) = unit_values(SERVICE, "EnvironmentFile")
    filled = ENV_EXAMPLE.read_text()
    for name, token in (("SLACK_BOT_TOKEN", BOT_TOKEN), ("SLACK_APP_TOKEN", APP_TOKEN)):
        filled = re.sub(rf"^{name}=.*$", f"{name}={token}", filled, flags=re.MULTILINE)
    machine.path(env_file).write_text(filled)
    fake_hub.add("Qwen", *(hub_model(f"Qwen/m{i}", downloads=10, all_time=100) for i in range(3)))
    (service_line,) = unit_values(SERVICE, "ExecStart")
    (working_dir,) = unit_values(SERVICE, "WorkingDirectory")
    with LocalSlack() as slack:
        stand_ins = {"SLACK_API_URL": slack.api_url, "HF_ENDPOINT": fake_hub.url}
        bot = subprocess.Popen(
            command_words(machine.relocate(service_line)),
            env={
                **machine.env,
                "HOME": str(machine.path(working_dir)),  # the service user's
                **environment_file(machine.path(env_file).read_text()),
                **stand_ins,
            },
            cwd=machine.path(working_dir),
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            slack.socket_mode.wait_for_connection(timeout=WAIT)
            wait_until(machine.path(STORE).exists, WAIT)  # made by the bot, not by this test
            store = open_store(machine.path(STORE))
            wait_until(lambda: snapshot_count(store) == 1, WAIT)  # the first collection
            response_url = slack.response_url()
            slack.socket_mode.slash_command("top", response_url)
            assert slack.wait_for(lambda: len(slack.posts(response_url)) == 1, WAIT)
            bot.send_signal(signal.SIGTERM)  # `systemctl stop`
            code = bot.wait(timeout=WAIT)
        finally:
            if bot.poll() is None:
                bot.kill()
        stderr = bot.stderr.read() if bot.stderr else ""
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert "Qwen" in " ".join(all_strings(slack.posts(response_url)))

    # The backup unit: its copy, then the clean-up of copies older than 14 days.
    backups = machine.path("/var/backups/openmodels")
    old = backups / "openmodels-20200101T070000Z.db"
    kept = backups / "notes.txt"
    for stale in (old, kept):
        stale.write_text("")
        os.utime(stale, (time.time() - 30 * 86_400,) * 2)
    for key in ("ExecStart", "ExecStartPost"):
        (line,) = unit_values(BACKUP_SERVICE, key)
        machine.run(command_words(machine.relocate(line)))
    assert not old.exists() and kept.exists()
    (copy,) = backups.glob("openmodels-*.db")
    assert re.fullmatch(r"openmodels-\d{8}T\d{6}Z\.db", copy.name)
    assert snapshot_count(open_store(copy)) == 1


def snapshot_count(store: Store) -> int:
    """Live snapshots: the first collection also writes its day-one estimate."""
    with store.reading() as db:
        return int(db.execute("SELECT count(*) FROM snapshots WHERE source = 'hub'").fetchone()[0])
