"""The rollups on a real standalone Spark cluster: a master and a worker on loopback,
started with the scripts shipped in the pyspark package, and `creatorlens rollup --engine
spark --master spark://127.0.0.1:PORT` run against it from the command line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyspark
import pytest

from creatorlens.lake import export_store
from creatorlens.store import Store
from tests.conftest import REPO
from tests.lake.conftest import (
    creator_reports,
    creators_of,
    differing_rollups,
    generated_store,
    keys_of,
)

SPARK_CLASS = Path(pyspark.__file__).parent / "bin" / "spark-class"
LOOPBACK = {"SPARK_LOCAL_IP": "127.0.0.1", "SPARK_MASTER_HOST": "127.0.0.1"}

pytestmark = pytest.mark.spark


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path, ready: str, timeout: float = 120) -> subprocess.Popen:
    """Start a Spark daemon in a session of its own; wait for `ready` in its log."""
    out = log.open("wb")
    process = subprocess.Popen(
        [str(SPARK_CLASS), *args],
        stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **LOOPBACK},
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while ready not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            raise AssertionError(f"{args[0]} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A standalone master and one worker (two cores) on 127.0.0.1: (master URL, work dir)."""
    root = tmp_path_factory.mktemp("cluster")
    port = _free_port()
    master = _start(
        ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(_free_port())],
        root / "master.log", "I have been elected leader",
    )  # fmt: skip
    url = f"spark://127.0.0.1:{port}"
    work = root / "work"
    try:
        worker = _start(
            ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2",
             "--memory", "2g", "--webui-port", str(_free_port()), "--work-dir", str(work), url],
            root / "worker.log", "Successfully registered with master",
        )  # fmt: skip
        try:
            yield url, work
        finally:
            _stop(worker)
    finally:
        _stop(master)


def _cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "creatorlens", *args],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, **LOOPBACK, "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_rollup_runs_on_a_standalone_cluster(cluster, tmp_path: Path) -> None:
    url, work = cluster
    db = generated_store(tmp_path, events=8_000, creators=6, viewers=600, days=7)
    lake, out = tmp_path / "lake", tmp_path / "out"
    with Store.open(db, read_only=True) as store:
        export_store(store, lake)

    said = _cli(
        "rollup", "--engine", "spark", "--lake", str(lake), "--out", str(out), "--master", url,
        "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.executor.memory=1g",
    )  # fmt: skip
    assert f"on {url}" in said
    # The work ran in an executor the worker started for the application.
    assert any(work.glob("app-*/*/stderr"))

    served = tmp_path / "served.duckdb"
    shutil.copy(keys_of(db), keys_of(served))
    _cli("load-rollups", "--from", str(out), "--db", str(served), "--keys", str(keys_of(served)))
    assert differing_rollups(db, served) == {}
    creators = creators_of(db)
    assert creator_reports(served, creators) == creator_reports(db, creators)
    # And through `report --json`, as a user would ask.
    first = creators[0]
    served_json = json.loads(_cli("report", "--db", str(served), "--creator", first, "--json"))
    stored_json = json.loads(_cli("report", "--db", str(db), "--creator", first, "--json"))
    assert served_json == stored_json
