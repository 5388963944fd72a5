"""Channel subscriptions (`/alerts …`) and server settings (`/settings …`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.errors import NotFound, ValidationError
from bot.models import GuildSettings
from bot.services import (
    Scope,
    add_event,
    get_settings,
    list_subscriptions,
    set_subscription_state,
    subscribe,
    unsubscribe,
    update_settings,
)
from db import Store
from tests.conftest import GUILD, MODERATOR, OTHER_GUILD, PUBLISHER

NOW = datetime(2024, 2, 5, 12, 0, tzinfo=UTC)
OTHER = Scope(OTHER_GUILD, MODERATOR + 2, publishers=(PUBLISHER,))


async def stored(store: Store) -> list[dict[str, Any]]:
    async with store.read() as q:
        return await q.conn.fetchall("SELECT * FROM subscription ORDER BY id")


async def settings_rows(store: Store) -> list[dict[str, Any]]:
    async with store.read() as q:
        return await q.conn.fetchall("SELECT * FROM guild_settings ORDER BY guild_id")


class TestSubscribe:
    """`/alerts subscribe`: one subscription per channel, with its filters."""

    async def test_defaults_alert_instantly_on_everything(self, store: Store, scope: Scope) -> None:
        """With no options, a channel is alerted at once about every event, in UTC."""
        sub = await subscribe(store, scope, 501, now=NOW)

        assert (sub.guild_id, sub.channel_id, sub.created_by) == (GUILD, 501, MODERATOR)
        assert (sub.regions, sub.categories, sub.actors) == ([], [], [])
        assert (sub.mode, sub.min_confidence, sub.state) == ("instant", "disputed", "active")
        assert (sub.digest_every, sub.digest_time, sub.timezone) == ("daily", "08:00", "UTC")
        assert await list_subscriptions(store, scope) == [sub]

    async def test_filters_are_tidied_and_kept(self, store: Store, scope: Scope) -> None:
        """Categories are normalised; comma-separated lists are split, trimmed and de-duplicated."""
        sub = await subscribe(
            store,
            scope,
            501,
            categories=["Cruise Missile", "icbm", "ICBM"],
            actors="DPRK, PRC,,DPRK ",
            regions=["korean-peninsula"],
            min_confidence="Confirmed",
            mention_role_id=777,
            mode="both",
            digest_every="weekly",
            digest_time="0:30",
            timezone="Asia/Seoul",
            now=NOW,
        )

        assert (sub.categories, sub.actors, sub.regions) == (
            ["cruise_missile", "icbm"],
            ["DPRK", "PRC"],
            ["korean-peninsula"],
        )
        assert (sub.min_confidence, sub.mention_role_id, sub.mode) == ("confirmed", 777, "both")
        assert (sub.digest_every, sub.digest_time, sub.timezone) == (
            "weekly",
            "00:30",
            "Asia/Seoul",
        )
        assert await list_subscriptions(store, scope) == [sub]

    async def test_subscribing_again_replaces_the_filters(self, store: Store, scope: Scope) -> None:
        """Subscribing a channel twice updates its one subscription, keeping its id."""
        first = await subscribe(store, scope, 501, categories=["icbm"], now=NOW)
        neighbour = await subscribe(store, scope, 502, now=NOW)
        await add_event(
            store,
            scope,
            {"date": "2024-02-02", "category": "icbm", "summary": "An ICBM."},
            now=NOW,
        )

        second = await subscribe(store, scope, 501, categories=["srbm"], mode="digest", now=NOW)

        assert (second.id, second.channel_id) == (first.id, 501)
        assert (second.categories, second.mode) == (["srbm"], "digest")
        assert [(s.id, s.categories) for s in await list_subscriptions(store, scope)] == [
            (first.id, ["srbm"]),
            (neighbour.id, []),
        ]

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"categories": ["rocket"]}, "category"),
            ({"min_confidence": "retracted"}, "min_confidence"),
            ({"mode": "hourly"}, "mode"),
            ({"digest_every": "monthly"}, "digest_every"),
            ({"digest_time": "24:00"}, "digest_time"),
            ({"digest_time": "-1"}, "digest_time"),
            ({"digest_time": "8:60"}, "digest_time"),
            ({"digest_time": "noon"}, "digest_time"),
            ({"timezone": "Mars/Olympus"}, "timezone"),
            ({"timezone": "America"}, "timezone"),
            ({"timezone": "../../etc/passwd"}, "timezone"),
            ({"actors": [f"actor {n}" for n in range(26)]}, "actors"),
        ],
    )
    async def test_invalid_subscription_is_refused_unchanged(
        self, store: Store, scope: Scope, options: dict[str, Any], field: str
    ) -> None:
        """A bad option is refused naming it, and the channel's subscription is unchanged."""
        await subscribe(store, scope, 501, categories=["icbm"], now=NOW)
        before = await stored(store)

        with pytest.raises(ValidationError) as caught:
            await subscribe(store, scope, 501, now=NOW, **options)

        assert caught.value.field == field
        assert await stored(store) == before

    async def test_bad_timezone_names_an_example(self, store: Store, scope: Scope) -> None:
        """A time zone that does not exist is refused with an IANA example to type."""
        with pytest.raises(ValidationError) as caught:
            await subscribe(store, scope, 501, timezone="KST", now=NOW)

        assert "Asia/Seoul" in caught.value.fix
        assert await stored(store) == []

    async def test_another_servers_channel_is_refused(self, store: Store, scope: Scope) -> None:
        """A channel already subscribed by another server cannot be taken over."""
        await subscribe(store, OTHER, 601, now=NOW)
        before = await stored(store)

        with pytest.raises(ValidationError) as caught:
            await subscribe(store, scope, 601, now=NOW)

        assert caught.value.field == "channel"
        assert await stored(store) == before


