"""An import matches external ids within the importing server only.

A server sees its publisher guilds' events, but they are not its own: importing `cns:1`
where a publisher already holds `cns:1` adds this server's own event, leaves the
publisher's as it was, and the file's reactions attach to this server's copy.
"""

from __future__ import annotations

from pathlib import Path

from bot.models import Event
from bot.services import Scope, TimelineFilter, add_reaction, edit_event, list_events
from bot.services.reactions import all_reactions
from bot.transfer import ImportReport, export_data, import_file
from db import Store
from tests.conftest import GUILD, MODERATOR, OTHER_GUILD, PUBLISHER

CP1252 = Path(__file__).parent.parent / "fixtures" / "cns_sample_cp1252.csv"
HERE = Scope(GUILD, MODERATOR, (PUBLISHER,))
HQ = Scope(PUBLISHER, MODERATOR + 1, (PUBLISHER,))
ELSEWHERE = Scope(OTHER_GUILD, MODERATOR + 2, (PUBLISHER,))


async def own_events(store: Store, scope: Scope) -> dict[str, Event]:
    """The server's own events (not its publishers'), by external id."""
    mine = Scope(scope.guild_id)
    return {e.external_id or "": e for e in await list_events(store, mine, TimelineFilter())}


async def test_a_publishers_event_with_the_same_id_is_not_matched(store: Store) -> None:
    """The publisher holds the file's four ids (one edited since): the import still adds
    four events of this server's own, and changes nothing of the publisher's."""
    publishers_report = await import_file(store, HQ, CP1252, "cns")
    await edit_event(store, HQ, (await own_events(store, HQ))["cns:1"].id, "count", "3")
    publishers_before = await own_events(store, HQ)

    report = await import_file(store, HERE, CP1252, "cns")

    assert report == publishers_report and report.imported == 4  # one row is unreadable
    ours = await own_events(store, HERE)
    assert sorted(ours) == sorted(publishers_before) == ["cns:1", "cns:2", "cns:3", "cns:5"]
    assert {e.guild_id for e in ours.values()} == {GUILD}
    assert ours["cns:1"].count != 3 and ours["cns:1"].revision == 1
    assert await own_events(store, HQ) == publishers_before
    here = await list_events(store, HERE, TimelineFilter())
    assert len(here) == 8  # its own four, and still the publisher's four beside them


async def test_reactions_attach_to_this_servers_event_not_the_publishers(
    store: Store, tmp_path: Path
) -> None:
    """A JSON export (events and a reaction naming `cns:1`) imported here, where the
    publisher has the same `cns:1` unchanged: the reaction is on this server's new event."""
    await import_file(store, HQ, CP1252, "cns")
    await import_file(store, ELSEWHERE, CP1252, "cns")
    elsewhere = await own_events(store, ELSEWHERE)
    said = {"actor": "Japan", "stance": "condemns", "summary": "Japan condemned it."}
    await add_reaction(store, ELSEWHERE, {**said, "event_id": elsewhere["cns:1"].id})
    path = tmp_path / "export.json"
    path.write_text(await export_data(store, ELSEWHERE, "json"), encoding="utf-8")
    publishers_before = await own_events(store, HQ)

    report = await import_file(store, HERE, path, "json")

    assert report == ImportReport(imported=5)
    ours = await own_events(store, HERE)
    [reaction] = await all_reactions(store, Scope(GUILD))
    assert reaction.event_id == ours["cns:1"].id != publishers_before["cns:1"].id
    assert await own_events(store, HQ) == publishers_before
