"""An optional extractor: an OpenAI-compatible chat endpoint the operator names.

`[drafting] extractor = "openai"` sends each text to `openai_url` (a chat completions
endpoint: a local model server, or a hosted one) with `openai_model`, asking for the rules
extractor's JSON (templates/drafting/openai_prompt.j2). Nothing it answers is trusted:
each launch is reduced to the fields a draft holds, its evidence to sentences that really
occur in the text, and the draft then passes the same validation as a moderator's input
(`bot/services/drafts.py`). An answer that cannot be read drafts nothing and is logged.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp

from bot.config import Config
from bot.dates import PartialDate
from bot.drafting import Drafts
from bot.drafting.actors import launcher
from bot.errors import ValidationError
from bot.i18n import _
from bot.models import CATEGORIES, PLATFORMS
from bot.render import render

log = logging.getLogger("launchwatch.drafting.openai")

#: The event fields taken from an answer; anything else it says is ignored.
FIELDS = (
    "category", "name", "count", "platform", "launch_site", "landing_area", "distance_km",
    "apogee_km", "claimed", "overseen_by", "summary",
)  # fmt: skip
#: The most text sent in one request (a model's context is finite; articles are shorter).
MAX_CHARS = 60_000


class ExtractorFailed(Exception):
    """The endpoint could not be reached or gave no usable answer."""


@dataclass(frozen=True)
class OpenAIExtractor:
    url: str
    model: str
    api_key: str = ""
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Config) -> OpenAIExtractor:
        url = str(config.get("drafting", "openai_url"))
        model = str(config.get("drafting", "openai_model"))
        if not url.startswith(("http://", "https://")) or not model:
            raise ValidationError(
                "[drafting] openai_url",
                _(
                    'set openai_url (http:// or https://) and openai_model for extractor = "openai".'
                ),
            )
        return cls(url, model, str(config.get("drafting", "openai_api_key")),
                   float(config.get("drafting", "openai_timeout")))  # fmt: skip

    async def __call__(self, text: str, published: date) -> Drafts:
        try:
            answer = await self._ask(text[:MAX_CHARS], published)
        except ExtractorFailed as exc:
            log.warning("the openai extractor drafted nothing: %s", exc)
            return Drafts([], [])
        return read_answer(answer, text)

    async def _ask(self, text: str, published: date) -> str:
        prompt = render(
            "drafting/openai_prompt.j2",
            published=published.isoformat(),
            categories=CATEGORIES,
            platforms=PLATFORMS,
        )
        body = {
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": prompt},
                {"role": "user", "content": text},
            ],
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout, trust_env=False) as session,
                session.post(self.url, json=body, headers=headers) as resp,
            ):
                if resp.status != 200:
                    raise ExtractorFailed(f"{self.url} answered HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ExtractorFailed(f"{self.url}: {type(exc).__name__}: {exc}") from None
        try:
            return str(data["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError):
            raise ExtractorFailed(f"{self.url} gave no chat completion") from None


def read_answer(answer: str, text: str) -> Drafts:
    """The launches an answer reports, as the rules extractor's records; what cannot be
    read is left out (validation of each draft follows when it is stored)."""
    found = re.search(r"\{.*\}", answer, re.DOTALL)  # a model may wrap it in prose or ```
    try:
        data = json.loads(found.group(0) if found else answer)
    except ValueError:
        log.warning("the openai extractor's answer is not JSON")
        return Drafts([], [])
    events = data.get("events") if isinstance(data, dict) else None
    records = [r for r in (_record(e, text) for e in events or [] if isinstance(e, dict)) if r]
    return Drafts(records, [])


def _record(event: dict[str, Any], text: str) -> dict[str, Any] | None:
    when = event.get("date") or event.get("occurred_on")
    try:
        day = PartialDate.parse(str(when))
    except ValidationError:
        return None
    record: dict[str, Any] = {k: event.get(k) for k in FIELDS}
    for key in ("count",):
        if not isinstance(record[key], int) or isinstance(record[key], bool):
            record[key] = None
    for key in ("distance_km", "apogee_km"):
        if not isinstance(record[key], int | float) or isinstance(record[key], bool):
            record[key] = None
    for key, value in list(record.items()):
        if value is not None and not isinstance(value, str | int | float):
            record[key] = None
    evidence = [s for s in event.get("evidence") or [] if isinstance(s, str) and s and s in text]
    summary = record.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        record["summary"] = evidence[0] if evidence else None
    if not evidence:
        return None  # a launch the text does not state is not drafted
    record |= {
        "occurred_on": day.text,
        "date_precision": day.precision,
        "occurred_at": day.at.isoformat() if day.at else None,
        "actor": launcher().event_actor or launcher().name,
        "region": "korean-peninsula",
        "confidence": "reported",
        "evidence": evidence[:10],
    }
    return record
