"""`python -m bot feeds add|list|poll --once` and `drafts list`, as a person runs them, against
a real feed server on loopback (allowed with LAUNCHWATCH_FEEDS_ALLOW_HOSTS)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.unit.drafts_support import SEOUL, WEATHER, rss
from tests.unit.feeds_support import FeedServer, feed_server


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with feed_server() as s:
        yield s


async def cli(tmp_path: Path, server: FeedServer, *args: str) -> tuple[int, str, str]:
    """Run `python -m bot` in tmp_path without blocking the loop the feed server runs on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAUNCHWATCH_", "DISCORD_"))}
    env["LAUNCHWATCH_DATABASE_URL"] = f"sqlite:///{tmp_path / 'lw.db'}"
    env["LAUNCHWATCH_FEEDS_ALLOW_HOSTS"] = server.endpoint
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_poll_once_drafts_matching_items_once_and_prints_a_line_per_feed(
    tmp_path: Path, server: FeedServer
) -> None:
    server.serve("/rss", rss([SEOUL, WEATHER], title="Yonhap"))
    code, out, _ = await cli(
        tmp_path, server, "feeds", "add", server.url("/rss"), "--name", "Yonhap"
    )
    assert code == 0 and "Watching feed #1 Yonhap every 15 min" in out

    code, out, _ = await cli(tmp_path, server, "feeds", "poll", "--once")
    assert code == 0
    assert out.strip() == "#1  Yonhap: 2 items, 2 new, 1 matching, 1 draft"

    code, out, _ = await cli(tmp_path, server, "drafts", "list", "--json")
    (draft,) = json.loads(out)
    assert (draft["kind"], draft["status"], draft["fields"]["category"]) == (
        "new",
        "pending",
        "srbm",
    )
    assert draft["sources"][0]["title"] == SEOUL.title

    code, out, _ = await cli(tmp_path, server, "feeds", "poll", "--once")
    assert out.strip() == "#1  Yonhap: 2 items, 0 new, 0 matching, 0 drafts"
    code, out, _ = await cli(tmp_path, server, "drafts", "list")
    assert out.strip().startswith("draft #1  18 Mar 2024  1 × SRBM, from Sunan  [new]  1 source")
    code, out, _ = await cli(tmp_path, server, "feeds", "list")
    assert "items: 2 (1 matched)  active" in out and "last success: never" not in out


async def test_a_failing_feed_shows_its_reason_and_retry(
    tmp_path: Path, server: FeedServer
) -> None:
    async def failing(request: web.Request) -> web.Response:
        return web.Response(status=500, reason="Internal Server Error")

    server.routes["/rss"] = failing
    await cli(tmp_path, server, "feeds", "add", server.url("/rss"))
    code, out, _ = await cli(tmp_path, server, "feeds", "poll", "--once")
    assert code == 0
    assert f"failed: {server.url('/rss')} answered HTTP 500 Internal Server Error." in out
    assert "Next try in 30 min." in out
    code, out, _ = await cli(tmp_path, server, "feeds", "list")
    assert "active; last failure:" in out and "HTTP 500" in out
