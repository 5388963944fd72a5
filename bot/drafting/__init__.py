"""Drafting: turn an article's text into draft launch events and reactions, offline.

`draft(text, published)` is the entry point (extract.py); the rules live in modules
named for what they read (dates, places, figures, weapons, claims, reactions) and their
tables in TOML files beside them. Nothing here touches the store.
"""

from bot.drafting.extract import Drafts, draft, event_input, reaction_input

__all__ = ["Drafts", "draft", "event_input", "reaction_input"]
