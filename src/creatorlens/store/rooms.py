"""Who is in a LIVE's room: the one place a LIVE viewer's account id is kept, beside the store.

LIVE presence (join, leave, comment, gift) is visible while the LIVE runs and must be gone
after it (DESIGN.md, "Privacy classes"). A DuckDB file keeps freed blocks as they were, so
an id updated away inside it can still be read from the file; the events therefore keep
the viewer as a per-LIVE pseudonym only, and the pseudonym's account lives here, one file
per LIVE in `<db>.rooms/`, readable by its owner only. Deleting that file when the
retention ends (`creatorlens.live.expire_rooms`) is deleting the names: nothing in the
store file ever held them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path


def rooms_path(db: str | Path) -> Path:
    """The folder of room files of the store at `db`."""
    db = Path(db)
    return db.with_name(db.name + ".rooms")


class RoomBook:
    """The room files of one store: append who joined, read them back, delete a room."""

    def __init__(self, db: str | Path):
        self.path = rooms_path(db)

    def _file(self, live_id: str) -> Path:
        return self.path / (hashlib.sha256(live_id.encode()).hexdigest()[:32] + ".ndjson")

    def add(self, rows: Iterable[tuple[str, int, str]]) -> None:
        """Record (live_id, viewer pseudonym, account id) rows, synced before returning (the
        events naming the pseudonyms commit after: a name is never missing for them)."""
        by_live: dict[str, list[tuple[int, str]]] = {}
        for live_id, pid, actor_id in rows:
            by_live.setdefault(live_id, []).append((int(pid), actor_id))
        if not by_live:
            return
        self.path.mkdir(mode=0o700, exist_ok=True)
        for live_id, pairs in by_live.items():
            fd = os.open(self._file(live_id), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as f:
                f.write(
                    "".join(
                        json.dumps({"live_id": live_id, "pid": p, "actor_id": a}) + "\n"
                        for p, a in pairs
                    )
                )
                f.flush()
                os.fsync(f.fileno())

    def names(self, live_id: str) -> dict[int, str]:
        """Each pseudonym of the LIVE's viewers with its account id (none once deleted)."""
        try:
            text = self._file(live_id).read_text()
        except FileNotFoundError:
            return {}
        out: dict[int, str] = {}
        for line in text.splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: its pseudonym is written again
            if row.get("live_id") == live_id:
                out[int(row["pid"])] = str(row["actor_id"])
        return out

    def kept(self) -> bool:
        """Whether any room file exists."""
        return self.path.is_dir() and any(self.path.iterdir())

    def delete(self, live_id: str) -> bool:
        """Delete the LIVE's room (its viewers' account ids); whether there was one."""
        try:
            self._file(live_id).unlink()
        except FileNotFoundError:
            return False
        return True
