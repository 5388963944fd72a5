"""The Discord emulator, exercised by a real, unmodified discord.py client."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.sandbox import (
    GENERAL_CHANNEL_ID,
    MEMBER_USER_ID,
    MODERATOR_ROLE_ID,
    SANDBOX_APPLICATION_ID,
    SANDBOX_BOT_USER_ID,
    SANDBOX_GUILD_ID,
    Channel,
    Emulator,
    Guild,
    Member,
    Overwrite,
    Perm,
)
from bot.sandbox.contract import dumps, load_contract
from bot.sandbox.spec import SpecValidator
from tests.e2e.support import until

GUILD = discord.Object(SANDBOX_GUILD_ID)
MESSAGE_ROUTE = "POST /channels/{channel_id}/messages"


# -- a small bot: /ping, /vote (a button), /slow, and a guarded /event group ------------------


@app_commands.command(name="ping", description="Check that the bot answers")
@app_commands.describe(text="What to echo back", hidden="Only you see the answer")
async def ping(interaction: discord.Interaction, text: str = "pong", hidden: bool = True) -> None:
    await interaction.response.send_message(text, ephemeral=hidden)


@ping.autocomplete("text")
async def ping_text(interaction: discord.Interaction, current: str) -> list[app_commands.Choice]:
    words = ("pong", "pang", "ping")
    return [app_commands.Choice(name=w, value=w) for w in words if w.startswith(current)]


class VoteView(discord.ui.View):
    @discord.ui.button(label="Agree", custom_id="vote:agree")
    async def agree(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="1 vote", view=None)


@app_commands.command(name="vote", description="Start a vote")
async def vote(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("0 votes", view=VoteView())


@app_commands.command(name="slow", description="Answer after the bot's configured delay")
async def slow(interaction: discord.Interaction) -> None:
    await asyncio.sleep(getattr(interaction.client, "slow_seconds", 0.0))
    await interaction.response.send_message("finally")


class ReactionForm(discord.ui.Modal, title="Add a reaction"):
    who: discord.ui.TextInput[ReactionForm] = discord.ui.TextInput(label="Who", custom_id="who")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"{self.who.value} reacted", ephemeral=True)


@app_commands.command(name="react", description="Open the reaction form")
async def react(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(ReactionForm())


@app_commands.command(name="whois", description="Describe a member, a channel and a role")
async def whois(
    interaction: discord.Interaction,
    member: discord.Member,
    channel: discord.TextChannel,
    role: discord.Role,
) -> None:
    await interaction.response.send_message(f"{member.name} {channel.name} {role.name}")


class EventGroup(
    app_commands.Group,
    name="event",
    description="Record launch events",
    default_permissions=discord.Permissions(manage_guild=True),
):
    @app_commands.command(name="add", description="Record an event")
    async def add(self, interaction: discord.Interaction, date: str, count: int = 1) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"Recorded {count} on {date}")


class SandboxTestBot(commands.AutoShardedBot):
    """A real discord.py bot; only its URLs point at the emulator."""

    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
            help_command=None,
        )
        self.slow_seconds = 0.0
        self.command_errors: list[app_commands.AppCommandError] = []

    async def setup_hook(self) -> None:
        self.tree.add_command(ping, guild=GUILD)
        self.tree.add_command(vote, guild=GUILD)
        self.tree.add_command(slow, guild=GUILD)
        self.tree.add_command(react, guild=GUILD)
        self.tree.add_command(whois, guild=GUILD)
        self.tree.add_command(EventGroup(), guild=GUILD)
        self.tree.on_error = self.record_error  # type: ignore[method-assign]
        await self.tree.sync(guild=GUILD)

    async def record_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self.command_errors.append(error)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5-second pause before a re-IDENTIFY: there is one bot on this emulator."""


@pytest.fixture
async def bot(discord_emulator: Emulator) -> AsyncIterator[SandboxTestBot]:
    client = SandboxTestBot()
    async with discord_emulator.connected(client):
        await discord_emulator.wait_synced(SANDBOX_GUILD_ID)
        yield client


