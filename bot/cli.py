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
from bot.i18n import _, ngettext
from bot.pictures.specs import COUNT_MODES, PERIODS
from bot.render import render
from bot.services import Scope, TimelineFilter, list_events
from bot.transfer import FORMATS
from bot.transfer.importer import ImportWarning
from db.copy import redact
from db.store import StoreError

Handler = Callable[[argparse.Namespace, Config], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=_("LaunchWatch: a Discord bot for regional security alerts."),
        epilog=_("With no command: run the bot when a token is configured, else the sandbox."),
    )
    parser.add_argument("--version", action="version", version=f"LaunchWatch {__version__}")
    parser.add_argument(
        "--config", metavar="PATH", help=_("configuration file (default: ./config.toml)")
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help=_("connect to Discord (needs a token)"))
    run.set_defaults(func=cmd_run)

    sandbox = sub.add_parser(
        "sandbox", help=_("try the bot against an emulated Discord, no account needed")
    )
    sandbox.add_argument(
        "--db", metavar="PATH", help=_("SQLite file for the sandbox (default: [sandbox] db)")
    )
    sandbox.add_argument(
        "--script", metavar="FILE", help=_("run the file's lines and print the transcript")
    )
    sandbox.set_defaults(func=cmd_sandbox)

    db = sub.add_parser("db", help=_("manage the store")).add_subparsers(
        dest="db_command", metavar="ACTION", required=True
    )
    upgrade = db.add_parser("upgrade", help=_("apply pending schema migrations"))
    upgrade.set_defaults(func=cmd_db_upgrade)

    seed = db.add_parser("seed", help=_("load example data"))
    seed.add_argument(
        "--example",
        action="store_true",
        required=True,
        help=_("the seed article's launches and reactions"),
    )
    seed.add_argument(
        "--alert", action="store_true", help=_("alert subscribed channels (default: alert nobody)")
    )
    _guild(seed)
    seed.set_defaults(func=cmd_db_seed)

    imp = db.add_parser("import", help=_("import events (and reactions) from a file"))
    imp.add_argument("file", type=Path, help=_("the file to read"))
    imp.add_argument(
        "--format",
        required=True,
        choices=list(FORMATS),
        help="; ".join(f"{name}: {_(fmt.what)}" for name, fmt in FORMATS.items()),
    )
    imp.add_argument(
        "--alert",
        action="store_true",
        help=_("alert subscribed channels about new events (default: alert nobody)"),
    )
    _guild(imp)
    imp.set_defaults(func=cmd_db_import)

    exp = db.add_parser("export", help=_("export the guild's events and reactions"))
    exp.add_argument(
        "--format",
        required=True,
        choices=["csv", "json"],
        help=_("csv: events only; json: events and reactions"),
    )
    exp.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help=_("write to FILE instead of standard output"),
    )
    _guild(exp)
    exp.set_defaults(func=cmd_db_export)

    copy = db.add_parser(
        "copy", help=_("copy the whole store into another, empty database (ids kept)")
    )
    copy.add_argument(
        "--from", dest="source", required=True, metavar="URL", help=_("the store to read")
    )
    copy.add_argument(
        "--to", dest="target", required=True, metavar="URL", help=_("an empty database to fill")
    )
    copy.set_defaults(func=cmd_db_copy)

    events = sub.add_parser("events", help=_("read events")).add_subparsers(
        dest="events_command", metavar="ACTION", required=True
    )
    lst = events.add_parser("list", help=_("every matching event, oldest first"))
    lst.add_argument(
        "--since", metavar="DATE", help=_("from this date (YYYY, YYYY-MM or YYYY-MM-DD)")
    )
    lst.add_argument("--until", metavar="DATE", help=_("up to this date, inclusive"))
    lst.add_argument("--category", metavar="C", help=_("e.g. cruise_missile, icbm"))
    lst.add_argument("--json", action="store_true", help=_("print a JSON array of events"))
    _guild(lst)
    lst.set_defaults(func=cmd_events_list)

    chart = events.add_parser(
        "chart", help=_("a bar chart of launches per month, quarter or year, as a PNG")
    )
    _picture_filters(chart)
    chart.add_argument("--actor", metavar="A", help=_("only launches by this actor, e.g. DPRK"))
    chart.add_argument(
        "--by",
        choices=list(PERIODS),
        help=_("one bar per month, quarter or year (default: whichever suits the period)"),
    )
    chart.add_argument(
        "--count",
        choices=list(COUNT_MODES),
        default="events",
        help=_("count launches (default) or the missiles they fired"),
    )
    chart.set_defaults(func=cmd_events_chart)

    sites = events.add_parser(
        "map", help=_("a map of every launch site, sized by launches and divided by category")
    )
    _picture_filters(sites)
    sites.set_defaults(func=cmd_events_map)

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
        "--guild",
        type=int,
        metavar="ID",
        help=_("act for this guild (default: [network] home_guild)"),
    )


