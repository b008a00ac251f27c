"""The local Slack stand-in (localslack.server) in a process of its own, for the benchmarks.

Run beside a bot under load, so that Slack's side of the exchange does not share the
bot's interpreter. It prints one JSON line, {"slack": {"api_url": ..., "base_url": ...}}, then
answers each line on stdin:
- `slow KEY SECONDS`: every post to the response URL BASE/response/KEY takes SECONDS
  before Slack answers it (LocalSlack.slow_response_url);
- `report`: one JSON line, {"responses": {KEY: [POST, ...]}}, every message posted to
  each response URL BASE/response/KEY, in order, as {"at": time.monotonic() when it
  arrived, "status": HTTP status, "image": whether it holds an image block, "text": the
  first 80 characters}; time.monotonic() is the same clock in every process of the
  machine, so the load generator's send times compare with it;
- `messages`: one JSON line, {"messages": {CHANNEL: [TEXT, ...]}}, the text of every
  message posted in each channel, in order;
- `quit` (or end of input): stop.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from localslack.server import LocalSlack


def responses(slack: LocalSlack) -> dict[str, list[dict[str, Any]]]:
    """Every post received at a response URL, by the URL's key."""
    found: dict[str, list[dict[str, Any]]] = {}
    for call in slack.calls_to("response_url"):
        blocks = call.params.get("blocks") or []
        found.setdefault(call.path.rsplit("/", 1)[-1], []).append(
            {
                "at": call.at,
                "status": call.status,
                "image": any(block.get("type") == "image" for block in blocks),
                "text": str(call.params.get("text") or "")[:80],
            }
        )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    with LocalSlack() as slack:
        urls = {"api_url": slack.api_url, "base_url": slack.base_url}
        print(json.dumps({"slack": urls}), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command.startswith("slow "):
                _, key, seconds = command.split()
                slack.slow_response_url(f"{slack.base_url}/response/{key}", float(seconds))
            elif command == "report":
                print(json.dumps({"responses": responses(slack)}), flush=True)
            elif command == "messages":
                posted = {
                    c: [m.get("text") for m in ms] for c, ms in slack.channel_messages.items()
                }
                print(json.dumps({"messages": posted}), flush=True)
            elif command == "quit":
                break
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
