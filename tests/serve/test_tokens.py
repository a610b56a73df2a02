"""`creatorlens tokens` and `creatorlens serve` from the command line: secrets shown once,
stored as hashes; bad invocations are one line and exit code 2."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from creatorlens.store.tokens import TokenBook, digest, tokens_path
from tests.conftest import run_cli
from tests.query.conftest import CREATOR, PERSONAL
from tests.serve.conftest import free_port


@pytest.fixture(scope="module")
def db(hand_copy):
    return hand_copy


def test_create_prints_the_secret_last_and_stores_its_hash(db) -> None:
    proc = run_cli("tokens", "create", "--db", str(db), "--ingest", "--name", "apps", check=True)
    secret = proc.stdout.strip().splitlines()[-1]
    assert secret.startswith("cl_i_") and len(secret) > 40
    stored = tokens_path(db).read_text()
    assert secret not in stored and digest(secret) in stored
    assert oct(tokens_path(db).stat().st_mode & 0o777) == "0o600"

    proc = run_cli("tokens", "create", "--db", str(db), "--creator", CREATOR, "--expires", "30d")
    assert proc.returncode == 0, proc.stderr
    creator_secret = proc.stdout.strip().splitlines()[-1]
    assert creator_secret.startswith("cl_c_")
    listed = run_cli("tokens", "list", "--db", str(db), check=True).stdout
    assert "apps" in listed and "active" in listed and CREATOR in listed
    assert secret not in listed and creator_secret not in listed

    token_id = secret.split("_")[2]
    assert run_cli("tokens", "revoke", token_id, "--db", str(db), check=True).returncode == 0
    assert "revoked" in run_cli("tokens", "list", "--db", str(db), check=True).stdout


def test_the_book_verifies_in_constant_time_and_honours_expiry_and_revocation(tmp_path):
    book = TokenBook.load(tmp_path / "x.tokens")
    ingest, secret = book.create("ingest")
    assert book.verify(secret) == ingest
    assert book.verify(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert book.verify("cl_i_" + ingest.token_id + "_guess") is None
    assert book.verify("") is None and book.verify("cl_i") is None
    creator, csecret = book.create("creator", creator_id="c1", expires_in=timedelta(hours=1))
    assert book.verify(csecret) == creator
    assert book.verify(csecret, datetime.now(UTC) + timedelta(hours=2)) is None
    book.revoke(ingest.token_id)
    again = TokenBook.load(tmp_path / "x.tokens")
    assert again.verify(secret) is None and again.verify(csecret) == creator


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("tokens", "create", "--ingest", "--creator", CREATOR), "either --ingest or --creator"),
        (("tokens", "create"), "either --ingest or --creator"),
        (("tokens", "create", "--creator", CREATOR, "--expires", "soon"), "--expires"),
        (("tokens", "create", "--creator", "nobody"), "no account 'nobody'"),
        (("tokens", "create", "--creator", PERSONAL), "creator or business account"),
        (("tokens", "revoke", "feedface"), "no token feedface"),
    ],
)
def test_bad_token_invocations_are_one_line_and_exit_2(db, args, words) -> None:
    proc = run_cli(*args, "--db", str(db))
    assert proc.returncode == 2, proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_serve_invocations_are_one_line_and_exit_2(db, tmp_path) -> None:
    missing = run_cli("tokens", "create", "--ingest", "--db", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2 and "no such store" in missing.stderr
    port = ("--port", str(free_port()))
    keys = run_cli("serve", "--db", str(db), "--keys", str(tmp_path / "none.keys"), *port)
    assert keys.returncode == 2 and "key file" in keys.stderr
    policy = run_cli("serve", "--db", str(db), "--policy", str(tmp_path / "none.toml"), *port)
    assert policy.returncode == 2 and "no such policy file" in policy.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("serve", "--db", str(db), "--port", str(port))
    assert proc.returncode == 2 and "cannot listen" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_store_another_server_holds_is_one_line_and_exit_2(tmp_path, server_factory) -> None:
    db = tmp_path / "store.duckdb"
    server_factory(db)
    proc = run_cli("serve", "--db", str(db), "--port", str(free_port()))
    assert proc.returncode == 2, proc.stderr
    assert "cannot open store" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    nowhere = run_cli(
        "serve", "--db", str(tmp_path / "no" / "dir" / "s.duckdb"), "--port", str(free_port())
    )
    assert nowhere.returncode == 2 and "cannot open store" in nowhere.stderr
