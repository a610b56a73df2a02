"""The dashboard's panel queue: tasks run on the worker threads in queue order, a task
queued `ahead` before those already waiting, and a task's error reaches whoever waits."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from creatorlens.studio import open_studio
from creatorlens.studio.tasks import WORKERS, Panels
from tests.query.conftest import CREATOR, PERIOD, con


def test_a_task_queued_ahead_runs_before_those_waiting(hand_db: Path) -> None:
    first_free, others_free = threading.Event(), threading.Event()
    started: list[str] = []

    def held(until: threading.Event):
        return lambda run: until.wait(10)

    def note(name: str):
        return lambda run: started.append(name) or name

    with open_studio(hand_db, CREATOR) as studio:
        with Panels(studio, PERIOD) as panels:
            # Every worker thread is held, so the next three tasks wait in the queue; then
            # one thread is let go and runs them one after another.
            holding = [panels.submit(held(first_free))]
            holding += [panels.submit(held(others_free)) for _ in range(WORKERS - 1)]
            waiting = [panels.submit(note("first")), panels.submit(note("second"))]
            ahead = panels.submit(note("ahead"), ahead=True)
            first_free.set()
            assert [t.result() for t in (*waiting, ahead)] == ["first", "second", "ahead"]
            others_free.set()
            assert [t.result() for t in holding] == [True] * WORKERS
    assert started == ["ahead", "first", "second"]


def test_a_task_error_reaches_the_caller(hand_db: Path) -> None:
    with open_studio(hand_db, CREATOR) as studio:
        with Panels(studio, PERIOD) as panels:

            def broken(run):
                raise ValueError("panel failed")

            task = panels.submit(broken)
            fine = panels.submit(lambda run: con(run.studio).execute("SELECT 41 + 1").fetchone()[0])
            with pytest.raises(ValueError, match="panel failed"):
                task.result()
            assert fine.result() == 42
