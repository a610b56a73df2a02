"""The embedded store: one DuckDB file, its schema, and the key file beside it."""

from creatorlens.store.database import Store

__all__ = ["Store"]
