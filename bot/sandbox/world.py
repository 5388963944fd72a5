"""The LaunchWatch sandbox's world: one guild, its channels, roles and people, and their ids.

Built on the emulator's plain world types, so configuration code can import the ids
(``SANDBOX_GUILD_ID`` and friends) without paying for the emulator's server (aiohttp).
"""

from __future__ import annotations

from bot.emulator.permissions import Perm
from bot.emulator.world import Channel, Guild, Member, Role, User, World, new_snowflake

SANDBOX_GUILD_ID = 1200000000000000001
SANDBOX_APPLICATION_ID = 1200000000000000002
SANDBOX_BOT_USER_ID = SANDBOX_APPLICATION_ID  # modern bots share their application's id
SANDBOX_TOKEN = "sandbox-bot-token"
GENERAL_CHANNEL_ID = 1200000000000000011
ALERTS_CHANNEL_ID = 1200000000000000012
REVIEW_CHANNEL_ID = 1200000000000000013
MODERATOR_ROLE_ID = 1200000000000000021
ADMIN_ROLE_ID = 1200000000000000022
BOT_ROLE_ID = 1200000000000000023
MEMBER_USER_ID = 1200000000000000031
MODERATOR_USER_ID = 1200000000000000032
ADMIN_USER_ID = 1200000000000000033
MODERATOR_COMMANDS = ("event", "reaction", "alerts", "feeds", "draft")

BOT_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.USE_APPLICATION_COMMANDS
)


def sandbox_world(*, token: str = SANDBOX_TOKEN) -> World:
    """The standard sandbox: one guild, #general and #alerts, a member, a moderator, an admin."""
    bot = User(SANDBOX_BOT_USER_ID, "LaunchWatch", bot=True)
    guild = Guild(SANDBOX_GUILD_ID, "LaunchWatch Sandbox", owner_id=ADMIN_USER_ID)
    guild.roles[MODERATOR_ROLE_ID] = Role(
        MODERATOR_ROLE_ID, "Moderator", Perm.MANAGE_MESSAGES, position=2, mentionable=True
    )
    guild.roles[ADMIN_ROLE_ID] = Role(ADMIN_ROLE_ID, "Admin", Perm.ADMINISTRATOR, position=3)
    guild.roles[BOT_ROLE_ID] = Role(
        BOT_ROLE_ID, "LaunchWatch", BOT_PERMISSIONS, position=1, managed=True
    )
    guild.channels[GENERAL_CHANNEL_ID] = Channel(GENERAL_CHANNEL_ID, guild.id, "general")
    guild.channels[ALERTS_CHANNEL_ID] = Channel(ALERTS_CHANNEL_ID, guild.id, "alerts", position=1)
    people = [
        (MEMBER_USER_ID, "member", []),
        (MODERATOR_USER_ID, "moderator", [MODERATOR_ROLE_ID]),
        (ADMIN_USER_ID, "admin", [ADMIN_ROLE_ID]),
    ]
    for user_id, name, roles in people:
        guild.members[user_id] = Member(User(user_id, name, global_name=name.title()), roles)
    guild.members[bot.id] = Member(bot, [BOT_ROLE_ID])
    world = World(bot=bot, application_id=SANDBOX_APPLICATION_ID, token=token, guilds=[guild])
    for command in MODERATOR_COMMANDS:
        world.allow_command(guild.id, command, role_id=MODERATOR_ROLE_ID)
    return world


def add_feed_channels(world: World, n: int, guild_id: int = SANDBOX_GUILD_ID) -> list[int]:
    """Add `n` text channels (`#feed-0` …) to a guild of the world, for fan-outs in tests and
    benchmarks; returns their ids in order."""
    guild = world.guild(guild_id)
    assert guild is not None, f"no guild {guild_id} in the world"
    ids = [new_snowflake() for _ in range(n)]
    for i, channel_id in enumerate(ids):
        guild.channels[channel_id] = Channel(channel_id, guild_id, f"feed-{i}")
    return ids


def add_review_channel(world: World, guild_id: int = SANDBOX_GUILD_ID) -> int:
    """Add `#review`, where moderators review drafts (the sandbox session and the e2e tests
    of drafting); its id is `REVIEW_CHANNEL_ID`."""
    guild = world.guild(guild_id)
    assert guild is not None, f"no guild {guild_id} in the world"
    guild.channels[REVIEW_CHANNEL_ID] = Channel(REVIEW_CHANNEL_ID, guild_id, "review", position=2)
    return REVIEW_CHANNEL_ID
