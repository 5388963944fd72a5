"""Polling feeds on a schedule, and posting the drafts they make for review.

`FeedPoller` keeps one APScheduler interval job per active feed of the guilds this
process owns (with jitter, so feeds added together do not poll together), rebuilt from
the store at start-up like the digests (bot/digest.py), and kept in step with the store
every minute, so a feed added by the CLI, or by another process, is picked up. A poll
that fails moves the feed's next run out by its back-off (`bot.feeds.Backoff`); a feed
marked broken loses its job until `/feeds resume`. After a poll that drafted something,
and every half-minute for drafts other processes made, `ReviewPoster` posts the cards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.drafting.configured import article_reader, extractor
from bot.errors import NotFound
from bot.feeds import Backoff, Fetcher
from bot.feeds.models import PollReport, WatchedFeed
from bot.i18n import _
from bot.render import md
from bot.review import ReviewPoster
from bot.services import feeds as service
from bot.services import get_settings
from db import Store

if TYPE_CHECKING:
    from bot.client import LaunchWatch

log = logging.getLogger("launchwatch.feeds")

SYNC_EVERY = 60.0
"""Seconds between two comparisons of the jobs with the store's feeds."""
POST_EVERY = 30.0
"""Seconds between two sweeps for cards owed (drafts made by the CLI or another process)."""
MAX_JITTER = 60.0


def _job(feed_id: int) -> str:
    return f"feed:{feed_id}"


class FeedPoller:
    """One interval job per active feed this process owns."""

    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        store: Store,
        fetcher: Fetcher,
        *,
        poll: Callable[[int], Any],
        owns: Callable[[int], bool] = lambda guild_id: True,
    ) -> None:
        self.scheduler = scheduler
        self.store = store
        self.fetcher = fetcher
        self.owns = owns
        self._poll = poll

    async def rebuild(self, now: datetime | None = None) -> int:
        """Schedule every active feed this process owns, each first at its `next_poll_at`
        (at once when that has passed: a poll missed while down is made now), and drop
        the jobs of feeds no longer active. The number scheduled."""
        now = now or datetime.now(UTC)
        feeds = [f for f in await service.active_feeds(self.store) if self.owns(f.guild_id)]
        wanted = {_job(f.id) for f in feeds}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("feed:") and job.id not in wanted:
                job.remove()
        for feed in feeds:
            if self.scheduler.get_job(_job(feed.id)) is None:
                self.schedule(feed, now=now)
        return len(feeds)

    def schedule(self, feed: WatchedFeed, *, now: datetime | None = None) -> None:
        """(Re)schedule a feed's job from its stored next poll; unschedule it when the
        feed is not active."""
        self.unschedule(feed.id)
        if feed.state != "active" or not self.owns(feed.guild_id):
            return
        now = now or datetime.now(UTC)
        first = datetime.fromisoformat(feed.next_poll_at) if feed.next_poll_at else now
        self.scheduler.add_job(
            self._poll,
            IntervalTrigger(
                seconds=feed.interval_s,
                jitter=min(MAX_JITTER, feed.interval_s / 10),
                timezone=UTC,
            ),
            args=[feed.id],
            id=_job(feed.id),
            next_run_time=max(first, now),
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )

    def unschedule(self, feed_id: int) -> None:
        job = self.scheduler.get_job(_job(feed_id))
        if job is not None:
            job.remove()

    def after(self, report: PollReport, now: datetime | None = None) -> None:
        """Move the next run to the back-off after a failure; drop a broken feed's job."""
        job = self.scheduler.get_job(_job(report.feed.id))
        if job is None:
            return
        if report.outcome in ("broken", "skipped"):
            job.remove()
        elif report.outcome == "failed" and report.retry_in is not None:
            when = (now or datetime.now(UTC)) + timedelta(seconds=report.retry_in)
            job.modify(next_run_time=when)

    def next_run(self, feed_id: int) -> datetime | None:
        job = self.scheduler.get_job(_job(feed_id))
        return job.next_run_time if job is not None else None


class Drafting:
    """The bot's feeds and review: the fetcher, the poller and the poster, started and
    stopped with the client (bot/client.py)."""

    def __init__(self, bot: LaunchWatch) -> None:
        self.bot = bot
        self.store = bot.store
        self.fetcher = Fetcher(
            bot.config.get("feeds", "allow_hosts"), timeout=bot.config.get("feeds", "timeout")
        )
        self.extractor = extractor(bot.config)
        self.article = article_reader(bot.config, self.fetcher)
        self.backoff = Backoff()
        self.poster = ReviewPoster(bot, self.store, owns=bot.owns_guild)
        self.poller = FeedPoller(
            bot.scheduler, self.store, self.fetcher, poll=self.poll, owns=bot.owns_guild
        )

    async def start(self) -> None:
        await self.poller.rebuild()
        self.bot.scheduler.add_job(
            self.poller.rebuild,
            IntervalTrigger(seconds=SYNC_EVERY, timezone=UTC),
            id="feeds:sync",
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
        self.bot.scheduler.add_job(
            self.post,
            IntervalTrigger(seconds=POST_EVERY, timezone=UTC),
            id="drafts:post",
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )

    async def poll(self, feed_id: int) -> PollReport | None:
        """One poll of one feed (a job, or `/feeds resume`), then its cards."""
        try:
            report = await service.poll_feed(
                self.store,
                self.fetcher,
                feed_id,
                backoff=self.backoff,
                extractor=self.extractor,
                article=self.article,
            )
        except NotFound:
            self.poller.unschedule(feed_id)
            return None
        self.poller.after(report)
        if report.outcome == "broken":
            await self.tell_broken(report.feed)
        if report.drafts:
            await self.post()
        return report

    async def tell_broken(self, feed: WatchedFeed) -> None:
        """Tell the guild's log channel (`/settings log-channel`), as for a broken
        subscription; `/feeds list` says it too."""
        settings = await get_settings(self.store, feed.guild_id)
        if settings.log_channel_id is None:
            return
        channel = self.bot.get_partial_messageable(settings.log_channel_id, guild_id=feed.guild_id)
        try:
            told = _(
                "LaunchWatch stopped reading the feed **{name}** (feed #{id}): {reason} Fix it, "
                "then `/feeds resume feed:{id}`."
            ).format(name=md(feed.label), id=feed.id, reason=md(feed.broken_reason))
            await channel.send(told, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("cannot tell guild %s's log channel that feed %s broke: %s",
                        feed.guild_id, feed.id, exc)  # fmt: skip

    async def post(self) -> int:
        """Post every card owed; errors are logged, the next sweep tries again."""
        try:
            return await self.poster.post_owed()
        except Exception:
            log.exception("posting drafts for review failed; the next sweep tries again")
            return 0

    async def close(self) -> None:
        await self.fetcher.close()