def _picture_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--since", metavar="DATE", help=_("from this date (YYYY, YYYY-MM or YYYY-MM-DD)")
    )
    p.add_argument("--until", metavar="DATE", help=_("up to this date, inclusive"))
    p.add_argument("--category", metavar="C", help=_("e.g. cruise_missile, icbm"))
    p.add_argument(
        "-o", "--output", type=Path, metavar="FILE", required=True, help=_("the PNG to write")
    )
    _guild(p)


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


# -- what the command line says ------------------------------------------------------------


def upgraded(applied: list[int], version: int) -> str:
    if not applied:
        return _("The store is up to date at version {version}.").format(version=version)
    return ngettext(
        "Applied migration {numbers}; the store is at version {version}.",
        "Applied migrations {numbers}; the store is at version {version}.",
        len(applied),
    ).format(numbers=", ".join(str(n) for n in applied), version=version)


def seeded(summary: str) -> str:
    return _("Example data: {summary}.").format(summary=summary)


def exported(path: Path, events: int, reactions: int) -> str:
    return _("Exported {events} and {reactions} to {path}.").format(
        events=ngettext("{count} event", "{count} events", events).format(count=events),
        reactions=ngettext("{count} reaction", "{count} reactions", reactions).format(
            count=reactions
        ),
        path=path,
    )


def at_line(line: int, text: str) -> str:
    """A problem with one line of an imported file."""
    return _("line {line}: {problem}").format(line=line, problem=text)


def import_warning(w: ImportWarning) -> str:
    """A row imported without a field, or with a lower confidence, and why."""
    if w.demoted_from == "confirmed":
        text = _(
            "{field}: a confirmed event needs a source and none could be read (imported as "
            "reported)"
        )
    elif w.demoted_from is not None:
        text = _(
            "{field}: a disputed event needs a source and none could be read (imported as reported)"
        )
    else:
        text = _("{field}: {reason} (imported without it)")
    return at_line(w.line, text.format(field=w.field, reason=w.reason))


def unreadable(path: Path, why: object) -> str:
    return _("Cannot read {path}: {why}").format(path=path, why=why)


def copy_progress(table: str, rows: int) -> str:
    return f"{table:<15} " + ngettext("{count} row", "{count} rows", rows).format(count=rows)


def store_error_text(error: StoreError, url: str, setting: str) -> str:
    """A store that cannot be opened, reached or migrated: what is wrong, then the fix;
    `setting` is where the person named the store (a flag, a key, a variable)."""
    texts = {
        "not_sqlite": _(
            "Cannot open the store {url}: {subject} is not a SQLite database, or is damaged "
            "({detail}). Restore it from a backup, or point {setting} at another file."
        ),
        "is_directory": _(
            "Cannot open the store {url}: {subject} is a folder. Point {setting} at a file, "
            "such as {subject}/launchwatch.db."
        ),
        "cannot_create": _(
            "Cannot create the store {url} ({subject}: {detail}). Point {setting} at a file in "
            "a folder this user can write."
        ),
        "newer_schema": _(
            "The store {url} is at schema version {subject}, newer than this LaunchWatch knows "
            "(up to {known}). Upgrade LaunchWatch, or point {setting} at another store."
        ),
        "migration_failed": _(
            "Migration {subject} failed on {url}, so none of it was applied: {detail}. Point "
            "{setting} at an empty database (or schema) if this one holds another program's "
            "tables; else fix what the error names and start again."
        ),
        "unreachable": _(
            "Cannot reach PostgreSQL at {subject} ({detail}). Start the server, or fix the host "
            "and port in {setting}."
        ),
        "no_database": _(
            'PostgreSQL has no database "{subject}" ({url}). Create it (createdb {subject}), or '
            "fix the database name in {setting}."
        ),
        "no_schema": _(
            'The schema "{subject}" does not exist ({url}). Create it (CREATE SCHEMA '
            "{subject}), or fix ?search_path= in {setting}."
        ),
        "refused": _(
            'PostgreSQL refused the user "{subject}" ({detail}). Fix the user or password in '
            "{setting}."
        ),
        "no_driver": _(
            "The PostgreSQL backend needs asyncpg: pip install 'launchwatch[postgres]', or "
            "point {setting} at a sqlite:/// file."
        ),
        "unsupported": _(
            "Cannot open the store {url}: use sqlite:///file.db or postgresql://user@host/db in "
            "{setting}."
        ),
    }
    text = texts.get(error.problem) or _("Cannot open the store {url}: {detail}. Check {setting}.")
    return text.format(
        url=url,
        subject=error.subject,
        detail=error.detail,
        known=error.known,
        setting=setting,
    )


# -- the commands ----------------------------------------------------------------------------


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
        no_sandbox = _(
            "The sandbox is not available in this build; configure a token to run the bot."
        )
        print(no_sandbox, file=sys.stderr)
        return 2
    return run_sandbox(config, db=args.db, script=args.script)


def cmd_db_upgrade(args: argparse.Namespace, config: Config) -> int:
    from db import open_store

    async def go() -> int:
        store = await open_store(config.database_url, migrate=False)
        try:
            applied = await store.migrate()
            print(upgraded(applied, await store.schema_version()))
        finally:
            await store.close()
        return 0

    return asyncio.run(go())


