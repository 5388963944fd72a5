"""Per-guild settings: moderator roles, default actor, display time zone, log channel."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import validation
from bot.errors import ValidationError
from bot.fields import columns
from bot.i18n import _
from bot.models import GuildSettings
from db import Store

_FIELDS = columns(GuildSettings)[1:]  # the guild_id is the key


async def get_settings(store: Store, guild_id: int) -> GuildSettings:
    async with store.read() as q:
        settings = await q.settings.get(guild_id)
    return settings or GuildSettings(guild_id)


async def update_settings(store: Store, guild_id: int, **changes: Any) -> GuildSettings:
    """Change some settings; each is validated before anything is written."""
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in _FIELDS:
            raise ValidationError(
                key, _("is not a setting; settings: {keys}.").format(keys=", ".join(_FIELDS))
            )
        if key == "timezone" and value is not None:
            try:
                ZoneInfo(str(value))
            except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: `America` is a folder
                raise ValidationError(
                    "timezone",
                    _(
                        "'{value}' is not a time zone; use an IANA name such as Asia/Seoul or UTC."
                    ).format(value=value),
                ) from None
        if key == "default_actor":
            value = validation.text("actor", value)
        if key == "moderator_role_ids":
            value = sorted({int(v) for v in value or []})
        values[key] = value
    if values:
        async with store.transaction() as q:
            await q.settings.update(guild_id, values)
    return await get_settings(store, guild_id)
