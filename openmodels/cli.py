"""The `openmodels` command line: parses arguments and hands work to the core.

Every user error (an `OpenModelsError`) becomes one line on stderr and a non-zero
exit; nothing prints a traceback at a user.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from openmodels.config import Config
from openmodels.errors import OpenModelsError

log = logging.getLogger("openmodels")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openmodels",
        description="Which open-weight model families the world downloads, and when that changes.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def with_store(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--db", type=Path, help="SQLite store (default: $OPENMODELS_DB or ./openmodels.db)"
        )
        p.add_argument(
            "--families",
            type=Path,
            help="families TOML file (default: $OPENMODELS_FAMILIES or built-in)",
        )
        return p

    with_store(sub.add_parser("collect", help="take one snapshot of download counts from the Hub"))
    ask = with_store(
        sub.add_parser("ask", help="answer a /openmodels command text, as Slack would")
    )
    ask.add_argument("--json", action="store_true", help="print the Block Kit payload")
    # REMAINDER so options of the command text itself (--30d, --public) reach our parser.
    ask.add_argument(
        "text", nargs=argparse.REMAINDER, help="the command text, e.g. compare qwen llama --30d"
    )
    with_store(sub.add_parser("status", help="what the store holds"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command is None:
        parser.print_help()
        return 2
    try:
        config = _config(args)
        handler = {"collect": cmd_collect, "ask": cmd_ask, "status": cmd_status}[args.command]
        return handler(args, config)
    except OpenModelsError as exc:
        print(f"openmodels: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("openmodels: interrupted", file=sys.stderr)
        return 130


def _config(args: argparse.Namespace) -> Config:
    config = Config.from_env()
    if getattr(args, "db", None):
        config = replace(config, db_path=args.db)
    if getattr(args, "families", None):
        config = replace(config, families_path=args.families)
    return config


def cmd_collect(args: argparse.Namespace, config: Config) -> int:
    from openmodels.collector import collect_snapshot
    from openmodels.families import load_families
    from openmodels.hub import HubClient
    from openmodels.locate import store_for_writing
    from openmodels.progress import TerminalProgress

    families = load_families(config.families_path)
    store = store_for_writing(config)
    hub = HubClient(config.hf_endpoint, token=config.hf_token, timeout=config.hub_timeout)
    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    result = collect_snapshot(
        families,
        hub,
        store,
        now=datetime.now(UTC),
        concurrency=config.hub_concurrency,
        progress=progress,
    )
    print(
        f"snapshot {result.snapshot_id} taken at {result.taken_at}: "
        f"{result.model_count} models in {len(result.totals)} families -> {store.path}"
    )
    return 0


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    from commands import AnswerContext, answer_text
    from commands.render import render_text
    from openmodels.families import load_families
    from openmodels.locate import store_for_reading

    families = load_families(config.families_path)
    store = store_for_reading(config)
    words = [w for w in args.text if w != "--json"]
    as_json = args.json or len(words) != len(args.text)
    result = answer_text(" ".join(words), AnswerContext(store=store, families=families))
    if as_json:
        print(json.dumps(result.payload(), indent=2, ensure_ascii=False))
    else:
        print(render_text(result))
    return 0


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    from commands import AnswerContext, answer_text
    from commands.render import render_text
    from openmodels.families import load_families
    from openmodels.locate import store_for_reading

    families = load_families(config.families_path)
    store = store_for_reading(config)
    print(render_text(answer_text("status", AnswerContext(store=store, families=families))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
