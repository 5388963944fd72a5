"""The optional "openai" extractor against a local fake chat endpoint: what it sends, and
that nothing it answers is trusted (evidence the text lacks, a date in the future, a
category that does not exist, an answer that is not JSON, a failing server)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiohttp import web

from bot.config import load_config
from bot.drafting.configured import extractor
from bot.drafting.openai import OpenAIExtractor
from bot.errors import ValidationError
from bot.services import Scope
from bot.services.drafts import draft_text, list_drafts
from db import Store
from tests.unit.drafts_support import SEOUL
from tests.unit.feeds_support import FeedServer, feed_server

TEXT = f"{SEOUL.title}\n\n{SEOUL.summary}"
SAID = "The missile flew about 350 km."
NOW = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)


def answer(events: list[dict[str, Any]]) -> dict[str, Any]:
    content = json.dumps({"events": events, "reactions": []})
    return {"choices": [{"message": {"role": "assistant", "content": f"```json\n{content}\n```"}}]}


GOOD = {
    "date": "2024-03-18", "category": "srbm", "count": 1, "launch_site": "Sunan",
    "distance_km": 350, "summary": SAID, "evidence": [SAID],
}  # fmt: skip


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with feed_server() as s:
        yield s


def chat(server: FeedServer, reply: Any, status: int = 200) -> list[dict[str, Any]]:
    """Answer /v1/chat/completions with `reply`; the requests it got, as JSON."""
    got: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        got.append({"body": await request.json(), "auth": request.headers.get("Authorization")})
        if isinstance(reply, bytes):
            return web.Response(body=reply, status=status)
        return web.json_response(reply, status=status)

    server.routes["/v1/chat/completions"] = handler
    return got


def model(server: FeedServer) -> OpenAIExtractor:
    return OpenAIExtractor(server.url("/v1/chat/completions"), "tiny", "sk-test", 5.0)


async def test_it_asks_the_named_model_and_keeps_a_launch_the_text_states(
    server: FeedServer,
) -> None:
    got = chat(server, answer([GOOD]))
    found = await model(server)(TEXT, date(2024, 3, 18))
    (request,) = got
    assert request["auth"] == "Bearer sk-test" and request["body"]["model"] == "tiny"
    system, user = request["body"]["messages"]
    assert "published on 2024-03-18" in system["content"] and user["content"] == TEXT
    (event,) = found.events
    assert (event["occurred_on"], event["category"], event["count"]) == ("2024-03-18", "srbm", 1)
    assert event["evidence"] == [SAID] and event["actor"] == "DPRK"


async def test_launches_without_evidence_in_the_text_are_dropped(server: FeedServer) -> None:
    made_up = {**GOOD, "evidence": ["North Korea launched an ICBM from Mars."]}
    chat(server, answer([made_up, {**GOOD, "date": "someday"}]))
    assert (await model(server)(TEXT, date(2024, 3, 18))).events == []


@pytest.mark.parametrize(
    ("reply", "status"), [(b"not json at all", 200), ({"error": "overloaded"}, 503), ({}, 200)]
)
async def test_an_unusable_answer_drafts_nothing(
    server: FeedServer, reply: Any, status: int
) -> None:
    chat(server, reply, status)
    assert (await model(server)(TEXT, date(2024, 3, 18))).events == []


async def test_what_it_returns_passes_a_moderators_validation(
    store: Store, scope: Scope, server: FeedServer
) -> None:
    """A future date and an unknown category are refused as they would be from /event add."""
    future = {**GOOD, "date": "2031-01-01"}
    unknown = {**GOOD, "category": "death_ray"}
    chat(server, answer([GOOD, future, unknown]))
    made = await draft_text(
        store, scope, TEXT, date(2024, 3, 18), origin="text", extractor=model(server), now=NOW
    )
    assert [(d.occurred_on, d.category) for d in made] == [("2024-03-18", "srbm")]
    assert await list_drafts(store, scope) == made


def test_the_configuration_chooses_it_and_needs_an_endpoint_and_a_model() -> None:
    config = load_config(None, env={}).replace("drafting", "extractor", "openai")
    with pytest.raises(ValidationError):
        extractor(config)
    config = config.replace("drafting", "openai_url", "http://127.0.0.1:9/v1/chat/completions")
    config = config.replace("drafting", "openai_model", "tiny")
    chosen = extractor(config)
    assert isinstance(chosen, OpenAIExtractor) and chosen.model == "tiny"
