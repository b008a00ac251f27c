"""Promise: bad configuration gets one clear line and a non-zero exit, never a
traceback, and nothing is overwritten. Runs the real program in a subprocess."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from storage import open_store
from tests.reliability.helpers import openmodels, program_env


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_error_line(result, *fragments: str) -> None:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("openmodels: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def env():
    return program_env()


@pytest.mark.parametrize(
    ("toml", "fragments"),
    [
        ("[families.qwen\norgs = ['Qwen']", ("not valid TOML",)),
        ("[families.qwen]\norgs = ['Qwen']\ncolour = 'blue'", ("family 'qwen'", "unknown key")),
        ("[families.qwen]\nlabel = 'Qwen'", ("family 'qwen'", "has no orgs")),
        (
            "[families.qwen]\norgs=['Qwen']\naliases=['x']\n[families.glm]\norgs=['zai-org']\naliases=['x']",
            ("family 'glm'", "alias 'x' is already used by family 'qwen'"),
        ),
    ],
)
def test_a_broken_families_file(tmp_path, env, toml, fragments):
    families = tmp_path / "families.toml"
    families.write_text(toml)
    result = openmodels("ask", "--families", str(families), "top", env=env)
    one_error_line(result, str(families), *fragments)


def test_a_corrupt_store_is_refused_and_left_alone(tmp_path, env):
    store = tmp_path / "s.db"
    store.write_bytes(b"\x00garbage" * 1000)
    before = digest(store)
    for command in (["status"], ["collect"], ["ask", "top"], ["backup", str(tmp_path / "b.db")]):
        one_error_line(
            openmodels(command[0], "--db", str(store), *command[1:], env=env), str(store)
        )
    assert digest(store) == before


def test_a_store_from_a_newer_openmodels_is_refused_and_left_alone(tmp_path, env):
    path = tmp_path / "s.db"
    open_store(path)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('openmodels', 'm999_from_the_future', '2027-01-01')"
    )
    conn.commit()
    conn.close()  # the last connection checkpoints: the file now holds everything
    before = digest(path)
    one_error_line(openmodels("status", "--db", str(path), env=env), "newer openmodels", "m999")
    assert digest(path) == before


@pytest.mark.parametrize(
    "where", ["missing-folder/s.db", "a-directory", "/proc/openmodels-cannot-write-here.db"]
)
def test_an_unwritable_store_location(tmp_path, env, where):
    (tmp_path / "a-directory").mkdir()
    path = where if where.startswith("/") else str(tmp_path / where)
    one_error_line(openmodels("collect", "--db", path, env=env), "store")


@pytest.mark.parametrize(
    ("variable", "value", "command", "fragment"),
    [
        ("SLACK_BOT_TOKEN", "", ["digest"], "neither SLACK_BOT_TOKEN nor SLACK_CLIENT_ID"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", ["digest"], "SLACK_BOT_TOKEN does not look like"),
        ("OPENMODELS_ALERT_CONFIRM", "many", ["status"], "OPENMODELS_ALERT_CONFIRM"),
        ("OPENMODELS_HUB_TIMEOUT", "-1", ["status"], "OPENMODELS_HUB_TIMEOUT"),
        ("OPENMODELS_HUB_TIMEOUT", "nan", ["status"], "OPENMODELS_HUB_TIMEOUT"),
        ("OPENMODELS_HUB_CONCURRENCY", "inf", ["status"], "OPENMODELS_HUB_CONCURRENCY"),
        ("OPENMODELS_CHART_WORKERS", "0", ["status"], "OPENMODELS_CHART_WORKERS"),
        ("OPENMODELS_ADMINS", "U012AB3CD, @alice", ["status"], "'@alice' is not one"),
        ("OPENMODELS_DERIVATIVES_TOP", "all", ["status"], "OPENMODELS_DERIVATIVES_TOP"),
    ],
)
def test_bad_environment_values_name_the_variable(tmp_path, variable, value, command, fragment):
    env = program_env(**{variable: value}, OPENMODELS_DB=str(tmp_path / "s.db"))
    result = openmodels(*command, env=env)
    one_error_line(result, fragment)
    assert value not in result.stderr or not value.startswith("xox")  # tokens never echoed


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        # Port 9 on loopback refuses connections at once.
        ("postgresql://openmodels:s3cret@127.0.0.1:9/openmodels", ("Connection refused",)),
        ("postgresql://openmodels@127.0.0.1:9/openmodels?sslmode=bogus", ("sslmode",)),
    ],
)
def test_a_postgresql_store_that_cannot_be_reached_is_named_without_its_password(
    env, url, fragments
):
    for command in (["status"], ["ask", "top"], ["collect"]):
        result = openmodels(command[0], "--db", url, *command[1:], env=env)
        one_error_line(result, "cannot open the store at postgresql://openmodels", *fragments)
        assert "s3cret" not in result.stderr + result.stdout


def test_a_backup_of_a_postgresql_store_says_to_use_pg_dump(env):
    url = "postgresql://openmodels:s3cret@db.internal:5432/openmodels"

    result = openmodels("backup", "--db", url, "nightly.dump", env=env)

    one_error_line(
        result,
        "the store is on PostgreSQL: back it up with pg_dump, e.g. pg_dump --format=custom "
        "--file=nightly.dump postgresql://openmodels@db.internal:5432/openmodels",
    )
    assert "s3cret" not in result.stderr
