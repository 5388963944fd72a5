"""Copy a whole store into another, empty database: SQLite -> PostgreSQL when a bot
outgrows one process, and back.

Every row keeps its id, so references (a delivery's event, a revision's event) hold and
message history stays attached. The target is written in one transaction: a copy that
fails part-way leaves it empty, ready for another try. Stop the bot first: rows written
to the source while the copy runs may or may not be copied.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bot.i18n import _
from db.store import Store, StoreError, open_store, sqlite_path

#: Tables in an order where every row's references are copied before it; and each
#: table's key, for reading in batches.
TABLES: tuple[tuple[str, str], ...] = (
    ("event", "id"),
    ("event_revision", "id"),
    ("reaction", "id"),
    ("source", "id"),
    ("subscription", "id"),
    ("delivery", "id"),
    ("guild_settings", "guild_id"),
    ("feed", "id"),
    ("feed_item", "id"),
    ("draft", "id"),
    ("draft_settings", "guild_id"),
)
BATCH = 1000

Progress = Callable[[str, int], None]


class CopyRefused(Exception):
    """The copy cannot start; the message says why and what to do instead."""


def redact(url: str) -> str:
    """A URL fit to print: any password replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


async def count_rows(store: Store) -> dict[str, int]:
    """Rows per table, in copy order."""
    out = {}
    async with store.read() as q:
        for table, _key in TABLES:
            row = await q.conn.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
            out[table] = int(row["n"]) if row else 0
    return out


async def copy_store(
    source: Store, target: Store, progress: Progress | None = None, batch: int = BATCH
) -> dict[str, int]:
    """Copy every row of `source` into the empty, migrated `target`; rows per table.

    `progress(table, rows)` is called as each table is done."""
    try:
        have = await source.schema_version()
    except Exception as exc:  # the driver's "no such table", whichever driver
        raise CopyRefused(
            _("{url} holds no LaunchWatch store ({why})").format(url=redact(source.url), why=exc)
        ) from None
    want = await target.schema_version()
    if have != want:
        raise CopyRefused(
            _(
                "the source is at schema version {source} and the target at {target}; run "
                "`python -m bot db upgrade` on the older one first"
            ).format(source=have, target=want)
        )
    copied: dict[str, int] = {}
    async with target.transaction() as tq:
        for table, _key in TABLES:
            row = await tq.conn.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
            if row and row["n"]:
                raise CopyRefused(
                    _(
                        "{url} is not empty ({table} has {rows} rows); copy into a new, empty "
                        "database"
                    ).format(url=redact(target.url), table=table, rows=row["n"])
                )
        for table, key in TABLES:
            copied[table] = 0
            last: Any = None
            while True:
                where, params = ("", []) if last is None else (f"WHERE {key} > ?", [last])
                async with source.read() as sq:
                    rows = await sq.conn.fetchall(
                        f"SELECT * FROM {table} {where} ORDER BY {key} LIMIT ?", [*params, batch]
                    )
                if not rows:
                    break
                columns = list(rows[0])
                await tq.conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))})",
                    [[r[c] for c in columns] for r in rows],
                )
                copied[table] += len(rows)
                last = rows[-1][key]
            if progress is not None:
                progress(table, copied[table])
        # Ids were given: the store's next id must come after the largest copied.
        for table, key in TABLES:
            if key == "id":
                await tq.conn.restart_ids(table)
    return copied


async def copy_database(
    source_url: str, target_url: str, progress: Progress | None = None
) -> dict[str, int]:
    """Open both stores (migrating the target), copy, close; rows per table."""
    if source_url == target_url:
        raise CopyRefused(_("the source and the target are the same database"))
    if _missing_file(source_url):
        raise CopyRefused(
            _("there is no SQLite file at {path}").format(path=sqlite_path(source_url))
        )
    source = await _open(source_url, migrate=False)
    try:
        target = await _open(target_url, migrate=True)
        try:
            return await copy_store(source, target, progress)
        finally:
            await target.close()
    finally:
        await source.close()


def _missing_file(url: str) -> bool:
    """A SQLite source that does not exist (opening it would create an empty file)."""
    return url.startswith("sqlite:///") and not Path(sqlite_path(url)).is_file()


async def _open(url: str, *, migrate: bool) -> Store:
    try:
        return await open_store(url, migrate=migrate)
    except StoreError:
        raise  # names the problem and the fix itself
    except Exception as exc:  # refused connection, bad URL, missing driver: say which store
        raise CopyRefused(_("cannot open {url}: {why}").format(url=redact(url), why=exc)) from exc
