"""The sandbox's own news feed: an aiohttp server on 127.0.0.1 serving an RSS feed of two
wire stories (and each story as a web page), so a new user can watch drafts arrive.

`python -m bot sandbox` starts it and allows its address for the feed fetcher
(`[feeds] allow_hosts`); `/feeds add url:http://127.0.0.1:8765/wire.xml` reads it. The
stories are package data (bot/sandbox/feed/): the 2022 Hwasong-12 flight over Japan, a
launch the sandbox's store does not hold (Confirm makes an alert of it), and the seed
article, whose four launches it holds (update drafts, adding the story as a source).
"""

from __future__ import annotations

import contextlib
import html
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from importlib import resources
from xml.sax.saxutils import escape

from aiohttp import web

DEFAULT_PORT = 8765


@dataclass(frozen=True)
class Story:
    slug: str
    title: str
    published: datetime
    file: str

    def text(self) -> str:
        return resources.files("bot.sandbox").joinpath("feed", self.file).read_text("utf-8")


STORIES = (
    Story(
        "hwasong12-over-japan",
        "North Korea fires missile over Japan for first time in five years",
        datetime(2022, 10, 4, 3, 0, tzinfo=UTC),
        "hwasong12-over-japan.txt",
    ),
    Story(
        "cruise-missiles",
        "North Korea test-fires cruise missiles for the fourth time in nine days",
        datetime(2024, 2, 3, 9, 0, tzinfo=UTC),
        "cruise-missiles.txt",
    ),
)
#: A feed's summary holds the start of a story, as many feeds' do (the parser keeps 4,000
#: characters); with `[drafting] fetch_articles` the bot reads the whole page instead.
SUMMARY = 3800


class SandboxFeeds:
    """The feed server; `url` is the feed's address once started."""

    def __init__(self, port: int = DEFAULT_PORT) -> None:
        self.wanted = port
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/wire.xml"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Serve on the configured port, or on a free one when it is taken (or 0)."""
        app = web.Application()
        app.router.add_get("/wire.xml", self._feed)
        app.router.add_get("/articles/{slug}.html", self._article)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", self.wanted))
        except OSError:  # taken: any free port will do (the start-up line names it)
            sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await self._runner.cleanup()
            self._runner = None

    async def _feed(self, request: web.Request) -> web.Response:
        items = "".join(
            "<item>"
            f'<guid isPermaLink="false">sandbox:{s.slug}</guid>'
            f"<title>{escape(s.title)}</title>"
            f"<link>{self.base}/articles/{s.slug}.html</link>"
            f"<description>{escape(s.text()[:SUMMARY])}</description>"
            f"<pubDate>{format_datetime(s.published)}</pubDate>"
            "</item>"
            for s in STORIES
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Sandbox Wire</title><link>{self.base}/</link>"
            f"<description>Stories for the LaunchWatch sandbox</description>{items}"
            "</channel></rss>"
        )
        return web.Response(body=body.encode(), content_type="application/rss+xml")

    async def _article(self, request: web.Request) -> web.Response:
        story = next((s for s in STORIES if s.slug == request.match_info["slug"]), None)
        if story is None:
            raise web.HTTPNotFound()
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in story.text().split("\n") if p)
        page = (
            f"<html><head><title>{html.escape(story.title)}</title></head><body><article>"
            f"<h1>{html.escape(story.title)}</h1>{paragraphs}</article></body></html>"
        )
        return web.Response(text=page, content_type="text/html")
