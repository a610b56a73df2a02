"""A user's bad input to `generate` and `import kuairand` answers with one readable line.

Each case runs the real command line entry (`creatorlens.cli.main`) and expects exit code 2
and exactly one line on stderr, the one the user should see: never an "internal failure"
and never a traceback. A refused import leaves no store (nor key file) behind.
"""

from __future__ import annotations

import gzip
import json
import os
import zipfile
from pathlib import Path

import pytest

from creatorlens.cli import main

TINY = ["--creators", "2", "--viewers", "10", "--days", "1"]

OFFICIAL_HEADER = (
    "user_id,video_id,date,hourmin,time_ms,is_click,is_like,is_follow,is_comment,is_forward,"
    "is_hate,long_view,play_time_ms,duration_ms,profile_stay_time,comment_stay_time,"
    "is_profile_enter,is_rand,tab"
)
ROW = "7,100,20220422,1000,1650592800123,1,1,0,0,0,0,1,20000,15000,0,0,0,0,1"


def user_error(capsys, *args: str) -> str:
    """Run the CLI; it must exit 2 with one line on stderr, which is returned."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2, err
    assert "Traceback" not in out + err
    assert "internal failure" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


# ---------------------------------------------------------------------------------------
# generate --out


def generate_error(capsys, out: Path, *extra: str) -> str:
    return user_error(capsys, "generate", "--out", str(out), *TINY, *extra)


def generate_ok(capsys, out: Path, *extra: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--out", str(out), *TINY, *extra])
    assert exit_info.value.code == 0, capsys.readouterr().err


def test_out_is_an_existing_file(tmp_path, capsys):
    out = tmp_path / "platform.ndjson"
    out.write_text("keep me\n")
    line = generate_error(capsys, out)
    assert line == f"error: {out}: is a file, not a directory; give --out a directory"
    assert out.read_text() == "keep me\n"


def test_out_below_a_file_cannot_be_created(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "platform"
    line = generate_error(capsys, out)
    assert line == f"error: {out}: cannot create the directory: Not a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any directory")
def test_out_directory_without_write_permission(tmp_path, capsys):
    out = tmp_path / "read-only"
    out.mkdir()
    out.chmod(0o555)
    try:
        line = generate_error(capsys, out)
    finally:
        out.chmod(0o755)
    assert line == f"error: {out}: cannot write into this directory (permission denied)"


def test_out_holding_another_platforms_files_is_refused(tmp_path, capsys):
    out = tmp_path / "export"
    out.mkdir()
    (out / "accounts.ndjson").write_text('{"account_id": "theirs"}\n')
    (out / "events.csv").write_text("event_id\n")
    line = generate_error(capsys, out)
    assert line == (
        f"error: {out}: already holds accounts.ndjson, events.csv, not written by "
        "creatorlens generate; choose an empty or new --out directory"
    )
    assert (out / "accounts.ndjson").read_text() == '{"account_id": "theirs"}\n'


def test_a_directory_where_an_output_file_goes(tmp_path, capsys):
    out = tmp_path / "p"
    (out / "events.ndjson").mkdir(parents=True)
    line = generate_error(capsys, out)
    assert line == (
        f"error: {out / 'events.ndjson'}: is a directory; generate writes a file of that name"
    )


def test_a_previous_generate_output_is_replaced(tmp_path, capsys):
    out = tmp_path / "p"
    generate_ok(capsys, out, "--seed", "1")
    first = (out / "events.ndjson").read_bytes()
    generate_ok(capsys, out, "--seed", "2")
    assert (out / "events.ndjson").read_bytes() != first
    # Another format replaces the earlier files, so `ingest DIR` reads one platform.
    generate_ok(capsys, out, "--format", "csv")
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["accounts.csv", "events.csv", "videos.csv"]
    marker = json.loads((out / ".creatorlens-generate").read_text())
    assert marker == {"files": ["accounts.csv", "events.csv", "videos.csv"]}


def test_an_empty_existing_directory_is_fine(tmp_path, capsys):
    out = tmp_path / "empty"
    out.mkdir()
    (out / "notes.txt").write_text("not a data file\n")
    generate_ok(capsys, out)
    assert (out / "notes.txt").read_text() == "not a data file\n"
    assert (out / "accounts.ndjson").is_file()


def test_negative_seed(tmp_path, capsys):
    line = generate_error(capsys, tmp_path / "p", "--seed", "-1")
    assert line == "error: seed must be 0 or more, not -1"


def test_too_many_days(tmp_path, capsys):
    line = user_error(
        capsys, "generate", "--out", str(tmp_path / "p"), "--creators", "1", "--days", "800000"
    )
    assert line == (
        "error: days must be at most 6,514: a longer window dates accounts before "
        "2000-01-01, which ingest refuses"
    )


# ---------------------------------------------------------------------------------------
# import kuairand


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, newline="")
    return path


def import_error(capsys, tmp_path: Path, log: Path, *extra: str) -> str:
    db = tmp_path / "store.duckdb"
    line = user_error(capsys, "import", "kuairand", str(log), "--db", str(db), *extra)
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("store.duckdb"))
    assert leftovers == [], "a refused import must leave no store behind"
    return line


@pytest.fixture
def good_log(tmp_path) -> Path:
    return write(tmp_path / "log.csv", f"{OFFICIAL_HEADER}\n{ROW}\n")


def test_empty_log(tmp_path, capsys):
    log = write(tmp_path / "log.csv", "")
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: empty file or empty first line; a KuaiRand log starts with a header line"
    )


def test_log_with_a_blank_first_line(tmp_path, capsys):
    log = write(tmp_path / "log.csv", f"\n{OFFICIAL_HEADER}\n{ROW}\n")
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: empty file or empty first line; a KuaiRand log starts with a header line"
    )


def test_a_csv_that_is_not_a_kuairand_log(tmp_path, capsys):
    log = write(tmp_path / "sales.csv", "user_id,video_id,amount\n1,2,3\n")
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: not a KuaiRand log: header lacks time_ms, is_click, is_follow, "
        "is_comment, is_forward, play_time_ms, duration_ms, is_profile_enter, label "
        "(expected the official layout with is_like, or the like/hate subset with label)"
    )


def test_a_log_missing_one_column(tmp_path, capsys):
    header = ",".join(name for name in OFFICIAL_HEADER.split(",") if name != "time_ms")
    log = write(tmp_path / "log.csv", header + "\n")
    line = import_error(capsys, tmp_path, log)
    assert line.startswith(f"error: {log}: not a KuaiRand log: header lacks time_ms (")


def test_the_video_features_file_given_as_the_log(tmp_path, capsys):
    log = write(tmp_path / "video_features_basic.csv", "video_id,author_id,video_type\n1,2,x\n")
    line = import_error(capsys, tmp_path, log)
    assert line.startswith(f"error: {log}: not a KuaiRand log: header lacks user_id, time_ms")
    assert line.endswith("; it looks like a video features file (give that with --videos)")


def test_a_semicolon_separated_log(tmp_path, capsys):
    log = write(tmp_path / "log.csv", OFFICIAL_HEADER.replace(",", ";") + "\n")
    line = import_error(capsys, tmp_path, log)
    assert line.endswith("; its header is separated by ';', a KuaiRand log by commas or tabs")


def test_binary_garbage(tmp_path, capsys):
    log = write(tmp_path / "log.csv", bytes(range(256)) * 8)
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: binary data, not a KuaiRand log (a CSV or TSV text file)"
    )


def test_bytes_that_are_not_utf8(tmp_path, capsys):
    log = write(tmp_path / "log.csv", b"\x93user_id\x94,\xe9\n")
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: the header line is not UTF-8 text; not a KuaiRand log"
    )


def test_utf16_text(tmp_path, capsys):
    log = write(tmp_path / "log.csv", f"{OFFICIAL_HEADER}\n{ROW}\n".encode("utf-16"))
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: UTF-16 text; a KuaiRand log must be UTF-8 (or ASCII)"
    )


def test_a_zip_archive(tmp_path, capsys):
    log = tmp_path / "KuaiRand-Pure.zip"
    with zipfile.ZipFile(log, "w") as zf:
        zf.writestr("log_standard.csv", f"{OFFICIAL_HEADER}\n{ROW}\n")
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: a zip archive, not a KuaiRand log; unzip it and give the CSV inside"
    )


def test_a_gzip_file_that_is_not_gzip(tmp_path, capsys):
    log = write(tmp_path / "log.csv.gz", b"\x1f\x8bnot really gzip")
    line = import_error(capsys, tmp_path, log)
    assert line.startswith(f"error: {log}: cannot read a KuaiRand log: ")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("time_ms", "yesterday"),
        ("user_id", "u7"),
        ("is_click", "yes"),
        ("play_time_ms", "12s"),
        ("time_ms", "1e300"),  # a number, but no 64-bit integer
        ("time_ms", "nan"),
        ("video_id", "99999999999999999999999"),
    ],
)
def test_a_value_of_the_wrong_type(tmp_path, capsys, column, value):
    names = OFFICIAL_HEADER.split(",")
    row = ROW.split(",")
    row[names.index(column)] = value
    log = write(tmp_path / "log.csv", f"{OFFICIAL_HEADER}\n{ROW}\n{','.join(row)}\n")
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: column {column} holds {value!r}, not an integer"
    )


def test_a_time_far_beyond_epoch_milliseconds(tmp_path, capsys):
    row = ROW.replace("1650592800123", "9223372036854775807")
    log = write(tmp_path / "log.csv", f"{OFFICIAL_HEADER}\n{row}\n")
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: column time_ms holds 9223372036854775807, not a time in epoch milliseconds"
    )


def test_a_row_with_too_few_fields(tmp_path, capsys):
    log = write(tmp_path / "log.csv", f"{OFFICIAL_HEADER}\n{ROW}\n7,100,20220422\n")
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: line 3 has 3 fields where the header has 19"
    )


def test_a_row_with_too_many_fields(tmp_path, capsys):
    log = write(tmp_path / "log.csv", f"{OFFICIAL_HEADER}\n{ROW},1,2\n")
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: line 2 has more fields than the header's 19"
    )


def test_an_unterminated_quote(tmp_path, capsys):
    log = write(tmp_path / "log.csv", f'{OFFICIAL_HEADER}\n{ROW}\n7,"100,1\n')
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: line 3 has a quoted value that never ends"
    )


def test_garbage_after_good_rows(tmp_path, capsys):
    log = write(
        tmp_path / "log.csv", f"{OFFICIAL_HEADER}\n{ROW}\n".encode() + b"7,\xff\xfe\x99,\x80\n"
    )
    line = import_error(capsys, tmp_path, log)
    assert line == f"error: {log}: line 3 is not UTF-8 text"


def test_a_column_named_twice(tmp_path, capsys):
    log = write(tmp_path / "log.csv", f"{OFFICIAL_HEADER},user_id\n{ROW},7\n")
    assert import_error(capsys, tmp_path, log) == (
        f"error: {log}: the header names column 'user_id' twice"
    )


def test_videos_file_without_author_id(tmp_path, capsys, good_log):
    videos = write(tmp_path / "videos.csv", "video_id,video_type\n100,NORMAL\n")
    line = import_error(capsys, tmp_path, good_log, "--videos", str(videos))
    assert line == f"error: {videos}: not a video features file: the header lacks author_id"


def test_the_log_given_as_the_videos_file(tmp_path, capsys, good_log):
    line = import_error(capsys, tmp_path, good_log, "--videos", str(good_log))
    assert line == f"error: {good_log}: not a video features file: the header lacks author_id"


def test_videos_file_with_a_bad_video_id(tmp_path, capsys, good_log):
    videos = write(tmp_path / "videos.csv", "video_id,author_id\nv100,5\n")
    line = import_error(capsys, tmp_path, good_log, "--videos", str(videos))
    assert line == f"error: {videos}: column video_id holds 'v100', not an integer"


def test_empty_videos_file(tmp_path, capsys, good_log):
    videos = write(tmp_path / "videos.csv", "")
    line = import_error(capsys, tmp_path, good_log, "--videos", str(videos))
    assert line == (
        f"error: {videos}: empty file or empty first line; "
        "a video features file starts with a header line"
    )


def test_users_file_without_register_days(tmp_path, capsys, good_log):
    users = write(tmp_path / "users.csv", "user_id,user_active_degree\n7,full_active\n")
    line = import_error(capsys, tmp_path, good_log, "--users", str(users))
    assert line == f"error: {users}: not a user features file: the header lacks register_days"


def test_users_file_with_a_bad_user_id(tmp_path, capsys, good_log):
    users = write(tmp_path / "users.csv", "user_id,register_days\nseven,30\n")
    line = import_error(capsys, tmp_path, good_log, "--users", str(users))
    assert line == f"error: {users}: column user_id holds 'seven', not an integer"


def test_users_file_that_is_binary(tmp_path, capsys, good_log):
    users = write(tmp_path / "users.csv", gzip.compress(bytes(range(256)) * 4))
    line = import_error(capsys, tmp_path, good_log, "--users", str(users))
    assert line == f"error: {users}: binary data, not a user features file (a CSV or TSV text file)"


def test_missing_log(tmp_path, capsys):
    log = tmp_path / "nope.csv"
    assert import_error(capsys, tmp_path, log) == f"error: {log}: no such file"