def general(client: discord.Client) -> discord.TextChannel:
    channel = client.get_channel(GENERAL_CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    return channel


# -- connecting ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_bot_logs_in_and_sees_the_sandbox_guild(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """The bot comes online as itself and sees the sandbox server with its channels and roles."""
    await asyncio.wait_for(bot.wait_until_ready(), 5)
    assert bot.user is not None and bot.user.id == SANDBOX_BOT_USER_ID
    assert bot.application_id == SANDBOX_APPLICATION_ID
    guild = bot.get_guild(SANDBOX_GUILD_ID)
    assert guild is not None
    assert {c.name for c in guild.text_channels} == {"general", "alerts"}
    assert guild.get_role(MODERATOR_ROLE_ID) is not None
    events = [name for name, _ in discord_emulator.gateway.dispatched]
    assert events[:2] == ["READY", "GUILD_CREATE"]


@pytest.mark.asyncio
async def test_wrong_token_cannot_log_in(discord_emulator: Emulator) -> None:
    """A bot with a wrong token is turned away with 401, as Discord does."""
    client = discord.Client(intents=discord.Intents.default())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        await client.close()
    assert [r.status for r in discord_emulator.requests] == [401]


@pytest.mark.asyncio
async def test_sharded_bot_gets_each_guild_on_its_shard(discord_emulator: Emulator) -> None:
    """With two shards, each guild arrives on the shard Discord's formula assigns it."""
    other_id = SANDBOX_GUILD_ID + (1 << 22)  # the neighbouring shard
    other = Guild(other_id, "Other", owner_id=MEMBER_USER_ID)
    other.channels[other_id + 1] = Channel(other_id + 1, other_id, "lobby")
    other.members[SANDBOX_BOT_USER_ID] = Member(discord_emulator.world.bot)
    discord_emulator.world.add_guild(other)
    discord_emulator.recommended_shards = 2
    async with discord_emulator.connected(SandboxTestBot()) as client:
        await discord_emulator.wait_ready(shards=2)
        await discord_emulator.wait_synced(SANDBOX_GUILD_ID)
        sandbox, lobby = client.get_guild(SANDBOX_GUILD_ID), client.get_guild(other_id)
        assert sandbox is not None and lobby is not None
        assert (sandbox.shard_id, lobby.shard_id) == (
            (SANDBOX_GUILD_ID >> 22) % 2,
            (other_id >> 22) % 2,
        )
        assert (await discord_emulator.invoke("ping")).content == "pong"


# -- commands -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_command_sync_is_valid_for_discord(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """The synced command tree is what Discord's own API description accepts."""
    synced = {c["name"]: c for c in discord_emulator.registry.get(SANDBOX_GUILD_ID)}
    assert set(synced) == {"ping", "vote", "slow", "react", "whois", "event"}
    assert synced["event"]["default_member_permissions"] == str(Perm.MANAGE_GUILD)
    puts = [r for r in discord_emulator.requests if r.method == "PUT"]
    assert [r.status for r in puts] == [200]
    assert discord_emulator.spec_errors == []


@pytest.mark.asyncio
async def test_invalid_command_payload_is_refused(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """A command Discord would reject (name too long) fails the sync with 400 50035."""
    body = [{"name": "x" * 40, "description": "too long a name", "type": 1}]
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.bulk_upsert_guild_commands(SANDBOX_APPLICATION_ID, SANDBOX_GUILD_ID, body)
    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert [v.kind for v in discord_emulator.spec_errors] == ["schema"]
    discord_emulator.spec_errors.clear()


@pytest.mark.asyncio
async def test_slash_command_round_trip(discord_emulator: Emulator, bot: SandboxTestBot) -> None:
    """/ping answers the user privately with the text they gave."""
    result = await discord_emulator.invoke("ping", {"text": "hello"}, user="member")
    assert (result.content, result.ephemeral, result.deferred) == ("hello", True, False)
    assert discord_emulator.messages("general") == []


@pytest.mark.asyncio
async def test_deferred_command_fills_its_thinking_message(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """A deferred answer replaces "thinking…" with the follow-up, visible in the channel."""
    result = await discord_emulator.invoke(
        "event add", {"date": "2024-02-14", "count": 4}, user="admin"
    )
    assert result.deferred and not result.ephemeral
    assert result.content == "Recorded 4 on 2024-02-14"
    assert [m.content for m in discord_emulator.messages("general")] == [result.content]


@pytest.mark.asyncio
async def test_autocomplete_offers_choices(discord_emulator: Emulator, bot: SandboxTestBot) -> None:
    """Typing into an option shows the bot's suggestions."""
    choices = await discord_emulator.autocomplete("ping", {"text": "pa"}, focused="text")
    assert choices == [{"name": "pang", "value": "pang"}]


@pytest.mark.asyncio
async def test_button_click_updates_the_message(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """Pressing a button edits the message it sits on."""
    started = await discord_emulator.invoke("vote")
    assert started.content == "0 votes" and started.components
    clicked = await discord_emulator.click(started, "vote:agree", user="moderator")
    assert clicked.response_type == 7
    assert started.message is not None and started.message.content == "1 vote"
    assert started.message.components == []


@pytest.mark.asyncio
async def test_modal_submission_reaches_the_bot(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """A form the bot opens can be filled in and submitted."""
    shown = await discord_emulator.invoke("react")
    assert shown.modal is not None and shown.modal["title"] == "Add a reaction"
    submitted = await discord_emulator.submit_modal(shown, {"Who": "Seoul"})
    assert (submitted.content, submitted.ephemeral) == ("Seoul reacted", True)


@pytest.mark.asyncio
async def test_member_channel_and_role_options_resolve(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """Picking a member, a channel and a role hands the bot the real objects."""
    options = {"member": "moderator", "channel": "#alerts", "role": "Moderator"}
    result = await discord_emulator.invoke("whois", options)
    assert result.content == "moderator alerts Moderator"


# -- Discord's permission gate for commands ---------------------------------------------------------


@pytest.mark.asyncio
async def test_member_without_permission_is_refused_by_discord(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """A plain member cannot run /event: Discord refuses before the bot hears of it."""
    before = len(discord_emulator.gateway.dispatched)
    result = await discord_emulator.invoke("event add", {"date": "2024-02-14"}, user="member")
    assert result.refused and "event add" in result.refusal
    assert len(discord_emulator.gateway.dispatched) == before


@pytest.mark.asyncio
async def test_integrations_override_lets_a_member_through(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """The moderator role's override, or one granted to a member, opens /event to them."""
    by_moderator = await discord_emulator.invoke(
        "event add", {"date": "2024-02-14"}, user="moderator"
    )
    assert not by_moderator.refused
    discord_emulator.world.allow_command(SANDBOX_GUILD_ID, "event", user_id=MEMBER_USER_ID)
    by_member = await discord_emulator.invoke("event add", {"date": "2024-02-15"}, user="member")
    assert by_member.content == "Recorded 1 on 2024-02-15"


# -- rate limits and nonces -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_global_429_is_waited_out_without_losing_a_message(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """A burst over the global limit is slowed by 429s, yet every message arrives exactly once."""
    discord_emulator.set_global_limit(5)
    discord_emulator.set_route_limit(MESSAGE_ROUTE, 100, 1.0)
    discord_emulator.reset_rate_limits()  # login and sync traffic should not eat the budget
    channel = general(bot)
    sent = await asyncio.gather(*(channel.send(f"alert {i}") for i in range(7)))
    posted = [m.content for m in discord_emulator.messages("general")]
    assert sorted(posted) == sorted(f"alert {i}" for i in range(7))
    assert len({m.id for m in sent}) == 7 and discord_emulator.duplicate_posts() == []
    limited = discord_emulator.rate_limited()
    assert limited and all(r.route == MESSAGE_ROUTE for r in limited)


@pytest.mark.asyncio
async def test_route_bucket_headers_pace_the_sender(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """With a per-channel bucket, discord.py waits for the reset instead of collecting 429s:
    five sends through a bucket of two all arrive, and none was refused."""
    discord_emulator.set_route_limit(MESSAGE_ROUTE, 2, 0.3)
    discord_emulator.reset_rate_limits()
    channel = general(bot)
    for i in range(5):
        await channel.send(f"update {i}")
    assert discord_emulator.count_posts("general") == 5
    assert discord_emulator.rate_limited() == []


@pytest.mark.asyncio
async def test_server_error_is_retried_once_fixed(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """A passing 500 costs a retry, not the alert: it arrives once."""
    discord_emulator.make_flaky(0.5, seed=1, routes=[MESSAGE_ROUTE])  # fail, then pass
    await general(bot).send("after a hiccup")
    statuses = [r.status for r in discord_emulator.requests if r.route == MESSAGE_ROUTE]
    assert statuses == [500, 200]
    assert discord_emulator.count_posts("general") == 1


@pytest.mark.asyncio
async def test_same_nonce_posts_once(discord_emulator: Emulator, bot: SandboxTestBot) -> None:
    """Re-sending an alert with the same nonce returns the first message instead of a second."""
    channel = general(bot)
    first = await channel.send("launch detected", nonce="delivery-42")
    again = await channel.send("launch detected", nonce="delivery-42")
    assert first.id == again.id
    assert discord_emulator.count_posts("general") == 1
    assert discord_emulator.duplicate_posts("general") == []


# -- errors Discord answers ---------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("code", "error"),
    [(50001, discord.Forbidden), (50013, discord.Forbidden), (10003, discord.NotFound)],
)
async def test_broken_channel_answers_with_discords_code(
    discord_emulator: Emulator, bot: SandboxTestBot, code: int, error: type[discord.HTTPException]
) -> None:
    """A channel the bot lost answers 403/404 with the JSON code the dispatcher classifies by."""
    discord_emulator.break_channel("alerts", code)
    channel = bot.get_channel(discord_emulator.channel_id("alerts"))
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(error) as caught:
        await channel.send("alert")
    assert caught.value.code == code
    assert discord_emulator.messages("alerts") == []


@pytest.mark.asyncio
async def test_permissions_are_computed_from_overwrites(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """Denying Send Messages gives 50013; hiding the channel gives 50001 Missing Access."""
    alerts = discord_emulator.world.find_channel("alerts")
    channel = bot.get_channel(alerts.id)
    assert isinstance(channel, discord.TextChannel)
    alerts.overwrites.append(Overwrite(SANDBOX_GUILD_ID, 0, deny=Perm.SEND_MESSAGES))
    with pytest.raises(discord.Forbidden) as no_send:
        await channel.send("alert")
    alerts.overwrites.append(Overwrite(SANDBOX_BOT_USER_ID, 1, deny=Perm.VIEW_CHANNEL))
    with pytest.raises(discord.Forbidden) as no_view:
        await channel.send("alert")
    assert (no_send.value.code, no_view.value.code) == (50013, 50001)


@pytest.mark.asyncio
async def test_content_over_2000_characters_is_refused(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """Content past Discord's 2,000 characters is refused with 400 Invalid Form Body."""
    with pytest.raises(discord.HTTPException) as caught:
        await general(bot).send("x" * 2001)
    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert "content" in caught.value.text
    assert [v.kind for v in discord_emulator.spec_errors] == ["limit"]
    discord_emulator.spec_errors.clear()


@pytest.mark.asyncio
async def test_embeds_over_6000_characters_are_refused(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """Embeds that are fine one by one but over 6,000 characters together are refused."""
    embeds = [discord.Embed(title="t", description="d" * 3500) for _ in range(2)]
    with pytest.raises(discord.HTTPException) as caught:
        await general(bot).send(embeds=embeds)
    assert caught.value.code == 50035
    discord_emulator.spec_errors.clear()


@pytest.mark.asyncio
async def test_body_to_a_route_the_contract_lacks_is_a_violation(
    discord_emulator: Emulator, bot: SandboxTestBot, tmp_path: Path
) -> None:
    """With a contract that lacks the route, a message body is recorded as unchecked (which
    fails the test at teardown) instead of passing for valid; the message is still posted."""
    contract = load_contract()
    del contract["routes"][MESSAGE_ROUTE]
    stale = tmp_path / "contract.json"
    stale.write_text(dumps(contract), encoding="utf-8")
    discord_emulator.server.spec = SpecValidator(stale)
    await general(bot).send("unchecked")
    violations = [(v.kind, v.route) for v in discord_emulator.spec_errors]
    assert violations == [("uncovered", MESSAGE_ROUTE)]
    assert [m.content for m in discord_emulator.messages("general")] == ["unchecked"]
    discord_emulator.spec_errors.clear()


# -- the gateway ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_dropped_gateway_resumes_and_commands_still_work(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """After the connection drops, the bot RESUMEs and answers commands sent meanwhile."""
    assert await discord_emulator.drop_gateway() == 1
    result = await discord_emulator.invoke("ping", {"text": "still here"})
    await discord_emulator.wait_resumed()
    assert result.content == "still here"
    assert discord_emulator.gateway.identify_count == 1


@pytest.mark.asyncio
async def test_reconnect_request_resumes(discord_emulator: Emulator, bot: SandboxTestBot) -> None:
    """When Discord asks the bot to reconnect (op 7), it RESUMEs without a new IDENTIFY."""
    await discord_emulator.request_reconnect()
    await discord_emulator.wait_resumed()
    assert (await discord_emulator.invoke("ping")).content == "pong"
    assert discord_emulator.gateway.identify_count == 1


@pytest.mark.asyncio
async def test_invalidated_session_identifies_again(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """When Discord invalidates the session, the bot IDENTIFYs afresh and keeps working."""
    await discord_emulator.invalidate_session()
    await discord_emulator.wait_identified(2)
    await discord_emulator.wait_ready()
    result = await discord_emulator.invoke("ping")
    assert result.content == "pong"


# -- deadlines, files, mentions ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_late_answer_is_recorded(discord_emulator: Emulator, bot: SandboxTestBot) -> None:
    """An answer after the deadline gets "Unknown interaction"; the user saw no reply."""
    discord_emulator.interaction_deadline = 0.2
    bot.slow_seconds = 0.4
    result = await discord_emulator.invoke("slow", timeout=3.0)
    assert result.late and result.status == 404 and result.message is None
    assert [late.name for late in discord_emulator.late_interactions] == ["slow"]
    await until(lambda: bool(bot.command_errors))
    original = getattr(bot.command_errors[0], "original", None)
    assert isinstance(original, discord.NotFound) and original.code == 10062


@pytest.mark.asyncio
async def test_uploaded_file_is_kept(discord_emulator: Emulator, bot: SandboxTestBot) -> None:
    """An export uploaded as a file can be read back byte for byte."""
    data = b"date,category\n2024-01-24,cruise_missile\n"
    message = await general(bot).send(
        "export", file=discord.File(io.BytesIO(data), filename="events.csv")
    )
    [attachment] = discord_emulator.attachments("general")
    assert (attachment.filename, attachment.content) == ("events.csv", data)
    assert await message.attachments[0].read() == data


@pytest.mark.asyncio
async def test_reply_keeps_its_reference(discord_emulator: Emulator, bot: SandboxTestBot) -> None:
    """A correction posted as a reply points at the original alert."""
    original = await general(bot).send("launch at 06:00")
    notice = await original.reply("correction: 07:00", mention_author=False)
    stored = discord_emulator.messages("general")[-1]
    assert stored.message_reference is not None
    assert stored.message_reference["message_id"] == str(original.id)
    assert notice.reference is not None and notice.reference.message_id == original.id
    assert stored.pings.nobody


@pytest.mark.asyncio
async def test_allowed_mentions_none_pings_nobody(
    discord_emulator: Emulator, bot: SandboxTestBot
) -> None:
    """With allowed_mentions none, text naming people and roles notifies no one."""
    text = f"@everyone <@{MEMBER_USER_ID}> <@&{MODERATOR_ROLE_ID}>"
    await general(bot).send(text, allowed_mentions=discord.AllowedMentions.none())
    await general(bot).send(text, allowed_mentions=discord.AllowedMentions.all())
    quiet, loud = discord_emulator.messages("general")
    assert quiet.pings.nobody
    assert loud.pings.users == {MEMBER_USER_ID} and loud.pings.roles == {MODERATOR_ROLE_ID}
    assert not loud.pings.everyone  # the bot lacks Mention Everyone
