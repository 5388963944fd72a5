"""Fan-out: one alert to N subscribed channels through the emulator, at its global limit.

    .venv/bin/python bench/fanout.py [--channels 1000] [--limit 50]
    .venv/bin/python bench/fanout.py --backlog 2000 [--others 40] [--limit 50]

The emulator enforces a global limit of L requests per second (a sliding second, like
Discord); the bot keeps its budget a little under it (the default 48 against 50, else
0.96 L). Elapsed runs from the COMMIT of the event to the emulator's record of the last
post; the floor is N / L seconds, the least any sender could take. While the fan-out runs,
a member runs `/about` every second: a command must not queue behind the fan-out.

Last lines (targets: ratio <= 1.05, no 429s, nothing lost or duplicated, p99 < 1000 ms):

    commands_during_fanout p99_ms=X missed=M
    fanout channels=N limit=L elapsed=S floor=F ratio=R 429s=K lost=A duplicates=D

`--backlog B` measures fairness instead: B alerts queued for one channel (an import with
alerts), whose own limit (5 messages per 5 s) lets it take about one a second; once it is
sending, one event for `--others` other channels. Times run from that event's COMMIT to each
of their posts; the floor is others / the bot's global budget. The backlog channel's rate
is counted over at least 10 s from the COMMIT; nothing waits for the backlog to drain.
Targets: first_ms <= 300, last_ms <= 1.2 floor_ms + 300, the backlog channel at its limit:

    backlog_fairness first_ms=X last_ms=Y floor_ms=F backlog_channel_rate=R late=N 429s=K
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
from bot.emulator.api import Emulator, InteractionNotAnswered
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.world import MODERATOR_USER_ID, SANDBOX_GUILD_ID, add_feed_channels, sandbox_world
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
            ids = add_feed_channels(emulator.world, channels)
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


@dataclass
class Fairness:
    others: int
    budget: float
    post_ms: list[float]  # commit to post, one per other channel that got its alert
    backlog_rate: float  # the backlog channel's posts per second over the window
    late: int  # other channels still without their alert at the deadline
    rate_limited: int

    @property
    def floor_ms(self) -> float:
        return self.others / self.budget * 1000


def backlog_events(n: int) -> list[dict[str, str]]:
    """`n` distinct events, as an import brings them."""
    return [
        {
            "date": f"{2000 + i // 336}-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}",
            "category": "srbm",
            "summary": f"Imported launch {i + 1}.",
        }
        for i in range(n)
    ]


async def backlog_fairness(
    backlog: int, others: int, limit: int, window: float = 10.0, deadline: float = 60.0
) -> Fairness:
    """One channel `backlog` alerts behind; then one event for `others` idle channels."""
    with tempfile.TemporaryDirectory() as tmp:
        emulator = Emulator(world=sandbox_world(), global_limit=limit)
        async with emulator:
            busy, *idle = add_feed_channels(emulator.world, others + 1)
            budget = bot_budget(limit)
            config = sandbox_config(Path(tmp) / "bench.db").replace(
                "delivery", "global_rate", budget
            )
            async with running_bot(config, emulator, timeout=60) as bot:
                scope = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
                await services.subscribe(bot.store, scope, busy)
                await services.add_events(bot.store, scope, backlog_events(backlog), alert=True)
                for channel_id in idle:
                    await services.subscribe(bot.store, scope, channel_id)
                # The backlog channel spends its burst and settles at its own limit.
                await asyncio.sleep(max(2.0, config.get("delivery", "channel_burst") / 2))
                before = len(emulator.requests)
                await services.add_event(bot.store, scope, EVENT)
                committed = time.time()  # add_event returns right after its COMMIT
                waiting = set(idle)
                first_post: dict[int, float] = {}
                while time.time() < committed + max(window, deadline if waiting else 0):
                    for r in emulator.requests[before:]:
                        if r.route != POST or r.status != 200:
                            continue
                        channel_id = int(r.path.split("/")[2])  # /channels/{id}/messages
                        if channel_id in waiting:
                            waiting.discard(channel_id)
                            first_post[channel_id] = r.time
                    if not waiting and time.time() >= committed + window:
                        break
                    await asyncio.sleep(0.05)
                elapsed = time.time() - committed
            requests = emulator.requests[before:]
            busy_path = f"/channels/{busy}/messages"
            busy_posts = [
                r for r in requests if r.route == POST and r.status == 200 and r.path == busy_path
            ]
            return Fairness(
                others=others,
                budget=budget,
                post_ms=[(t - committed) * 1000 for t in first_post.values()],
                backlog_rate=len([r for r in busy_posts if r.time <= committed + elapsed])
                / elapsed,
                late=len(waiting),
                rate_limited=len([r for r in requests if r.status == 429]),
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=1000, help="subscribed channels")
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help="emulator global limit per second"
    )
    parser.add_argument(
        "--backlog", type=int, default=0, help="alerts queued for one channel (fairness run)"
    )
    parser.add_argument("--others", type=int, default=40, help="idle channels (fairness run)")
    args = parser.parse_args()
    if args.backlog:
        g = asyncio.run(backlog_fairness(args.backlog, args.others, args.limit))
        first = min(g.post_ms, default=float("nan"))
        last = max(g.post_ms, default=float("nan"))
        print(
            f"backlog_fairness first_ms={first:.0f} last_ms={last:.0f} "
            f"floor_ms={g.floor_ms:.0f} backlog_channel_rate={g.backlog_rate:.2f} "
            f"late={g.late} 429s={g.rate_limited}"
        )
        return
    f = asyncio.run(fanout(args.channels, args.limit))
    print(f"commands_during_fanout p99_ms={percentile(f.command_ms, 0.99):.0f} missed={f.missed}")
    print(
        f"fanout channels={f.channels} limit={f.limit} elapsed={f.elapsed:.2f} "
        f"floor={f.floor:.2f} ratio={f.ratio:.3f} 429s={f.rate_limited} lost={f.lost} "
        f"duplicates={f.duplicates}"
    )


if __name__ == "__main__":
    main()
