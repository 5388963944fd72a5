"""LaunchWatch in a process of its own, against an emulator that another process serves.

    python -m tests.e2e.bot_process --base URL --gateway URL --db FILE
        [--global-rate 48] [--hold-marks SECONDS] [--database-url URL]
        [--shard-ids 0,1 --shard-count N] [--publishers GUILD,...]

The crash test (tests/e2e/test_alerts_crash.py) runs the emulator in the test process, starts
this, SIGKILLs it in the middle of a fan-out and starts it again. It points discord.py at the
emulator the way `Emulator.patch_discord` does in-process (`Route.BASE`, `DEFAULT_GATEWAY`)
and runs `SandboxBot` over the SQLite file until SIGTERM. `--hold-marks` holds back each
"sent" mark (a slow disk), so a kill lands between a post and its mark.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable
from typing import Any

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.client import serve
from bot.dispatch import Dispatcher
from bot.sandbox.harness import SandboxBot, sandbox_config
from bot.sandbox.world import SANDBOX_TOKEN


def hold_sent_marks(seconds: float) -> Callable[[], None]:
    """Every dispatcher marks a delivery sent `seconds` after its post; returns the undo."""
    settle = Dispatcher._settle

    async def held(self: Dispatcher, row: dict[str, Any], status: str, **kwargs: Any) -> None:
        if status == "sent":
            await asyncio.sleep(seconds)
        await settle(self, row, status, **kwargs)

    Dispatcher._settle = held  # type: ignore[method-assign]

    def undo() -> None:
        Dispatcher._settle = settle  # type: ignore[method-assign]

    return undo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the emulator's REST base URL")
    parser.add_argument("--gateway", required=True, help="the emulator's gateway URL")
    parser.add_argument("--db", required=True, help="the SQLite file")
    parser.add_argument("--global-rate", type=float, default=48.0)
    parser.add_argument("--hold-marks", type=float, default=0.0)
    parser.add_argument("--database-url", help="a store other than the SQLite file (PostgreSQL)")
    parser.add_argument("--shard-ids", help="comma-separated shards this process runs")
    parser.add_argument("--shard-count", type=int, default=0)
    parser.add_argument("--publishers", default="", help="comma-separated publisher guilds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    Route.BASE = args.base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway)
    if args.hold_marks:
        hold_sent_marks(args.hold_marks)
    config = sandbox_config(args.db).replace("delivery", "global_rate", args.global_rate)
    if args.database_url:
        config = config.replace("database", "url", args.database_url)
    if args.shard_ids:
        config = config.replace("discord", "shard_ids", [int(i) for i in args.shard_ids.split(",")])
        config = config.replace("discord", "shard_count", args.shard_count)
    if args.publishers:
        publishers = [int(g) for g in args.publishers.split(",")]
        config = config.replace("network", "publisher_guilds", publishers)
    asyncio.run(serve(SandboxBot(config), SANDBOX_TOKEN))


if __name__ == "__main__":
    main()
