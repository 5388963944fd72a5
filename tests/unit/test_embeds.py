"""The embed fitter: whatever moderators typed, an embed fits Discord's limits and reads well.

Discord refuses an embed over 6,000 characters (or over any part's limit) with a 400, so an
alert would never arrive and /launch would fail. The fitter clips each part with "…", then
keeps the total by trimming the description and, past that, dropping trailing fields.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import embeds
from bot.dates import PartialDate
from bot.models import Event, Page, Reaction, Revision, Source
from bot.render import blocks, md
from tests.readable import TOTAL, assert_fits, assert_reads_cleanly, size, unescape

ALERT_FIELDS = ["When", "From", "Flight", "Claims", "Outcome", "Confidence", "Sources"]
LAUNCH_FIELDS = [
    "Date", "Facts", "Confidence", "Sources", "Reactions (8)", "Change log (newest first)",
]  # fmt: skip


def marked(n: int, word: str) -> str:
    """`n` characters of moderators' text dense with Markdown (each special char is escaped)."""
    return "".join(f"{word}{i}**[x](y)**__~~||--## " for i in range(n))[:n].strip()


def long_event(**changes: Any) -> Event:
    """An event with every text field at its length bound and ten long sources."""
    sources = tuple(
        Source(
            url=f"https://example.org/wiki/{'p' * 255}_(missile){i}",  # 300 once made safe
            publisher=marked(200, f"pub{i}-"),
            title=marked(300, f"title{i}-"),
            published_on="2024-02-14",
        )
        for i in range(10)
    )
    values: dict[str, Any] = {
        "id": 7, "guild_id": 1, "external_id": "cns:" + "9" * 60,
        "date": PartialDate.parse("2024-02-14T10:22Z", "date"), "actor": marked(100, "actor"),
        "category": "icbm", "name": marked(100, "name"), "count": 3, "platform": "tel",
        "launch_site": marked(200, "site"), "latitude": 39.0, "longitude": 125.7,
        "landing_area": marked(200, "sea"), "distance_km": 1000.0, "apogee_km": 6000.0,
        "outcome": "success", "claimed": marked(300, "claim"), "overseen_by": marked(200, "kim"),
        "region": marked(64, "reg"), "summary": marked(2000, "S"), "confidence": "reported",
        "retraction_reason": None, "created_by": 1, "created_at": "2024-02-14T11:00:00+00:00",
        "updated_at": "2024-02-14T11:00:00+00:00", "revision": 13, "sources": sources,
    }  # fmt: skip
    return Event(**{**values, **changes})


def launch_context(event: Event) -> dict[str, Any]:
    """What /launch renders: the event, eight long reactions and twelve revisions."""
    reactions = [
        Reaction(
            id=i,
            guild_id=1,
            event_id=event.id,
            since=None,
            until=None,
            actor=marked(100, "gov"),
            actor_kind="government",
            speaker=None,
            speaker_title=None,
            affiliation=None,
            stance="condemns",
            summary=marked(2000, "said"),
            quote=None,
            said_on="2024-02-15",
            created_by=1,
            created_at="2024-02-15T00:00:00+00:00",
        )
        for i in range(8)
    ]
    history = [
        Revision(
            r, 1, "2024-02-14T12:00:00+00:00", "claimed", marked(300, "old"), marked(300, "new")
        )
        for r in range(2, 14)
    ]
    return {"event": event, "history": history, "reactions": Page(reactions, 0, 25, 8)}


def raw_size(template: str, **context: Any) -> int:
    """The embed's parts as rendered, before any fitting."""
    return sum(len(v) for k, v in blocks(template, **context).items() if k != "url")


def assert_fitted(embed: dict[str, Any], names: list[str], summary: str) -> None:
    """Within the limits, every field kept, and the description cut cleanly: it is the
    summary's beginning, ending with "…"."""
    assert_fits(embed)
    assert [f["name"] for f in embed["fields"]] == names
    description = embed["description"]
    assert description.endswith("…")
    assert_reads_cleanly(description)
    assert summary.startswith(unescape(description[:-1]).rstrip())
    assert len(description) > 1000  # trimmed to fit, not emptied
    for field in embed["fields"]:
        assert_reads_cleanly(field["value"])


@pytest.mark.parametrize("corrected", [False, True])
def test_an_alert_over_6000_characters_is_fitted_to_read_cleanly(corrected: bool) -> None:
    """An alert whose parts add up to well over 6,000 goes out at or under 6,000: the
    description is cut at a clean point with "…", and every field is still there."""
    event = long_event()
    context = {"event": event, "corrected": corrected}
    assert raw_size("alerts/alert.j2", **context) > 6500
    fitted = embeds.embed("alerts/alert.j2", **context).to_dict()
    assert_fitted(fitted, ALERT_FIELDS, event.summary)


