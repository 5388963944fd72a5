"""The dispatcher: sends the outbox (delivery rows) to Discord, once each, paced.

It wakes when a transaction in this process commits deliveries, and sweeps the outbox
every few seconds for rows other processes wrote. Each channel's rows go out in order,
one at a time; the pacer keeps the whole fan-out under Discord's limits. Every post
carries its delivery's nonce (`enforce_nonce`), so a resend after a crash or a time-out
returns the first message instead of posting twice; retries stop before Discord's nonce
window has passed. Failures are classified by Discord's JSON error code
(docs/architecture.md, "Dispatch").
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot import alerts
from bot.config import Config
from bot.i18n import _, ngettext
from bot.models import Event, Subscription
from bot.pacing import Pacer
from bot.services.context import now_iso
from db import Store

if TYPE_CHECKING:
    from bot.alerts import Post

log = logging.getLogger("launchwatch.dispatch")

#: Discord error codes that mean the bot cannot post in the channel at all.
BROKEN_CODES = {10003: "unknown_channel", 50001: "missing_access", 50013: "missing_permissions"}
UNKNOWN_MESSAGE = 10008
#: Retries stop this long before Discord's nonce window (a few minutes) closes.
NONCE_WINDOW = timedelta(minutes=4)
BATCH = 500
#: How long a claim holds; a process that dies lets go of its rows when it restarts.
CLAIM = timedelta(minutes=10)
SKIPPED = "skipped: "


class Retry(Exception):
    """A transient failure (5xx, time-out, network): try again after a back-off."""


class Broken(Exception):
    """The channel refuses the bot (by error code): the subscription is broken."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Postpone(Exception):
    """Not yet: a correction whose original alert is still on its way."""


