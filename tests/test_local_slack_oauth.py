"""The stand-in installs apps as Slack does: the consent page, oauth.v2.access, a token per
workspace that reaches only that workspace, token rotation, and the events Slack sends
when an app is uninstalled. Driven through slack_sdk's real WebClient and a browser."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack_client import make_web_client
from localslack.browser import Browser
from localslack.oauth import OAuthApp
from localslack.server import LocalSlack
from tests.slack_helpers import SIGNING_SECRET, signature, tiny_png

CLIENT_ID, CLIENT_SECRET = "111.222", "s3cret"
REDIRECT = "https://openmodels.example/slack/oauth_redirect"
SCOPES = "chat:write,commands,users:read"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def slack(clock: Clock) -> Iterator[LocalSlack]:
    with LocalSlack(strict_tokens=True, clock=clock) as server:
        server.add_workspace("T1", "One", members={"U1"}, admins={"U1A"}, channels={"C1"})
        server.add_workspace("T2", "Two", members={"U2"}, owners=("U2O",), channels={"C2"})
        server.register_app(OAuthApp(CLIENT_ID, CLIENT_SECRET, (REDIRECT,)))
        yield server


def consent(slack: LocalSlack, team: str, user: str, **query: str) -> dict[str, str]:
    """`user` of `team` allows the app on Slack's consent page: the redirect's query."""
    browser = slack.sign_in(team, user)
    asked = {"client_id": CLIENT_ID, "scope": SCOPES, "state": "st4te"} | query
    visit = browser.get(f"{slack.authorize_url}?{urlencode(asked)}")
    assert visit.status == 302, visit.text
    assert visit.location is not None and visit.location.startswith(REDIRECT)
    return {k: v[-1] for k, v in parse_qs(urlsplit(visit.location).query).items()}


def exchange(slack: LocalSlack, code: str, secret: str = CLIENT_SECRET) -> dict[str, Any]:
    """oauth.v2.access for `code`, as the app calls it: its answer."""
    client = make_web_client(None, slack.api_url)
    answer = client.oauth_v2_access(client_id=CLIENT_ID, client_secret=secret, code=code)
    return dict(answer.data)  # type: ignore[arg-type]


def install(slack: LocalSlack, team: str, user: str) -> dict[str, Any]:
    """Install the app in `team`: oauth.v2.access's answer."""
    return exchange(slack, consent(slack, team, user)["code"])


def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


# -- the consent page -------------------------------------------------------------------


def test_allowing_the_app_sends_the_browser_back_with_a_code_and_the_same_state(slack):
    back = consent(slack, "T2", "U2")

    assert back["state"] == "st4te" and back["code"]


def test_a_person_not_signed_in_is_asked_to_sign_in_and_given_no_code(slack):
    visit = Browser().get(f"{slack.authorize_url}?client_id={CLIENT_ID}&state=x")

    assert visit.status == 200 and "Sign in" in visit.text
    assert visit.location is None


def test_cancelling_sends_access_denied_back(slack):
    slack.oauth.deny_next()

    assert consent(slack, "T2", "U2") == {"error": "access_denied", "state": "st4te"}


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"client_id": "999.999"}, "Invalid client_id"),
        ({"redirect_uri": "https://evil.example/cb"}, "did not match any configured URIs"),
    ],
)
def test_a_wrong_client_or_redirect_url_stops_on_slacks_own_error_page(slack, query, shown):
    browser = slack.sign_in("T2", "U2")
    asked = {"client_id": CLIENT_ID, "state": "s"} | query

    visit = browser.get(f"{slack.authorize_url}?{urlencode(asked)}")

    assert visit.status == 400 and shown in visit.text and visit.location is None


# -- oauth.v2.access ----------------------------------------------------------------------


def test_a_code_is_exchanged_for_a_bot_token_of_that_workspace(slack):
    answer = install(slack, "T2", "U2")

    assert answer["ok"] and answer["token_type"] == "bot"
    assert answer["team"] == {"id": "T2", "name": "Two"} and answer["authed_user"] == {"id": "U2"}
    assert answer["enterprise"] is None and answer["is_enterprise_install"] is False
    assert set(answer["scope"].split(",")) == set(SCOPES.split(","))
    who = make_web_client(answer["access_token"], slack.api_url).auth_test()
    assert (who["team_id"], who["user_id"]) == ("T2", answer["bot_user_id"])


def test_a_code_works_once(slack):
    code = consent(slack, "T2", "U2")["code"]
    exchange(slack, code)

    assert error_of(lambda: exchange(slack, code)) == "invalid_code"


def test_a_code_expires_after_ten_minutes(slack, clock):
    code = consent(slack, "T2", "U2")["code"]
    clock.now += 601

    assert error_of(lambda: exchange(slack, code)) == "invalid_code"


def test_a_wrong_secret_or_redirect_url_is_refused(slack):
    code = consent(slack, "T2", "U2", redirect_uri=REDIRECT)["code"]

    assert error_of(lambda: exchange(slack, "c", secret="x")) == "bad_client_secret"
    # The redirect URL was sent to the consent page, so the exchange must send it too.
    assert error_of(lambda: exchange(slack, code)) == "bad_redirect_uri"


