"""Installing openmodels in any workspace through Slack's OAuth flow, with Bolt's own flow.

`/slack/install` shows an "Add to Slack" page; Slack sends the person back to
`/slack/oauth_redirect` with a code, which Bolt exchanges for the workspace's bot token
(oauth.v2.access) and keeps in slack_sdk's installation store; the state that ties the
two ends together is kept by slack_sdk's state store for 10 minutes. Both are
slack_sdk's stores in openmodels' own database (bot.slack_stores: its SQLite stores in
the store's file, its SQLAlchemy stores in the store's PostgreSQL database), so a backup
of the store holds them too.

What openmodels adds to Bolt's flow:
- every ending gets a page that says in a sentence what happened and what to do: an
  install link that expired or was opened in another browser, a code Slack no longer
  accepts (used already, or expired), no code at all, a person who cancelled. None of
  them changes anything;
- a successful install is recorded beside Slack's record (storage.workspaces): the
  Enterprise Grid organisation the workspace belongs to, for finding its token later,
  and who installed it, who may restrict who changes subscriptions;
- org-wide installs (one install for a whole Enterprise Grid organisation) are refused
  with a page that says so, before anything is kept: openmodels keys everything by
  workspace, so it is installed in each workspace of an organisation separately, each
  keyed by organisation and workspace. The manifest keeps org_deploy_enabled false, so
  Slack does not offer such an install in the first place.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_bolt.error import BoltError
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.installations import STATE_SECONDS
from openmodels.errors import OpenModelsError
from storage import Store
from storage import workspaces as ws
from storage.snapshots import format_timestamp

if TYPE_CHECKING:
    from slack_sdk import WebClient
    from slack_sdk.oauth.installation_store import Installation

    from bot.installations import Installations
    from bot.settings import OAuthCredentials

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"

_START_AGAIN = f'<a href="{INSTALL_PATH}">Start again from the install page</a>.'
# What each of Bolt's failure reasons means to the person installing, and what to do.
FAILURES = {
    "invalid_browser": (
        "This installation was started in another browser, or its cookie is gone, so it "
        "cannot be finished here. Nothing was installed. " + _START_AGAIN
    ),
    "invalid_state": (
        "This installation link has expired (links are good for 10 minutes) or was used "
        "already. Nothing was installed. " + _START_AGAIN
    ),
    "missing_code": (
        "Slack sent no authorization code with this page, so there is nothing to install. "
        + _START_AGAIN
    ),
    "invalid_code": (
        "Slack did not accept this installation's authorization code: it was used "
        "already, or has expired. Nothing was installed. " + _START_AGAIN
    ),
    "access_denied": (
        "The installation was cancelled in Slack. Nothing was installed. " + _START_AGAIN
    ),
    "storage_error": (
        "Slack allowed the installation, but this openmodels server could not keep it, so "
        "nothing was installed. Try again in a few minutes; if it goes on, tell whoever "
        "runs this openmodels server."
    ),
}
ORG_WIDE_REFUSED = (
    "openmodels is installed one workspace at a time, and cannot be installed for a whole "
    "Enterprise Grid organisation at once. Nothing was installed. Install it into each "
    "workspace that wants it from this server's install page, choosing the workspace on "
    "Slack's page."
)


class OrgWideInstall(BoltError):
    """An install for a whole Enterprise Grid organisation: refused before it is kept."""


class WorkspaceInstallFlow(OAuthFlow):
    """Bolt's OAuth flow, refusing org-wide installs before anything is kept."""

    def store_installation(self, request: BoltRequest, installation: Installation) -> None:
        if installation.is_enterprise_install:
            raise OrgWideInstall(f"org-wide install for {installation.enterprise_id}")
        super().store_installation(request, installation)


def authorization_url(api_url: str) -> str:
    """Slack's consent page beside its Web API: https://slack.com/oauth/v2/authorize for
    https://slack.com/api/ (GovSlack's and a stand-in's the same way)."""
    return api_url.rstrip("/").removesuffix("/api") + "/oauth/v2/authorize"


def install_flow(
    credentials: OAuthCredentials,
    installations: Installations,
    store: Store,
    client: WebClient,
    scopes: Sequence[str],
    api_url: str,
) -> tuple[OAuthSettings, WorkspaceInstallFlow]:
    """Bolt's OAuth settings and flow: slack_sdk's stores, our pages, `scopes`."""
    pages = InstallPages(store)
    settings = OAuthSettings(
        # Every value explicit: Bolt would otherwise read SLACK_* variables itself, and
        # fall back to file stores meant for development.
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        scopes=list(scopes),
        user_scopes=[],
        redirect_uri=credentials.redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=authorization_url(api_url),
        installation_store=installations.store,
        token_rotation_expiration_minutes=installations.minutes,
        state_store=installations.states,
        state_expiration_seconds=STATE_SECONDS,
        callback_options=CallbackOptions(success=pages.success, failure=pages.failure),
        logger=logging.getLogger("bot.bolt"),
    )
    flow = WorkspaceInstallFlow(
        client=client, logger=logging.getLogger("bot.bolt"), settings=settings
    )
    return settings, flow


class InstallPages:
    """The page at the end of the flow, and recording a successful install."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def success(self, args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        team = installation.team_id or ""
        record_install(self.store, installation)
        log.info(
            "openmodels installed in workspace %s (%s) by %s",
            team,
            installation.team_name,
            installation.user_id,
        )
        name = html.escape(installation.team_name or team)
        body = (
            f"In {name}, type <code>/openmodels top</code> in any channel; "
            "<code>/openmodels help</code> lists the rest."
        )
        return _page(200, "openmodels is installed", body, args.settings)

    def failure(self, args: FailureArgs) -> BoltResponse:
        if isinstance(args.error, OrgWideInstall):
            log.warning("refused an org-wide install (%s)", args.error)
            return _page(400, "openmodels was not installed", ORG_WIDE_REFUSED, args.settings)
        known = FAILURES.get(args.reason)
        if known is None:
            # An error Slack itself sent back (the `error` parameter), e.g. invalid_scope.
            known = (
                f"Slack stopped the installation ({html.escape(args.reason)}). Nothing was "
                "installed. " + _START_AGAIN
            )
        log.warning("an installation ended without installing: %s", args.reason)
        status = args.suggested_status_code if args.reason != "access_denied" else 200
        return _page(status, "openmodels was not installed", known, args.settings)


def record_install(store: Store, installation: Installation, now: datetime | None = None) -> None:
    """Record the workspace's organisation and installer beside Slack's record. A
    failure is logged: the install stands (its token is kept and answers work), but the
    scheduled jobs find a Grid workspace's token by this row's organisation, so they
    skip it until it installs again."""
    if store.sample:
        return  # the demo's bundled sample is read-only
    team = installation.team_id or ""
    try:
        with store.writing() as db:
            ws.record_install(
                db,
                team,
                installation.enterprise_id,
                installation.user_id,
                format_timestamp(now or datetime.now(UTC)),
            )
    except OpenModelsError as exc:
        log.error("could not record the install of workspace %s: %s", team, exc)


def _page(status: int, title: str, body: str, settings: OAuthSettings) -> BoltResponse:
    document = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{body}</p></body></html>"
    )
    # The install link's state cookie is spent either way: the browser forgets it.
    cookie = settings.state_utils.build_set_cookie_for_deletion()
    headers = {"Content-Type": "text/html; charset=utf-8", "Set-Cookie": [cookie]}
    return BoltResponse(status=status, body=document, headers=headers)
