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
    "conversations_members": {"channels:read", "groups:read"},
    # The home tab asks for public and private channels (types=public_channel,private_channel).
    "users_conversations": {"channels:read", "groups:read"},
    "views_publish": set(),
    "views_open": set(),
    "views_update": set(),
    "users_info": {"users:read"},
}
# The scope each event the bot subscribes to needs (Slack's event reference).
EVENT_SCOPES = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "message.im": {"im:history"},
    # Sent to every app, whatever its scopes (Slack's event reference).
    "app_uninstalled": set(),
    "tokens_revoked": set(),
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
    assert manifest["settings"]["interactivity"]["is_enabled"] is True  # buttons, menus, modals


def _sources() -> list[Path]:
    return [*REPO.glob("bot/*.py"), *REPO.glob("commands/*.py")]


def test_manifest_asks_for_the_scopes_the_code_and_its_events_use_and_no_more(manifest):
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    called = set()
    for source in _sources():
        called |= set(re.findall(r"client\.(\w+)\(", source.read_text(encoding="utf-8")))
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    unknown = called - SCOPES_FOR.keys()

    assert not unknown, f"add the scopes of {sorted(unknown)} to SCOPES_FOR and manifest.yml"
    assert events <= EVENT_SCOPES.keys(), "add the new event's scopes to EVENT_SCOPES"
    needed = {"commands"}.union(
        *(SCOPES_FOR[m] for m in called), *(EVENT_SCOPES[e] for e in events)
    )
    assert needed <= granted
    assert granted - needed == set(), "a scope nothing uses"


def test_the_scopes_an_install_asks_for_are_the_manifests(manifest):
    # Installs through OAuth ask each workspace for BOT_SCOPES; the manifest is what the
    # app's settings page holds. They must be the same list.
    from bot.app import BOT_SCOPES

    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])


def test_installs_come_back_to_the_redirect_path_the_app_serves(manifest):
    from bot.oauth import REDIRECT_PATH

    [url] = manifest["oauth_config"]["redirect_urls"]

    assert url.startswith("https://") and url.endswith(REDIRECT_PATH)


def test_every_event_the_code_listens_for_is_declared(manifest):
    declared = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    listened = set()
    for source in _sources():
        text = source.read_text(encoding="utf-8")
        listened |= set(re.findall(r"app\.event\(\s*[\"']([\w.]+)[\"']", text))
        if re.search(r"app\.message\(", text):
            listened.add("message")
    # Bolt names a message event by its type, "message"; the manifest subscribes to the
    # direct messages only, as message.im.
    listened = {"message.im" if event == "message" else event for event in listened}

    assert "app_home_opened" in listened
    assert listened <= declared


def test_manifest_turns_on_the_home_tab_and_the_messages_tab(manifest):
    app_home = manifest["features"]["app_home"]

    assert app_home["home_tab_enabled"] is True
    assert app_home["messages_tab_enabled"] is True


def test_the_schema_check_would_catch_a_broken_manifest(manifest, schema):
    broken = {**manifest, "features": {"slash_commands": [{"command": "openmodels"}]}}

    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))
