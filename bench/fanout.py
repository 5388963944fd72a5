"""Fan-out: one alert to N subscribed channels through the emulator, at its global limit.

    .venv/bin/python bench/fanout.py [--channels 1000] [--limit 50]

The emulator enforces a global limit of L requests per second (a sliding second, like
Discord); the bot keeps its budget a little under it (the default 48 against 50, else
0.96 L). Elapsed runs from the COMMIT of the event to the emulator's record of the last
post; the floor is N / L seconds, the least any sender could take. While the fan-out runs,
a member runs `/about` every second: a command must not queue behind the fan-out.

Last lines (targets: ratio <= 1.05, no 429s, nothing lost or duplicated, p99 < 1000 ms):

    commands_during_fanout p99_ms=X missed=M
    fanout channels=N limit=L elapsed=S floor=F ratio=R 429s=K lost=A duplicates=D
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot import services
from bot.config import Config
from bot.emulator.api import Channel, Emulator, InteractionNotAnswered, new_snowflake
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.world import MODERATOR_USER_ID, SANDBOX_GUILD_ID, sandbox_world
from bot.services import Scope

POST = "POST /channels/{channel_id}/messages"
DEFAULT_LIMIT = 50
#: A command answered later than this is missed (Discord's deadline for the first answer).
COMMAND_DEADLINE = 3.0
EVENT = {
    "date": "2024-02-14",
    "category": "cruise_missile",
    "summary": "Two cruise missiles off the west coast.",
}


@dataclass
class Figures:
    channels: int
    limit: int
    elapsed: float
    rate_limited: int
    lost: int
    duplicates: int
    command_ms: list[float]
    missed: int

    @property
    def floor(self) -> float:
        return self.channels / self.limit

    @property
    def ratio(self) -> float:
        return self.elapsed / self.floor


def bot_budget(limit: int) -> float:
    """The bot's global budget for an emulator limit: the default 48 at 50, else 96 % of it."""
    return 48.0 if limit == DEFAULT_LIMIT else round(0.96 * limit, 2)


def add_channels(emulator: Emulator, n: int) -> list[int]:
    guild = emulator.world.guild(SANDBOX_GUILD_ID)
    assert guild is not None
    ids = [new_snowflake() for _ in range(n)]
    for i, channel_id in enumerate(ids):
        guild.channels[channel_id] = Channel(channel_id, SANDBOX_GUILD_ID, f"feed-{i}")
    return ids


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def probe_commands(
    emulator: Emulator, stop: asyncio.Event, timings: list[float], missed: list[int]
) -> None:
    """Run `/about` as a member once a second until `stop`; record each answer's delay."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            result = await emulator.invoke("about", timeout=COMMAND_DEADLINE)
        except InteractionNotAnswered:
            missed.append(1)
        else:
            if result.late:
                missed.append(1)
            else:
                timings.append((time.perf_counter() - started) * 1000)
        try:
            await asyncio.wait_for(stop.wait(), max(0.0, 1.0 - (time.perf_counter() - started)))
        except TimeoutError:
            pass


async def fanout(channels: int, limit: int, config: Config | None = None) -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        emulator = Emulator(world=sandbox_world(), global_limit=limit)
        async with emulator:
            ids = add_channels(emulator, channels)
            config = config or sandbox_config(Path(tmp) / "bench.db")
            config = config.replace("delivery", "global_rate", bot_budget(limit))
            async with running_bot(config, emulator, timeout=60) as bot:
                scope = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
                for channel_id in ids:
                    await services.subscribe(bot.store, scope, channel_id)
                settled: set[int] = set()
                all_settled = asyncio.Event()

                def on_settled(delivery_id: int, status: str) -> None:
                    settled.add(delivery_id)
                    if len(settled) >= channels:
                        all_settled.set()

                assert bot.dispatcher is not None
                bot.dispatcher.on_settled.append(on_settled)
                await asyncio.sleep(1.1)  # the start-up's requests leave the global window
                before = len(emulator.requests)
                stop = asyncio.Event()
                timings: list[float] = []
                missed: list[int] = []
                probe = asyncio.create_task(probe_commands(emulator, stop, timings, missed))
                await services.add_event(bot.store, scope, EVENT)
                committed = time.time()  # add_event returns right after its COMMIT
                await asyncio.wait_for(all_settled.wait(), channels / limit * 3 + 30)
                stop.set()
                await probe
            requests = emulator.requests[before:]
            posts = [r for r in requests if r.route == POST and r.status == 200]
            last = max(r.time for r in posts)
            counts = emulator.posts_per_channel()
            return Figures(
                channels=channels,
                limit=limit,
                elapsed=last - committed,
                rate_limited=len([r for r in requests if r.status == 429]),
                lost=sum(1 for c in ids if counts.get(c, 0) == 0),
                duplicates=len(emulator.duplicate_posts()),
                command_ms=timings,
                missed=len(missed),
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=1000, help="subscribed channels")
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help="emulator global limit per second"
    )
    args = parser.parse_args()
    f = asyncio.run(fanout(args.channels, args.limit))
    print(f"commands_during_fanout p99_ms={percentile(f.command_ms, 0.99):.0f} missed={f.missed}")
    print(
        f"fanout channels={f.channels} limit={f.limit} elapsed={f.elapsed:.2f} "
        f"floor={f.floor:.2f} ratio={f.ratio:.3f} 429s={f.rate_limited} lost={f.lost} "
        f"duplicates={f.duplicates}"
    )


if __name__ == "__main__":
    main()
