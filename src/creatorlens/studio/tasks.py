"""A dashboard's panels as tasks on a few worker threads, each reading its own store session."""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import cache
from typing import Any

from creatorlens.privacy import QueryResult, Withheld
from creatorlens.query import Period, Query
from creatorlens.studio import Studio


class Runner:
    """One panel's questions, each answered through the release stage, and what was
    withheld from them."""

    def __init__(self, studio: Studio, period: Period):
        self.studio = studio
        self.period = period
        self.withheld: list[Withheld] = []

    def query(self, metrics, dimensions=(), filters=(), **kw) -> Query:
        return Query(
            self.studio.creator_id,
            tuple(metrics),
            self.period,
            tuple(dimensions),
            tuple(filters),
            compare=kw.pop("compare", False),
            # A breakdown's totals line is read only where a panel shows it.
            totals=kw.pop("totals", not dimensions),
            **kw,
        )

    def __call__(self, metrics, dimensions=(), filters=(), **kw) -> QueryResult:
        return self.run(self.query(metrics, dimensions, filters, **kw))

    def run(self, query: Query) -> QueryResult:
        result = self.studio.answer(query)
        scope = ", ".join(query.dimensions) or "total"
        self.withheld.extend(w.about(scope) for w in result.withheld)
        return result

    def panel(self, question) -> Any:
        return self.studio.panel(question)

    def all(self, **queries: Query) -> dict[str, QueryResult]:
        """Several queries of one panel, their rollup reads made in one statement."""
        self.studio.prefetch(list(queries.values()))
        return {name: self.run(query) for name, query in queries.items()}


class Task:
    """A panel being read: its result when done, and what it withheld."""

    def __init__(self, future: Future, runner: Runner):
        self._future = future
        self._runner = runner

    def result(self):
        return self._future.result()

    @property
    def withheld(self) -> list[Withheld]:
        return self._runner.withheld


# Panels read at once. One more than the machine's two cores: while one task is in Python
# (releasing its answer, holding the GIL) the other two keep both cores in DuckDB (A/B at
# 10M, alternating per creator: 2.5-4 % lower mean and p50 than two workers).
WORKERS = 3


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="dashboard")


class Panels:
    """The tasks of one dashboard on the worker threads, each thread reading on its own
    session of the store. The tasks share the studio's memo of figures read.

    The dashboard keeps its own queue of tasks: each job given to the pool runs whichever
    task is at its head when a thread is free, so a task can be queued ahead of those
    already waiting."""

    def __init__(self, studio: Studio, period: Period):
        self.studio = studio
        self.period = period
        self._local = threading.local()
        self._lock = threading.Lock()
        self._futures: list[Future] = []
        self._waiting: deque[tuple[Any, Future]] = deque()

    def submit(self, panel, *, ahead: bool = False) -> Task:
        """Queue `panel(run)` (`ahead`: before the tasks waiting); `run.studio` reads on
        the worker's thread."""
        runner = Runner(self.studio, self.period)

        def task():
            runner.studio = self._worker_studio()
            return panel(runner)

        future: Future = Future()
        with self._lock:
            (self._waiting.appendleft if ahead else self._waiting.append)((task, future))
            self._futures.append(future)
        _pool().submit(self._run_next)
        return Task(future, runner)

    def _run_next(self) -> None:
        """Run the task at the head of the queue (one job is given to the pool per task)."""
        with self._lock:
            task, future = self._waiting.popleft()
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(task())
        except BaseException as exc:  # handed to whoever waits on the task
            future.set_exception(exc)

    def _worker_studio(self) -> Studio:
        worker = getattr(self._local, "studio", None)
        if worker is None:
            worker = self._local.studio = self.studio.on_this_thread()
        return worker

    def __enter__(self) -> Panels:
        return self

    def __exit__(self, *exc) -> None:
        # Every task, those queued by other tasks included, has finished before the
        # dashboard is done: none may still be reading when the store closes.
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                break
            wait(pending)
