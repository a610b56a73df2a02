"""A third-party app reading a creator's analytics from creatorlens (docs/apps.md).

The OAuth 2 authorization-code flow with PKCE, as a real app runs it: it listens on a
loopback redirect, sends the creator to the consent page, trades the code (with its
verifier) for tokens, reads, and refreshes. Needs only httpx.

    # the operator registers the app (the redirect must match --port below)
    creatorlens apps create --db store.duckdb --name "My Stats" \\
        --redirect http://127.0.0.1:8765/callback
    # run the app; open the printed URL in a browser, sign in with a creator token, allow
    python docs/examples/app_client.py --server http://127.0.0.1:8000 \\
        --client-id app_... --client-secret cl_s_...

`--creator-token TOKEN` fills in the consent page itself (for a demo or a test: a real app
never sees a creator's token; the creator types it into creatorlens's own page).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import re
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx


def pkce_pair() -> tuple[str, str]:
    """A code verifier (kept by the app) and its S256 challenge (sent to the server)."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


class Callback(BaseHTTPRequestHandler):
    """The app's redirect endpoint: it receives ?code=...&state=... once."""

    received: dict[str, str] = {}
    done = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        Callback.received = query
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"Done: you can close this tab and go back to the app.\n")
        Callback.done.set()

    def log_message(self, *args) -> None:
        pass


def consent_as(server: str, authorize_url: str, creator_token: str) -> str:
    """Fill in the consent page as the creator would (demo only); returns the redirect."""
    with httpx.Client(timeout=30) as browser:
        page = browser.get(authorize_url)
        page.raise_for_status()
        csrf = re.search(r'name=csrf_token value="([^"]+)"', page.text).group(1)
        fields = dict(re.findall(r'<input type=hidden name="([^"]+)" value="([^"]*)">', page.text))
        fields = {k: html.unescape(v) for k, v in fields.items()}
        form = {**fields, "csrf_token": csrf, "creator_token": creator_token, "decision": "approve"}
        answer = browser.post(f"{server}/oauth/authorize", data=form)
        if answer.status_code != 302:
            raise SystemExit(f"consent failed: {answer.status_code}")
        return answer.headers["location"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://127.0.0.1:8000")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--port", type=int, default=8765, help="loopback port of the redirect")
    parser.add_argument("--scope", default="overview.read videos.read audience.read followers.read")
    parser.add_argument("--creator-token", help="demo: consent on the creator's behalf")
    args = parser.parse_args(argv)
    server = args.server.rstrip("/")
    redirect = f"http://127.0.0.1:{args.port}/callback"

    # 1. Send the creator to the consent page with a PKCE challenge and a state.
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    authorize_url = f"{server}/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": args.client_id,
            "redirect_uri": redirect,
            "scope": args.scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    callback = HTTPServer(("127.0.0.1", args.port), Callback)
    threading.Thread(target=callback.serve_forever, daemon=True).start()
    try:
        if args.creator_token:
            httpx.get(consent_as(server, authorize_url, args.creator_token), timeout=30)
        else:
            print(f"Open this in a browser and allow the app:\n  {authorize_url}", flush=True)
        if not Callback.done.wait(timeout=600):
            raise SystemExit("no answer from the consent page within 10 minutes")
    finally:
        callback.shutdown()
    received = Callback.received
    if received.get("state") != state:
        raise SystemExit("the state came back changed: not our request")
    if "error" in received:
        raise SystemExit(f"not allowed: {received['error']}")

    # 2. Trade the code and the verifier for tokens (client_secret_basic).
    auth = (args.client_id, args.client_secret)
    form = {
        "grant_type": "authorization_code",
        "code": received["code"],
        "redirect_uri": redirect,
        "code_verifier": verifier,
    }
    tokens = httpx.post(f"{server}/oauth/token", data=form, auth=auth, timeout=30)
    if tokens.status_code != 200:
        raise SystemExit(f"token exchange failed: {tokens.text}")
    tokens = tokens.json()
    print(f"granted: {tokens['scope']} (access token for {tokens['expires_in']} s)")

    # 3. Read: every number is noisy; the answer says by how much it may be off.
    with httpx.Client(base_url=server, timeout=30) as api:
        api.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        answer = api.get("/v1/apps/overview", params={"period": "28d"})
        if answer.status_code == 429:
            print(f"budget spent: {answer.json()['error']['message']}")
            return 0
        answer.raise_for_status()
        body = answer.json()
        bounds = body["noise"]["error_bound"]
        for metric, value in body["totals"].items():
            print(f"  {metric:>16}: {value:>12,}  (± {bounds[metric]:,} at 95 %)")
        print(
            f"  cost ε {body['noise']['epsilon']}; left this month: "
            f"ε {body['budget']['epsilon_remaining']} (resets {body['budget']['resets_at']})"
        )

    # 4. Refresh: the refresh token works once and comes back new.
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    renewed = httpx.post(f"{server}/oauth/token", data=form, auth=auth, timeout=30)
    renewed.raise_for_status()
    print(json.dumps({"refreshed": renewed.json()["refresh_token"] != tokens["refresh_token"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