def test_launch_over_6000_characters_is_fitted_to_read_cleanly() -> None:
    """/launch of a long event with long reactions and a long change log fits, every field kept."""
    event = long_event()
    context = launch_context(event)
    assert raw_size("commands/launch.j2", **context) > 12000
    fitted = embeds.embed("commands/launch.j2", **context).to_dict()
    assert_fitted(fitted, LAUNCH_FIELDS, event.summary)
    sources = fitted["fields"][LAUNCH_FIELDS.index("Sources")]["value"]
    assert sources.endswith("\n…")  # ten sources do not fit: cut between two of them


def test_a_url_that_grows_when_made_safe_never_breaks_a_link() -> None:
    """A URL within 300 characters that triples when made safe for a link (parentheses, as in
    Wikipedia's) is shown as its title: drawn as a link it would fill a field alone, and a
    cut would leave `[title](<https://…` as raw text."""
    wiki = "https://en.wikipedia.org/wiki/" + "Hwasong_(missile)" * 15  # 285 characters
    wikis = [
        Source(url=f"{wiki}{i}", title=f"Wiki {i}", publisher=marked(200, "p")) for i in range(9)
    ]
    sources = (Source(url="https://example.org/a", title="Short"), *wikis)
    event = long_event(sources=sources)
    fitted = embeds.embed("commands/launch.j2", **launch_context(event)).to_dict()
    assert_fits(fitted)
    sources_field = fitted["fields"][LAUNCH_FIELDS.index("Sources")]["value"]
    assert sources_field.startswith("[Short](<https://example.org/a>)\nWiki 0 · ")
    assert_reads_cleanly(sources_field)


def test_a_retracted_alert_keeps_its_reason_first() -> None:
    """A retracted alert over the limit is trimmed from the end of its description, so the
    retraction and its reason still lead it."""
    event = long_event(confidence="retracted", retraction_reason=marked(500, "why"))
    fitted = embeds.embed("alerts/alert.j2", event=event, corrected=True).to_dict()
    assert_fits(fitted)
    assert fitted["description"].startswith(f"**Retracted:** {md(event.retraction_reason)}")
    assert [f["name"] for f in fitted["fields"]] == ALERT_FIELDS


def test_fields_past_the_total_are_dropped_from_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the fields alone pass 6,000, the description goes and trailing fields are dropped;
    those kept are whole and in order."""
    fields = "\n".join(f"## Field {i}\n" + "\n".join(["line " * 30] * 8) for i in range(30))
    parts = {"title": "T", "description": "D" * 5000, "fields": fields, "footer": "F"}
    monkeypatch.setattr(embeds, "blocks", lambda template, **context: parts)
    fitted = embeds.embed("any.j2").to_dict()
    assert_fits(fitted)
    names = [f["name"] for f in fitted["fields"]]
    assert names == [f"Field {i}" for i in range(len(names))] and 4 <= len(names) < 25
    assert "description" not in fitted
    assert size(fitted) + 1024 > TOTAL  # no more was dropped than needed


def test_each_part_is_clipped_to_its_own_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Title, field names and values, footer and the field count each keep their own limit."""
    fields = "\n".join(f"## {'N' * 300}{i}\n" + "v" * 2000 for i in range(30))
    parts = {"title": "t" * 300, "description": "", "fields": fields, "footer": "f" * 3000}
    monkeypatch.setattr(embeds, "blocks", lambda template, **context: parts)
    fitted = embeds.embed("any.j2").to_dict()
    assert_fits(fitted)
    assert fitted["title"] == "t" * 255 + "…"
    assert fitted["fields"][0] == {
        "name": "N" * 255 + "…",
        "value": "v" * 1023 + "…",
        "inline": False,
    }


_MARKDOWN = st.lists(st.sampled_from([*"ab \n*_~`|>#[]()-\\", "@everyone", "<@&1>"])).map("".join)


@settings(max_examples=200, deadline=None)
@given(summary=_MARKDOWN, claimed=_MARKDOWN, site=_MARKDOWN, repeat=st.integers(1, 400))
def test_any_alert_fits_and_reads_cleanly(
    summary: str, claimed: str, site: str, repeat: int
) -> None:
    """Whatever Markdown and mentions a moderator types, at any length, the alert fits and no
    cut leaves a dangling escape."""
    event = long_event(
        summary=(summary * repeat)[:2000] or "x",
        claimed=(claimed * repeat)[:300] or None,
        launch_site=(site * repeat)[:200] or None,
    )
    fitted = embeds.embed("alerts/alert.j2", event=event, corrected=False).to_dict()
    assert_fits(fitted)
    assert_reads_cleanly(fitted.get("description", ""))
    for field in fitted["fields"]:
        assert_reads_cleanly(field["value"])


def test_content_is_clipped_to_2000_characters() -> None:
    """Message content (a correction notice's text) stays within Discord's 2,000."""
    changes = [{"field": "claimed", "old": marked(300, "o"), "new": marked(300, "n")}] * 40
    text = embeds.content("alerts/correction.j2", event=long_event(), changes=changes)
    assert len(text) <= 2000 and text.endswith("\n…")
    assert_reads_cleanly(text)
