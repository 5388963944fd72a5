"""The sandbox's own feed server and examples/feeds.txt: a new user watches drafts arrive
in #review, a member's click is refused, and the moderator's Confirm alerts #alerts."""

from __future__ import annotations

import io
import socket
from pathlib import Path

from bot.config import load_config
from bot.sandbox.feeds import SandboxFeeds
from bot.sandbox.lines import script_source
from bot.sandbox.session import sandbox_session

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_feeds_example_drafts_reviews_and_alerts(tmp_path: Path) -> None:
    port = free_port()
    script = (ROOT / "examples/feeds.txt").read_text(encoding="utf-8")
    lines = script.replace("127.0.0.1:8765", f"127.0.0.1:{port}").splitlines()
    config = load_config(None, env={}).replace("sandbox", "feed_port", port)
    out = io.StringIO()
    code = await sandbox_session(
        config, tmp_path / "s.db", script_source(lines), out=out, echo=True, settle=0.05
    )
    text = out.getvalue()
    assert code == 0, text
    assert f"served at http://127.0.0.1:{port}/wire.xml" in text
    assert "── #review · LaunchWatch posted:" in text
    assert "Draft: 1 × IRBM (Hwasong-12), 2022-10-03 22:22 UTC" in text
    assert "Update to event #1: 2 × cruise missile, 25 Jan 2024" in text
    assert "You need the Manage Server permission" in text  # the member's click
    assert "Confirmed by @moderator as event #5" in text
    assert "── #alerts · LaunchWatch posted:" in text
    assert "items: 2 (2 matched)" in text
    assert "console hit a problem" not in text


async def test_the_feed_serves_rss_and_each_story_as_a_page() -> None:
    from bot.drafting.articles import fetch_article
    from bot.feeds import Feed, Fetcher, read_feed

    feeds = SandboxFeeds(0)
    await feeds.start()
    try:
        async with Fetcher([feeds.endpoint]) as fetcher:
            doc = await read_feed(fetcher, feeds.url)
            assert isinstance(doc, Feed) and len(doc.items) == 2
            link = doc.items[1].link
            assert link is not None
            page = await fetch_article(fetcher, link)
            assert isinstance(page, str) and "Kim Chaek" in page
    finally:
        await feeds.stop()
