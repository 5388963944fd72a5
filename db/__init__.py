"""The store: migrations and backends behind one interface. Imports nothing of discord.py."""

from db.queries import Queries
from db.store import Store, StoreError, open_store

__all__ = ["Queries", "Store", "StoreError", "open_store"]
