"""Load the HTTP endpoint with signed `/openmodels` slash commands and time the acks.

Slack gives an app 3 seconds to acknowledge a slash command. This script sends
`--count` signed commands, `--concurrency` at a time, to `--url`, each with its own
response URL (`--response-url-base`/1, /2, …), and prints one JSON line:

    {"count": 500, "errors": 0, "p50_ms": 12.3, "p99_ms": 80.1, "max_ms": 95.0, "over_3s": 0,
     "by_text": {"top": {"count": 500, ...}}}

With `--text` given several times the commands take the texts in turn (a mix); the
figures are given for all of them and per text. `--report FILE` writes one JSON line
per command: its response URL, text, status, ack seconds and `sent`, the
time.monotonic() at which it was sent (the same clock in every process of the machine,
so a stand-in Slack can tell how long the answer took to arrive).

An error is anything but an HTTP 200 (a refusal, a timeout, a refused connection).
The ack time is from sending the request to reading the whole HTTP response.
Standard library only, so it runs as a separate process beside any server:

    python benchmarks/load_slash.py --url http://127.0.0.1:3000/slack/events \\
        --signing-secret "$SLACK_SIGNING_SECRET" \\
        --response-url-base http://127.0.0.1:9999/response
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import statistics
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

SLACK_ACK_SECONDS = 3.0


@dataclass(frozen=True)
class Ack:
    """One request's outcome: its HTTP status (0 when none came) and how long it took."""

    status: int
    seconds: float
    text: str = ""
    response_url: str = ""
    sent: float = 0.0  # time.monotonic() when it was sent


def slash_body(text: str, response_url: str) -> bytes:
    """The x-www-form-urlencoded form Slack POSTs for `/openmodels text`."""
    return urlencode(
        {
            "team_id": "T0LOAD",
            "team_domain": "load",
            "channel_id": "C0LOAD",
            "channel_name": "load",
            "user_id": "U0LOAD",
            "user_name": "load",
            "command": "/openmodels",
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    ).encode()


def signed_headers(secret: str, body: bytes, now: float) -> dict[str, str]:
    """Slack's v0 signature: HMAC-SHA256 of 'v0:{timestamp}:{body}' with the signing secret."""
    timestamp = str(int(now))
    digest = hmac.new(
        secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def send(url: str, secret: str, text: str, response_url: str, timeout: float) -> Ack:
    """POST one signed slash command; signed just before sending, as Slack does."""
    body = slash_body(text, response_url)
    request = urllib.request.Request(
        url, data=body, headers=signed_headers(secret, body, time.time()), method="POST"
    )
    sent = time.monotonic()
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:  # refused, reset, timed out: no answer at all
        status = 0
    return Ack(status, time.perf_counter() - started, text, response_url, sent)


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def summarise(acks: Sequence[Ack]) -> dict[str, float | int]:
    """count, errors, p50/p99/max ack in milliseconds, and acks slower than Slack's 3 s."""
    ordered = sorted(a.seconds for a in acks)
    return {
        "count": len(acks),
        "errors": sum(1 for a in acks if a.status != 200),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else 0.0,
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 1) if ordered else 0.0,
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else 0.0,
        "over_3s": sum(1 for s in ordered if s > SLACK_ACK_SECONDS),
    }


def summarise_by_text(acks: Sequence[Ack]) -> dict[str, Any]:
    """The figures of `summarise` for all commands, and for each text apart."""
    texts = list(dict.fromkeys(a.text for a in acks))
    return {
        **summarise(acks),
        "by_text": {t: summarise([a for a in acks if a.text == t]) for t in texts},
    }


def run(
    url: str | Sequence[str],
    secret: str,
    response_url_base: str,
    count: int,
    concurrency: int,
    text: str | Sequence[str],
    first: int = 1,
) -> list[Ack]:
    """Send `count` commands, `concurrency` in flight at a time; response URLs BASE/first,
    BASE/first+1, ….

    Several texts are taken in turn: the n-th command (from 0) gets texts[n % len(texts)].
    Several URLs (replicas) too, as a round-robin load balancer spreads requests.
    """
    base = response_url_base.rstrip("/")
    texts = [text] if isinstance(text, str) else list(text)
    urls = [url] if isinstance(url, str) else list(url)
    # A request still unanswered after 10 s has failed Slack long before; stop waiting.
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [
            pool.submit(
                send,
                urls[n % len(urls)],
                secret,
                texts[n % len(texts)],
                f"{base}/{first + n}",
                10.0,
            )
            for n in range(count)
        ]
        return [f.result() for f in futures]


def write_report(path: str, acks: Sequence[Ack]) -> None:
    """One JSON line per command, in the order they were numbered."""
    with open(path, "w", encoding="utf-8") as out:
        for ack in acks:
            out.write(json.dumps(asdict(ack)) + "\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        action="append",
        required=True,
        help="the app's /slack/events URL; give it several times to spread over replicas",
    )
    parser.add_argument("--signing-secret", required=True, help="the app's signing secret")
    parser.add_argument(
        "--response-url-base", required=True, help="response URLs are BASE/1 … BASE/COUNT"
    )
    parser.add_argument("--count", type=int, default=500, help="commands to send (500)")
    parser.add_argument("--concurrency", type=int, default=50, help="in flight at once (50)")
    parser.add_argument(
        "--text",
        action="append",
        help="the command text (top); give it several times to send a mix, in turn",
    )
    parser.add_argument("--first", type=int, default=1, help="number of the first response URL")
    parser.add_argument("--report", help="write one JSON line per command to this file")
    args = parser.parse_args(argv)
    if args.count < 1 or args.concurrency < 1:
        parser.error("--count and --concurrency must be at least 1")
    args.text = args.text or ["top"]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    acks = run(
        args.url,
        args.signing_secret,
        args.response_url_base,
        args.count,
        args.concurrency,
        args.text,
        args.first,
    )
    if args.report:
        write_report(args.report, acks)
    # What sending cost this process: on a machine shared with the server, it is CPU the
    # server did not get.
    cpu = time.process_time()
    print(json.dumps({**summarise_by_text(acks), "cpu_seconds": round(cpu, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
