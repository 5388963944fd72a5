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


class ConfigError(LaunchWatchError):
    """A bad configuration: one line naming the key and the fix."""

    def __init__(self, key: str, fix: str) -> None:
        super().__init__(f"config: {key}: {fix}")
        self.key = key
        self.fix = fix
