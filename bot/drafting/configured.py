"""The extractor and the article reader the configuration names (`[drafting]`), for the
bot, the CLI and the sandbox alike."""

from __future__ import annotations

from bot.config import Config
from bot.drafting.articles import fetch_article
from bot.feeds import Fetcher
from bot.services.drafts import Extractor, rules_extractor
from bot.services.feeds import ArticleReader


def extractor(config: Config) -> Extractor:
    """The rules, or the OpenAI-compatible endpoint `[drafting] openai_url` names."""
    if config.get("drafting", "extractor") == "openai":
        from bot.drafting.openai import OpenAIExtractor

        return OpenAIExtractor.from_config(config)
    return rules_extractor


def article_reader(config: Config, fetcher: Fetcher) -> ArticleReader | None:
    """With `[drafting] fetch_articles`, reads the article a feed item links to."""
    if not config.get("drafting", "fetch_articles"):
        return None

    async def read(url: str) -> str | None:
        text = await fetch_article(fetcher, url)
        return text if isinstance(text, str) else None

    return read
