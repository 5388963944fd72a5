"""Slash-command cogs, one per command family; each a thin layer over bot.services."""
