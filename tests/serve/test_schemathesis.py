"""Property-based tests of every operation of the served OpenAPI document (schemathesis):
no 5xx and no response outside the document, with a creator token and an ingest key."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.query.conftest import CREATOR
from tests.serve.conftest import Server, create_token

# Each operation gets a bounded number of generated requests, so the run ends by itself.
EXAMPLES = 12
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)


def schemathesis() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return [str(exe)] if exe.exists() else [shutil.which("schemathesis") or "schemathesis"]


def run_schemathesis(
    url: str, token: str, examples: int, *options: str
) -> subprocess.CompletedProcess[str]:
    """schemathesis over the served document with `token`, seeded and bounded."""
    return subprocess.run(
        [
            *schemathesis(),
            "run",
            f"{url}/openapi.json",
            *options,
            "--checks",
            CHECKS,
            "--max-examples",
            str(examples),
            "--seed",
            "7",
            "--generation-deterministic",
            "--request-timeout",
            "30",
            "-H",
            f"Authorization: Bearer {token}",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def served(hand_copy, module_server) -> Server:
    # Rate limits high enough that generated requests are answered, not throttled.
    return module_server(hand_copy, "--creator-rate", "10000", "--ingest-rate", "10000")


@pytest.mark.parametrize("credential", ["creator", "ingest"])
def test_no_operation_answers_5xx_or_outside_its_schema(
    hand_copy, served: Server, credential: str
) -> None:
    kind = ["--creator", CREATOR] if credential == "creator" else ["--ingest"]
    token = create_token(hand_copy, *kind)
    proc = run_schemathesis(served.url, token, EXAMPLES)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
