"""The catalogue: extracted from the code and templates as committed, complete for every stored
value, and switched per task; a real translation reaches templates and Python alike.

Whether every sentence goes through it is `tests/e2e/test_pseudo_locale.py`'s question.
"""

from __future__ import annotations

import asyncio
import gettext
import io
from pathlib import Path

from babel.messages import frontend
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from discord import app_commands

from bot import i18n, models
from bot.embeds import embed
from bot.i18n import _, translations
from bot.render import FIELD_LABELS, FIELD_NAMES, LABELS, pdate, render
from bot.tree import error_text

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "bot/locale/launchwatch.pot"
EXTRACT = (
    "pybabel extract -F babel.cfg -c TRANSLATORS: --add-location=file --sort-output "
    '--project LaunchWatch --copyright-holder "the LaunchWatch authors" '
    "-o bot/locale/launchwatch.pot ."
)


def message_ids(messages: object) -> set[tuple[str, ...]]:
    """Each message as (msgid,) or (singular, plural), with its context first when it has one."""
    out = set()
    for message in messages:  # type: ignore[attr-defined]
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if ids[0]:
            out.add((message.context or "", *ids))
    return out


def test_the_committed_catalogue_is_current() -> None:
    """`bot/locale/launchwatch.pot` holds exactly the messages the code and templates use:
    extracted again with `babel.cfg`, nothing is missing and nothing is left over."""
    parse = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse(f)
    fresh = Catalog()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        fresh.add(message, context=context)
    with POT.open("rb") as f:
        committed = read_po(f)
    missing = message_ids(fresh) - message_ids(committed)
    stale = message_ids(committed) - message_ids(fresh)
    assert (missing, stale) == (set(), set()), f"the catalogue is out of date; run: {EXTRACT}"


def test_every_stored_value_and_field_has_words() -> None:
    """Each value a model stores and each field a change names reads from the catalogue, so
    a new category or field cannot show untranslated."""
    values = {
        *models.CATEGORIES, *models.PLATFORMS, *models.OUTCOMES, *models.CONFIDENCES,
        *models.ACTOR_KINDS, *models.STANCES, *models.MODES, *models.DIGEST_EVERY,
        *models.SUBSCRIPTION_STATES,
    }  # fmt: skip
    fields = {*models.EDITABLE_FIELDS, *models.FACT_FIELDS, "retraction_reason"}
    assert values - set(LABELS) == set()
    assert fields - set(FIELD_NAMES) == set() and fields - set(FIELD_LABELS) == set()


def german() -> gettext.GNUTranslations:
    """A small real catalogue, compiled as a translator's would be."""
    catalog = Catalog(locale="de")
    catalog.add("Launch timeline", "Zeitleiste der Starts")
    catalog.add("Jan", "Jän.")
    catalog.add(("%(num)s event", "%(num)s events"), ("%(num)s Ereignis", "%(num)s Ereignisse"))
    catalog.add("Store: %(backend)s", "Speicher: %(backend)s")
    catalog.add(
        "You can't use this command here. Ask a server admin if you think you should.",
        "Diesen Befehl kannst du hier nicht verwenden.",
    )
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def test_a_real_catalogue_reaches_templates_and_code() -> None:
    """With a compiled catalogue active, a template's labels, `{% trans %}` blocks and plural
    forms, a date's month and a sentence in Python all come back translated, and English
    returns when the block ends."""
    counts = {"event": 2, "reaction": 1, "subscription": 0}
    with translations(german()):
        about = embed("commands/about.j2", version="1", counts=counts, backend="sqlite")
        assert about.footer.text == "Speicher: sqlite"
        assert about.fields[0].value.startswith("2 Ereignisse · 1 reaction")
        assert embed("commands/timeline.j2", **empty_timeline()).title == "Zeitleiste der Starts"
        assert pdate("2024-01-30") == "30 Jän. 2024"
        assert error_text(app_commands.CheckFailure())[0].startswith("Diesen Befehl")
    assert pdate("2024-01-30") == "30 Jan 2024"
    assert render("cli/no_token.j2").startswith("No Discord token")


def empty_timeline() -> dict[str, object]:
    from bot.models import Page
    from bot.services import TimelineFilter

    page: Page[object] = Page(items=[], page=0, per_page=10, total=0)
    return {"page": page, "filters": TimelineFilter(), "asked": TimelineFilter()}


async def test_each_task_keeps_its_own_catalogue() -> None:
    """A catalogue switched in one task (a guild's language, one day) does not leak into
    another running at the same time."""
    seen: dict[str, str] = {}
    go = asyncio.Event()

    async def answer(name: str, catalogue: gettext.NullTranslations) -> None:
        with translations(catalogue):
            await go.wait()
            seen[name] = _("Launch timeline")

    tasks = [
        asyncio.create_task(answer("de", german())),
        asyncio.create_task(answer("en", i18n.ENGLISH)),
    ]
    await asyncio.sleep(0)
    go.set()
    await asyncio.gather(*tasks)
    assert seen == {"de": "Zeitleiste der Starts", "en": "Launch timeline"}
    assert i18n.active() is i18n.ENGLISH
