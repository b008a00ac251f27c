"""manifest.yml is a valid Slack app manifest that declares what the code uses.

Validated offline against Slack's official manifest JSON schema (draft-07, MIT) when
a copy lives in `shared/` beside the repository; a plain clone has none, and those two
tests are skipped. The other checks need nothing outside the repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO.parent / "shared" / "slack-manifest-schema" / "manifest.schema.1.0.0.json"

# The scopes each Web API method the code calls needs (Slack's method reference).
SCOPES_FOR = {
    "auth_test": set(),
    # Called with the app-level token, whose connections:write is no bot scope.
    "apps_connections_open": set(),
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "files_upload_v2": {"files:write"},
    "files_getUploadURLExternal": {"files:write"},
    "files_completeUploadExternal": {"files:write"},
    "files_info": {"files:read"},
    "conversations_history": {"channels:history", "groups:history"},
    # Bot tokens read threads with the history scopes: Slack's missing_scope answer
    # names them (alex000kim/slack-gpt-bot#7), though its docs say a user token is needed.
    "conversations_replies": {"channels:history", "groups:history"},
    "conversations_info": {"channels:read", "groups:read"},
}


@pytest.fixture(scope="module")
def manifest():
    return yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema():
    if not SCHEMA.is_file():
        pytest.skip(f"no copy of Slack's manifest schema at {SCHEMA}")
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


def test_manifest_matches_slacks_schema(manifest, schema):
    jsonschema.Draft7Validator.check_schema(schema)

    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)

    assert errors == [], "\n".join(e.message for e in errors)


def test_manifest_declares_the_openmodels_command(manifest):
    [command] = manifest["features"]["slash_commands"]

    assert command["command"] == "/openmodels"
    assert command["description"]
    assert "compare" in command["usage_hint"]


def test_manifest_turns_on_socket_mode_and_interactivity(manifest):
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True  # the share button


def test_manifest_asks_for_the_scopes_the_code_uses_and_no_more(manifest):
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    called = set()
    for source in [*REPO.glob("bot/*.py"), *REPO.glob("commands/*.py")]:
        called |= set(re.findall(r"client\.(\w+)\(", source.read_text(encoding="utf-8")))
    unknown = called - SCOPES_FOR.keys()

    assert not unknown, f"add the scopes of {sorted(unknown)} to SCOPES_FOR and manifest.yml"
    needed = {"commands"}.union(*(SCOPES_FOR[m] for m in called))
    assert needed <= granted
    assert granted - needed == set(), "a scope nothing uses"


def test_the_schema_check_would_catch_a_broken_manifest(manifest, schema):
    broken = {**manifest, "features": {"slash_commands": [{"command": "openmodels"}]}}

    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))
