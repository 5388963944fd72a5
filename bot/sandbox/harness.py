"""The real LaunchWatch bot, run against the emulator: shared by the sandbox console and tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.client import LaunchWatch
from bot.config import Config, load_config
from bot.emulator.api import Emulator
from bot.pictures import Renderer
from bot.sandbox.world import MODERATOR_ROLE_ID, SANDBOX_GUILD_ID, SANDBOX_TOKEN
from bot.services import get_settings, update_settings
from db import Store


class SandboxBot(LaunchWatch):
    """LaunchWatch as deployed, minus two waits that only make sense against real Discord."""

    def __init__(
        self, config: Config, *, store: Store | None = None, renderer: Renderer | None = None
    ) -> None:
        super().__init__(config, store=store, renderer=renderer)
        self._connection.guild_ready_timeout = 0.05  # wait briefly for GUILD_CREATEs

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5-second pause before a re-IDENTIFY: there is one bot on this emulator."""


def sandbox_config(db: str | Path, base: Config | None = None) -> Config:
    """The configuration the sandbox runs with: the emulator's token, its guild, this database."""
    config = base or load_config(None, env={})
    path = Path(db)
    url = f"sqlite:///{path}"
    config = config.replace("database", "url", url)
    config = config.replace("discord", "token", SANDBOX_TOKEN)
    config = config.replace("discord", "dev_guilds", [SANDBOX_GUILD_ID])
    config = config.replace("discord", "shard_ids", [])
    return config.replace("discord", "shard_count", 0)


@asynccontextmanager
async def running_bot(
    config: Config,
    emulator: Emulator,
    *,
    timeout: float = 15.0,
    store: Store | None = None,
    renderer: Renderer | None = None,
) -> AsyncIterator[SandboxBot]:
    """Start the bot against a started, patched emulator; yield once its commands are synced.

    Over `store` if given (the caller closes it), else over the configured one, opened
    before the bot connects: a store that cannot be opened raises `StoreError` at once.
    With `renderer`, the bot draws its pictures there (tests share one worker process)."""
    bot = SandboxBot(config, store=store, renderer=renderer)
    await bot.ensure_store()
    async with emulator.connected(bot, timeout=timeout):
        await emulator.wait_synced(SANDBOX_GUILD_ID, timeout=timeout)
        await name_moderator_role(bot.store)
        yield bot


async def name_moderator_role(store: Store) -> None:
    """The sandbox's Moderator role is this server's moderator role, as an admin would set it."""
    settings = await get_settings(store, SANDBOX_GUILD_ID)
    if MODERATOR_ROLE_ID not in settings.moderator_role_ids:
        roles = [*settings.moderator_role_ids, MODERATOR_ROLE_ID]
        await update_settings(store, SANDBOX_GUILD_ID, moderator_role_ids=roles)
