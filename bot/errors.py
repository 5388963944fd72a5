"""Typed errors the services raise; each carries what a person needs to read to fix it."""


class LaunchWatchError(Exception):
    """Base of every error a person can act on."""


class ValidationError(LaunchWatchError):
    """Input that cannot be stored, naming the field and how to fix it."""

    def __init__(self, field: str, fix: str) -> None:
        super().__init__(f"{field}: {fix}")
        self.field = field
        self.fix = fix


class NotFound(LaunchWatchError):
    """A referenced thing does not exist, or is not visible to this guild."""

    def __init__(self, what: str, ref: object) -> None:
        super().__init__(f"{what} {ref} was not found")
        self.what = what
        self.ref = ref


class Forbidden(LaunchWatchError):
    """The acting guild or person may not change this."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AlreadyRecorded(LaunchWatchError):
    """A repeat of an event just recorded (a moderator retrying a slow answer)."""

    def __init__(self, event_id: int, guild_id: int, alert: tuple[int, int] | None) -> None:
        super().__init__(f"already recorded as event #{event_id}")
        self.event_id = event_id
        self.guild_id = guild_id
        #: (channel id, message id) of an alert posted for it in this server, if any.
        self.alert = alert


class ConfigError(LaunchWatchError):
    """A bad configuration: one line naming the key and the fix."""

    def __init__(self, key: str, fix: str) -> None:
        super().__init__(f"config: {key}: {fix}")
        self.key = key
        self.fix = fix
