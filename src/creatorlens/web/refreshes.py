"""The rollup refreshes of this process, as the live streams wait for them."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime


class Refreshes:
    """How many rollup refreshes this process has made, and the streams waiting for one."""

    def __init__(self) -> None:
        self.generation = 0
        self.as_of: datetime | None = None
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def refreshed(self, seconds: float | None = None) -> None:
        """Called on the writer's thread after each refresh: wake every stream."""
        with self._lock:
            self.generation += 1
            self.as_of = datetime.now(UTC)
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop has closed
                pass

    async def wait(self, seen: int, timeout: float) -> bool:
        """Whether a refresh after `seen` happened, waiting up to `timeout` for one."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.add(entry)
        try:
            if self.generation == seen:
                try:
                    await asyncio.wait_for(event.wait(), timeout)
                except TimeoutError:
                    pass
            return self.generation != seen
        finally:
            with self._lock:
                self._waiters.discard(entry)
