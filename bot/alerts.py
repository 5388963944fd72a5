"""What a subscribed channel receives: alerts, correction and retraction notices, digests.

Each post is rendered from templates/alerts and fits Discord's limits whatever the data
holds. Only a subscription's own mention role may ever be pinged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot.embeds import COLOURS, NEUTRAL, attach, content, embed
from bot.i18n import _
from bot.models import FACT_FIELDS, Event, Reaction, Revision, Subscription
from bot.render import clip, md

if TYPE_CHECKING:
    from bot.services.pictures import Pictures

CORRECTED = 0xF1C40F
RETRACTED = 0x2C2F33
#: The name of an alert's map: its embed shows `attachment://map.png`.
MAP_FILE = "map.png"


@dataclass
class Post:
    """One message to send: its text, embed, who may be pinged, and its buttons."""

    content: str | None
    embed: discord.Embed | None
    #: Given for every post, not left to the client's default (bot/client.py): in a channel a
    #: ping really notifies, so each post names whom it may ping (an alert, its subscription's
    #: role; a correction replying to that alert, a digest: nobody), whatever the default.
    allowed_mentions: discord.AllowedMentions
    view: discord.ui.View | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: A file to upload with the post (an alert's map), which its embed shows.
    file: discord.File | None = None


def mentions_for(sub: Subscription | None) -> discord.AllowedMentions:
    """The subscription's mention role, and nobody else."""
    if sub is not None and sub.mention_role_id:
        return discord.AllowedMentions(
            everyone=False,
            users=False,
            roles=[discord.Object(sub.mention_role_id)],
            replied_user=False,
        )
    return discord.AllowedMentions.none()


class ReactionsButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"lw:reactions:(?P<event_id>\d+)"
):
    """ "Reactions" on an alert: works after a restart, since the event id is in the custom_id."""

    def __init__(self, event_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=_("Reactions"),
                style=discord.ButtonStyle.secondary,
                custom_id=f"lw:reactions:{event_id}",
            )
        )
        self.event_id = event_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReactionsButton:
        return cls(int(match["event_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        from bot import services

        bot: Any = interaction.client
        scope = bot.scope(interaction)
        event = await services.get_event(bot.store, scope, self.event_id)
        page = await services.reactions(bot.store, scope, event_id=event.id, per_page=25)
        shown = embed(
            "commands/reactions.j2", page=page, event=event, actor=None, since=None, until=None
        )
        await interaction.response.send_message(embed=shown, ephemeral=True)


def _buttons(event: Event) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReactionsButton(event.id))
    return view


def pinging(sub: Subscription | None, text: str) -> str:
    """A post's text after its subscription's role mention, when it has one."""
    if sub is not None and sub.mention_role_id:
        return f"<@&{sub.mention_role_id}> {text}"
    return text


def alert(event: Event, sub: Subscription | None, *, corrected: bool = False) -> Post:
    """The alert for an event (as it stands now); `corrected` marks an edited original."""
    colour = (
        RETRACTED
        if event.retracted
        else (CORRECTED if corrected else COLOURS.get(event.category, NEUTRAL))
    )
    if event.retracted:
        headline = _("Retracted launch report")
    elif corrected:
        headline = _("Corrected launch alert")
    else:
        headline = _("New launch alert")
    return Post(
        content=pinging(sub, headline),
        embed=embed("alerts/alert.j2", colour=colour, event=event, corrected=corrected),
        allowed_mentions=mentions_for(sub),
        view=None if event.retracted else _buttons(event),
    )


async def alert_with_map(
    event: Event, sub: Subscription, pictures: Pictures | None, client: discord.Client
) -> Post:
    """The alert, with the event's map when it is drawn in time: every channel's alert of
    this revision carries it or none does (`Pictures.map_for`: at most half a second's
    wait, once). Without a map the alert goes as it is; a picture never holds it up, nor
    goes where the bot may not upload files (Discord would refuse the whole alert)."""
    post = alert(event, sub)
    if pictures is None or post.embed is None or event.retracted:
        return post
    if not may_attach(client, sub.channel_id):
        return post
    picture = await pictures.map_for(event)  # never raises, never waits past its bound
    if picture is not None:
        post.file = attach(post.embed, picture, MAP_FILE)
    return post


def may_attach(client: discord.Client, channel_id: int) -> bool:
    """Whether the bot may upload files in the channel, as the gateway's cache tells: a
    channel it does not know yet gets no file (the alert matters, the map does not)."""
    channel = client.get_channel(channel_id)
    if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return False
    me = channel.guild.me
    return me is not None and channel.permissions_for(me).attach_files


def edit_of(post: Post) -> dict[str, Any]:
    """What editing a sent alert into `post` sends: its text, embed and buttons, and as
    attachments only the post's own file, so the edit removes the map the alert was sent
    with (`attachments=[]`). A correction is built without a map (`alert(...,
    corrected=True)`): the first map drew the facts as first sent, which a correction may
    have moved; an edit never adds a picture the alert went without; and a kept file that
    the edited embed no longer shows, Discord would show beside it. /launch draws the
    event as it stands."""
    return {
        "content": post.content,
        "embed": post.embed,
        "view": post.view,
        "allowed_mentions": discord.AllowedMentions.none(),
        "attachments": [post.file] if post.file is not None else [],
    }


def needs_notice(fields: list[str]) -> bool:
    """A change of fact gets a notice; a summary-only (or wording) edit does not."""
    return any(f in FACT_FIELDS or f == "date" for f in fields)


def changes(revisions: Sequence[Revision], after: int, upto: int) -> list[dict[str, Any]]:
    """What changed after revision `after` up to `upto` (what the edited alert shows now),
    for the notice: each field once, from its first old value to its last new one; dates
    and sources in readable form."""
    merged: dict[str, dict[str, Any]] = {}
    for r in revisions:
        if not after < r.revision <= upto or r.field in (
            "date_precision",
            "created",
            "retraction_reason",
        ):
            continue
        if r.field in merged:
            merged[r.field]["new"] = r.new
        else:
            merged[r.field] = {"field": r.field, "old": r.old, "new": r.new}
    out = []
    for change in merged.values():
        old, new = change["old"], change["new"]
        if old == new:
            continue
        if change["field"] == "sources":
            old, new = _source_titles(old), _source_titles(new)
        out.append({"field": change["field"], "old": old, "new": new})
    return out


def _source_titles(value: str | None) -> str | None:
    if not value:
        return None
    items = json.loads(value)
    return (
        "; ".join(s.get("title") or s.get("publisher") or s.get("url") or "?" for s in items)
        or None
    )


def notice(event: Event, kind: str, changes: list[dict[str, Any]]) -> Post:
    """The short reply to the original: what changed, or that it was retracted."""
    if kind == "retraction":
        text = _(
            "**Retracted:** the launch reported above (event #{id}) has been withdrawn. "
            "Reason: {reason}"
        ).format(id=event.id, reason=clip(md(event.retraction_reason), 500))
    else:
        text = content("alerts/correction.j2", event=event, changes=changes)
    return Post(
        content=text,
        embed=None,
        allowed_mentions=discord.AllowedMentions.none(),
    )


def digest(
    sub: Subscription, events: list[Event], reactions: list[Reaction], period: dict[str, Any]
) -> Post:
    return Post(
        content=None,
        embed=embed(
            "alerts/digest.j2",
            colour=NEUTRAL,
            sub=sub,
            events=events,
            reactions=reactions,
            period=period,
        ),
        allowed_mentions=discord.AllowedMentions.none(),
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


def unknown_outcome(reason: str, detail: str | None = None) -> str:
    """Why a delivery was not sent when it may already be in its channel (shown by /alerts list)."""
    if reason == "no_history":
        return _(
            "Not sent: it may already be in the channel, and LaunchWatch cannot read the "
            "channel's message history to check (it needs Read Message History there)."
        )
    if reason == "no_channel":
        return _(
            "Not sent: it may already be in the channel, and LaunchWatch cannot see the "
            "channel to check."
        )
    if reason == "too_many":
        return _(
            "Not sent: it may already be in the channel, and too many messages were posted "
            "there since to check."
        )
    return _(
        "Not sent: it may already be in the channel, and reading the channel's messages to "
        "check failed ({detail})."
    ).format(detail=detail)


def sample(sub: Subscription | None) -> Post:
    """What `/alerts test` posts: clearly a test, through the same pipeline as real alerts."""
    return Post(
        content=pinging(sub, _("Test alert from LaunchWatch")),
        embed=embed("alerts/test.j2", colour=NEUTRAL),
        allowed_mentions=mentions_for(sub),
    )
