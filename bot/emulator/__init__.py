"""A Discord-compatible emulator the real discord.py client connects to (tests, consoles, bench).

It serves Discord's REST routes and gateway on 127.0.0.1 for a :class:`~.world.World` the
caller describes, checks every body against Discord's own contract, and can act as the
world's users (slash commands, buttons, modals). Typical use::

    from bot.emulator.api import Emulator

    async with Emulator(world) as emu:                       # started, discord.py repointed
        async with emu.connected(MyBot()):                   # login, READY, GUILD_CREATEs
            await emu.wait_synced(guild_id)
            res = await emu.invoke("tag add", {"name": "faq"}, user="member")
            assert res.content and not res.refused
            assert emu.spec_errors == []                     # every body was valid

The public names are in :mod:`bot.emulator.api`. This package knows nothing of the application
it serves: it imports only its own modules (relatively), so it could be published on its own.
This file imports nothing, so :mod:`bot.emulator.world` stays cheap (no aiohttp, no jsonschema).
"""
