"""The bot process: a discord.py AutoShardedBot that owns the store and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import pkgutil
import signal
from datetime import UTC, timedelta
from urllib.parse import urlsplit

import aiohttp
import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord.ext import commands
from discord.http import Route
from discord.utils import MISSING

import commands as cogs
from bot import __version__
from bot.alerts import ReactionsButton
from bot.config import Config
from bot.digest import DigestScheduler
from bot.dispatch import Dispatcher
from bot.i18n import _
from bot.pictures import Renderer
from bot.polling import Drafting
from bot.review import DraftButton
from bot.services import Scope
from bot.services.pictures import Pictures
from bot.tree import LaunchWatchTree
from db import Store, open_store

log = logging.getLogger("launchwatch")


def extensions() -> list[str]:
    """Every cog module in commands/: those that end with `async def setup(bot)`."""
    names = (
        f"{cogs.__name__}.{m.name}" for m in pkgutil.iter_modules(cogs.__path__) if not m.ispkg
    )
    return sorted(n for n in names if hasattr(importlib.import_module(n), "setup"))


class LaunchWatch(commands.AutoShardedBot):
    """LaunchWatch's client. Intents: guilds only (no privileged intents)."""

    def __init__(
        self,
        config: Config,
        *,
        store: Store | None = None,
        sync: bool = True,
        renderer: Renderer | None = None,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        shard_ids = config.get("discord", "shard_ids") or None
        shard_count = config.get("discord", "shard_count") or None
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=LaunchWatchTree,
            help_command=None,
            # Pings nobody unless a send says otherwise: every answer, follow-up and page
            # inherits this and passes none of its own; channel posts name theirs (alerts.Post).
            allowed_mentions=discord.AllowedMentions.none(),
            shard_ids=shard_ids,  # type: ignore[arg-type]  # None: every shard
            shard_count=shard_count,
        )
        self.config = config
        self._store = store
        self._owns_store = store is None
        self.sync_on_start = sync
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.version = __version__
        self.dispatcher: Dispatcher | None = None
        self.digests: DigestScheduler | None = None
        #: Charts and maps, drawn in a worker process (its own unless `renderer` is given).
        self.pictures = Pictures(renderer)
        self._warming: asyncio.Task[None] | None = None
        self.drafting: Drafting | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is opened in setup_hook")
        return self._store

    def scope(self, interaction: discord.Interaction) -> Scope:
        """Who acts, for which guild, seeing which publishers (docs/architecture.md, "Who sees
        what")."""
        guild_id = interaction.guild_id or 0
        return Scope(guild_id, interaction.user.id, tuple(self.config.publisher_guilds))

    async def ensure_store(self) -> Store:
        """Open the configured store unless one was given. `serve` calls this before it
        reaches for Discord, so a store that cannot be opened or migrated stops start-up
        at once (`StoreError`, nothing left running) rather than after logging in."""
        if self._store is None:
            self._store = await open_store(self.config.database_url)
        return self._store

    async def setup_hook(self) -> None:
        await self.ensure_store()
        # The picture worker starts and warms (about a second) while the bot connects.
        self._warming = asyncio.create_task(self.pictures.start(), name="launchwatch-pictures")
        self.add_dynamic_items(ReactionsButton, DraftButton)
        for name in extensions():
            await self.load_extension(name)
        self.scheduler.start()
        grace = timedelta(hours=self.config.get("schedule", "digest_grace_hours"))
        self.digests = DigestScheduler(
            self.scheduler,
            self.store,
            publishers=tuple(self.config.publisher_guilds),
            grace=grace,
            owns=self.owns_guild,
        )
        await self.digests.rebuild()
        self.drafting = Drafting(self)
        await self.drafting.start()
        self.dispatcher = Dispatcher(self, self.store, self.config)
        self.dispatcher.pictures = self.pictures
        await self.dispatcher.start()
        if self.sync_on_start:
            await self.sync_commands()

    async def sync_commands(self) -> None:
        """Sync to the dev guilds (instant) or globally (may take Discord a while to show)."""
        dev_guilds = self.config.get("discord", "dev_guilds")
        if dev_guilds:
            for guild_id in dev_guilds:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d commands globally", len(synced))

    def owns_guild(self, guild_id: int) -> bool:
        """Whether this process runs the shard that holds the guild (docs/architecture.md,
        "Scale")."""
        shard_ids = self.config.get("discord", "shard_ids")
        count = self.config.get("discord", "shard_count") or 1
        return not shard_ids or (guild_id >> 22) % count in shard_ids

    async def close(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.stop()
            self.dispatcher = None
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.drafting is not None:
            await self.drafting.close()
            self.drafting = None
        await super().close()
        if self._warming is not None:
            await self._warming  # start() never raises: let the worker come up, then stop it
            self._warming = None
        await self.pictures.close()
        if self._store is not None and self._owns_store:
            await self._store.close()
            self._store = None


async def serve(bot: LaunchWatch, token: str) -> None:
    """Run until SIGINT or SIGTERM, then close everything (scheduler, dispatcher, store)
    before returning: left to `asyncio.run`'s final cancellation, the store's close could
    be cut short and its worker threads keep the process alive.

    The store is opened first (`StoreError` ends it there); a Discord that cannot be reached
    is waited for (`reach_discord`)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with bot:
        await bot.ensure_store()
        running = asyncio.create_task(start(bot, token, stop))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([running, stopping], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if stop.is_set():
            log.info("shutting down")
        await bot.close()
        # Everything is closed; a shard still connecting would otherwise try again for
        # ever (discord.py's launch_shard), and the process never end.
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running  # re-raises a login failure


#: What a login attempt raises when Discord cannot be reached (or answers 5xx): worth
#: another try, unlike a refused token.
UNREACHABLE = (aiohttp.ClientConnectionError, OSError, TimeoutError, discord.DiscordServerError)
FIRST_RETRY = 1.0
"""Seconds before the second try; doubled after each failure, up to `LAST_RETRY`."""
LAST_RETRY = 60.0


async def start(bot: LaunchWatch, token: str, stop: asyncio.Event) -> None:
    """`bot.start(token)`, logging in only once Discord can be reached (`reach_discord`)."""
    if await reach_discord(bot, token, stop):
        await bot.connect()


async def reach_discord(bot: LaunchWatch, token: str, stop: asyncio.Event) -> bool:
    """Log in, trying again with back-off (1 s, doubling, at most a minute) while Discord
    cannot be reached: one log line a try, no traceback. False if stopped meanwhile.

    Only the first request (`static_login`) is tried again: once it has answered, the
    rest of `login` (and `setup_hook`) runs once, and any failure there is a real one."""
    where = urlsplit(Route.BASE).netloc
    delay, tries = FIRST_RETRY, 1
    while True:
        try:
            await bot.login(token)
            break
        except Exception as exc:
            if stop.is_set():
                return False  # stopped mid-try: closing the bot broke its request
            if not isinstance(exc, UNREACHABLE) or bot.user is not None:
                raise
            why = " ".join(str(exc).split()) or type(exc).__name__
            log.warning(
                _(
                    "Cannot reach Discord at {where} ({why}); trying again in {delay} s. Check "
                    "this machine's network, proxy or firewall; stop with Ctrl+C or SIGTERM."
                ).format(where=where, why=why, delay=f"{delay:g}")
            )
            # static_login opened an aiohttp session for this try; close it (with its
            # connector, which it owns) so the next try starts clean and none is leaked.
            await bot.http.close()
            bot.http.connector = MISSING
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return False
        delay, tries = min(delay * 2, LAST_RETRY), tries + 1
    if tries > 1:
        log.info(
            _("Reached Discord at {where} after {tries} tries.").format(where=where, tries=tries)
        )
    return True


def setup_logging(config: Config) -> None:
    discord.utils.setup_logging(
        level=getattr(logging, str(config.get("logging", "level")).upper()), root=True
    )


def run_bot(config: Config) -> int:
    """`python -m bot run`: connect to Discord with the configured token."""
    setup_logging(config)
    try:
        asyncio.run(_run(config))
    except discord.LoginFailure:
        log.error("Discord refused the token; check DISCORD_TOKEN or [discord] token")
        return 2
    return 0


async def _run(config: Config) -> None:
    """The store first, before the client exists (discord.py logs as it is made): a store
    that cannot be opened or migrated ends start-up with its one line (`StoreError`)."""
    store = await open_store(config.database_url)
    try:
        await serve(LaunchWatch(config, store=store), config.token)
    finally:
        await store.close()
