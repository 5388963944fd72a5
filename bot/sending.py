"""Talking to Discord for the dispatcher (bot/dispatch.py): requests paced and timed out,
their errors sorted into what the dispatcher does next, and a channel's messages read back
to reconcile a row whose nonce Discord may have forgotten.

What a message shows is read from the words the templates in templates/alerts write (see
`SHOWS`), so a post can be recognised in its channel after the bot lost track of it
(docs/architecture.md, "Delivery: exactly once").
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot import alerts
from bot.models import Delivery, Subscription
from bot.pacing import Pacer

if TYPE_CHECKING:
    from bot.alerts import Post
    from db import Store

#: Discord error codes that mean the bot cannot post in the channel at all.
BROKEN_CODES = {10003: "unknown_channel", 50001: "missing_access", 50013: "missing_permissions"}
UNKNOWN_MESSAGE = 10008
#: The listing starts this long before the first try (clocks differ).
LOOKBACK = timedelta(seconds=60)
#: At most this many pages of 100 messages are read to reconcile one row.
HISTORY_PAGES = 5
#: How long to wait for the gateway's guilds before reading a channel's permissions.
READY_WAIT = 10.0

# What the templates in templates/alerts write, read back from a channel's messages:
# an alert's footer (alert.j2), a correction notice (correction.j2), a retraction notice
# (retraction.j2); a digest's footer names its period (digest.j2). The reconciliation tests
# in tests/e2e/test_alerts_crash.py find each in a channel.
SHOWS = re.compile(r"event #(\d+) · revision (\d+)")
NOTICE_NAMES = re.compile(r"event #(\d+), revision (\d+)")
RETRACTION_NAMES = re.compile(r"Retracted\b.*?\(event #(\d+)\)", re.S)


class Retry(Exception):
    """A transient failure (5xx, time-out, network): try again after a back-off."""


class Broken(Exception):
    """The channel refuses the bot (by error code): the subscription is broken."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class ReadRetry(Retry):
    """Reading a channel's history failed for now (429, 5xx, time-out): read it again after
    a back-off. Nothing is sent until a read succeeds, so the nonce window does not bound
    these retries; max_attempts does."""


class Postpone(Exception):
    """Not yet: a correction whose original alert is still on its way."""


class Unknown(Exception):
    """Whether the row was already posted cannot be told (its channel's history cannot be
    read): it is marked dead with the reason, never sent on a guess."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


class UnknownMessage(Exception):
    """10008 on an edit: the original alert was deleted."""


@dataclass
class Outcome:
    """A row's result: the message that is its post, what that message shows, and (for a
    correction) what the corrected alert's row records now."""

    message_id: int | None
    revision: int | None = None
    original_id: int | None = None
    original: dict[str, Any] = field(default_factory=dict)


