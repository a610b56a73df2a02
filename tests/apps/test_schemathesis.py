"""Property-based tests of the app routes of the served OpenAPI document (schemathesis),
with an app's access token holding every scope, and with a creator token: no 5xx and no
response outside the document, whatever is asked."""

from __future__ import annotations

import re

import pytest

from tests.apps.conftest import tokens_for
from tests.serve.test_schemathesis import run_schemathesis

EXAMPLES = 15


@pytest.mark.parametrize("credential", ["app", "creator"])
def test_no_app_operation_answers_5xx_or_outside_its_schema(app_server, credential) -> None:
    server, app, creator, db = app_server
    scope = "overview.read videos.read audience.read followers.read"
    access = tokens_for(server, app, creator, scope)["access_token"]
    if credential == "creator":  # the grant routes' own token; refused by the app API
        access = creator
    proc = run_schemathesis(
        server.url, access, EXAMPLES, "--include-path-regex", "^/(v1/apps|oauth|v1/grants)"
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    # Every app operation was tested: 6 reads and the query, the consent page (GET, POST),
    # the token endpoint, and the creator's two grant routes (refused to an app token).
    tested = re.search(r"Tested: (\d+)", proc.stdout)
    assert tested and int(tested.group(1)) == 11, proc.stdout[-2000:]
