"""The real server for the service tests: `creatorlens serve` in a subprocess on a free
loopback port, spoken to over HTTP with httpx, on stores made by the real pipeline."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from creatorlens.load import ingest_into
from tests.conftest import run_cli, write_platform
from tests.query.conftest import HAND_ACCOUNTS, HAND_EVENTS, HAND_VIDEOS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def create_token(db: Path, *args: str) -> str:
    """`creatorlens tokens create`, as an operator runs it: the secret is the last line."""
    proc = run_cli("tokens", "create", "--db", str(db), *args, check=True)
    return proc.stdout.strip().splitlines()[-1]


@dataclass
class Server:
    """`creatorlens serve` running in a subprocess; its stderr (the JSON logs) kept."""

    db: Path
    options: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        self.log_path = self.db.with_name(f"server-{self.port}-{time.monotonic_ns()}.log")
        args = ["serve", "--db", str(self.db), "--port", str(self.port), *self.options]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "creatorlens", *args],
            stdout=subprocess.DEVNULL,
            stderr=self.log_path.open("w"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.logs()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready in {timeout} s: {self.logs()}")

    def stop(self) -> None:
        """SIGTERM, as an operator stops it: it stores what is queued, then exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """kill -9: no chance to finish anything."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def logs(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def client(self, token: str | None = None, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kw)

    def wait_fresh(self, since: float, timeout: float = 30) -> None:
        """Until the rollups hold everything accepted before `since` (a time.time())."""
        from datetime import datetime

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = httpx.get(self.url + "/v1/status", timeout=5).json()
            as_of = status["rollups_as_of"]
            if as_of and datetime.fromisoformat(as_of).timestamp() > since:
                return
            time.sleep(0.1)
        raise AssertionError(f"rollups not fresh after {timeout} s: {status}")


def send_batches(
    server: Server,
    key: str,
    batch: Callable[[int], list[dict]],
    numbers: Iterable[int],
    answered: list[tuple[int, dict]],
    senders: int = 4,
) -> list[threading.Thread]:
    """Post the events `batch(b)` of each of `numbers` from `senders` connections at once
    (threads, returned started); each answer goes in `answered` as (b, its JSON). A batch
    the server did not answer (it was killed) is left out, for the caller to send again."""
    lock = threading.Lock()
    queue = list(numbers)

    def sender() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    b = queue.pop(0)
                try:
                    r = client.post(
                        "/v1/events", json=batch(b), headers={"Authorization": f"Bearer {key}"}
                    )
                except httpx.HTTPError:
                    continue
                if r.status_code == 200:
                    with lock:
                        answered.append((b, r.json()))

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for t in threads:
        t.start()
    return threads


def kill_mid_load_then_resend(
    server: Server,
    key: str,
    batch: Callable[[int], list[dict]],
    batches: int,
    ready: Callable[[], bool] = lambda: True,
) -> tuple[set[int], list[tuple[int, dict]]]:
    """Post batches 0..`batches`-1 from four connections, kill -9 the server once ten are
    answered and `ready()`, start it again and send, as a client does, every batch with
    no answer plus five answered ones. Returns the batches answered before the kill and
    every answer."""
    answered: list[tuple[int, dict]] = []
    threads = send_batches(server, key, batch, range(batches), answered)
    while len({b for b, _ in answered}) < 10 or not ready():
        if not any(t.is_alive() for t in threads):
            break  # all answered before: the caller's check of the kill fails
        time.sleep(0.01)
    server.kill()  # mid-load: batches in flight, queued, half written
    for t in threads:
        t.join()
    before = {b for b, _ in answered}
    server.start()
    retry = sorted(set(range(batches)) - before) + sorted(before)[:5]
    for t in send_batches(server, key, batch, retry, answered):
        t.join()
    return before, answered


@pytest.fixture(scope="module")
def module_server(request: pytest.FixtureRequest) -> Iterator:
    """Start servers kept for a whole test module."""
    started: list[Server] = []

    def start(db: Path, *options: str) -> Server:
        server = Server(db, tuple(options)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server_factory() -> Iterator:
    """Start servers; every one started is stopped at the end of the test."""
    started: list[Server] = []

    def start(db: Path, *options: str) -> Server:
        server = Server(db, tuple(options)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def hand_store(root: Path) -> Path:
    """The hand-made creator's store of the query tests (tests/query/conftest.py)."""
    db = root / "store.duckdb"
    summary = ingest_into(db, write_platform(root, HAND_ACCOUNTS, HAND_VIDEOS, HAND_EVENTS))
    assert summary.quarantined == 0, summary.reasons
    return db


@pytest.fixture(scope="module")
def hand_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the hand-made store for one test module."""
    source = tmp_path_factory.getbasetemp() / "serve-hand-source"
    if not (source / "store.duckdb").exists():
        source.mkdir(exist_ok=True)
        hand_store(source)
    target = tmp_path_factory.mktemp("serve-hand")
    for path in source.glob("store.duckdb*"):
        if not path.name.endswith(".tokens"):
            shutil.copy(path, target / path.name)
    return target / "store.duckdb"
