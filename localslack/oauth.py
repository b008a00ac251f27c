"""Slack's side of installing an app: the consent page, oauth.v2.access, token rotation,
and the events Slack sends when the app is uninstalled or its token revoked.

Sources, beside each rule below:
- the flow: the app sends the person to https://slack.com/oauth/v2/authorize with its
  client_id, scopes and `state`; once they allow it, Slack redirects their browser to the
  app's redirect URL with a temporary `code` and the same `state`, or with
  `error=access_denied` if they cancel; the app exchanges the code through
  oauth.v2.access (docs.slack.dev/authentication/installing-with-oauth). A code is good
  for ten minutes (same page) and once (RFC 6749 §4.1.2: "If an authorization code is
  used more than once, the authorization server MUST deny the request");
- oauth.v2.access takes the client id and secret as HTTP Basic authentication (which
  slack_sdk sends) or as parameters, and answers invalid_client_id, bad_client_secret,
  invalid_code, bad_redirect_uri ("it is required if your app passed it as a parameter
  to oauth/authorization in the first step", quoted in slack-edge/slack-cloudflare-
  workers#1) or invalid_grant_type (the method's error table, e.g. hexdocs.pm
  SlackWeb.Oauth.V2.access); a successful answer has the fields of
  slackapi/java-slack-sdk json-logs/samples/api/oauth.v2.access.json;
- a redirect URL the app did not configure is refused on the consent page itself:
  "OAuth Error: redirect_uri did not match any configured URIs. Passed URI: …"
  (outline/outline#688);
- token rotation: the bot token "expires every 12 hours"; oauth.v2.access with
  grant_type=refresh_token exchanges the refresh token for a new token and a new refresh
  token, and "the refresh token is then revoked"
  (docs.slack.dev/authentication/using-token-rotation); an unknown or spent one is
  invalid_refresh_token (the error tooling.tokens.rotate documents for the same
  exchange);
- uninstalling sends `app_uninstalled` and `tokens_revoked` (vm0-ai/vm0#5647: removing
  the app from a workspace's settings fires both), tokens_revoked possibly after
  app_uninstalled (slackapi/bolt-js#673), in the shapes of java-slack-sdk's
  json-logs/samples/events/AppUninstalledPayload.json and TokensRevokedPayload.json
  (`tokens.bot` lists the bot's user id).

A person is signed in to Slack in their browser: the stand-in's session cookie is `d`,
as Slack's is (rygwdn/slack-tools#1 shows a client sending `Cookie: d=xoxd-…`).
"""

from __future__ import annotations

import base64
import html
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from localslack.payloads import event_callback
from localslack.workspaces import APP_ID, Workspace, Workspaces

JsonDict = dict[str, Any]
SESSION_COOKIE = "d"
CODE_SECONDS = 600.0  # a code is good for ten minutes
TOKEN_SECONDS = 12 * 3600.0  # a rotating token expires after 12 hours


@dataclass(frozen=True)
class OAuthApp:
    """The app as configured at api.slack.com: what the OAuth flow checks, and where
    Slack sends its events."""

    client_id: str
    client_secret: str
    redirect_urls: tuple[str, ...]
    token_rotation: bool = False
    token_seconds: float = TOKEN_SECONDS  # how long a rotating token lasts
    events_url: str | None = None  # the app's Request URL (HTTP mode)
    signing_secret: str | None = None
    app_id: str = APP_ID


@dataclass
class _Code:
    team_id: str
    user_id: str
    scopes: frozenset[str]
    redirect_uri: str | None  # as sent to the consent page, if it was
    org_wide: bool
    issued_at: float
    used: bool = False


@dataclass(frozen=True)
class _Session:
    team_id: str
    user_id: str
    org_wide: bool  # an org admin installing for the whole Enterprise Grid organisation


