"""docs/examples/app_client.py runs as an app developer would run it, against the real
server: the PKCE flow, a noisy read with its error bounds, a refresh."""

from __future__ import annotations

import subprocess
import sys

from tests.apps.conftest import register_app
from tests.conftest import REPO
from tests.query.conftest import CREATOR
from tests.serve.conftest import create_token, free_port


def test_the_example_client_runs_the_whole_flow(app_server) -> None:
    server, db = app_server.server, app_server.db
    port = free_port()
    app = register_app(db, "Example", redirect=f"http://127.0.0.1:{port}/callback")
    creator = create_token(db, "--creator", CREATOR)
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "docs" / "examples" / "app_client.py"),
            "--server",
            server.url,
            "--client-id",
            app.client_id,
            "--client-secret",
            app.secret,
            "--port",
            str(port),
            "--creator-token",
            creator,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "granted: overview.read videos.read audience.read followers.read" in out
    assert "reach:" in out and "at 95 %" in out
    assert '{"refreshed": true}' in out
