"""The use cases: plain async functions over the store, shared by commands, CLI and sandbox."""

from bot.services.context import Scope
from bot.services.events import (
    TimelineFilter,
    add_event,
    add_events,
    add_source,
    edit_event,
    event_history,
    get_event,
    list_events,
    retract_event,
    search_events,
    timeline,
)
from bot.services.reactions import (
    add_reaction,
    get_reaction,
    reactions,
    remove_reaction,
    search_reactions,
)
from bot.services.settings import get_settings, update_settings
from bot.services.subscriptions import (
    list_subscriptions,
    set_subscription_state,
    subscribe,
    unsubscribe,
)

__all__ = [
    "Scope",
    "TimelineFilter",
    "add_event",
    "add_events",
    "add_reaction",
    "add_source",
    "edit_event",
    "event_history",
    "get_event",
    "get_reaction",
    "get_settings",
    "list_events",
    "list_subscriptions",
    "reactions",
    "remove_reaction",
    "retract_event",
    "search_events",
    "search_reactions",
    "set_subscription_state",
    "subscribe",
    "timeline",
    "unsubscribe",
    "update_settings",
]
