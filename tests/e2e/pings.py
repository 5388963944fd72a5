"""Moderators' text that tries to ping everyone, and who a posted message could ping.

A message pings nobody for two reasons: its text holds no live mention (moderators' text is
escaped), and its `allowed_mentions` lets none through. Each alone suffices today, so a test
that only counts pings cannot notice either one failing. `could_ping` checks the second on
its own, with the emulator's ping maths (Discord's): who the message's `allowed_mentions`
would let its text ping if that text mentioned everyone, every role and every member.
"""

from __future__ import annotations

from bot.sandbox.permissions import Perm
from bot.sandbox.records import MessageRecord, Pings, compute_pings
from bot.sandbox.world import BOT_ROLE_ID, SANDBOX_GUILD_ID, Guild, World


def let_the_bot_ping_everyone(world: World, guild_id: int = SANDBOX_GUILD_ID) -> None:
    """Give the bot's role Mention Everyone: then a slip pings @everyone and every role, even
    the roles nobody may mention."""
    world.guilds[guild_id].roles[BOT_ROLE_ID].permissions |= Perm.MENTION_EVERYONE


def mentions(guild: Guild) -> list[str]:
    """Every kind of mention, of the guild's real roles and people (not the bot)."""
    roles = [f"<@&{r.id}>" for r in guild.roles.values() if r.id != guild.id]
    people = [m.user.id for m in guild.members.values() if not m.user.bot]
    return ["@everyone", "@here", *roles, *(f"<@{u}>" for u in people), f"<@!{people[0]}>"]


def hostile(world: World, limit: int = 200, guild_id: int = SANDBOX_GUILD_ID) -> str:
    """As many of those mentions as fit in `limit` characters (a field's length bound)."""
    out = ""
    for mention in mentions(world.guilds[guild_id]):
        if len(out) + len(mention) + 1 > limit:
            break
        out = f"{out} {mention}".strip()
    return out


def could_ping(world: World, message: MessageRecord) -> Pings:
    """Who the message's `allowed_mentions` lets through, whatever its text held."""
    channel = world.channel(message.channel_id)
    assert channel is not None
    guild = world.guilds[channel.guild_id]
    return compute_pings(
        " ".join(mentions(guild)),
        message.allowed_mentions,
        mentionable_roles={r.id for r in guild.roles.values() if r.mentionable},
        author_perms=world.channel_permissions(channel, world.bot.id),
    )
