"""`creatorlens apps`: the operator registers, lists and revokes apps; the client secret is
printed once and stored only as its hash; bad input is one line and exit code 2."""

from __future__ import annotations

import hashlib
import json

from tests.apps.conftest import copy_store, register_app, write_policy
from tests.conftest import run_cli


def test_create_list_revoke_and_the_secret_kept_as_a_hash(hand_db, tmp_path) -> None:
    db = copy_store(hand_db, tmp_path / "cli")
    app = register_app(db, "Acme Stats", "https://acme.example/callback")
    assert app.secret.startswith("cl_s_") and app.client_id.startswith("app_")
    stored = db.with_name(db.name + ".apps")
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    text = stored.read_text()
    assert app.secret not in text
    record = json.loads(text)["apps"][0]
    assert record["secret_digest"] == hashlib.sha256(app.secret.encode()).hexdigest()
    listing = run_cli("apps", "list", "--db", str(db), check=True).stdout
    assert app.client_id in listing and "Acme Stats" in listing and "active" in listing
    assert app.secret not in listing
    run_cli("apps", "revoke", app.client_id, "--db", str(db), check=True)
    assert "revoked" in run_cli("apps", "list", "--db", str(db), check=True).stdout


def test_bad_input_is_one_line_and_exit_code_2(hand_db, tmp_path) -> None:
    db = copy_store(hand_db, tmp_path / "bad")
    for args, words in (
        (["--name", "X", "--redirect", "http://acme.example/cb"], "must be an https URL"),
        (["--name", "X", "--redirect", "https://acme.example/cb#frag"], "#fragment"),
        (["--name", " ", "--redirect", "https://acme.example/cb"], "--name must not be empty"),
    ):
        proc = run_cli("apps", "create", "--db", str(db), *args)
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    missing = run_cli("apps", "create", "--db", str(tmp_path / "none.duckdb"), "--name", "X",
                      "--redirect", "https://a.example/cb")  # fmt: skip
    assert missing.returncode == 2 and "no such store" in missing.stderr
    unknown = run_cli("apps", "revoke", "app_nope", "--db", str(db))
    assert unknown.returncode == 2 and "no app app_nope" in unknown.stderr
    policy = write_policy(tmp_path / "p.toml", epsilon_per_number=9.0)
    served = run_cli("serve", "--db", str(db), "--policy", str(policy))
    assert served.returncode == 2 and "apps.epsilon_per_number" in served.stderr
