"""A tour of everything the bot says: every command's answers and every kind of channel post.

`tour` drives the real bot through the emulator the way people would (members, moderators and
an admin typing commands, pressing buttons, a channel breaking) and returns each answer and
post as the text a reader sees, raw (Markdown and all). The pseudo-locale test reads it for
words left out of the catalogue; it does not assert wording itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Channel, Emulator, InvokeResult, MessageRecord, Overwrite, World
from bot.emulator.world import new_snowflake
from bot.feeds import DEFAULT_TERMS
from bot.sandbox.world import (
    ALERTS_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    MEMBER_USER_ID,
    MODERATOR_ROLE_ID,
    MODERATOR_USER_ID,
    SANDBOX_GUILD_ID,
)
from bot.services import Scope
from tests.e2e.support import settled, until

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)

#: What moderators type in the tour: data, which no catalogue translates.
FULL_EVENT = {
    "date": "2024-03-18T04:10Z",
    "category": "irbm",
    "summary": "Hwasong launch over the sea",
    "actor": "DPRK",
    "name": "Hwasong-16B",
    "count": 2,
    "platform": "tel",
    "site": "Pyongyang",
    "landing_area": "East Sea",
    "distance_km": 1000,
    "apogee_km": 101.5,
    "outcome": "success",
    "claimed": "hypersonic",
    "overseen_by": "Kim Jong Un",
    "region": "korean-peninsula",
    "confidence": "confirmed",
    "source_url": "https://example.org/hwasong",
    "source_title": "Yonhap report",
}
PLAIN_EVENT = {"date": "2024-03-20", "category": "srbm", "summary": "Two SRBMs east"}
REACTION = {
    "actor": "Japan",
    "stance": "condemns",
    "summary": "Tokyo protested through diplomatic channels",
    "speaker": "Yoshimasa Hayashi",
    "speaker_title": "Chief Cabinet Secretary",
    "affiliation": "Cabinet Office",
    "quote": "Absolutely unacceptable",
    "source_url": "https://example.org/japan",
    "said_on": "2024-03-18",
}
SERIES = {
    "actor": "Ankit Panda",
    "stance": "assessment",
    "summary": "Part of a testing campaign",
    "actor_kind": "analyst",
    "since": "2024-01",
    "until": "2024-03",
}
#: Data the tour writes besides the seed (channel and role names, ids are found by pattern).
#: Articles handed to /draft file: one new launch, one that updates a seeded event.
ARTICLE = "North Korea fired a short-range ballistic missile from Sunan on 18 March 2024."
UPDATE = "North Korea fired cruise missiles from Kim Chaek on 2 February 2024, flying 200 km."

DATA = [
    *(str(v) for v in FULL_EVENT.values()),
    *(str(v) for v in PLAIN_EVENT.values()),
    *(str(v) for v in REACTION.values()),
    *(str(v) for v in SERIES.values()),
    "Filler launch",
    "Never happened",
    "Corrected wording",
    "Reuters",
    "Asia/Seoul",
    "Nowhere/City",
    "general",
    "alerts",
    "locked",
    "Moderator",
    "Nobody",
    "Nowhere",
    # Feeds and drafts: a feed's name, files and their texts, the (English) watch terms.
    "Wire",
    "wire.pdf",
    "someday",
    ARTICLE,
    UPDATE,
    *DEFAULT_TERMS,
]


@dataclass(frozen=True)
class Said:
    """One thing the bot said: where it was seen, and its text as a reader gets it."""

    what: str
    text: str
    #: What the person typed for it (option values): data.
    typed: tuple[str, ...] = ()


def visible(message: MessageRecord | None) -> str:
    """A message's words: content, every embed part, button and menu labels."""
    if message is None:
        return ""
    parts = [message.content or ""]
    for e in message.embeds:
        parts += [e.get("title", ""), e.get("description", "")]
        parts += [f"{f['name']}\n{f['value']}" for f in e.get("fields", [])]
        parts.append(e.get("footer", {}).get("text", ""))
    for row in message.components:
        for c in row.get("components", []):
            parts += [c.get("label") or "", c.get("placeholder") or ""]
    return "\n".join(p for p in parts if p)


def prepare_world(world: World) -> None:
    """Before the bot connects: a #locked channel where the bot may not embed links."""
    guild = world.guild(SANDBOX_GUILD_ID)
    assert guild is not None
    channel_id = new_snowflake()
    deny_embeds = Overwrite(SANDBOX_GUILD_ID, 0, 0, 1 << 14)
    guild.channels[channel_id] = Channel(
        channel_id, SANDBOX_GUILD_ID, "locked", overwrites=[deny_embeds]
    )


