"""The demo ends by serving its store on loopback with a ready creator token, and still
ends by itself when it is not asked to serve (as in tests and scripts)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import httpx

from tests.serve.conftest import free_port

SMALL = ("--events", "6000", "--creators", "6", "--viewers", "300", "--days", "10")


def test_the_demo_serves_its_top_creator_with_a_ready_token(tmp_path) -> None:
    port = free_port()
    args = ["demo", "--workdir", str(tmp_path / "demo"), *SMALL, "--serve", "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "creatorlens", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "cl_c_" in line:
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}" in text
        token = re.search(r"(cl_c_\S+)", text).group(1)
        creator = re.search(r"creator token for (\S+) ", text).group(1)
        assert f"Report for the top creator, {creator}" in text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        response = httpx.get(
            f"http://127.0.0.1:{port}/v1/creators/{creator}/overview",
            params={"period": "7d"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["overview"]["totals"]["plays"] > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_the_demo_ends_by_itself_when_not_serving(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "creatorlens", "demo", "--workdir", str(tmp_path / "d"), *SMALL],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Serving" not in proc.stdout and "cl_c_" not in proc.stdout
