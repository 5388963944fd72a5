"""LaunchWatch: a Discord bot for regional security alerts."""

__version__ = "0.1.0"
