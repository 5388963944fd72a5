"""The emulator's public names, in one place: import from here, not from its modules.

Importing this module loads the server (aiohttp) and the contract checks (jsonschema); a
module that only describes a world imports :mod:`.world` and :mod:`.permissions` instead.
"""

from __future__ import annotations

from .emulator import Emulator
from .errors import DiscordError
from .faults import Faults
from .interactions import InteractionNotAnswered, InvokeResult, LateAnswer
from .permissions import Perm, permission_names
from .ratelimit import RateLimiter, RouteLimit
from .records import Attachment, BodyViolation, MessageRecord, Pings, Recorder, RequestRecord
from .registry import BadOption, CommandNotSynced, CommandRefused
from .spec import SpecValidator, UncoveredRoute, normalize
from .world import Channel, Guild, Member, Overwrite, Role, User, World, new_snowflake

__all__ = [
    "Attachment",
    "BadOption",
    "BodyViolation",
    "Channel",
    "CommandNotSynced",
    "CommandRefused",
    "DiscordError",
    "Emulator",
    "Faults",
    "Guild",
    "InteractionNotAnswered",
    "InvokeResult",
    "LateAnswer",
    "Member",
    "MessageRecord",
    "Overwrite",
    "Perm",
    "Pings",
    "RateLimiter",
    "Recorder",
    "RequestRecord",
    "Role",
    "RouteLimit",
    "SpecValidator",
    "UncoveredRoute",
    "User",
    "World",
    "new_snowflake",
    "normalize",
    "permission_names",
]
