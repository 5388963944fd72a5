"""Digests are per server: a channel's digest holds its own server's events and reactions,
and the publisher guilds', never another server's. Run on both backends (the `store`
fixture), since the guild filter lives in the SQL of db/queries.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.digest import period_key, queue_digest, render_digest
from bot.models import Subscription
from bot.services import Scope, add_event, add_reaction, subscribe
from db import Store
from tests.conftest import GUILD, MODERATOR, OTHER_GUILD, PUBLISHER

PUBLISHERS = (PUBLISHER,)
HERE = Scope(GUILD, MODERATOR, PUBLISHERS)
THERE = Scope(OTHER_GUILD, MODERATOR + 2, PUBLISHERS)
HQ = Scope(PUBLISHER, MODERATOR + 1, PUBLISHERS)
#: A server that records nothing itself: its digest is the publisher's news alone.
READER = Scope(GUILD + 7, MODERATOR + 3, PUBLISHERS)
SUBSCRIBED = datetime(2024, 2, 1, tzinfo=UTC)
RECORDED = datetime(2024, 2, 14, 20, tzinfo=UTC)
DUE = datetime(2024, 2, 15, 8, tzinfo=UTC)  # the daily 08:00 UTC digest covering RECORDED


async def record(store: Store, scope: Scope, name: str) -> tuple[int, str]:
    """One launch and one reaction to it, recorded by `scope` in the digest's period; returns
    the event id and the reaction's summary (what a digest shows of each)."""
    fields = {"date": "2024-02-14", "category": "srbm", "summary": f"{name} saw a launch."}
    event = await add_event(store, scope, fields, alert=False, now=RECORDED)
    said = {
        "actor": name,
        "stance": "condemns",
        "summary": f"{name} condemned the launch.",
        "event_id": event.id,
    }
    reaction = await add_reaction(store, scope, said, now=RECORDED)
    return event.id, reaction.summary


async def digest_sub(store: Store, scope: Scope, channel_id: int) -> Subscription:
    return await subscribe(
        store, scope, channel_id, mode="digest", digest_time="08:00", now=SUBSCRIBED
    )


async def queued_digests(store: Store, sub: Subscription) -> list[dict[str, object]]:
    async with store.read() as q:
        return await q.conn.fetchall(
            "SELECT * FROM delivery WHERE subscription_id = ? AND kind = 'digest'", [sub.id]
        )


async def digest_text(store: Store, sub: Subscription, publishers: tuple[int, ...]) -> str:
    """Fire the subscription's digest; what its channel would read (asserting one was queued)."""
    assert await queue_digest(store, sub.id, DUE, publishers)
    [row] = await queued_digests(store, sub)
    assert (row["guild_id"], row["channel_id"]) == (sub.guild_id, sub.channel_id)
    post = await render_digest(store, sub, period_key(sub, DUE), publishers)
    assert post is not None and post.embed is not None
    return json.dumps(post.embed.to_dict(), ensure_ascii=False)


async def test_each_servers_digest_holds_its_own_and_the_publishers_news(store: Store) -> None:
    """Two servers' digests of the same day differ: each has its own launch and reaction and
    the publisher's, and neither has the other's; the publisher's has its own alone."""
    here_event, here_said = await record(store, HERE, "Japan")
    there_event, there_said = await record(store, THERE, "Norway")
    hq_event, hq_said = await record(store, HQ, "ROK")
    here = await digest_text(store, await digest_sub(store, HERE, 501), PUBLISHERS)
    there = await digest_text(store, await digest_sub(store, THERE, 601), PUBLISHERS)
    hq = await digest_text(store, await digest_sub(store, HQ, 701), PUBLISHERS)
    reader = await digest_text(store, await digest_sub(store, READER, 801), PUBLISHERS)

    assert "2 new events and 2 new reactions" in here
    assert f"#{here_event}`" in here and f"#{hq_event}`" in here
    assert here_said in here and hq_said in here
    assert f"#{there_event}`" not in here and there_said not in here

    assert "2 new events and 2 new reactions" in there
    assert f"#{there_event}`" in there and f"#{hq_event}`" in there
    assert there_said in there and hq_said in there
    assert f"#{here_event}`" not in there and here_said not in there

    assert "1 new event and 1 new reaction" in hq
    assert f"#{hq_event}`" in hq and hq_said in hq
    assert "1 new event and 1 new reaction" in reader
    assert f"#{hq_event}`" in reader and hq_said in reader


async def test_another_servers_busy_day_sends_no_digest_here(store: Store) -> None:
    """With no publishers, a server that recorded nothing gets no digest, however busy the
    other server was: no delivery is queued for it."""
    await record(store, HERE, "Japan")
    quiet = await digest_sub(store, THERE, 601)
    busy = await digest_sub(store, HERE, 501)

    assert await queue_digest(store, quiet.id, DUE, ()) is False
    assert await queued_digests(store, quiet) == []
    assert await render_digest(store, quiet, period_key(quiet, DUE), ()) is None
    assert "1 new event and 1 new reaction" in await digest_text(store, busy, ())


async def test_another_servers_reaction_alone_sends_no_digest_here(store: Store) -> None:
    """A reaction recorded elsewhere, to a publisher's launch this server can see, is that
    server's: it puts nothing in this server's digest."""
    hq_event, _ = await record(store, HQ, "ROK")
    said = {"actor": "Norway", "stance": "concerned", "summary": "Norway is concerned."}
    await add_reaction(store, THERE, {**said, "event_id": hq_event}, now=RECORDED)
    here = await digest_text(store, await digest_sub(store, HERE, 501), PUBLISHERS)
    there = await digest_text(store, await digest_sub(store, THERE, 601), PUBLISHERS)

    assert "1 new event and 1 new reaction" in here and "Norway is concerned." not in here
    assert "1 new event and 2 new reactions" in there and "Norway is concerned." in there
