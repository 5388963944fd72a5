"""The dispatcher: sends the outbox (delivery rows) to Discord, once each, paced.

It wakes when a transaction in this process commits deliveries, and sweeps the outbox
every few seconds for rows other processes wrote. It claims rows a channel at a time in
turn, never more for one channel than that channel can send in a few seconds, so a backlog
in one channel cannot hold up another's alert. Each channel's rows go out in order, one at
a time; the pacer keeps the whole fan-out under Discord's limits. A worker settles, backs
off or gives back every row it took, whatever goes wrong (docs/architecture.md, "Dispatch").

Exactly once (docs/architecture.md, "Delivery: exactly once"): every post carries its
delivery's nonce (`enforce_nonce`), so a resend within Discord's nonce window returns the
first message instead of posting twice; retries stop before that window has passed. A row
tried first longer ago than the window less a minute (after a restart, or a claim that ran
out) is reconciled before anything is sent: the bot lists its own messages in the channel
since that first try and settles the row on the one that is its post. What a message
shows (the event's revision) is read from the message Discord returned, so a resend that
Discord answered with the first message records the first message's revision.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from bot import alerts, sending
from bot.config import Config
from bot.i18n import _, ngettext
from bot.models import Delivery, Event, Subscription
from bot.pacing import Pacer
from bot.sending import (
    Broken,
    Outcome,
    Postpone,
    ReadRetry,
    Retry,
    Sender,
    Unknown,
    UnknownMessage,
)
from bot.services.context import now_iso
from db import Store

if TYPE_CHECKING:
    from bot.alerts import Post
    from bot.services.pictures import Pictures

log = logging.getLogger("launchwatch.dispatch")

#: How long after a first try a resend with the same nonce is still deduplicated, as this
#: bot counts it: Discord keeps nonces "a few minutes" (5 in the emulator). Retries stop
#: before this has passed.
NONCE_WINDOW = timedelta(minutes=4)
#: From this long after its first try, a row is reconciled before it is sent again.
RECONCILE_AFTER = NONCE_WINDOW - timedelta(seconds=60)
BATCH = 500
#: How long a claim holds: well inside RECONCILE_AFTER, so a row whose worker lost it
#: comes back while its nonce still deduplicates a resend.
CLAIM = timedelta(minutes=2)
#: A channel holds at most the rows it can send in this many seconds (its burst at least).
CHANNEL_HOLD = 5.0
#: After a failed sweep, the next one comes this soon.
SWEEP_RETRY = 1.0
SKIPPED = "skipped: "


class Dispatcher:
    def __init__(self, client: discord.Client, store: Store, config: Config) -> None:
        self.client = client
        self.store = store
        channel_rate: float = config.get("delivery", "channel_rate")
        channel_burst: int = config.get("delivery", "channel_burst")
        self.pacer = Pacer(config.get("delivery", "global_rate"), channel_rate, channel_burst)
        #: The most rows one channel holds at once (claimed and not yet settled).
        self.per_channel = max(1, channel_burst, math.ceil(channel_rate * CHANNEL_HOLD))
        self.send_timeout: float = config.get("delivery", "send_timeout")
        self.sender = Sender(client, self.pacer, self.send_timeout)
        self.max_attempts: int = config.get("delivery", "max_attempts")
        self.sweep_interval: float = config.get("delivery", "sweep_interval")
        self.backoff_cap = 60.0
        self.publishers = tuple(config.publisher_guilds)
        self._wake = asyncio.Event()
        self._inflight: set[int] = set()
        self._held: Counter[int] = Counter()  # rows in flight per channel
        self._full: set[int] = set()  # channels that reached per_channel: more may wait
        self._queues: dict[int, deque[Delivery]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        # Claims to give back that a failing store would not take yet: rows a worker could
        # not back off, and whole claims whose transaction failed (it may have committed).
        self._owed_rows: set[int] = set()
        self._owed_claims: set[str] = set()
        # The shards whose guilds' deliveries this process sends (docs/architecture.md, "Scale").
        self.shards: tuple[int, ...] = tuple(config.get("discord", "shard_ids"))
        self.shard_count: int = config.get("discord", "shard_count") or 1
        self.sent = 0
        #: The bot's pictures: an alert carries its event's map when it is drawn in time.
        self.pictures: Pictures | None = None
        #: Called with each delivery id once it is settled (tests and benchmarks listen).
        self.on_settled: list[Callable[[int, str], None]] = []

    @property
    def in_flight(self) -> int:
        """Rows claimed by this process and not yet settled, backed off or given back."""
        return len(self._inflight) + len(self._owed_rows)

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Release this process's old claims (it restarted), listen for other processes'
        commits (PostgreSQL), and start sending."""
        async with self.store.transaction() as q:
            released = await q.deliveries.release_claims(self.shards, self.shard_count)
        if released:
            log.info("released %d deliveries claimed before a restart", released)
        self.store.on_commit.append(self.wake)
        await self.store.listen(self.wake)
        self._runner = asyncio.create_task(self._run(), name="launchwatch-dispatch")

    async def stop(self) -> None:
        """Stop the runner and every worker, and give back the rows they had not finished."""
        if self.wake in self.store.on_commit:
            self.store.on_commit.remove(self.wake)
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        left = sorted(self._inflight | self._owed_rows)
        self._inflight.clear()
        self._owed_rows.clear()
        self._queues.clear()
        self._held.clear()
        self._full.clear()
        if not left:
            return
        try:
            async with asyncio.timeout(5.0), self.store.transaction() as q:
                await q.deliveries.release(left)
        except Exception as exc:  # the next start releases them all anyway
            log.warning("could not give back %d claimed deliveries: %s", len(left), exc)

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            owing = self._owed_rows or self._owed_claims
            timeout = SWEEP_RETRY if owing else self.sweep_interval
            try:
                await self._pay_back()
            except Exception as exc:
                log.warning("could not give back claims yet: %s", exc)
            try:
                claimed_at = await self._claim()
                await self._sleep(claimed_at, timeout)
                continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher sweep failed; trying again in %.0fs", SWEEP_RETRY)
            await self._sleep(None, SWEEP_RETRY)

    async def _sleep(self, claimed_at: datetime | None, timeout: float) -> None:
        """Until woken by a commit, a notification or a channel with more rows waiting, the
        next retry that falls due after the last claim, or the sweep."""
        if claimed_at is not None and len(self._inflight) < BATCH // 2:
            async with self.store.read() as q:
                due = await q.deliveries.next_due_at(
                    now_iso(claimed_at), self.shards, self.shard_count
                )
            if due is not None:
                until = (datetime.fromisoformat(due) - datetime.now(UTC)).total_seconds()
                timeout = max(0.0, min(timeout, until))
        if timeout > 0:
            try:  # not wait_for: on 3.11 it swallows a cancel that comes with a wake-up
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _pay_back(self) -> None:
        """Give back claims owed since the store failed: the rows fall due again."""
        if not self._owed_rows and not self._owed_claims:
            return
        rows, claims = sorted(self._owed_rows), sorted(self._owed_claims)
        later = now_iso(datetime.now(UTC) + timedelta(seconds=SWEEP_RETRY))
        async with self.store.transaction() as q:
            for stamp in claims:
                await q.deliveries.release(claimed_until=stamp)
            if rows:
                await q.deliveries.release(rows, next_attempt_at=later)
        self._owed_rows.difference_update(rows)
        self._owed_claims.difference_update(claims)
        log.info("gave back %d deliveries and %d claims", len(rows), len(claims))

    async def _claim(self) -> datetime | None:
        """Claim due rows of our shards, channels in turn, and queue each on its channel's
        worker. Returns the time the claim was made (None: no room to claim)."""
        room = BATCH - len(self._inflight)
        if room < BATCH // 2:
            return None
        now = datetime.now(UTC)
        until = now_iso(now + CLAIM)  # to the microsecond: it names this claim
        try:
            async with self.store.transaction() as q:
                rows = await q.deliveries.claim(
                    now_iso(now),
                    until,
                    room,
                    self.shards,
                    self.shard_count,
                    per_channel=self.per_channel,
                )
        except BaseException:
            self._owed_claims.add(until)  # it may have committed: nobody would send those
            raise
        for row in rows:
            if row.id in self._inflight:
                continue  # queued here already; its claim had run out and is now renewed
            channel_id = row.channel_id
            self._inflight.add(row.id)
            self._held[channel_id] += 1
            if self._held[channel_id] >= self.per_channel:
                self._full.add(channel_id)
            queue = self._queues.get(channel_id)
            if queue is not None:
                queue.append(row)  # its worker is running: it takes this one next, in order
                continue
            self._queues[channel_id] = deque([row])
            task = asyncio.create_task(self._work(channel_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return now

    async def _work(self, channel_id: int) -> None:
        """Send one channel's rows one at a time, oldest first. Whatever one row raises, it
        is logged and backed off, and the worker goes on with the next."""
        queue = self._queues[channel_id]
        try:
            while queue:
                row = queue[0]
                try:
                    await self.deliver(row)
                except Exception as exc:
                    log.exception(
                        "delivery %s failed unexpectedly; it backs off and is tried again",
                        row.id,
                    )
                    await self._hand_back(row, exc)
                queue.popleft()
                self._done(row)
        finally:
            # Cancelled (stop): the rows left stay in _inflight, and stop() gives them back.
            self._queues.pop(channel_id, None)
            if channel_id in self._full or len(self._inflight) < BATCH // 2:
                self._full.discard(channel_id)
                self.wake()

    def _done(self, row: Delivery) -> None:
        self._inflight.discard(row.id)
        channel_id = row.channel_id
        self._held[channel_id] -= 1
        if self._held[channel_id] <= 0:
            del self._held[channel_id]

    async def _hand_back(self, row: Delivery, exc: Exception) -> None:
        """Back a row off as a transient failure; if the store refuses that too, owe it
        back to the outbox (the runner gives it back once the store answers)."""
        try:
            await self._retry(row, f"unexpected {type(exc).__name__}: {exc}"[:500])
        except Exception:
            log.exception("could not back off delivery %s; giving it back later", row.id)
            self._owed_rows.add(row.id)
            self.wake()

    # -- one delivery ---------------------------------------------------------------------
    async def deliver(self, row: Delivery) -> None:
        """Send one delivery and record the outcome; never raises for Discord's answers."""
        async with self.store.read() as q:
            sub = await q.subscriptions.get(row.subscription_id)
            current = await q.deliveries.get(row.id)
        if current is None or current.status != "pending":
            return
        vars(row).update(vars(current))  # what earlier tries recorded (first_attempt_at, attempts)
        if sub is None or sub.state != "active":
            await self._settle(
                row, "failed", error=SKIPPED + f"subscription is {sub.state if sub else 'gone'}"
            )
            return
        try:
            outcome = await self._attempt(row, sub)
        except Postpone:
            later = now_iso(datetime.now(UTC) + timedelta(seconds=1))
            await self._release(row, next_attempt_at=later)
        except Broken as exc:
            await self._break(row, sub, exc.code)
        except ReadRetry as exc:
            await self._retry(row, str(exc), windowed=False)
        except Retry as exc:
            await self._retry(row, str(exc))
        except Unknown as exc:
            reason = alerts.unknown_outcome(exc.reason, exc.detail)
            log.warning("delivery %s not sent: %s", row.id, reason)
            await self._settle(row, "dead", error=reason[:500])
        except discord.HTTPException as exc:
            log.error(
                "delivery %s refused by Discord (%s %s): %s",
                row.id,
                exc.status,
                exc.code,
                exc.text,
            )
            await self._settle(row, "dead", error=f"{exc.status} {exc.code}: {exc.text}"[:500])
        except _Skip as exc:
            await self._settle(row, "failed", error=SKIPPED + str(exc))
        else:
            await self._settle(
                row,
                "sent",
                message_id=outcome.message_id,
                revision=outcome.revision,
                original=(outcome.original_id, outcome.original),
            )

    async def _attempt(self, row: Delivery, sub: Subscription) -> Outcome:
        tried = row.first_attempt_at
        reconciled = False
        if tried is not None and _age(tried) >= RECONCILE_AFTER:
            found = await sending.reconcile(self.sender, self.store, row, sub, tried)
            if found is not None:
                log.info("delivery %s was posted before (message %s)", row.id, found.message_id)
                return found
            reconciled = True
            row.first_attempt_at = None  # not in the channel: a send starts a new window
        kind = row.kind
        if kind == "digest":
            from bot.digest import render_digest

            assert row.period is not None  # a digest's row names its period
            post = await render_digest(self.store, sub, row.period, self.publishers)
            if post is None:
                raise _Skip("nothing happened in the period")
            return Outcome((await self._post(row, post)).id)
        if row.event_id is None:
            return Outcome((await self._post(row, alerts.sample(sub))).id)
        event = await self._event(row.event_id)
        if kind == "alert":
            try:
                if event.retracted:
                    raise _Skip("retracted before it was delivered")
                # Checked again when the channel's turn comes: an event retracted while its
                # alert waited in the channel's backlog must not be posted.
                ready = functools.partial(self._not_retracted, event.id)
                post = await alerts.alert_with_map(event, sub, self.pictures, self.client)
                message = await self._post(row, post, ready=ready)
            except _Skip:
                if tried is not None and not reconciled:  # an earlier try may have posted it
                    found = await sending.reconcile(self.sender, self.store, row, sub, tried)
                    if found is not None:
                        return found  # the retraction's own row edits it and replies
                raise
            # Discord answers a nonce it knows with the first message, which may show an
            # older revision than this render: record what the channel shows.
            return Outcome(message.id, revision=sending.shows(message, event.id) or event.revision)
        return await self._correct(row, sub, event)

    async def _correct(self, row: Delivery, sub: Subscription, event: Event) -> Outcome:
        """Edit the original in place, then reply with what changed since what it showed
        (docs/architecture.md,
        "Correct or retract")."""
        async with self.store.read() as q:
            original = await q.deliveries.sent_alert(sub.id, event.id)
        if original is None or original.status in ("failed", "dead"):
            raise _Skip("this channel never received the original alert")
        if original.status == "pending":
            raise Postpone()
        assert row.revision is not None and original.message_id is not None  # an event's; sent
        shown = original.revision or 0
        if shown >= row.revision and row.kind == "correction":
            return Outcome(original.message_id)  # the alert already showed this revision
        async with self.store.read() as q:
            revisions = await q.events.revisions(event.id)
        changes = alerts.changes(revisions, shown, event.revision)
        channel = self._channel(row)
        fresh = alerts.alert(event, sub, corrected=True)  # never a map: alerts.edit_of says why
        await self._begin(row)
        try:
            await self.sender.call(row.channel_id, channel.get_partial_message(original.message_id).edit(
                **alerts.edit_of(fresh)
            ))  # fmt: skip
            sending.stop(fresh)
        except UnknownMessage:
            sending.stop(fresh)
            message = await self._post(row, fresh)  # the original was deleted: post it anew
            revision = sending.shows(message, event.id) or event.revision
            return Outcome(message.id, None, original.id, {"message_id": message.id, "revision": revision})  # fmt: skip
        update = Outcome(original.message_id, None, original.id, {"revision": event.revision})
        if row.kind != "retraction" and not alerts.needs_notice([c["field"] for c in changes]):
            return update
        note = alerts.notice(event, row.kind, changes)
        reference = discord.MessageReference(
            message_id=original.message_id,
            channel_id=row.channel_id,
            fail_if_not_exists=False,
        )
        message = await self._post(row, note, reference=reference)
        named = sending.names(message, event.id)
        if named is not None and named < event.revision:
            # Discord returned the notice of an earlier try: later changes still need one.
            update.original = {"revision": named}
        update.message_id = message.id
        return update

    async def _not_retracted(self, event_id: int) -> None:
        """Skip an alert whose event was retracted (or deleted) before it could go out."""
        async with self.store.read() as q:
            found = await q.events.get(event_id)
        if found is None:
            raise _Skip("the event was deleted")
        if found.retracted:
            raise _Skip("retracted before it was delivered")

    async def _event(self, event_id: int) -> Event:
        """The event as it stands. Its row (facts and revision) is read before its sources:
        an edit committing in between can only make the message show newer sources than
        the revision recorded, whose correction then says so again, never the reverse."""
        async with self.store.read() as q:
            found = await q.events.get(event_id)
        if found is None:
            raise _Skip("the event was deleted")
        return found

    # -- talking to Discord ---------------------------------------------------------------
    def _channel(self, row: Delivery) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(row.channel_id, guild_id=row.guild_id)

    async def _post(
        self,
        row: Delivery,
        post: Post,
        reference: discord.MessageReference | None = None,
        *,
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> discord.Message:
        channel = self._channel(row)
        kwargs: dict[str, Any] = {"allowed_mentions": post.allowed_mentions, "nonce": row.nonce}
        if post.content:
            kwargs["content"] = post.content
        if post.embed is not None:
            kwargs["embed"] = post.embed
        if post.view is not None:
            kwargs["view"] = post.view
        if post.file is not None:
            kwargs["file"] = post.file
        if reference is not None:
            kwargs["reference"] = reference
            kwargs["mention_author"] = False
        await self._begin(row)
        message: discord.Message = await self.sender.call(
            row.channel_id, channel.send(**kwargs), ready
        )
        sending.stop(post)
        self.sent += 1
        return message

    async def _begin(self, row: Delivery) -> None:
        """Record the first try before the first request that may change the channel:
        the nonce window runs from then."""
        if row.first_attempt_at is None:
            row.first_attempt_at = now_iso()
            await self._update(row, first_attempt_at=row.first_attempt_at)

    # -- recording outcomes ---------------------------------------------------------------
    async def _update(self, row: Delivery, **values: Any) -> None:
        async with self.store.transaction() as q:
            await q.deliveries.update(row.id, pending_only=True, **values)

    async def _release(self, row: Delivery, **values: Any) -> None:
        """Update a row and give up our claim on it, so the next sweep can take it again."""
        await self._update(row, **values, claimed_until=None)

    async def _settle(
        self,
        row: Delivery,
        status: str,
        *,
        message_id: int | None = None,
        error: str | None = None,
        revision: int | None = None,
        original: tuple[int | None, dict[str, Any]] = (None, {}),
        attempts: int | None = None,
    ) -> None:
        """Record a row's outcome, with what its message shows and what the alert it
        corrected shows now, in one transaction: a crash leaves both or neither."""
        values: dict[str, Any] = {"status": status, "last_error": error}
        if status == "sent":
            values |= {"message_id": message_id, "sent_at": now_iso()}
            if revision is not None:
                values["revision"] = revision
        if attempts is not None:
            values["attempts"] = attempts
        original_id, original_values = original
        async with self.store.transaction() as q:
            changed = await q.deliveries.update(row.id, pending_only=True, **values)
            if changed and original_id is not None and original_values:
                await q.deliveries.update(original_id, **original_values)
        for callback in self.on_settled:
            callback(row.id, status)

    async def _retry(self, row: Delivery, error: str, *, windowed: bool = True) -> None:
        """Back off exponentially with jitter; give up before the nonce window closes (a
        retry that will read before it sends, `windowed=False`, is bound by attempts only)."""
        first = row.first_attempt_at or now_iso()
        attempts = row.attempts + 1
        delay = min(self.backoff_cap, 2.0 ** (attempts - 1)) * random.uniform(0.5, 1.0)
        retry_at = datetime.now(UTC) + timedelta(seconds=delay)
        too_late = windowed and (
            retry_at + timedelta(seconds=self.send_timeout) - datetime.fromisoformat(first)
            > NONCE_WINDOW
        )
        if attempts >= self.max_attempts or too_late:
            log.warning("delivery %s gave up after %d attempts: %s", row.id, attempts, error)
            gave_up = ngettext(
                "gave up after {attempts} attempt: {error}",
                "gave up after {attempts} attempts: {error}",
                attempts,
            )
            await self._settle(
                row, "dead", error=gave_up.format(attempts=attempts, error=error), attempts=attempts
            )
            return
        log.info("delivery %s failed (%s); retry %d in %.1fs", row.id, error, attempts, delay)
        async with self.store.transaction() as q:
            await q.deliveries.update(
                row.id,
                pending_only=True,
                attempts=attempts,
                next_attempt_at=now_iso(retry_at),
                last_error=error,
                claimed_until=None,
            )

    async def _break(self, row: Delivery, sub: Subscription, code: int) -> None:
        """Mark the subscription broken with a reason people can act on, and tell the log channel."""
        reason = alerts.broken_reason(code)
        async with self.store.transaction() as q:
            await q.subscriptions.set_state(sub.id, "broken", reason)
            await q.deliveries.skip_pending(sub.id, SKIPPED + "the subscription is broken")
            await q.deliveries.update(
                row.id, status="failed", last_error=reason, attempts=row.attempts + 1
            )
        for callback in self.on_settled:
            callback(row.id, "failed")
        log.warning("subscription %s in channel %s is broken: %s", sub.id, sub.channel_id, reason)
        await self._tell_log_channel(sub, reason)

    async def _tell_log_channel(self, sub: Subscription, reason: str) -> None:
        async with self.store.read() as q:
            settings = await q.settings.get(sub.guild_id)
        log_channel = settings.log_channel_id if settings else None
        if not log_channel or log_channel == sub.channel_id:
            return
        text = "⚠️ " + _("Alerts to {channel} have stopped.").format(channel=f"<#{sub.channel_id}>")
        text += " " + reason
        channel = self.client.get_partial_messageable(log_channel, guild_id=sub.guild_id)
        try:
            await self.sender.call(
                log_channel, channel.send(text, allowed_mentions=discord.AllowedMentions.none())
            )
        except (Retry, Broken, discord.HTTPException) as exc:
            log.warning(
                "could not tell log channel %s about a broken subscription: %s", log_channel, exc
            )


class _Skip(Exception):
    """Nothing to send, for a reason worth recording."""


def _age(stamp: str) -> timedelta:
    return datetime.now(UTC) - datetime.fromisoformat(stamp)