class TestUnsubscribe:
    """`/alerts unsubscribe`: stop a channel's alerts."""

    async def test_unsubscribed_channel_is_gone(self, store: Store, scope: Scope) -> None:
        """After unsubscribing, the channel is no longer listed; other channels stay."""
        gone = await subscribe(store, scope, 501, now=NOW)
        kept = await subscribe(store, scope, 502, now=NOW)

        removed = await unsubscribe(store, scope, 501)

        assert removed == gone
        assert await list_subscriptions(store, scope) == [kept]

    async def test_unsubscribing_a_channel_without_alerts_is_not_found(
        self, store: Store, scope: Scope
    ) -> None:
        """Unsubscribing a channel that has no subscription says so."""
        with pytest.raises(NotFound):
            await unsubscribe(store, scope, 501)

    async def test_another_servers_subscription_is_not_found(
        self, store: Store, scope: Scope
    ) -> None:
        """A server cannot unsubscribe another server's channel; it stays subscribed."""
        await subscribe(store, OTHER, 601, now=NOW)
        before = await stored(store)

        with pytest.raises(NotFound):
            await unsubscribe(store, scope, 601)

        assert await stored(store) == before


class TestPauseAndResume:
    """`/alerts pause` and `/alerts resume`, and a broken channel with its reason."""

    async def test_pause_then_resume(self, store: Store, scope: Scope) -> None:
        """A paused channel reads back paused; resuming makes it active again."""
        await subscribe(store, scope, 501, categories=["icbm"], now=NOW)

        paused = await set_subscription_state(store, scope, 501, "paused")
        listed_paused = await list_subscriptions(store, scope)
        resumed = await set_subscription_state(store, scope, 501, "active")

        assert paused.state == "paused"
        assert [s.state for s in listed_paused] == ["paused"]
        assert (resumed.state, resumed.categories) == ("active", ["icbm"])

    async def test_broken_keeps_its_reason_until_resumed(self, store: Store, scope: Scope) -> None:
        """A broken channel shows why; resuming clears the reason."""
        await subscribe(store, scope, 501, now=NOW)

        broken = await set_subscription_state(
            store, scope, 501, "broken", reason="50013 Missing Permissions"
        )
        resumed = await set_subscription_state(store, scope, 501, "active", reason="ignored")

        assert (broken.state, broken.broken_reason) == ("broken", "50013 Missing Permissions")
        assert (resumed.state, resumed.broken_reason) == ("active", None)

    async def test_unknown_state_is_refused(self, store: Store, scope: Scope) -> None:
        """A state other than active, paused or broken is refused listing the choices."""
        await subscribe(store, scope, 501, now=NOW)
        before = await stored(store)

        with pytest.raises(ValidationError) as caught:
            await set_subscription_state(store, scope, 501, "muted")

        assert caught.value.field == "state"
        assert "paused" in caught.value.fix
        assert await stored(store) == before

    async def test_pausing_another_servers_channel_is_not_found(
        self, store: Store, scope: Scope
    ) -> None:
        """A server cannot pause another server's channel."""
        await subscribe(store, OTHER, 601, now=NOW)

        with pytest.raises(NotFound):
            await set_subscription_state(store, scope, 601, "paused")

        assert [s.state for s in await list_subscriptions(store, OTHER)] == ["active"]


