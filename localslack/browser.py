"""A person's web browser, for installing an app the way people do: open the app's install
page, click "Add to Slack", allow the app on Slack's consent page, land back on the app.

It keeps cookies per host, as browsers do (the port plays no part: RFC 6265 §8.5,
"cookies do not provide isolation by port"), sends them back, and follows redirects one
hop at a time so that each hop can be looked at. The loopback address counts as a
secure context, as browsers treat it, so a `Secure` cookie is sent over plain HTTP to
127.0.0.1.
"""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urljoin, urlsplit

MAX_REDIRECTS = 10
_LINK = re.compile(r'<a\s[^>]*href="([^"]+)"', re.IGNORECASE)


@dataclass
class Visit:
    """One page the browser was given: where, its status, headers and text."""

    url: str
    status: int
    headers: dict[str, str]
    text: str

    @property
    def location(self) -> str | None:
        found = self.headers.get("location")
        return urljoin(self.url, found) if found else None

    def links(self) -> list[str]:
        """The targets of the page's links, as the browser would follow them."""
        return [urljoin(self.url, html.unescape(href)) for href in _LINK.findall(self.text)]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the browser follows them itself, hop by hop


@dataclass
class Browser:
    """Cookies by host, and the pages visited in order."""

    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    history: list[Visit] = field(default_factory=list)

    def set_cookie(self, url: str, name: str, value: str) -> None:
        """A cookie the browser already holds for `url`'s host (say, Slack's session)."""
        self.cookies.setdefault(_host(url), {})[name] = value

    def get(self, url: str) -> Visit:
        """GET `url` with the host's cookies; keep the cookies the answer sets."""
        host = _host(url)
        request = urllib.request.Request(url)
        jar = self.cookies.get(host) or {}
        if jar:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items()))
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            with opener.open(request, timeout=10) as reply:
                visit = _visit(url, reply.status, reply.headers, reply.read())
        except urllib.error.HTTPError as exc:
            visit = _visit(url, exc.code, exc.headers, exc.read())
        for header in visit.headers.get("set-cookie-all", "").split("\n"):
            parsed = SimpleCookie(header) if header else SimpleCookie()
            for name, morsel in parsed.items():
                self.cookies.setdefault(host, {})[name] = morsel.value
        self.history.append(visit)
        return visit

    def follow(self, url: str) -> Visit:
        """GET `url` and every redirect after it; the last page."""
        visit = self.get(url)
        for _ in range(MAX_REDIRECTS):
            if visit.status not in {301, 302, 303, 307, 308} or visit.location is None:
                return visit
            visit = self.get(visit.location)
        raise RuntimeError(f"more than {MAX_REDIRECTS} redirects from {url}")

    def add_to_slack(self, install_url: str) -> Visit:
        """Open the app's install page, click its "Add to Slack" link, allow the app on
        Slack's consent page and follow Slack back to the app: the page the app shows at
        the end (or wherever the flow stopped)."""
        page = self.get(install_url)
        if page.status != 200 or not page.links():
            return page
        return self.follow(page.links()[0])


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _visit(url: str, status: int, headers: object, body: bytes) -> Visit:
    found: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in getattr(headers, "items", lambda: [])():
        if name.lower() == "set-cookie":
            cookies.append(value)
        found[name.lower()] = value
    found["set-cookie-all"] = "\n".join(cookies)
    return Visit(url, status, found, body.decode("utf-8", "replace"))