@contextmanager
def broken_service(name: str) -> Iterator[None]:
    """A service that raises, as a bug would: the answer is the apology."""
    real = getattr(services, name)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    setattr(services, name, broken)
    try:
        yield
    finally:
        setattr(services, name, real)


def modal_words(modal: dict[str, Any] | None) -> str:
    """What a person reads on a form: its title, and each input's label and hint."""
    assert modal is not None
    inputs = [row["components"][0] for row in modal["components"]]
    return "\n".join(
        [modal["title"], *(i["label"] for i in inputs), *(i.get("placeholder", "") for i in inputs)]
    )


async def tour(emulator: Emulator, bot: LaunchWatch) -> list[Said]:
    """Every command's answers (and its mistakes), then every channel post, as `Said`s."""
    said: list[Said] = []

    async def run(
        command: str, options: dict[str, Any] | None = None, user: str = "moderator", **kw: Any
    ) -> InvokeResult:
        result = await emulator.invoke(command, options or {}, user=user, **kw)
        assert not result.refused, (command, result.refusal)
        label = f"/{command} {options or ''} as {user}"
        typed = tuple(str(v) for v in (options or {}).values())
        said.append(Said(label, visible(result.message), typed))
        return result

    async def choices(command: str, options: dict[str, Any], focused: str) -> None:
        found = await emulator.autocomplete(command, options, focused=focused, user="moderator")
        said.append(Said(f"/{command} {focused} suggestions", "\n".join(c["name"] for c in found)))

    async def quietly(work: Callable[[], Awaitable[Any]]) -> None:
        await work()
        await settled(bot.store)

    # -- reading: /about, /timeline, /launch, /reactions ----------------------------------------
    await run("about", user="member")
    for day in range(1, 12):
        await services.add_event(
            bot.store,
            MOD,
            {"date": f"2023-06-{day:02d}", "category": "srbm", "summary": "Filler launch"},
        )
    await run("timeline", user="member")
    first = await run("timeline", {"since": "2023"}, user="member")
    turned = await emulator.click(first, "page:next", user="member")
    said.append(Said("/timeline page 2", visible(turned.message)))
    other = await emulator.click(turned, "page:prev", user="moderator")
    said.append(Said("/timeline someone else's page", visible(other.message)))
    await run("timeline", {"since": "2024-01-20", "until": "2024-02"}, user="member")
    await run("timeline", {"category": "icbm", "actor": "DPRK"}, user="member")
    await run("timeline", {"region": "Nowhere", "actor": "Nobody"}, user="member")
    await run("timeline", {"since": "2024-03", "until": "2024-01"}, user="member")
    await run("timeline", {"since": "2099"}, user="member")
    await run("timeline", {"since": "2024-13"}, user="member")
    await run("launch", {"event": "1"}, user="member")
    await run("launch", {"event": "no such launch"}, user="member")
    await run("reactions", user="member")
    await run("reactions", {"event": "1"}, user="member")
    await run("reactions", {"actor": "Japan", "since": "2024-01"}, user="member")
    await run("reactions", {"actor": "Nobody"}, user="member")
    await run("reactions", {"event": "4", "actor": "Nobody"}, user="member")
    # /chart: the title and the sentences said instead of a picture (the picture's own
    # words are drawn, and its description is bot/pictures/'s, not yet in the catalogue)
    await run("chart timeline", {"since": "2024-01-01"}, user="member")
    missiles = {"since": "2023", "category": "srbm", "actor": "DPRK", "by": "quarter"}
    await run("chart timeline", {**missiles, "count": "missiles"}, user="member")
    await run("chart timeline", {"until": "1990"}, user="member")
    await run("chart map", user="member")
    await run("chart map", {"since": "2023", "until": "2023"}, user="member")
    await run("chart map", {"until": "1990"}, user="member")
    await choices("launch", {"event": "jan"}, "event")
    await choices("reaction remove", {"reaction": "japan"}, "reaction")

    # -- settings -----------------------------------------------------------------------------------
    await run("settings moderator-role", {"role": MODERATOR_ROLE_ID}, user="admin")
    await run("settings moderator-role", {"role": SANDBOX_GUILD_ID}, user="admin")
    await run("settings timezone", {"tz": "Asia/Seoul"}, user="admin")
    await run("settings timezone", {"tz": "Nowhere/City"}, user="admin")
    await run("settings default-actor", {"actor": "DPRK"}, user="admin")
    await run("settings log-channel", {"channel": GENERAL_CHANNEL_ID}, user="admin")
    emulator.world.allow_command(SANDBOX_GUILD_ID, "settings", role_id=MODERATOR_ROLE_ID)
    await run("settings timezone", {"tz": "UTC"}, user="moderator")
    emulator.world.allow_command(SANDBOX_GUILD_ID, "event", user_id=MEMBER_USER_ID)
    await run("event add", PLAIN_EVENT, user="member")

    # -- subscriptions --------------------------------------------------------------------------------
    await run("alerts list")
    await run("alerts subscribe", {"channel": "locked"})
    await run(
        "alerts subscribe",
        {"channel": "general", "categories": "icbm,cruise_missile", "actors": "DPRK",
         "regions": "korean-peninsula", "min_confidence": "reported", "mode": "digest",
         "digest_every": "weekly", "digest_time": "9:30"},
    )  # fmt: skip
    await run(
        "alerts subscribe",
        {"channel": "general", "mode": "both", "digest_every": "daily",
         "min_confidence": "confirmed"},
    )  # fmt: skip
    await run("alerts subscribe", {"channel": "general", "digest_time": "25:00"})
    await run("alerts subscribe", {"channel": "general", "timezone": "Nowhere/City"})
    await run("alerts subscribe", {"channel": "general", "categories": "laser"})
    await run(
        "alerts subscribe",
        {"channel": "alerts", "mention_role": MODERATOR_ROLE_ID, "actors": "DPRK"},
    )
    await run("alerts pause", {"channel": "general"})
    await run("alerts list")
    await run("alerts resume", {"channel": "general"})
    await run("alerts unsubscribe", {"channel": "general"})
    await run("alerts unsubscribe", {"channel": "general"})
    await run("alerts preview", {"event": "1"})
    await quietly(lambda: run("alerts test", {"channel": "alerts"}))

    # -- recording events -------------------------------------------------------------------------------
    await quietly(lambda: run("event add", FULL_EVENT))
    full = (await services.search_events(bot.store, MOD, "Hwasong-16B", limit=1))[0].id
    await quietly(lambda: run("event add", PLAIN_EVENT))
    plain = (await services.search_events(bot.store, MOD, "Two SRBMs east", limit=1))[0].id
    await run("event add", PLAIN_EVENT)
    await run(
        "event add", {**PLAIN_EVENT, "confidence": "confirmed", "summary": "Corrected wording"}
    )
    await run("event add", {**PLAIN_EVENT, "date": "2099-01-01"})
    await quietly(
        lambda: run("event edit", {"event": str(plain), "field": "distance_km", "value": "380"})
    )
    await quietly(lambda: run("event edit", {"event": str(plain), "field": "count", "value": "3"}))
    await quietly(
        lambda: run(
            "event edit", {"event": str(plain), "field": "summary", "value": "Corrected wording"}
        )
    )
    await run("event edit", {"event": str(plain), "field": "summary", "value": "Corrected wording"})
    await run("event edit", {"event": str(plain), "field": "count", "value": "many"})
    await run("event edit", {"event": str(plain), "field": "platform", "value": "bicycle"})
    await run("event edit", {"event": str(plain), "field": "confidence", "value": "retracted"})
    await run("event edit", {"event": str(plain), "field": "confidence", "value": "confirmed"})
    await run("event edit", {"event": str(plain), "field": "apogee_km", "value": "-5"})
    await quietly(
        lambda: run("event edit", {"event": str(full), "field": "landing_area", "value": "-"})
    )
    await quietly(
        lambda: run(
            "event source", {"event": str(plain), "title": "Reuters", "publisher": "Reuters"}
        )
    )
    await run("event source", {"event": str(plain), "url": "ftp://example.org"})
    await run("event source", {"event": str(plain), "title": "Reuters", "publisher": "Reuters"})
    await run("launch", {"event": str(plain)}, user="member")
    await quietly(lambda: run("event retract", {"event": str(full), "reason": "Never happened"}))
    await run("event retract", {"event": str(full), "reason": "Never happened"})
    await run("event edit", {"event": str(full), "field": "count", "value": "4"})
    await run("launch", {"event": str(full)}, user="member")
    await run("event export", {"format": "json"})
    await run("event export", {"format": "csv"})

    # -- reactions ------------------------------------------------------------------------------------------
    await run("reaction add", {**REACTION, "event": str(plain)})
    await run("reaction add", SERIES)
    await run("reaction add", {"actor": "Japan", "stance": "concerned", "summary": "Worried"})
    await run(
        "reaction add",
        {"actor": "Japan", "stance": "monitoring", "summary": "Watching", "event": "1",
         "since": "2024-01"},
    )  # fmt: skip
    await run("reaction add", {**SERIES, "since": "2024-03", "until": "2024-01"})
    await run(
        "reaction add",
        {"actor": "Japan", "stance": "supports", "summary": "Fine", "said_on": "2099"},
    )
    await run("reactions", {"event": str(plain)}, user="member")
    removed = (await services.search_reactions(bot.store, MOD, "Part of a testing campaign", 1))[
        0
    ].id
    await run("reaction remove", {"reaction": str(removed)})
    await run("reaction remove", {"reaction": "no such reaction"})

    # -- the Reactions button on an alert, a bug, a broken channel ----------------------------------------------
    await settled(bot.store)
    alert = next(m for m in emulator.messages("alerts") if m.components)
    pressed = await emulator.click(alert, alert.components[0]["components"][0]["custom_id"])
    said.append(Said("the Reactions button", visible(pressed.message)))
    with broken_service("timeline"):
        await run("timeline", user="member")
    posts = len(emulator.messages(GENERAL_CHANNEL_ID))
    emulator.break_channel(ALERTS_CHANNEL_ID, 50013)
    await services.add_event(bot.store, MOD, {**PLAIN_EVENT, "summary": "Filler launch"})
    await until(lambda: len(emulator.messages(GENERAL_CHANNEL_ID)) > posts)  # the log channel
    emulator.fix_channel(ALERTS_CHANNEL_ID)
    await run("alerts list")

    # -- feeds and drafts: /feeds, /draft, the review cards and their buttons ---------------------------------------
    await run("settings review-channel", {"channel": GENERAL_CHANNEL_ID}, user="admin")
    await run("feeds list")
    await run("feeds terms")
    await run("feeds terms", {"add": "Hwasong", "remove": "rocket"})
    await run("feeds terms", {"remove": "x" * 70})
    await run("feeds add", {"url": "ftp://news.example/rss"})
    await run("feeds add", {"url": "https://news.example/rss", "every": "1m"})
    await run("feeds add", {"url": "http://192.168.1.20/rss", "name": "Wire"})
    assert bot.drafting is not None
    (feed,) = await services.feeds.list_feeds(bot.store, MOD)
    await bot.drafting.poll(feed.id)  # refused at once: broken, and the log channel is told
    await run("feeds list")
    await run("feeds pause", {"feed": str(feed.id)})
    await run("feeds resume", {"feed": str(feed.id)})
    await run("feeds remove", {"feed": "Wire"})
    await run("draft list")
    await run("draft file", {"file": ("wire.txt", ARTICLE.encode()), "published": "2024-03-18"})
    await run("draft file", {"file": ("update.txt", UPDATE.encode()), "published": "2024-02-03"})
    await run(
        "draft file",
        {"file": ("nothing.txt", b"Markets rose on Monday."), "published": "2024-03-18"},
    )
    await run("draft file", {"file": ("wire.pdf", b"%PDF-1.4")})
    await run("draft url", {"url": "https://news.example/article"})
    await run("draft list")
    await run("draft show", {"draft": "1"})
    text = await emulator.invoke("draft text", user="moderator")
    said.append(Said("/draft text's form", modal_words(text.modal)))
    cards = [
        m
        for m in emulator.messages(GENERAL_CHANNEL_ID)
        if not m.ephemeral and "lw:draft:" in str(m.components)
    ]
    first, second = cards[0], cards[1]
    confirm, edit = (b["custom_id"] for b in first.components[0]["components"][:2])
    refused = await emulator.click(first, confirm, user="member")
    said.append(Said("a member's Confirm", visible(refused.message)))
    form = await emulator.click(first, edit, user="moderator")
    said.append(Said("the Edit form", modal_words(form.modal)))
    wrong = await emulator.submit_modal(form, {"draft-date": "someday"}, user="moderator")
    await wrong.wait_for(lambda r: bool(r.followups), 10)
    said.append(Said("a bad edit", visible(wrong.followups[-1])))
    await emulator.click(first, confirm, user="moderator")
    await until(lambda: not first.components)
    apply = second.components[0]["components"][0]["custom_id"]
    await emulator.click(second, apply, user="admin")
    await until(lambda: not second.components)

    # -- every channel post, as it stands at the end ---------------------------------------------------------------
    await settled(bot.store)
    for channel in (ALERTS_CHANNEL_ID, GENERAL_CHANNEL_ID):
        for message in emulator.messages(channel):
            said.append(Said(f"post {message.id} in {channel}", visible(message)))
    return said
