"""What Slack sends an app: slash commands, interactions and Events API callbacks, and the
signature on each (https://docs.slack.dev/authentication/verifying-requests-from-slack).

Built here for the tests, the benchmarks and `openmodels demo`, which play Slack's part:
the stand-in's HTTP server and its Socket Mode endpoint send the same payloads.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from localslack.workspaces import APP_ID, BOT_USER_ID, CHANNEL_ID, DM_ID, TEAM_ID, USER_ID

JsonDict = dict[str, Any]


def public_view(stored: JsonDict) -> JsonDict:
    """A view as Slack shows it to the app: without the stand-in's own bookkeeping."""
    return {k: v for k, v in stored.items() if k != "user"}


def slash_command_fields(
    text: str,
    response_url: str,
    *,
    app_id: str = APP_ID,
    channel_id: str = CHANNEL_ID,
    user_id: str = USER_ID,
    team_id: str = TEAM_ID,
    enterprise_id: str | None = None,
    command: str = "/openmodels",
    trigger_id: str | None = None,
) -> dict[str, str]:
    """The fields Slack sends for a slash command: a form over HTTP, the same fields as
    JSON strings over Socket Mode, each with a trigger of its own
    (https://docs.slack.dev/interactivity/implementing-slash-commands;
    https://docs.slack.dev/apis/events-api/using-socket-mode#command). From an Enterprise
    Grid workspace they name the organisation too."""
    grid = {"enterprise_id": enterprise_id} if enterprise_id else {}
    return grid | {
        "token": "local-verification-token",
        "team_id": team_id,
        "team_domain": "local",
        "channel_id": channel_id,
        "channel_name": "local",
        "user_id": user_id,
        "user_name": "you",
        "command": command,
        "text": text,
        "api_app_id": app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }


def slash_command_body(text: str, response_url: str, **fields: Any) -> bytes:
    """The form body Slack POSTs for a slash command (`fields`: those of
    `slash_command_fields` to set)."""
    return urlencode(slash_command_fields(text, response_url, **fields)).encode()


def signed_headers(
    signing_secret: str,
    body: bytes,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """The headers Slack signs a request with (v0: HMAC-SHA256 of 'v0:ts:body').

    Slash commands and interactions come as forms; Events API callbacks as JSON.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(
        signing_secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def interaction_body(payload: JsonDict) -> bytes:
    """The form Slack POSTs for an interaction: `payload=` and the JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def event_callback(
    event: JsonDict,
    *,
    app_id: str = APP_ID,
    team_id: str = TEAM_ID,
    event_id: str | None = None,
    enterprise_id: str | None = None,
    bot_user_id: str = BOT_USER_ID,
) -> JsonDict:
    """The Events API's outer callback around `event`
    (https://docs.slack.dev/apis/events-api/#callback-field); POSTed as JSON. In an
    Enterprise Grid workspace it names the organisation too (java-slack-sdk's
    json-logs/samples/events/*Payload.json carry `enterprise_id` beside `team_id`)."""
    callback: JsonDict = {
        "token": "local-verification-token",
        "team_id": team_id,
        "api_app_id": app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    if enterprise_id:
        callback["enterprise_id"] = enterprise_id
    return callback


def app_home_opened(
    user_id: str = USER_ID,
    *,
    tab: str = "home",
    channel_id: str = DM_ID,
    view: JsonDict | None = None,
) -> JsonDict:
    """https://docs.slack.dev/reference/events/app_home_opened: `channel` is the user's
    direct-message channel with the app; `view` comes once a home view was published."""
    event: JsonDict = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id,
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = public_view(view)
    return event


def find_element(blocks: list[JsonDict], action_id: str) -> tuple[JsonDict, JsonDict] | None:
    """The actions block holding the element `action_id`, and the element; None if no
    actions block holds it."""
    for block in blocks:
        if block.get("type") != "actions":
            continue
        for element in block["elements"]:
            if element.get("action_id") == action_id:
                return block, element
    return None


def pressed(block: JsonDict, element: JsonDict, option_value: str | None = None) -> JsonDict:
    """What a block_actions payload says of `element` (in `block`) when it is pressed,
    or, for a select menu, when the option whose value is `option_value` is chosen
    (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload)."""
    action: JsonDict = {
        "type": element["type"],
        "action_id": element["action_id"],
        "block_id": block.get("block_id") or "local-block",
        "action_ts": f"{time.time():.6f}",
    }
    if element["type"] == "button":
        action["text"] = element["text"]
        action["value"] = element.get("value", "")
    elif element["type"] == "static_select":
        [option] = [o for o in element["options"] if o["value"] == option_value]
        action["selected_option"] = option
        action["placeholder"] = element.get("placeholder")
    return action


def message_actions_payload(
    action: JsonDict,
    response_url: str,
    *,
    trigger_id: str,
    channel_id: str = CHANNEL_ID,
    user_id: str = USER_ID,
    team_id: str = TEAM_ID,
    is_ephemeral: bool = True,
) -> JsonDict:
    """A click on an element of a message: it comes with a response URL."""
    return {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "username": "you", "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "local-verification-token",
        "container": {"type": "message", "channel_id": channel_id, "is_ephemeral": is_ephemeral},
        "trigger_id": trigger_id,
        "channel": {"id": channel_id, "name": "local"},
        "response_url": response_url,
        "actions": [action],
    }


def view_actions_payload(
    action: JsonDict,
    view: JsonDict,
    *,
    trigger_id: str,
    user_id: str = USER_ID,
    team_id: str = TEAM_ID,
) -> JsonDict:
    """A click on an element of a home tab or modal: it carries the view (its id and
    hash) and a trigger, but no response URL and no channel."""
    return {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "username": "you", "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "local-verification-token",
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": trigger_id,
        "view": public_view(view),
        "actions": [action],
    }


def block_actions_payload(
    action_id: str,
    value: str,
    response_url: str,
    *,
    app_id: str = APP_ID,
    channel_id: str = CHANNEL_ID,
    user_id: str = USER_ID,
    team_id: str = TEAM_ID,
    container: JsonDict | None = None,
    action_type: str = "button",
) -> JsonDict:
    """A click on a button in a message (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload)."""
    action = {
        "type": action_type,
        "action_id": action_id,
        "block_id": "local-block",
        "value": value,
        "action_ts": f"{time.time():.6f}",
    }
    payload = message_actions_payload(
        action,
        response_url,
        trigger_id=_trigger_id(),
        channel_id=channel_id,
        user_id=user_id,
        team_id=team_id,
    )
    payload["api_app_id"] = app_id
    if container is not None:
        payload["container"] = container
    return payload


def _trigger_id() -> str:
    return f"{uuid.uuid4().int % 10**12}.0.local"


def app_mention(text: str, *, channel_id: str = CHANNEL_ID, user_id: str = USER_ID) -> JsonDict:
    """https://docs.slack.dev/reference/events/app_mention"""
    ts = f"{time.time():.6f}"
    return {
        "type": "app_mention",
        "user": user_id,
        "text": text,
        "ts": ts,
        "channel": channel_id,
        "event_ts": ts,
    }


def message_im(text: str, *, user_id: str = USER_ID, channel_id: str = DM_ID) -> JsonDict:
    """A direct message to the app: `message` with channel_type im
    (https://docs.slack.dev/reference/events/message.im)."""
    ts = f"{time.time():.6f}"
    return {
        "type": "message",
        "channel": channel_id,
        "user": user_id,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
    }
