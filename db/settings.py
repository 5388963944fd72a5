"""Per-guild settings: one row a guild."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.fields import specs, unknown
from bot.models import GuildSettings
from db.base import Aggregate, marks


class Settings(Aggregate):
    async def get(self, guild_id: int) -> GuildSettings | None:
        row = await self.conn.fetchone(
            "SELECT * FROM guild_settings WHERE guild_id = ?", [guild_id]
        )
        return None if row is None else GuildSettings.from_row(row)

    async def update(self, guild_id: int, changes: Mapping[str, Any]) -> None:
        """Change these settings of a guild (creating its row), leaving the others: two
        moderators changing two settings at once both keep theirs."""
        assert changes and not unknown(GuildSettings, changes), changes
        kinds = specs(GuildSettings)
        values = [json.dumps(v) if kinds[c].json else v for c, v in changes.items()]
        await self.conn.execute(
            f"INSERT INTO guild_settings (guild_id, {', '.join(changes)}) "
            f"VALUES (?, {marks(len(changes))}) ON CONFLICT (guild_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in changes),
            [guild_id, *values],
        )
