"""Latency: from the COMMIT of an event to its alert's post, one subscribed channel.

    .venv/bin/python bench/latency.py [--events 100] [--gap 1.1]

Events are added one after another, each once the previous one's alert was posted and at
least `--gap` seconds after the previous commit. The gap keeps the channel under its own
limit (5 posts per 5 s, as on Discord): back to back, every sixth alert would wait out that
limit, which measures Discord's rule rather than the dispatcher. The commit time is taken
right after `add_event` returns (it returns right after COMMIT); the post time is the
emulator's record of the POST. Last line (targets: p50 <= 100 ms, p99 <= 300 ms):

    latency events=100 p50_ms=X p99_ms=Y
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from pathlib import Path

from bot import services
from bot.emulator.api import Emulator
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.world import ALERTS_CHANNEL_ID, MODERATOR_USER_ID, SANDBOX_GUILD_ID, sandbox_world
from bot.services import Scope

POST = "POST /channels/{channel_id}/messages"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def latencies(events: int, gap: float) -> list[float]:
    """Milliseconds from each event's commit to its alert's post."""
    with tempfile.TemporaryDirectory() as tmp:
        async with Emulator(world=sandbox_world()) as emulator:
            config = sandbox_config(Path(tmp) / "bench.db")
            async with running_bot(config, emulator, timeout=60) as bot:
                scope = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
                await services.subscribe(bot.store, scope, ALERTS_CHANNEL_ID)
                settled = asyncio.Event()
                assert bot.dispatcher is not None
                bot.dispatcher.on_settled.append(lambda _id, _status: settled.set())
                await asyncio.sleep(1.1)  # the start-up's requests leave the global window
                out: list[float] = []
                for i in range(events):
                    settled.clear()
                    before = len(emulator.requests)
                    day = 1 + i % 28
                    await services.add_event(
                        bot.store,
                        scope,
                        {
                            "date": f"2023-{1 + i // 28:02d}-{day:02d}",
                            "category": "srbm",
                            "summary": f"Launch number {i + 1}.",
                        },
                    )
                    committed = time.time()  # add_event returns right after its COMMIT
                    await asyncio.wait_for(settled.wait(), 30)
                    [post] = [
                        r for r in emulator.requests[before:] if r.route == POST and r.status == 200
                    ]
                    out.append((post.time - committed) * 1000)
                    await asyncio.sleep(max(0.0, committed + gap - time.time()))
                return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100, help="events, one after another")
    parser.add_argument("--gap", type=float, default=1.1, help="least seconds between two commits")
    args = parser.parse_args()
    ms = asyncio.run(latencies(args.events, args.gap))
    print(f"latency min_ms={min(ms):.1f} mean_ms={sum(ms) / len(ms):.1f} max_ms={max(ms):.1f}")
    print(
        f"latency events={len(ms)} p50_ms={percentile(ms, 0.5):.0f} "
        f"p99_ms={percentile(ms, 0.99):.0f}"
    )


if __name__ == "__main__":
    main()