def test_neither_token_nor_code_nor_secret_is_kept_in_the_calls_record(slack):
    answer = install(slack, "T2", "U2")
    make_web_client(answer["access_token"], slack.api_url).auth_test()

    recorded = json.dumps([c.params for c in slack.calls])
    assert answer["access_token"] not in recorded
    assert CLIENT_SECRET not in recorded and '"code"' not in recorded
    assert [(c.team, c.token_serial) for c in slack.calls_to("auth.test")] == [("T2", 1)]


# -- a token reaches its own workspace only ---------------------------------------------


def test_each_workspace_gets_its_own_token_which_reaches_only_its_own_workspace(slack):
    one = make_web_client(install(slack, "T1", "U1")["access_token"], slack.api_url)
    two = make_web_client(install(slack, "T2", "U2")["access_token"], slack.api_url)

    assert two.chat_postMessage(channel="C2", text="hello")["ok"]
    assert error_of(lambda: one.chat_postMessage(channel="C2", text="hi")) == "channel_not_found"
    assert error_of(lambda: one.users_info(user="U2")) == "user_not_found"
    uploaded = two.files_upload_v2(content=tiny_png(), filename="c.png", title="c")
    assert error_of(lambda: one.files_info(file=uploaded["file"]["id"])) == "file_not_found"
    posted = [(c.team, c.params.get("channel")) for c in slack.calls_to("chat.postMessage")]
    assert posted[0] == ("T2", "C2")


def test_a_token_slack_never_issued_is_invalid_auth(slack):
    client = make_web_client("xoxb-0-made-up", slack.api_url)

    assert error_of(lambda: client.chat_postMessage(channel="C1", text="x")) == "invalid_auth"


def test_users_info_says_who_is_an_admin_or_owner(slack):
    client = make_web_client(install(slack, "T2", "U2")["access_token"], slack.api_url)

    owner, member = client.users_info(user="U2O")["user"], client.users_info(user="U2")["user"]

    assert (owner["is_owner"], owner["is_primary_owner"], owner["is_admin"]) == (True, True, True)
    assert (member["is_owner"], member["is_admin"]) == (False, False)


def test_users_info_needs_users_read(slack):
    answer = exchange(slack, consent(slack, "T2", "U2", scope="chat:write")["code"])
    client = make_web_client(answer["access_token"], slack.api_url)

    assert error_of(lambda: client.users_info(user="U2")) == "missing_scope"


# -- token rotation ----------------------------------------------------------------------


@pytest.fixture
def rotating(slack: LocalSlack) -> LocalSlack:
    slack.register_app(OAuthApp(CLIENT_ID, CLIENT_SECRET, (REDIRECT,), token_rotation=True))
    return slack


def test_with_token_rotation_a_token_expires_after_12_hours(rotating, clock):
    answer = install(rotating, "T2", "U2")
    client = make_web_client(answer["access_token"], rotating.api_url)

    assert answer["access_token"].startswith("xoxe.xoxb-") and answer["expires_in"] == 43200
    assert client.auth_test()["ok"]
    clock.now += 43200
    assert error_of(client.auth_test) == "token_expired"


def test_a_refresh_token_gives_a_new_token_once(rotating):
    answer = install(rotating, "T2", "U2")
    client = make_web_client(None, rotating.api_url)
    refresh = lambda: client.oauth_v2_access(  # noqa: E731
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        grant_type="refresh_token",
        refresh_token=answer["refresh_token"],
    )

    renewed = refresh()

    assert renewed["access_token"] != answer["access_token"]
    assert renewed["refresh_token"] != answer["refresh_token"]
    assert renewed["team"]["id"] == "T2" and renewed["token_type"] == "bot"
    assert error_of(refresh) == "invalid_refresh_token"
    assert make_web_client(renewed["access_token"], rotating.api_url).auth_test()["ok"]
    assert [c.token_serial for c in rotating.calls_to("auth.test")] == [2]


# -- uninstalling ------------------------------------------------------------------------


class EventsReceiver:
    """An app's Request URL: records each signed event callback Slack sends."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ts = self.headers["X-Slack-Request-Timestamp"]
                signed = self.headers["X-Slack-Signature"] == signature(body, ts)
                received.append((signed, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"


def test_uninstalling_revokes_the_tokens_and_sends_both_events_signed(slack):
    receiver = EventsReceiver()
    app = OAuthApp(
        CLIENT_ID,
        CLIENT_SECRET,
        (REDIRECT,),
        events_url=receiver.url,
        signing_secret=SIGNING_SECRET,
    )
    slack.register_app(app)
    answer = install(slack, "T2", "U2")
    one = make_web_client(install(slack, "T1", "U1")["access_token"], slack.api_url)

    assert slack.uninstall("T2") == [200, 200]

    events = [(signed, body["team_id"], body["event"]) for signed, body in receiver.received]
    assert events == [
        (True, "T2", {"type": "app_uninstalled"}),
        (
            True,
            "T2",
            {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [answer["bot_user_id"]]}},
        ),
    ]
    two = make_web_client(answer["access_token"], slack.api_url)
    assert error_of(two.auth_test) == "token_revoked"
    assert one.auth_test()["team_id"] == "T1"  # the other workspace is untouched
    receiver.server.shutdown()
