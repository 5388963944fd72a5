"""The picture worker does not outlive the bot: a bot killed outright (SIGKILL, the OOM
killer) leaves no worker process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

BOT = """
import asyncio, sys
from bot.pictures import Renderer

async def main():
    renderer = Renderer()
    await renderer.start()
    print(*renderer._pool()._processes, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is gone, only not yet reaped
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_killed_bot_leaves_no_picture_worker_behind() -> None:
    bot = subprocess.Popen([sys.executable, "-c", BOT], stdout=subprocess.PIPE, text=True)
    assert bot.stdout is not None
    worker = int(bot.stdout.readline())
    assert alive(worker)
    bot.send_signal(signal.SIGKILL)
    bot.wait(timeout=30)
    deadline = time.monotonic() + 30
    try:
        while alive(worker):  # the worker checks for its parent every second
            assert time.monotonic() < deadline, f"worker {worker} outlived the killed bot"
            time.sleep(0.05)
    finally:
        if alive(worker):  # failed: leave no orphan on the machine
            os.kill(worker, signal.SIGKILL)
