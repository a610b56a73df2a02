"""The service's OpenAPI document: `python -m creatorlens.serve.openapi > docs/openapi.json`
writes the copy kept in the repository (a test checks it is the served one)."""

from __future__ import annotations

import json

from creatorlens.serve.app import create_app


def openapi_text() -> str:
    """The document as committed: sorted keys, two-space indents, a final newline."""
    return json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(openapi_text(), end="")