class TestListSubscriptions:
    """`/alerts list`: this server's channels only."""

    async def test_each_server_lists_only_its_channels(self, store: Store, scope: Scope) -> None:
        """Two servers' subscriptions never show in each other's lists."""
        ours = [await subscribe(store, scope, c, now=NOW) for c in (502, 501)]
        theirs = await subscribe(store, OTHER, 601, now=NOW)

        assert await list_subscriptions(store, scope) == ours
        assert await list_subscriptions(store, OTHER) == [theirs]

    async def test_new_subscription_shows_no_history(self, store: Store, scope: Scope) -> None:
        """A fresh subscription has sent nothing and failed nothing."""
        await subscribe(store, scope, 501, now=NOW)

        [sub] = await list_subscriptions(store, scope)

        assert (sub.last_sent_at, sub.failures) == (None, 0)


class TestGuildSettings:
    """`/settings …`: moderator roles, default actor, display time zone, log channel."""

    async def test_unset_settings_have_defaults(self, store: Store) -> None:
        """A server that never changed a setting gets the defaults."""
        assert await get_settings(store, GUILD) == GuildSettings(GUILD)

    async def test_settings_are_updated_and_read_back(self, store: Store) -> None:
        """Each changed setting reads back; settings not named keep their values."""
        await update_settings(store, GUILD, timezone="Asia/Seoul", moderator_role_ids=[9, 3, 9])

        updated = await update_settings(store, GUILD, default_actor="  DPRK ", log_channel_id=42)

        assert updated == GuildSettings(
            GUILD,
            moderator_role_ids=[3, 9],
            default_actor="DPRK",
            timezone="Asia/Seoul",
            log_channel_id=42,
        )
        assert await get_settings(store, GUILD) == updated
        assert await get_settings(store, OTHER_GUILD) == GuildSettings(OTHER_GUILD)

    @pytest.mark.parametrize("timezone", ["Seoul", "KST", "America", "Asia/../UTC", "x" * 300])
    async def test_bad_timezone_is_refused_unchanged(self, store: Store, timezone: str) -> None:
        """A time zone that is not an IANA name is refused with an example, unchanged."""
        await update_settings(store, GUILD, timezone="Asia/Tokyo")
        before = await settings_rows(store)

        with pytest.raises(ValidationError) as caught:
            await update_settings(store, GUILD, timezone=timezone, default_actor="PRC")

        assert caught.value.field == "timezone"
        assert "Asia/Seoul" in caught.value.fix
        assert await settings_rows(store) == before

    async def test_unknown_setting_is_refused(self, store: Store) -> None:
        """A setting that does not exist is refused listing the settings."""
        with pytest.raises(ValidationError) as caught:
            await update_settings(store, GUILD, language="ko")

        assert caught.value.field == "language"
        assert "timezone" in caught.value.fix
        assert await settings_rows(store) == []

    async def test_overlong_default_actor_is_refused(self, store: Store) -> None:
        """The default actor has the same length bound as any actor."""
        with pytest.raises(ValidationError) as caught:
            await update_settings(store, GUILD, default_actor="x" * 101)

        assert caught.value.field == "actor"
        assert await settings_rows(store) == []