class Dispatcher:
    def __init__(self, client: discord.Client, store: Store, config: Config) -> None:
        self.client = client
        self.store = store
        self.pacer = Pacer(
            config.get("delivery", "global_rate"),
            config.get("delivery", "channel_rate"),
            config.get("delivery", "channel_burst"),
        )
        self.send_timeout: float = config.get("delivery", "send_timeout")
        self.max_attempts: int = config.get("delivery", "max_attempts")
        self.sweep_interval: float = config.get("delivery", "sweep_interval")
        self.backoff_cap = 60.0
        self.publishers = tuple(config.publisher_guilds)
        self._wake = asyncio.Event()
        self._inflight: set[int] = set()
        self._queues: dict[int, deque[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        # The shards whose guilds' deliveries this process sends (docs/architecture.md, "Scale").
        self.shards: tuple[int, ...] = tuple(config.get("discord", "shard_ids"))
        self.shard_count: int = config.get("discord", "shard_count") or 1
        self.sent = 0
        #: Called with each delivery id once it is settled (tests and benchmarks listen).
        self.on_settled: list[Callable[[int, str], None]] = []

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Release this process's old claims (it restarted), listen for other processes'
        commits (PostgreSQL), and start sending."""
        async with self.store.transaction() as q:
            released = await q.release_claims(self.shards, self.shard_count)
        if released:
            log.info("released %d deliveries claimed before a restart", released)
        self.store.on_commit.append(self.wake)
        await self.store.listen(self.wake)
        self._runner = asyncio.create_task(self._run(), name="launchwatch-dispatch")

    async def stop(self) -> None:
        if self.wake in self.store.on_commit:
            self.store.on_commit.remove(self.wake)
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._claim()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher sweep failed; retrying at the next sweep")
            await self._sleep()

    async def _sleep(self) -> None:
        """Until woken by a commit or a notification, the next due retry, or the sweep."""
        timeout = self.sweep_interval
        if len(self._inflight) < BATCH // 2:
            async with self.store.read() as q:
                due = await q.next_due_at(now_iso(), self.shards, self.shard_count)
            if due is not None:
                until = (datetime.fromisoformat(due) - datetime.now(UTC)).total_seconds()
                timeout = max(0.0, min(timeout, until))
        if timeout > 0:
            try:  # not wait_for: on 3.11 it swallows a cancel that comes with a wake-up
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _claim(self) -> None:
        """Claim due rows of our shards and queue each on its channel's worker."""
        room = BATCH - len(self._inflight)
        if room < BATCH // 2:
            return
        now = datetime.now(UTC)
        async with self.store.transaction() as q:
            rows = await q.claim_deliveries(
                now_iso(now), now_iso(now + CLAIM), room, self.shards, self.shard_count
            )
        for row in rows:
            self._inflight.add(row["id"])
            queue = self._queues.get(row["channel_id"])
            if queue is not None:
                queue.append(row)  # its worker is running: it takes this one next, in order
                continue
            self._queues[row["channel_id"]] = deque([row])
            task = asyncio.create_task(self._work(row["channel_id"]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _work(self, channel_id: int) -> None:
        """Send one channel's rows one at a time, oldest first."""
        queue = self._queues[channel_id]
        try:
            while queue:
                row = queue.popleft()
                try:
                    await self.deliver(row)
                finally:
                    self._inflight.discard(row["id"])
        finally:
            self._queues.pop(channel_id, None)
            if len(self._inflight) < BATCH // 2:
                self.wake()

    # -- one delivery ---------------------------------------------------------------------
    async def deliver(self, row: dict[str, Any]) -> None:
        """Send one delivery and record the outcome; never raises for Discord's answers."""
        async with self.store.read() as q:
            sub_row = await q.get_subscription(row["subscription_id"])
            current = await q.get_delivery(row["id"])
        if current is None or current["status"] != "pending":
            return
        if sub_row is None or sub_row["state"] != "active":
            await self._settle(
                row,
                "failed",
                error=SKIPPED + f"subscription is {sub_row['state'] if sub_row else 'gone'}",
            )
            return
        sub = Subscription.from_row(sub_row)
        first = row["first_attempt_at"] or now_iso()
        try:
            message_id = await self._attempt(row, sub, first)
        except Postpone:
            later = now_iso(datetime.now(UTC) + timedelta(seconds=1))
            await self._release(row, {"next_attempt_at": later})
        except Broken as exc:
            await self._break(row, sub, exc.code)
        except Retry as exc:
            await self._retry(row, first, str(exc))
        except discord.HTTPException as exc:
            log.error(
                "delivery %s refused by Discord (%s %s): %s",
                row["id"],
                exc.status,
                exc.code,
                exc.text,
            )
            await self._settle(row, "dead", error=f"{exc.status} {exc.code}: {exc.text}"[:500])
        except _Skip as exc:
            await self._settle(row, "failed", error=SKIPPED + str(exc))
        else:
            await self._settle(row, "sent", message_id=message_id)

    async def _attempt(self, row: dict[str, Any], sub: Subscription, first: str) -> int | None:
        if row["first_attempt_at"] is None:
            await self._update(row, {"first_attempt_at": first})
        kind = row["kind"]
        if kind == "digest":
            from bot.digest import render_digest

            post = await render_digest(self.store, sub, row["period"], self.publishers)
            if post is None:
                raise _Skip("nothing happened in the period")
            return await self._post(row, post)
        if row["event_id"] is None:
            return await self._post(row, alerts.sample(sub))
        event = await self._event(row["event_id"])
        if kind == "alert":
            # Checked when the channel's turn comes, not before: an event retracted while its
            # alert waited in the channel's backlog must not be posted.
            ready = functools.partial(self._not_retracted, event.id)
            message_id = await self._post(row, alerts.alert(event, sub), ready=ready)
            await self._update(row, {"revision": event.revision})
            return message_id
        return await self._correct(row, sub, event)

    async def _correct(self, row: dict[str, Any], sub: Subscription, event: Event) -> int | None:
        """Edit the original in place, then reply with what changed (docs/architecture.md,
        "Correct or retract")."""
        async with self.store.read() as q:
            original = await q.sent_alert(sub.id, event.id)
            changes = await _changes(q, event.id, row["revision"])
        if original is None or original["status"] in ("failed", "dead"):
            raise _Skip("this channel never received the original alert")
        if original["status"] == "pending":
            raise Postpone()
        if (
            original["revision"] is not None
            and original["revision"] >= row["revision"]
            and row["kind"] == "correction"
        ):
            return original["message_id"]  # the alert already showed this revision
        channel = self._channel(row)
        fresh = alerts.alert(event, sub, corrected=True)
        try:
            await self._call(row["channel_id"], channel.get_partial_message(original["message_id"]).edit(
                content=fresh.content, embed=fresh.embed, view=fresh.view, allowed_mentions=discord.AllowedMentions.none()
            ))  # fmt: skip
            _stop(fresh)
        except _UnknownMessage:
            _stop(fresh)
            message_id = await self._post(row, fresh)  # the original was deleted: post it anew
            await self._update(original, {"message_id": message_id, "revision": event.revision})
            return message_id
        await self._update(original, {"revision": event.revision})
        if row["kind"] != "retraction" and not alerts.needs_notice([c["field"] for c in changes]):
            return original["message_id"]
        note = alerts.notice(event, row["kind"], changes)
        reference = discord.MessageReference(
            message_id=original["message_id"],
            channel_id=row["channel_id"],
            fail_if_not_exists=False,
        )
        return await self._post(row, note, reference=reference)

    async def _not_retracted(self, event_id: int) -> None:
        """Skip an alert whose event was retracted (or deleted) before it could go out."""
        async with self.store.read() as q:
            found = await q.get_event(event_id)
        if found is None:
            raise _Skip("the event was deleted")
        if found["confidence"] == "retracted":
            raise _Skip("retracted before it was delivered")

    async def _event(self, event_id: int) -> Event:
        async with self.store.read() as q:
            found = await q.get_event(event_id)
            if found is None:
                raise _Skip("the event was deleted")
            sources = await q.sources_for("event", [event_id])
        return Event.from_row(found, sources[event_id])

    # -- talking to Discord ---------------------------------------------------------------
    def _channel(self, row: dict[str, Any]) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(row["channel_id"], guild_id=row["guild_id"])

    async def _post(
        self,
        row: dict[str, Any],
        post: Post,
        reference: discord.MessageReference | None = None,
        *,
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> int:
        channel = self._channel(row)
        kwargs: dict[str, Any] = {"allowed_mentions": post.allowed_mentions, "nonce": row["nonce"]}
        if post.content:
            kwargs["content"] = post.content
        if post.embed is not None:
            kwargs["embed"] = post.embed
        if post.view is not None:
            kwargs["view"] = post.view
        if reference is not None:
            kwargs["reference"] = reference
            kwargs["mention_author"] = False
        message = await self._call(row["channel_id"], channel.send(**kwargs), ready)
        _stop(post)
        self.sent += 1
        return message.id

    async def _call(
        self,
        channel_id: int,
        request: Awaitable[Any],
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> Any:
        """Pace, check `ready` (it raises to send nothing), then send with a time-out of our
        own above discord.py's retries."""
        try:
            async with self.pacer.slot(channel_id), asyncio.timeout(self.send_timeout):
                if ready is not None:
                    await ready()
                return await request  # not wait_for: it can swallow a cancel (see _sleep)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise Retry(type(exc).__name__) from exc
        except discord.HTTPException as exc:
            if exc.code in BROKEN_CODES:
                raise Broken(exc.code) from exc
            if exc.code == UNKNOWN_MESSAGE:
                raise _UnknownMessage() from exc
            if exc.status >= 500 or exc.status == 429:
                raise Retry(f"{exc.status} {exc.code}") from exc
            raise
        finally:
            if asyncio.iscoroutine(request):
                request.close()

    # -- recording outcomes ---------------------------------------------------------------
    async def _update(self, row: dict[str, Any], values: dict[str, Any]) -> None:
        async with self.store.transaction() as q:
            await q.update_delivery(row["id"], values)

    async def _release(self, row: dict[str, Any], values: dict[str, Any]) -> None:
        """Update a row and give up our claim on it, so the next sweep can take it again."""
        await self._update(row, {**values, "claimed_until": None})

    async def _settle(
        self,
        row: dict[str, Any],
        status: str,
        *,
        message_id: int | None = None,
        error: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "last_error": error}
        if status == "sent":
            values |= {"message_id": message_id, "sent_at": now_iso()}
        async with self.store.transaction() as q:
            await q.update_delivery(row["id"], values)
        for callback in self.on_settled:
            callback(row["id"], status)

    async def _retry(self, row: dict[str, Any], first: str, error: str) -> None:
        """Back off exponentially with jitter; give up before the nonce window closes."""
        attempts = row["attempts"] + 1
        delay = min(self.backoff_cap, 2.0 ** (attempts - 1)) * random.uniform(0.5, 1.0)
        retry_at = datetime.now(UTC) + timedelta(seconds=delay)
        too_late = (
            retry_at + timedelta(seconds=self.send_timeout) - datetime.fromisoformat(first)
            > NONCE_WINDOW
        )
        if attempts >= self.max_attempts or too_late:
            log.warning("delivery %s gave up after %d attempts: %s", row["id"], attempts, error)
            async with self.store.transaction() as q:
                await q.update_delivery(row["id"], {"attempts": attempts})
            gave_up = ngettext(
                "gave up after {attempts} attempt: {error}",
                "gave up after {attempts} attempts: {error}",
                attempts,
            )
            await self._settle(row, "dead", error=gave_up.format(attempts=attempts, error=error))
            return
        log.info("delivery %s failed (%s); retry %d in %.1fs", row["id"], error, attempts, delay)
        async with self.store.transaction() as q:
            await q.update_delivery(
                row["id"],
                {
                    "attempts": attempts,
                    "next_attempt_at": now_iso(retry_at),
                    "last_error": error,
                    "claimed_until": None,
                },
            )

    async def _break(self, row: dict[str, Any], sub: Subscription, code: int) -> None:
        """Mark the subscription broken with a reason people can act on, and tell the log channel."""
        reason = broken_reason(code)
        async with self.store.transaction() as q:
            await q.set_subscription_state(sub.id, "broken", reason)
            await q.skip_pending(sub.id, SKIPPED + "the subscription is broken")
            await q.update_delivery(
                row["id"],
                {"status": "failed", "last_error": reason, "attempts": row["attempts"] + 1},
            )
        for callback in self.on_settled:
            callback(row["id"], "failed")
        log.warning("subscription %s in channel %s is broken: %s", sub.id, sub.channel_id, reason)
        await self._tell_log_channel(sub, reason)

    async def _tell_log_channel(self, sub: Subscription, reason: str) -> None:
        async with self.store.read() as q:
            settings = await q.get_settings(sub.guild_id)
        log_channel = settings["log_channel_id"] if settings else None
        if not log_channel or log_channel == sub.channel_id:
            return
        text = "⚠️ " + _("Alerts to {channel} have stopped.").format(channel=f"<#{sub.channel_id}>")
        text += " " + reason
        channel = self.client.get_partial_messageable(log_channel, guild_id=sub.guild_id)
        try:
            await self._call(
                log_channel, channel.send(text, allowed_mentions=discord.AllowedMentions.none())
            )
        except (Retry, Broken, discord.HTTPException) as exc:
            log.warning(
                "could not tell log channel %s about a broken subscription: %s", log_channel, exc
            )


def broken_reason(code: int) -> str:
    """Why a subscription broke, from Discord's error code, and what to do about it: stored
    with the subscription and shown in `/alerts list`."""
    if code == 10003:
        return _(
            "The channel no longer exists (Discord error 10003). Unsubscribe it, or subscribe "
            "another channel."
        )
    if code == 50001:
        return _(
            "LaunchWatch cannot see this channel (Discord error 50001 Missing Access). Give it "
            "View Channel there, then /alerts resume."
        )
    return _(
        "LaunchWatch lacks a permission in this channel (Discord error 50013 Missing "
        "Permissions): it needs Send Messages, Embed Links and Read Message History. Grant "
        "them, then /alerts resume."
    )


class _Skip(Exception):
    """Nothing to send, for a reason worth recording."""


class _UnknownMessage(Exception):
    """10008 on an edit: the original alert was deleted."""


def _stop(post: Post) -> None:
    """Forget the view once sent: its button is a DynamicItem, routed by custom_id."""
    if post.view is not None:
        post.view.stop()


async def _changes(q: Any, event_id: int, revision: int) -> list[dict[str, Any]]:
    """What a revision changed, for the notice: dates and sources in readable form."""
    out = []
    for r in await q.revisions(event_id):
        if r["revision"] != revision or r["field"] in (
            "date_precision",
            "created",
            "retraction_reason",
        ):
            continue
        old, new = r["old"], r["new"]
        if r["field"] == "sources":
            old, new = _source_titles(old), _source_titles(new)
        out.append({"field": r["field"], "old": old, "new": new})
    return out


def _source_titles(value: str | None) -> str | None:
    if not value:
        return None
    items = json.loads(value)
    return (
        "; ".join(s.get("title") or s.get("publisher") or s.get("url") or "?" for s in items)
        or None
    )
