"""A throwaway PostgreSQL cluster, started from the server binaries on this machine.

For the tests (one cluster per session) and the benchmarks. `initdb` and `pg_ctl` refuse
to run as root, and CI runs as root: then they run as the `postgres` account that
Debian's package creates (or `nobody`), through `runuser`, in a folder that account owns.
The cluster listens on 127.0.0.1 only, on a free port, and is deleted when stopped.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEBIAN_BINARIES = Path("/usr/lib/postgresql")


class ClusterError(Exception):
    """The cluster could not be started."""


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: Debian's newest, else the ones on PATH."""
    versions = sorted(
        (p for p in DEBIAN_BINARIES.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0),
    )
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _runner() -> tuple[list[str], pwd.struct_passwd | None]:
    """The prefix that runs a command as an unprivileged user, when we are root."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            account = pwd.getpwnam(name)
            runuser = shutil.which("runuser")
            if runuser is None:
                raise ClusterError("running as root, and runuser is missing to drop to " + name)
            return [runuser, "-u", name, "--"], account
    raise ClusterError("running as root, and no unprivileged account (postgres, nobody) exists")


@dataclass
class Cluster:
    bindir: Path
    root: Path
    port: int
    prefix: list[str]

    @classmethod
    def start(cls, bindir: Path, *, fast: bool = True) -> Cluster:
        """initdb and start a cluster. `fast` turns off fsync (tests: a crash loses nothing
        worth keeping); benchmarks keep PostgreSQL's durable defaults."""
        prefix, account = _runner()
        root = Path(tempfile.mkdtemp(prefix="openmodels-pg-"))
        if account is not None:
            os.chown(root, account.pw_uid, account.pw_gid)
        cluster = cls(bindir, root, _free_port(), prefix)
        try:
            cluster._run(
                "initdb", "-D", str(root / "data"), "-A", "trust", "-U", "postgres",
                "-E", "UTF8", "--no-sync",
            )  # fmt: skip
            options = [
                f"-p {cluster.port}",
                f"-k {root}",
                "-c listen_addresses=127.0.0.1",
                "-c max_connections=200",
            ]
            if fast:
                options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
            cluster._run(
                "pg_ctl", "-D", str(root / "data"), "-l", str(root / "log"), "-w", "-t", "60",
                "-o", " ".join(options), "start",
            )  # fmt: skip
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _run(self, program: str, *args: str) -> None:
        command: Sequence[str] = [*self.prefix, str(self.bindir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root, timeout=120)
        if done.returncode != 0:
            log = self.root / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise ClusterError(
                f"{program} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{tail}"
            )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            with contextlib.suppress(ClusterError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
