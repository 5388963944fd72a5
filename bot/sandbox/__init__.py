"""LaunchWatch's sandbox: its world, the real bot run against the emulator, and the console.

:mod:`.world` holds the sandbox's guild, people and ids (cheap to import: configuration reads
``SANDBOX_GUILD_ID``); :mod:`.harness` runs the real bot against :mod:`bot.emulator`;
:mod:`.session` is ``python -m bot sandbox``, :mod:`.console` the console it runs, and
:mod:`.transcript` draws Discord messages as terminal text.
"""
