"""The `openmodels` command line: parses arguments and hands work to the core.

Every user error (an `OpenModelsError`) becomes one line on stderr and a non-zero
exit; nothing prints a traceback at a user.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from openmodels.config import Config
from openmodels.errors import HubErrors, OpenModelsError

if TYPE_CHECKING:
    from bot.jobs import Services
    from commands import AnswerContext
    from openmodels.families import Families
    from openmodels.history_import import ImportReport

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
            "--db",
            help="the store: a SQLite file or a postgresql:// URL "
            "(default: $OPENMODELS_DB or ./openmodels.db)",
        )
        p.add_argument(
            "--families",
            type=Path,
            help="families TOML file (default: $OPENMODELS_FAMILIES or built-in)",
        )
        return p

    collect = with_store(
        sub.add_parser("collect", help="take one snapshot of download counts from the Hub")
    )
    collect.set_defaults(handler=cmd_collect)
    history = with_store(
        sub.add_parser("import", help="write download history from a CSV file into the store")
    )
    history.add_argument(
        "file",
        type=Path,
        help="CSV with columns date, repo_id, downloads, downloads_all_time [, likes, derivatives]",
    )
    history.add_argument(
        "--dry-run", action="store_true", help="check the file and say what it holds; write nothing"
    )
    history.add_argument(
        "--strict",
        action="store_true",
        help="refuse the file if any row looks wrong (a 30-day count above the all-time "
        "count, an all-time count that falls); without it they are imported and listed",
    )
    history.set_defaults(handler=cmd_import)
    ask = with_store(
        sub.add_parser(
            "ask",
            help="answer a /openmodels command text, as Slack would",
            description="Answer a /openmodels command text, as Slack would. Options may "
            "come anywhere; everything else, the command text's own options included "
            "(--30d, --public, --days N), is the command text. Exits 1 if the answer is "
            "an error (an unknown command or family, bad usage).",
        )
    )
    ask.add_argument("--json", action="store_true", help="print the Block Kit payload")
    # Filled by main() from what is left once ask's own options are taken out
    # (split_ask_text), so the text's options reach our parser, not argparse.
    ask.add_argument(
        "text", nargs="*", metavar="TEXT", help="the command text, e.g. compare qwen llama --30d"
    )
    ask.set_defaults(handler=cmd_ask)
    status = with_store(sub.add_parser("status", help="what the store holds"))
    status.set_defaults(handler=cmd_status)
    digest = with_store(
        sub.add_parser("digest", help="send the weekly digest now to subscribed channels")
    )
    digest.add_argument(
        "--dry-run", action="store_true", help="post nothing: print the text, write the chart"
    )
    digest.add_argument("--out", type=Path, default=Path("digest.png"), help="chart file (dry run)")
    digest.set_defaults(handler=cmd_digest)
    deliver = with_store(
        sub.add_parser("deliver", help="post queued alerts and digests to Slack now")
    )
    deliver.set_defaults(handler=cmd_deliver)
    backup = with_store(
        sub.add_parser(
            "backup", help="write a consistent copy of the store, even while it is in use"
        )
    )
    backup.add_argument("path", type=Path, help="where to write the copy (must not exist)")
    backup.set_defaults(handler=cmd_backup)
    port_db = sub.add_parser(
        "port-db",
        help="copy a SQLite store into an empty PostgreSQL database, counts verified",
        description="Copy every table of a SQLite store into an empty PostgreSQL database "
        "(the schema is made first, and the migrations recorded), in one transaction: "
        "the target ends up holding exactly the source's rows, or nothing. Refuses a "
        "target that already holds data.",
    )
    port_db.add_argument("source", help="the SQLite store file")
    port_db.add_argument("target", help="the database, as postgresql://USER@HOST:PORT/NAME")
    port_db.set_defaults(handler=cmd_port_db)
    serve = with_store(
        sub.add_parser("serve", help="run the Slack app (Socket Mode, or --http for HTTP)")
    )
    serve.add_argument(
        "--http", action="store_true", help="serve POST /slack/events over HTTP (waitress)"
    )
    serve.add_argument("--port", type=_port, default=3000, help="HTTP port (default 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP address (default 0.0.0.0)")
    serve.add_argument(
        "--no-scheduler",
        action="store_true",
        help="answer commands only; run collection and digests elsewhere (e.g. cron)",
    )
    serve.set_defaults(handler=cmd_serve)
    console = with_store(
        sub.add_parser(
            "console", help="type /openmodels commands at the real app, on a local stand-in Slack"
        )
    )
    console.add_argument(
        "--out", type=Path, default=Path("openmodels-charts"), help="folder for the chart PNGs"
    )
    console.set_defaults(handler=cmd_console)
    demo = with_store(
        sub.add_parser("demo", help="a scripted tour of the real app, no Slack workspace needed")
    )
    demo.add_argument(
        "--out", type=Path, default=Path("openmodels-charts"), help="folder for the chart PNGs"
    )
    demo.set_defaults(handler=cmd_demo)
    return parser


def _port(text: str) -> int:
    if not text.isdecimal() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return int(text)


# `ask`'s own options, taken out of the command text wherever they are; True: takes a value.
ASK_OPTIONS = {"--db": True, "--families": True, "--json": False, "-h": False, "--help": False}
GLOBAL_OPTIONS = {"-v", "--verbose"}


def split_ask_text(argv: Sequence[str]) -> tuple[list[str], list[str] | None]:
    """Split `openmodels … ask …` into the arguments for argparse and the command text.

    `openmodels ask top --db X` then works as `openmodels ask --db X top`, while the
    text's own options (`--30d`, `--public`, `--days 3`) stay in the text, in their
    place. After `--` everything is text. Other commands are left whole (text None).
    """
    args = list(argv)
    at = next((i for i, arg in enumerate(args) if not arg.startswith("-")), None)
    if at is None or args[at] != "ask":
        return args, None
    head: list[str] = args[:at]
    options: list[str] = []
    text: list[str] = []
    rest = iter(args[at + 1 :])
    for arg in rest:
        name = arg.split("=", 1)[0]
        if arg == "--":
            text += rest
        elif name in GLOBAL_OPTIONS:
            head.append(arg)
        elif name in ASK_OPTIONS:
            options.append(arg)
            value = next(rest, None) if ASK_OPTIONS[name] and "=" not in arg else None
            if value is not None:
                options.append(value)
        else:
            text.append(arg)
    return [*head, "ask", *options], text


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments, ask_text = split_ask_text(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(arguments)
    if ask_text is not None:
        args.text = ask_text
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
        return int(args.handler(args, config))
    except HubErrors as exc:
        for failure in exc.failures:  # one line per failing organisation
            print(f"openmodels: error: {failure}", file=sys.stderr)
        return 1
    except OpenModelsError as exc:
        print(f"openmodels: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("openmodels: interrupted", file=sys.stderr)
        return 130


def _config(args: argparse.Namespace) -> Config:
    config = Config.from_env()
    if getattr(args, "db", None):
        config = replace(config, db=args.db)
    if getattr(args, "families", None):
        config = replace(config, families_path=args.families)
    return config


def cmd_collect(args: argparse.Namespace, config: Config) -> int:
    from bot.jobs import collect_job
    from openmodels.families import load_families
    from openmodels.progress import TerminalProgress

    families = load_families(config.families_path)
    services = _services(config, families, failpoint=os.environ.get("OPENMODELS_FAILPOINT"))
    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    # The scheduler's job: the snapshot, then the alerts it reveals, then delivery.
    result, check = collect_job(services, datetime.now(UTC), progress=progress)
    print(
        f"snapshot {result.snapshot_id} taken at {result.taken_at}: "
        f"{result.model_count} models in {len(result.totals)} families -> "
        f"{services.store.display}"
    )
    for o in check.overtakes:
        print(
            f"overtake: {families.label(o.passer)} passed {families.label(o.passed)} ({o.metric})"
        )
    if check.queued and services.slack is None:
        print(f"{check.queued} alerts queued; they are posted when the bot runs")
    return 0


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    from openmodels.config import DEFAULT_DB
    from openmodels.families import load_families
    from openmodels.history_import import import_history
    from openmodels.locate import store_for_writing
    from openmodels.progress import TerminalImportProgress
    from storage.locations import display_location, is_postgresql

    families = load_families(config.families_path)
    location = config.db or DEFAULT_DB
    # A dry run against a store file that does not exist yet plans against an empty one
    # rather than creating the file.
    exists = is_postgresql(location) or Path(location).exists()
    store = store_for_writing(config) if not args.dry_run or exists else None
    failpoint = os.environ.get("OPENMODELS_FAILPOINT")
    if failpoint:  # the crash tests' (bot.jobs is the collection's, and imports the Hub)
        from bot.jobs import crash_at
    report = import_history(
        args.file,
        store,
        families,
        now=datetime.now(UTC),
        dry_run=args.dry_run,
        strict=args.strict,
        progress=TerminalImportProgress(sys.stderr) if sys.stderr.isatty() else None,
        failpoint=crash_at(failpoint) if failpoint else (lambda _where: None),
    )
    for line in _import_summary(report, display_location(location)):
        print(line)
    return 0


def _import_summary(report: ImportReport, store_path: str) -> list[str]:
    plan = report.plan
    lines = []
    if plan.snapshots:
        first, last = plan.snapshots[0].taken_at[:10], plan.snapshots[-1].taken_at[:10]
        span = first if first == last else f"{first} to {last}"
        lines.append(
            f"{'would import' if report.dry_run else 'imported'} "
            f"{_count(len(plan.snapshots), 'snapshot')} ({span}): {_count(plan.rows, 'row')} "
            f"of {_count(plan.models, 'model')} in "
            f"{_count(len(plan.families), 'family', 'families')} -> {store_path}"
        )
    else:
        lines.append(f"nothing to import from {report.path} ({_count(report.rows, 'row')} read)")
    if plan.replaced:
        verb = "would replace" if report.dry_run else "replaced"
        days = ", ".join(plan.replaced)
        lines.append(
            f"{verb} the estimate of {days} (from the Hub's 30-day counts) with measured history"
        )
    if plan.days_present:
        shown = ", ".join(plan.days_present[:5]) + (", …" if len(plan.days_present) > 5 else "")
        lines.append(
            f"skipped {_count(len(plan.days_present), 'day')} that already hold a snapshot: {shown}"
        )
    if plan.untracked_rows:
        lines.append(
            f"skipped {_count(plan.untracked_rows, 'row')} of "
            f"{_count(len(plan.untracked_models), 'model')} no tracked family owns "
            f"(e.g. {', '.join(plan.untracked_models[:3])})"
        )
    if plan.empty_moments:
        lines.append(
            f"skipped {_count(len(plan.empty_moments), 'date')} without a model of a tracked family"
        )
    if report.ignored_columns:
        lines.append("ignored columns: " + ", ".join(report.ignored_columns))
    if report.doubt_count:
        verb = "would be imported" if report.dry_run else "imported"
        doubts = _count(report.doubt_count, "figure looks", "figures look")
        lines.append(f"{doubts} wrong ({verb} as they are; --strict refuses such a file):")
        lines += [f"  {doubt}" for doubt in report.doubts]
        if report.doubt_count > len(report.doubts):
            lines.append(f"  …and {report.doubt_count - len(report.doubts):,} more")
    return lines


def _count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 row', '2 rows', '1,200 rows'."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def _services(
    config: Config,
    families: Families,
    require_slack: bool = False,
    failpoint: str | None = None,
) -> Services:
    """The jobs' services, with Slack when SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and
    SLACK_CLIENT_SECRET (each workspace's token from the installation store), are set."""
    from bot.jobs import services_from_config
    from bot.settings import SlackSettings

    return services_from_config(
        config,
        families,
        slack=SlackSettings.for_jobs(),
        require_slack=require_slack,
        failpoint=failpoint,
    )


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    from commands import answer_text
    from commands.render import render_text

    context = _answer_context(config)
    result = answer_text(" ".join(args.text), context)
    if args.json:
        print(json.dumps(result.payload(), indent=2, ensure_ascii=False))
    else:
        print(render_text(result))
    if context.store.sample and not result.error:
        # The answer itself names no command-line tool (Slack gets the same one).
        print(
            "openmodels: these are the bundled sample figures; run `openmodels collect` "
            "to take live numbers from the Hub",
            file=sys.stderr,
        )
    return 1 if result.error else 0


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    from commands import answer_text
    from commands.render import render_text

    print(render_text(answer_text("status", _answer_context(config))))
    return 0


def cmd_digest(args: argparse.Namespace, config: Config) -> int:
    from commands.digest_message import digest_chart, digest_message
    from commands.render import plain
    from openmodels.charts import render_chart
    from openmodels.digest import build_digest, digest_launches
    from openmodels.errors import ConfigError
    from openmodels.families import load_families
    from openmodels.locate import store_for_reading

    families = load_families(config.families_path)
    if args.dry_run:
        store = store_for_reading(config)
        now = datetime.now(UTC)
        with store.reading() as db:
            launches = digest_launches(db, now, families)
            digest = build_digest(
                db, families, now, confirm=config.alert_confirm, launches=launches
            )
        if digest is None:
            print("No snapshots yet: nothing to digest. Run `openmodels collect` first.")
            return 1
        try:
            args.out.write_bytes(render_chart(digest_chart(digest, families)))
        except OSError as exc:
            raise ConfigError(
                f"cannot write the chart to {args.out}: {exc.strerror or exc}"
            ) from None
        for block in digest_message(digest, families)["blocks"]:
            if "text" in block:
                print(plain(block["text"]["text"]))
            for element in block.get("elements", []):
                print(plain(element.get("text", "")))
        print(f"\nchart written to {args.out} (dry run: nothing posted)")
        return 0
    from bot.jobs import digest_job

    services = _services(config, families, require_slack=True)
    plan = digest_job(services, datetime.now(UTC))
    for channel in plan.queued:
        print(f"digest queued for {channel}")
    for channel, why in plan.skipped:
        print(f"no digest for {channel}: {why}")
    if not plan.queued and not plan.skipped:
        print("no channel is subscribed to the digest (/openmodels subscribe digest)")
    return 0


def cmd_deliver(args: argparse.Namespace, config: Config) -> int:
    from bot.jobs import deliver_job
    from bot.settings import SlackSettings
    from openmodels.errors import ConfigError
    from openmodels.families import load_families

    if not SlackSettings.for_jobs().posts:  # `deliver` has no --dry-run to suggest
        raise ConfigError(
            "neither SLACK_BOT_TOKEN nor SLACK_CLIENT_ID and SLACK_CLIENT_SECRET is set; one "
            "of them is needed to post what is queued"
        )
    services = _services(
        config,
        load_families(config.families_path),
        require_slack=True,
        failpoint=os.environ.get("OPENMODELS_FAILPOINT"),
    )
    report = deliver_job(services)
    assert report is not None
    print(
        f"{len(report.sent)} sent, {len(report.recovered)} found already posted, "
        f"{len(report.retry)} to retry, {len(report.failed)} failed, "
        f"{len(report.held)} left to another deliverer"
    )
    if report.charts or report.charts_unconfirmed or report.charts_failed:
        # A chart is delivered only once Slack shows it in its channel.
        print(
            f"charts: {len(report.charts)} shown in their channel, "
            f"{len(report.charts_unconfirmed)} not shown yet (checked again next run), "
            f"{len(report.charts_failed)} failed"
        )
    if report.stopped and SlackSettings.for_jobs().oauth is None:
        print(
            f"Slack refused the app ({report.stopped}): queued items stay pending until "
            "SLACK_BOT_TOKEN is fixed"
        )
    elif report.stopped:
        for team, error in report.stopped_teams.items():
            print(
                f"Slack refused the token of workspace {team} ({error}): its queued items "
                "stay pending until it works again (install openmodels there again)"
            )
    if report.skipped_teams:
        print(
            f"{_count(len(report.skipped_teams), 'workspace')} skipped, with no token left "
            "(uninstalled, or its token revoked): their items wait, no attempt spent"
        )
    for team, why in report.unavailable_teams.items():
        print(f"workspace {team} waits for the next run: {why}; its queued items stay pending")
    if report.unreachable:
        print(f"Slack did not answer ({report.unreachable}): queued items stay pending")
    return 0 if not report.retry and not report.stopped else 1


def cmd_backup(args: argparse.Namespace, config: Config) -> int:
    from openmodels.config import DEFAULT_DB
    from openmodels.errors import StoreError
    from storage import open_store
    from storage.backup import backup, pg_dump_advice
    from storage.locations import is_postgresql
    from storage.store import store_at

    location = config.db or DEFAULT_DB
    if is_postgresql(location):  # pg_dump does it, consistently, while replicas write
        raise StoreError(pg_dump_advice(store_at(location), args.path))
    # Never the bundled sample, and never a new empty store made at a mistyped path:
    # either would be a backup that holds none of the team's data.
    path = Path(location)
    if not path.is_file():
        raise StoreError(f"no store at {path} to back up (give --db or set OPENMODELS_DB)")
    store = open_store(path)
    size = backup(store, args.path)
    print(f"backed up {store.path} to {args.path} ({size:,} bytes)")
    return 0


def cmd_port_db(args: argparse.Namespace, config: Config) -> int:
    from openmodels.errors import StoreError
    from openmodels.locate import sample_store_path
    from storage import open_store
    from storage.locations import display_location, is_postgresql
    from storage.port import port

    source = Path(args.source)
    if not source.is_file():
        raise StoreError(f"no SQLite store at {source} to port")
    if not is_postgresql(args.target):
        raise StoreError(f"the target must be a postgresql:// URL, got {args.target!r}")
    # The bundled sample, or a file this user may not write, is read as it is; any other
    # store is first brought up to this version's schema, as every command does.
    read_only = not os.access(source, os.W_OK) or source.resolve() == sample_store_path().resolve()
    origin = open_store(source, sample=read_only)
    target = open_store(args.target)
    tty = sys.stderr.isatty()

    def progress(table: str, copied: int, total: int) -> None:
        if copied == total:
            print(f"  {table}: {copied:,} rows", file=sys.stderr)
        elif tty:
            print(f"  {table}: {copied:,} of {total:,} rows", end="\r", file=sys.stderr)

    print(f"porting {origin.display} to {target.display}", file=sys.stderr)
    try:
        report = port(origin, target, progress)
    finally:
        target.close()
    rows = sum(report.tables.values())
    print(
        f"ported {rows:,} rows in {len(report.tables)} tables to "
        f"{display_location(args.target)}; every table's count matches the source's; "
        f"{len(report.migrations)} migrations recorded"
    )
    return 0


def _answer_context(config: Config) -> AnswerContext:
    from commands import AnswerContext
    from openmodels.families import load_families
    from openmodels.locate import store_for_reading

    families = load_families(config.families_path)
    return AnswerContext(store=store_for_reading(config), families=families)


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from bot.settings import SlackSettings

    # Checked first, so a missing or malformed token stops start-up with one line.
    settings = SlackSettings.from_env("http" if args.http else "socket")
    from bot.runtime import serve_http, serve_socket
    from bot.serve import BotProcess

    bot = BotProcess.build(config, settings, collects=not args.no_scheduler)

    def start_scheduler() -> None:
        # Only once Slack is reachable: a refused token never starts a collection.
        if not args.no_scheduler:
            bot.start_scheduler()

    try:
        if args.http:

            def listening(url: str) -> None:
                print(f"openmodels: listening on {url}", file=sys.stderr)
                if settings.oauth is not None:
                    from bot.oauth import INSTALL_PATH

                    install = url.removesuffix("/slack/events") + INSTALL_PATH
                    print(f"openmodels: workspaces install it from {install}", file=sys.stderr)
                start_scheduler()

            serve_http(bot.app, args.host, args.port, on_listening=listening)
        else:
            serve_socket(bot.app, settings, on_connected=start_scheduler)
    finally:
        # SIGTERM ends the server above; the scheduler then stops between jobs: a job
        # already running is allowed to finish (and commit) first.
        bot.close()
    return 0


def cmd_console(args: argparse.Namespace, config: Config) -> int:
    from bot.chart_pool import ChartPool
    from bot.console import LocalBot, run_console

    context = _answer_context(config)
    print(
        "openmodels console: the real Slack app, answering a local stand-in for Slack "
        f"(no workspace, no Hub). Store: {context.store.display}. "
        "Type e.g. `compare qwen llama`; Ctrl-D to quit.",
        file=sys.stderr,
    )
    render = ChartPool(config.chart_workers)
    render.warm_up()
    with LocalBot(context, render, out_dir=args.out) as bot:
        prompt = "/openmodels " if sys.stdin.isatty() else ""
        run_console(bot, sys.stdin, sys.stdout, prompt=prompt)
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from bot.chart_pool import ChartPool
    from bot.console import LocalBot, run_demo

    context = _answer_context(config)
    print(
        "openmodels demo: signed /openmodels commands sent to the real Slack app, which "
        "answers a local stand-in for Slack on 127.0.0.1 (no workspace, no Hub access).\n"
        f"Store: {context.store.display}"
        + (" (bundled sample: synthetic data)" if context.store.sample else ""),
    )
    render = ChartPool(config.chart_workers)
    render.warm_up()
    with LocalBot(context, render, out_dir=args.out, oauth=True) as bot:
        failures = run_demo(bot, sys.stdout)
    print(f"\nCharts are in {args.out}/")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