@dataclass
class Page:
    """An answer of Slack's web pages: a status, its headers, an HTML body."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class OAuth:
    """The OAuth side of the stand-in, for one app."""

    def __init__(self, workspaces: Workspaces) -> None:
        self.workspaces = workspaces
        self.app: OAuthApp | None = None
        self.exchanges = 0  # codes exchanged for tokens
        self.refreshes = 0  # tokens refreshed
        self._codes: dict[str, _Code] = {}
        self._sessions: dict[str, _Session] = {}
        self._refresh_tokens: dict[str, tuple[str, frozenset[str]]] = {}
        self._deny = 0
        self._lock = threading.Lock()

    def register(self, app: OAuthApp) -> None:
        self.app = app

    def sign_in(self, team_id: str, user_id: str, *, org_wide: bool = False) -> str:
        """A person signed in to Slack: the value of their session cookie."""
        value = "xoxd-" + secrets.token_urlsafe(16)
        with self._lock:
            self._sessions[value] = _Session(team_id, user_id, org_wide)
        return value

    def deny_next(self, n: int = 1) -> None:
        """The next `n` people on the consent page click Cancel."""
        with self._lock:
            self._deny += n

    # -- the consent page -----------------------------------------------------------------

    def consent(self, query: dict[str, str], session: str | None) -> Page:
        """GET /oauth/v2/authorize: the person allows the app (or cancels), and Slack sends
        their browser back to the app's redirect URL."""
        app = self.app
        with self._lock:
            who = self._sessions.get(session or "")
        if who is None:
            return Page(200, _page("Sign in to your workspace", "Sign in to continue to Slack."))
        if app is None or query.get("client_id") != app.client_id:
            return Page(400, _page("Invalid client_id parameter", "Check the app's client id."))
        sent = query.get("redirect_uri") or None
        redirect = sent or app.redirect_urls[0]
        if redirect not in app.redirect_urls:
            allowed = " ".join(f"Allowed URI : {u}" for u in app.redirect_urls)
            text = f"redirect_uri did not match any configured URIs. Passed URI : {redirect}"
            return Page(400, _page("OAuth Error", f"{text} {allowed}"))
        state = query.get("state", "")
        with self._lock:
            if self._deny:
                self._deny -= 1
                return _redirect(redirect, {"error": "access_denied", "state": state})
            code = f"{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
            scopes = frozenset(s for s in query.get("scope", "").split(",") if s)
            self._codes[code] = _Code(
                who.team_id,
                who.user_id,
                scopes,
                sent,
                who.org_wide,
                self.workspaces.clock(),
            )
        return _redirect(redirect, {"code": code, "state": state})

    # -- oauth.v2.access -------------------------------------------------------------------

    def access(self, params: dict[str, Any], authorization: str) -> JsonDict:
        """oauth.v2.access: a code, or a refresh token, for a bot token."""
        client_id, secret = _client(params, authorization)
        app = self.app
        if app is None or client_id != app.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if secret != app.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        grant_type = params.get("grant_type") or "authorization_code"
        if grant_type == "refresh_token":
            return self._refresh(app, str(params.get("refresh_token") or ""))
        if grant_type != "authorization_code":
            return {"ok": False, "error": "invalid_grant_type"}
        now = self.workspaces.clock()
        with self._lock:
            code = self._codes.get(str(params.get("code") or ""))
            if code is None or code.used or now - code.issued_at > CODE_SECONDS:
                return {"ok": False, "error": "invalid_code"}
            code.used = True
            if code.redirect_uri is not None and params.get("redirect_uri") != code.redirect_uri:
                return {"ok": False, "error": "bad_redirect_uri"}
            self.exchanges += 1
        workspace = self.workspaces.get(code.team_id)
        assert workspace is not None, f"no workspace {code.team_id}: add_workspace first"
        with self.workspaces.lock:
            workspace.installed = True
        answer = self._tokens(app, workspace, code.scopes, org_wide=code.org_wide)
        answer["authed_user"] = {"id": code.user_id}
        return answer

    def _refresh(self, app: OAuthApp, refresh_token: str) -> JsonDict:
        with self._lock:
            found = self._refresh_tokens.pop(refresh_token, None)
        workspace = self.workspaces.get(found[0]) if found else None
        if found is None or workspace is None or not workspace.installed:
            return {"ok": False, "error": "invalid_refresh_token"}
        with self._lock:
            self.refreshes += 1
        return self._tokens(app, workspace, found[1], org_wide=False)

    def _tokens(
        self, app: OAuthApp, workspace: Workspace, scopes: frozenset[str], *, org_wide: bool
    ) -> JsonDict:
        lifetime = app.token_seconds if app.token_rotation else None
        token = self.workspaces.issue(workspace.id, scopes, lifetime, org_wide=org_wide)
        enterprise = (
            {"id": workspace.enterprise_id, "name": workspace.enterprise_name}
            if workspace.enterprise_id
            else None
        )
        answer: JsonDict = {
            "ok": True,
            "app_id": app.app_id,
            "scope": ",".join(sorted(scopes)),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": workspace.bot_user_id,
            # An org-wide install is the organisation's, not one workspace's.
            "team": None if org_wide else {"id": workspace.id, "name": workspace.name},
            "enterprise": enterprise,
            "is_enterprise_install": org_wide,
        }
        if lifetime is not None:
            refresh = "xoxe-1-" + secrets.token_hex(24)
            with self._lock:
                self._refresh_tokens[refresh] = (workspace.id, scopes)
            answer |= {"refresh_token": refresh, "expires_in": int(lifetime)}
        return answer

    # -- uninstalling -----------------------------------------------------------------------

    def uninstall(self, team_id: str) -> list[JsonDict]:
        """The app is removed from `team_id`: its tokens stop working at once. The event
        callbacks Slack then sends the app, in the order it may send them."""
        workspace = self.workspaces.get(team_id)
        assert workspace is not None, f"no workspace {team_id}"
        with self.workspaces.lock:
            workspace.installed = False
        self.workspaces.revoke(team_id)
        return [
            self._callback(workspace, {"type": "app_uninstalled"}),
            self._revoked(workspace),
        ]

    def revoke_bot(self, team_id: str) -> list[JsonDict]:
        """The bot's token is revoked (auth.revoke, or a workspace admin): the app stays
        installed, its token no longer works. The tokens_revoked callback."""
        workspace = self.workspaces.get(team_id)
        assert workspace is not None, f"no workspace {team_id}"
        self.workspaces.revoke(team_id)
        return [self._revoked(workspace)]

    def _revoked(self, workspace: Workspace) -> JsonDict:
        event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [workspace.bot_user_id]}}
        return self._callback(workspace, event)

    def _callback(self, workspace: Workspace, event: JsonDict) -> JsonDict:
        app_id = self.app.app_id if self.app else APP_ID
        return event_callback(
            event,
            app_id=app_id,
            team_id=workspace.id,
            enterprise_id=workspace.enterprise_id,
            bot_user_id=workspace.bot_user_id,
        )


def _client(params: dict[str, Any], authorization: str) -> tuple[str, str]:
    """The client id and secret: from HTTP Basic authentication, else the parameters."""
    if authorization.startswith("Basic "):
        try:
            decoded = base64.b64decode(authorization[6:], validate=True).decode()
        except ValueError:
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return str(params.get("client_id") or ""), str(params.get("client_secret") or "")


def _redirect(url: str, query: dict[str, str]) -> Page:
    joiner = "&" if urlsplit(url).query else "?"
    return Page(302, headers={"Location": url + joiner + urlencode(query)})


def _page(title: str, text: str) -> str:
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