def cmd_db_seed(args: argparse.Namespace, config: Config) -> int:
    from bot.seed import seed_example

    async def work(store: Any) -> int:
        report = await seed_example(store, _scope(args, config), alert=args.alert)
        print(seeded(report.summary()))
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
            print(unreadable(args.file, exc), file=sys.stderr)
            return 1
        said = [(line, at_line(line, reason)) for line, reason in report.problems]
        said += [(w.line, import_warning(w)) for w in report.warnings]
        for _line, text in sorted(said, key=lambda pair: pair[0]):
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
        reactions = counts["reaction"] if args.format == "json" else 0
        print(exported(args.output, counts["event"], reactions))
        return 0

    return _with_store(config, work)


def cmd_db_copy(args: argparse.Namespace, config: Config) -> int:
    """Copy a store to another database, printing each table as it is done."""
    from db.copy import TABLES, CopyRefused, copy_database, redact

    def progress(table: str, rows: int) -> None:
        print(copy_progress(table, rows), flush=True)

    try:
        copied = asyncio.run(copy_database(args.source, args.target, progress))
    except CopyRefused as exc:
        print(_("Nothing copied: {why}.").format(why=exc), file=sys.stderr)
        return 1
    total = sum(copied.values())
    summary = ngettext(
        "Copied {count} row in {tables} tables from {source} to {target}; every id is kept.",
        "Copied {count} rows in {tables} tables from {source} to {target}; every id is kept.",
        total,
    )
    print(
        summary.format(
            count=total,
            tables=len(TABLES),
            source=redact(args.source),
            target=redact(args.target),
        )
    )
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


def _timeline_filter(args: argparse.Namespace) -> TimelineFilter:
    since = PartialDate.parse(args.since, "--since") if args.since else None
    until = PartialDate.parse(args.until, "--until") if args.until else None
    if since is not None and until is not None and since.first_day > until.last_day:
        raise ValidationError("--until", _("it is before --since; swap them."))
    return TimelineFilter(
        since=since, until=until, category=args.category, actor=getattr(args, "actor", None)
    )


def cmd_events_chart(args: argparse.Namespace, config: Config) -> int:
    """The /chart timeline picture, written to a PNG file."""
    filters = _timeline_filter(args)

    async def draw(pictures: Any, store: Any) -> Any:
        return await pictures.chart(
            store, _scope(args, config), filters, period=args.by, count=args.count
        )

    return _picture(args, config, draw)


def cmd_events_map(args: argparse.Namespace, config: Config) -> int:
    """The /chart map picture, written to a PNG file."""
    filters = _timeline_filter(args)

    async def draw(pictures: Any, store: Any) -> Any:
        return await pictures.site_map(store, _scope(args, config), filters)

    return _picture(args, config, draw)


def _picture(
    args: argparse.Namespace, config: Config, draw: Callable[[Any, Any], Awaitable[Any]]
) -> int:
    """Draw with a renderer of the command's own (its worker process started and stopped
    here), then write the PNG; the sentence instead when there is nothing to draw."""
    from bot.services.pictures import Pictures

    async def work(store: Any) -> int:
        pictures = Pictures()
        try:
            await pictures.start()
            rendered = await draw(pictures, store)
        finally:
            await pictures.close()
        if rendered.sentence is not None:
            print(rendered.sentence, file=sys.stderr)
            return 1
        picture = rendered.picture
        if picture is None:
            print(
                _(
                    "The picture could not be drawn (the reason is logged above); nothing was written."
                ),
                file=sys.stderr,
            )
            return 1
        try:
            args.output.write_bytes(picture.png)
        except OSError as exc:
            why = exc.strerror or exc
            print(
                _("Cannot write {path}: {why}").format(path=args.output, why=why), file=sys.stderr
            )
            return 1
        size = -(-len(picture.png) // 1024)
        print(
            _("Wrote {path} ({width}×{height} px, {size} KB): {title}").format(
                path=args.output,
                width=picture.width,
                height=picture.height,
                size=size,
                title=rendered.title,
            )
        )
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
        print(unreadable(args.file, exc.strerror or exc), file=sys.stderr)
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
    keys = (
        "id", "kind", "event_id", "status", "origin", "title", "fields", "evidence", "sources",
        "reactions",
    )  # fmt: skip
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
        print(_("config: {key}: {fix}").format(key=exc.key, fix=exc.fix), file=sys.stderr)
        return 2
    handler: Handler = getattr(args, "func", cmd_start)
    try:
        return handler(args, config)
    except ValidationError as exc:
        print(f"{exc.field}: {exc.fix}", file=sys.stderr)
        return 2
    except StoreError as exc:  # as a bad setting: one line, the fix, exit 2
        setting = store_setting(args, config, exc.url)
        print(store_error_text(exc, redact(exc.url), setting), file=sys.stderr)
        return 2
    except LaunchWatchError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
