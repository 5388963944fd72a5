"""`python -m bot` / `launchwatch`: run the bot, the sandbox, and manage the store.

The command line is a thin layer like the cogs: parse, call a service, render, print.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot import __version__
from bot.config import Config, load_config
from bot.dates import PartialDate
from bot.errors import ConfigError, LaunchWatchError, ValidationError
from bot.render import message, render
from bot.services import Scope, TimelineFilter, list_events
from bot.transfer import FORMATS
from db.copy import redact
from db.store import StoreError

Handler = Callable[[argparse.Namespace, Config], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="LaunchWatch: a Discord bot for regional security alerts.",
        epilog="With no command: run the bot when a token is configured, else the sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"LaunchWatch {__version__}")
    parser.add_argument(
        "--config", metavar="PATH", help="configuration file (default: ./config.toml)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="connect to Discord (needs a token)")
    run.set_defaults(func=cmd_run)

    sandbox = sub.add_parser(
        "sandbox", help="try the bot against an emulated Discord, no account needed"
    )
    sandbox.add_argument(
        "--db", metavar="PATH", help="SQLite file for the sandbox (default: [sandbox] db)"
    )
    sandbox.add_argument(
        "--script", metavar="FILE", help="run the file's lines and print the transcript"
    )
    sandbox.set_defaults(func=cmd_sandbox)

    db = sub.add_parser("db", help="manage the store").add_subparsers(
        dest="db_command", metavar="ACTION", required=True
    )
    upgrade = db.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.set_defaults(func=cmd_db_upgrade)

    seed = db.add_parser("seed", help="load example data")
    seed.add_argument(
        "--example",
        action="store_true",
        required=True,
        help="the seed article's launches and reactions",
    )
    seed.add_argument(
        "--alert", action="store_true", help="alert subscribed channels (default: alert nobody)"
    )
    _guild(seed)
    seed.set_defaults(func=cmd_db_seed)

    imp = db.add_parser("import", help="import events (and reactions) from a file")
    imp.add_argument("file", type=Path, help="the file to read")
    imp.add_argument(
        "--format",
        required=True,
        choices=list(FORMATS),
        help="; ".join(f"{name}: {fmt.what}" for name, fmt in FORMATS.items()),
    )
    imp.add_argument(
        "--alert",
        action="store_true",
        help="alert subscribed channels about new events (default: alert nobody)",
    )
    _guild(imp)
    imp.set_defaults(func=cmd_db_import)

    exp = db.add_parser("export", help="export the guild's events and reactions")
    exp.add_argument(
        "--format",
        required=True,
        choices=["csv", "json"],
        help="csv: events only; json: events and reactions",
    )
    exp.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of standard output"
    )
    _guild(exp)
    exp.set_defaults(func=cmd_db_export)

    copy = db.add_parser(
        "copy", help="copy the whole store into another, empty database (ids kept)"
    )
    copy.add_argument(
        "--from", dest="source", required=True, metavar="URL", help="the store to read"
    )
    copy.add_argument(
        "--to", dest="target", required=True, metavar="URL", help="an empty database to fill"
    )
    copy.set_defaults(func=cmd_db_copy)

    events = sub.add_parser("events", help="read events").add_subparsers(
        dest="events_command", metavar="ACTION", required=True
    )
    lst = events.add_parser("list", help="every matching event, oldest first")
    lst.add_argument("--since", metavar="DATE", help="from this date (YYYY, YYYY-MM or YYYY-MM-DD)")
    lst.add_argument("--until", metavar="DATE", help="up to this date, inclusive")
    lst.add_argument("--category", metavar="C", help="e.g. cruise_missile, icbm")
    lst.add_argument("--json", action="store_true", help="print a JSON array of events")
    _guild(lst)
    lst.set_defaults(func=cmd_events_list)

    drafts = sub.add_parser("drafts", help="draft events from a text").add_subparsers(
        dest="drafts_command", metavar="ACTION", required=True
    )
    text = drafts.add_parser(
        "from-text", help="the launches and reactions a text reports (prints, stores nothing)"
    )
    text.add_argument("file", type=Path, help="the article, as UTF-8 text")
    text.add_argument("--published", metavar="DATE", help="its publication day (default: today)")
    text.add_argument(
        "--json", action="store_true", help='print {"events": [...], "reactions": [...]}'
    )
    text.set_defaults(func=cmd_drafts_from_text)
    listed = drafts.add_parser("list", help="the drafts waiting for a moderator, oldest first")
    listed.add_argument("--json", action="store_true", help="print a JSON array of drafts")
    _guild(listed)
    listed.set_defaults(func=cmd_drafts_list)

    feeds = sub.add_parser("feeds", help="the feeds a guild watches").add_subparsers(
        dest="feeds_command", metavar="ACTION", required=True
    )
    feed_add = feeds.add_parser("add", help="watch a feed (RSS, Atom or JSON Feed)")
    feed_add.add_argument("url", help="the feed's address, http:// or https://")
    feed_add.add_argument("--every", metavar="DURATION", help="how often: 15m (default), 1h, 2h")
    feed_add.add_argument("--name", help="what to call it (default: its address)")
    _guild(feed_add)
    feed_add.set_defaults(func=cmd_feeds_add)
    feed_list = feeds.add_parser("list", help="each feed: state, last success, items, reason")
    _guild(feed_list)
    feed_list.set_defaults(func=cmd_feeds_list)
    poll = feeds.add_parser("poll", help="poll the feeds and store the drafts")
    poll.add_argument(
        "--once", action="store_true", required=True, help="poll every active feed once, then stop"
    )
    _guild(poll)
    poll.set_defaults(func=cmd_feeds_poll)
    return parser


def _guild(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--guild", type=int, metavar="ID", help="act for this guild (default: [network] home_guild)"
    )


def _scope(args: argparse.Namespace, config: Config) -> Scope:
    guild = args.guild if getattr(args, "guild", None) else config.home_guild
    return Scope(guild, None, tuple(config.publisher_guilds))


def _with_store(
    config: Config, work: Callable[[Any], Awaitable[int]], url: str | None = None
) -> int:
    from db import open_store

    async def go() -> int:
        store = await open_store(url or config.database_url)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(go())


def cmd_start(args: argparse.Namespace, config: Config) -> int:
    """No command given: the real bot with a token, the sandbox without one."""
    if config.token:
        return cmd_run(args, config)
    print(render("cli/sandbox_instead.j2"), flush=True)
    args.db, args.script = None, None
    return cmd_sandbox(args, config)


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    if not config.token:
        print(render("cli/no_token.j2"), file=sys.stderr)
        return 2
    from bot.client import run_bot

    return run_bot(config)


def cmd_sandbox(args: argparse.Namespace, config: Config) -> int:
    try:
        from bot.sandbox.session import run_sandbox
    except ImportError:
        print(message("no_sandbox"), file=sys.stderr)
        return 2
    return run_sandbox(config, db=args.db, script=args.script)


def cmd_db_upgrade(args: argparse.Namespace, config: Config) -> int:
    from db import open_store

    async def go() -> int:
        store = await open_store(config.database_url, migrate=False)
        try:
            applied = await store.migrate()
            print(message("upgraded", applied, await store.schema_version()))
        finally:
            await store.close()
        return 0

    return asyncio.run(go())


def cmd_db_seed(args: argparse.Namespace, config: Config) -> int:
    from bot.seed import seed_example

    async def work(store: Any) -> int:
        report = await seed_example(store, _scope(args, config), alert=args.alert)
        print(message("seeded", report))
        return 0

    return _with_store(config, work)


def cmd_db_import(args: argparse.Namespace, config: Config) -> int:
    from bot.transfer import UnreadableFile, import_file

    async def work(store: Any) -> int:
        try:
            report = await import_file(
                store, _scope(args, config), args.file, args.format, alert=args.alert
            )
        except UnreadableFile as exc:
            print(message("unreadable", args.file, exc), file=sys.stderr)
            return 1
        said = [(line, message("problem", line, reason)) for line, reason in report.problems]
        said += [(w.line, message("warning", w)) for w in report.warnings]
        for _, text in sorted(said, key=lambda pair: pair[0]):
            print(text, file=sys.stderr)
        print(report.summary())
        return 0

    return _with_store(config, work)


def cmd_db_export(args: argparse.Namespace, config: Config) -> int:
    from bot.transfer import export_data

    async def work(store: Any) -> int:
        text = await export_data(store, _scope(args, config), args.format)
        if args.output is None:
            sys.stdout.write(text)
            return 0
        args.output.write_text(text, encoding="utf-8")
        async with store.read() as q:
            counts = await q.counts([_scope(args, config).guild_id])
        print(
            message(
                "exported",
                args.output,
                counts["event"],
                counts["reaction"] if args.format == "json" else 0,
            )
        )
        return 0

    return _with_store(config, work)


def cmd_db_copy(args: argparse.Namespace, config: Config) -> int:
    """Copy a store to another database, printing each table as it is done."""
    from bot.render import environment
    from db.copy import TABLES, CopyRefused, copy_database, redact

    lines = environment().get_template("cli/copy.j2").module

    def progress(table: str, rows: int) -> None:
        print(lines.table(table, rows).strip(), flush=True)  # type: ignore[attr-defined]

    try:
        copied = asyncio.run(copy_database(args.source, args.target, progress))
    except CopyRefused as exc:
        print(lines.refused(exc).strip(), file=sys.stderr)  # type: ignore[attr-defined]
        return 1
    summary = lines.copied(  # type: ignore[attr-defined]
        sum(copied.values()), len(TABLES), redact(args.source), redact(args.target)
    )
    print(summary.strip())
    return 0


def cmd_events_list(args: argparse.Namespace, config: Config) -> int:
    filters = TimelineFilter(
        since=PartialDate.parse(args.since, "--since") if args.since else None,
        until=PartialDate.parse(args.until, "--until") if args.until else None,
        category=args.category,
    )

    async def work(store: Any) -> int:
        events = await list_events(store, _scope(args, config), filters)
        if args.json:
            print(json.dumps([e.as_record() for e in events], ensure_ascii=False, indent=2))
        else:
            print(render("cli/events_list.j2", events=events))
        return 0

    return _with_store(config, work)


def cmd_drafts_from_text(args: argparse.Namespace, config: Config) -> int:
    """Draft events and reactions from an article; nothing is stored."""
    from datetime import UTC, datetime

    from bot.drafting import draft

    published = PartialDate.parse(args.published, "--published") if args.published else None
    if published is not None and published.precision != "day":
        raise ValidationError("--published", "give the day the text was published, YYYY-MM-DD.")
    try:
        text = args.file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        print(message("unreadable", args.file, exc.strerror or exc), file=sys.stderr)
        return 1
    day = published.first_day if published else datetime.now(UTC).date()
    drafts = draft(text, day)
    if args.json:
        print(json.dumps(drafts.as_dict(), ensure_ascii=False, indent=2))
    else:
        when = [PartialDate.parse(e["occurred_at"] or e["occurred_on"]) for e in drafts.events]
        print(
            render(
                "cli/drafts.j2",
                events=list(zip(when, drafts.events, strict=True)),
                reactions=drafts.reactions,
                published=day,
            )
        )
    return 0


def cmd_drafts_list(args: argparse.Namespace, config: Config) -> int:
    """The guild's pending drafts; they become events only through a moderator's click."""
    from bot.services.drafts import list_drafts

    async def work(store: Any) -> int:
        drafts = await list_drafts(store, _scope(args, config))
        if args.json:
            print(json.dumps([_draft_record(d) for d in drafts], ensure_ascii=False, indent=2))
        else:
            print(render("cli/drafts_list.j2", drafts=drafts))
        return 0

    return _with_store(config, work)


def _draft_record(d: Any) -> dict[str, Any]:
    keys = ("id", "kind", "event_id", "status", "origin", "title", "fields", "evidence", "sources")
    return {k: getattr(d, k) for k in keys} | {"created_at": d.created_at}


def cmd_feeds_add(args: argparse.Namespace, config: Config) -> int:
    from bot.services.feeds import add_feed

    async def work(store: Any) -> int:
        feed = await add_feed(
            store, _scope(args, config), args.url, every=args.every, name=args.name
        )
        print(render("cli/feeds.j2", added=feed, feeds=None, reports=None))
        return 0

    return _with_store(config, work)


def cmd_feeds_list(args: argparse.Namespace, config: Config) -> int:
    from bot.services.feeds import list_feeds

    async def work(store: Any) -> int:
        feeds = await list_feeds(store, _scope(args, config))
        print(render("cli/feeds.j2", added=None, feeds=feeds, reports=None))
        return 0

    return _with_store(config, work)


def cmd_feeds_poll(args: argparse.Namespace, config: Config) -> int:
    """Poll every active feed of the guild once; the drafts wait for review (the bot posts
    them to the review channel when it runs)."""
    from bot.drafting.configured import article_reader, extractor
    from bot.feeds import Fetcher
    from bot.services.feeds import poll_all

    async def work(store: Any) -> int:
        allowed, timeout = config.get("feeds", "allow_hosts"), config.get("feeds", "timeout")
        async with Fetcher(allowed, timeout=timeout) as fetcher:
            reports = await poll_all(
                store,
                fetcher,
                _scope(args, config).guild_id,
                extractor=extractor(config),
                article=article_reader(config, fetcher),
            )
        print(render("cli/feeds.j2", added=None, feeds=None, reports=reports))
        return 0

    return _with_store(config, work)


def store_setting(args: argparse.Namespace, config: Config, url: str) -> str:
    """Where the person named the store that failed: the flag or setting to fix."""
    if getattr(args, "func", None) is cmd_db_copy:
        return "--from" if url == args.source else "--to"
    sandbox = getattr(args, "func", None) is cmd_sandbox or (
        getattr(args, "func", None) is None and not config.token
    )
    if sandbox:
        return "--db" if getattr(args, "db", None) else "[sandbox] db"
    source = config.sources.get("database.url", "")
    return source if source.startswith("LAUNCHWATCH_") else "[database] url"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    handler: Handler = getattr(args, "func", cmd_start)
    try:
        return handler(args, config)
    except ValidationError as exc:
        print(message("invalid", exc), file=sys.stderr)
        return 2
    except StoreError as exc:  # as a bad setting: one line, the fix, exit 2
        setting = store_setting(args, config, exc.url)
        print(message("store_error", exc, redact(exc.url), setting), file=sys.stderr)
        return 2
    except LaunchWatchError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
