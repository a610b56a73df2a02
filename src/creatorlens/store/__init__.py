"""The embedded store: one DuckDB file, its schema, and the key file beside it."""

from creatorlens.store.database import Store, key_ring, mark_creators_dirty
from creatorlens.store.keys import KeyRing, PseudonymKey

__all__ = ["KeyRing", "PseudonymKey", "Store", "key_ring", "mark_creators_dirty"]
