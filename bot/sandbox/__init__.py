"""A Discord-compatible emulator the real discord.py client connects to (tests, sandbox, bench).

Typical use in an end-to-end test::

    async with Emulator(world=sandbox_world()) as emu:      # started, discord.py repointed
        async with emu.connected(MyBot()):                   # login, READY, GUILD_CREATEs
            await emu.wait_synced(SANDBOX_GUILD_ID)
            res = await emu.invoke("event add", {"date": "2024-02-14"}, user="moderator")
            assert res.content and not res.refused
            assert emu.spec_errors == []                     # every body was valid

Importing this package stays cheap: the heavy parts (aiohttp, jsonschema) load on first use of
a name below, and :mod:`bot.sandbox.world` (the sandbox ids) needs neither.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.sandbox.world import (
    ADMIN_USER_ID,
    ALERTS_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    MEMBER_USER_ID,
    MODERATOR_ROLE_ID,
    MODERATOR_USER_ID,
    SANDBOX_APPLICATION_ID,
    SANDBOX_BOT_USER_ID,
    SANDBOX_GUILD_ID,
    SANDBOX_TOKEN,
    Channel,
    Guild,
    Member,
    Overwrite,
    Perm,
    Role,
    User,
    World,
    sandbox_world,
)

if TYPE_CHECKING:
    from bot.sandbox.commands import BadOption, CommandNotSynced, CommandRefused
    from bot.sandbox.emulator import Emulator, running_emulator
    from bot.sandbox.errors import DiscordError
    from bot.sandbox.faults import Faults
    from bot.sandbox.interactions import (
        InteractionNotAnswered,
        InvokeResult,
        LateAnswer,
    )
    from bot.sandbox.ratelimit import RateLimiter, RouteLimit
    from bot.sandbox.records import (
        Attachment,
        BodyViolation,
        MessageRecord,
        Pings,
        RequestRecord,
        Store,
    )
    from bot.sandbox.spec import SpecValidator, UncoveredRoute, normalize

# Heavy parts (aiohttp, jsonschema) load on first use, so `bot.sandbox.world` stays cheap.
_LAZY = {
    "BadOption": "commands",
    "CommandNotSynced": "commands",
    "Emulator": "emulator",
    "running_emulator": "emulator",
    "DiscordError": "errors",
    "Faults": "faults",
    "CommandRefused": "commands",
    "InteractionNotAnswered": "interactions",
    "InvokeResult": "interactions",
    "LateAnswer": "interactions",
    "RateLimiter": "ratelimit",
    "RouteLimit": "ratelimit",
    "Attachment": "records",
    "BodyViolation": "records",
    "MessageRecord": "records",
    "Pings": "records",
    "RequestRecord": "records",
    "Store": "records",
    "SpecValidator": "spec",
    "UncoveredRoute": "spec",
    "normalize": "spec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bot.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(f"bot.sandbox.{module}"), name)


__all__ = [
    "ADMIN_USER_ID",
    "ALERTS_CHANNEL_ID",
    "GENERAL_CHANNEL_ID",
    "MEMBER_USER_ID",
    "MODERATOR_ROLE_ID",
    "MODERATOR_USER_ID",
    "SANDBOX_APPLICATION_ID",
    "SANDBOX_BOT_USER_ID",
    "SANDBOX_GUILD_ID",
    "SANDBOX_TOKEN",
    "Attachment",
    "BadOption",
    "BodyViolation",
    "Channel",
    "CommandNotSynced",
    "CommandRefused",
    "DiscordError",
    "Emulator",
    "Faults",
    "Guild",
    "InteractionNotAnswered",
    "InvokeResult",
    "LateAnswer",
    "Member",
    "MessageRecord",
    "Overwrite",
    "Perm",
    "Pings",
    "RateLimiter",
    "RequestRecord",
    "Role",
    "RouteLimit",
    "SpecValidator",
    "Store",
    "UncoveredRoute",
    "User",
    "World",
    "normalize",
    "running_emulator",
    "sandbox_world",
]