class Sender:
    """Requests to Discord: each takes a slot of the pacer and a time-out of our own."""

    def __init__(self, client: discord.Client, pacer: Pacer, timeout: float) -> None:
        self.client = client
        self.pacer = pacer
        self.timeout = timeout

    async def call(
        self,
        channel_id: int | None,
        request: Awaitable[Any],
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> Any:
        """Pace, check `ready` (it raises to send nothing), then send with a time-out of our
        own above discord.py's retries. A read (`channel_id` None) takes a global slot only:
        the channel's window is for posts."""
        try:
            async with self.slot(channel_id), asyncio.timeout(self.timeout):
                if ready is not None:
                    await ready()
                # not wait_for: it can swallow a cancel (see Dispatcher._sleep)
                return await request
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise Retry(type(exc).__name__) from exc
        except discord.HTTPException as exc:
            if exc.code in BROKEN_CODES:
                raise Broken(exc.code) from exc
            if exc.code == UNKNOWN_MESSAGE:
                raise UnknownMessage() from exc
            if exc.status >= 500 or exc.status == 429:
                raise Retry(f"{exc.status} {exc.code}") from exc
            raise
        finally:
            if asyncio.iscoroutine(request):
                request.close()

    @asynccontextmanager
    async def slot(self, channel_id: int | None) -> AsyncIterator[None]:
        if channel_id is not None:
            async with self.pacer.slot(channel_id):
                yield
            return
        window = self.pacer.global_window
        ours = await window.reserve()
        try:
            yield
        finally:
            window.release(ours)

    async def own_messages(self, channel_id: int, since: datetime) -> list[discord.Message]:
        """The bot's own messages in the channel posted after `since`, oldest first: what
        reconciliation looks through (Unknown when they cannot be read)."""
        if not self.client.is_ready():
            try:
                async with asyncio.timeout(READY_WAIT):
                    await self.client.wait_until_ready()
            except TimeoutError:
                raise Postpone() from None
        channel = self.client.get_channel(channel_id)
        if not isinstance(
            channel,
            discord.TextChannel | discord.Thread | discord.VoiceChannel | discord.StageChannel,
        ):
            raise Unknown("no_channel")
        me: discord.Member | None = channel.guild.me
        if me is None:
            raise Unknown("no_channel")
        perms = channel.permissions_for(me)
        if not (perms.view_channel and perms.read_message_history):
            raise Unknown("no_history")
        after: discord.abc.Snowflake = discord.Object(id=discord.utils.time_snowflake(since))
        own: list[discord.Message] = []
        for _ in range(HISTORY_PAGES):
            try:
                page: list[discord.Message] = await self.call(None, history(channel, after))
            except Retry as exc:
                raise ReadRetry(f"reading the channel's messages: {exc}") from exc
            except (Broken, UnknownMessage, discord.HTTPException) as exc:
                raise Unknown("read_failed", str(exc) or type(exc).__name__) from exc
            own += [m for m in page if m.author.id == me.id]
            if len(page) < 100:
                return own
            after = page[-1]
        raise Unknown("too_many")


def stop(post: Post) -> None:
    """Forget the view once sent: its button is a DynamicItem, routed by custom_id."""
    if post.view is not None:
        post.view.stop()


async def history(channel: discord.abc.Messageable, after: discord.abc.Snowflake) -> list[discord.Message]:  # fmt: skip
    """One page (one request) of the channel's messages after `after`, oldest first."""
    return [m async for m in channel.history(limit=100, after=after, oldest_first=True)]


def footer(message: discord.Message) -> str:
    return (message.embeds[0].footer.text or "") if message.embeds else ""


def shows(message: discord.Message, event_id: int) -> int | None:
    """The revision of the event an alert message shows (its footer), if it is one."""
    m = SHOWS.search(footer(message))
    return int(m[2]) if m and int(m[1]) == event_id else None


def names(message: discord.Message, event_id: int) -> int | None:
    """The revision a correction notice names, if the message is one for this event."""
    m = NOTICE_NAMES.search(message.content or "")
    return int(m[2]) if m and int(m[1]) == event_id else None


def retracts(message: discord.Message, event_id: int) -> bool:
    m = RETRACTION_NAMES.search(message.content or "")
    return m is not None and int(m[1]) == event_id


# -- reconciling a row whose nonce Discord may have forgotten -----------------------------
async def reconcile(
    sender: Sender, store: Store, row: Delivery, sub: Subscription, tried: str
) -> Outcome | None:
    """The row's post if the channel holds it (and what it shows), else None; Unknown
    if the channel's history cannot be read. Matched by kind: an alert by its footer,
    a notice as a reply to the original naming the revision or the retraction, a
    digest by its period, a test alert by its title."""
    since = datetime.fromisoformat(tried) - LOOKBACK
    mine = await sender.own_messages(row.channel_id, since)
    kind, event_id = row.kind, row.event_id
    if kind == "digest":
        return next((Outcome(m.id) for m in mine if row.period in footer(m).split(" · ")), None)  # fmt: skip
    if event_id is None:
        sample = alerts.sample(sub).embed
        title = sample.title if sample is not None else None
        return next((Outcome(m.id) for m in mine if m.embeds and m.embeds[0].title == title), None)  # fmt: skip
    assert row.revision is not None  # an event's row carries its revision
    if kind == "alert":
        for m in mine:
            shown = shows(m, event_id)
            if m.reference is None and shown is not None:
                return Outcome(m.id, revision=shown)
        return None
    async with store.read() as q:
        original = await q.deliveries.sent_alert(sub.id, event_id)
    if original is None or original.status != "sent":
        return None  # the usual path skips or postpones it
    for m in mine:
        if m.reference is None or m.reference.message_id != original.message_id:
            continue
        if kind == "retraction" and retracts(m, event_id):
            return Outcome(m.id, None, original.id, {"revision": row.revision})
        named = names(m, event_id)
        if kind == "correction" and named is not None and named >= row.revision:
            return Outcome(m.id, None, original.id, {"revision": named})
    for m in mine:  # the original was deleted, and this row posted the alert anew
        shown = shows(m, event_id)
        if m.reference is None and m.id != original.message_id and shown is not None:
            if shown >= row.revision:
                return Outcome(m.id, None, original.id, {"message_id": m.id, "revision": shown})  # fmt: skip
    return None
