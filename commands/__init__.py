"""Slash commands: one module a command (or command family), each a thin cog over bot.services."""
