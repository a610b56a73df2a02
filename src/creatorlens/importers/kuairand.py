"""Convert KuaiRand interaction logs into creatorlens wire-format Parquet files.

KuaiRand (Gao et al., CIKM 2022, CC BY-SA 4.0) logs one row per exposure of a video to a
user of the Kuaishou app. This module turns such a log, plus the optional video and user
feature files, into the three wire entities (`accounts`, `videos`, `events`) that
`creatorlens.ingest` loads. The whole conversion runs as DuckDB SQL over a scratch database
kept on disk next to the output, so multi-GB official logs stream with bounded memory.

See docs/kuairand.md for the field mapping, the creator-assignment formula and every
assumption made here.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from creatorlens.errors import UserError
from creatorlens.ingest.wire import WireFiles

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "EVENT_OFFSETS_MS",
    "LAYOUT_LIKE_HATE",
    "LAYOUT_OFFICIAL",
    "VIDEOS_PER_SYNTHETIC_CREATOR",
    "KuaiRandFiles",
    "KuaiRandImport",
    "KuaiRandInputError",
    "LogLayout",
    "convert_kuairand",
    "detect_layout",
    "import_kuairand",
]

LAYOUT_OFFICIAL = "official"
LAYOUT_LIKE_HATE = "like_hate_subset"

# Columns each layout must have. `tab`, `is_hate`, `long_view`, ... may be present and are
# read but not needed.
_COMMON_REQUIRED = (
    "user_id",
    "video_id",
    "time_ms",
    "is_click",
    "is_follow",
    "is_comment",
    "is_forward",
    "play_time_ms",
    "duration_ms",
    "is_profile_enter",
)
_LAYOUT_REQUIRED = {
    LAYOUT_OFFICIAL: (*_COMMON_REQUIRED, "is_like"),
    LAYOUT_LIKE_HATE: (*_COMMON_REQUIRED, "label"),
}

# Every exposure turns into at most one event of each type, stamped `time_ms + offset` so
# that a like, comment, ... sorts after the view it belongs to.
EVENT_OFFSETS_MS: dict[str, int] = {
    "view": 0,
    "like": 1,
    "comment": 2,
    "share": 3,
    "profile_view": 4,
    "follow": 5,
}

# Without a videos file, videos are spread over K synthetic creators, K = ceil(n / 20).
VIDEOS_PER_SYNTHETIC_CREATOR = 20

# DuckDB's working memory during a conversion; beyond it, DuckDB spills to disk.
DEFAULT_MEMORY_LIMIT = "2GB"

VIEW_SOURCE = "for_you"
SHARE_CHANNEL = "other"
COUNTRY = "CN"
LANGUAGE = "zh"
TIMEZONE = "Asia/Shanghai"

_DAY_MS = 86_400_000
# Beyond 9999-12-31 a time_ms is no epoch-milliseconds time (and its arithmetic overflows).
_MAX_TIME_MS = 253_402_300_799_999
# A register_days above a century is junk, read as unknown like a non-number.
_MAX_REGISTER_DAYS = 36_525
_UTC_OFFSET_MS = 8 * 3_600_000  # Asia/Shanghai is UTC+8 all year (no daylight saving).


class KuaiRandInputError(UserError, ValueError):
    """A log, videos or users file that is not what the importer can read; names the file."""


@dataclass(frozen=True)
class LogLayout:
    """What the header line of a KuaiRand log says about the file."""

    layout: str  # LAYOUT_OFFICIAL or LAYOUT_LIKE_HATE
    delimiter: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class KuaiRandFiles(WireFiles):
    """The wire-format files written by `convert_kuairand`, with their row counts."""

    layout: str
    n_log_rows: int  # exposure rows read from the log
    n_skipped_rows: int  # rows dropped because user_id, video_id or time_ms was empty
    n_videos_from_file: int  # videos whose creator etc. came from the videos file
    synthetic_creator_modulus: int | None  # K of the fallback formula; None if unused


@dataclass(frozen=True)
class KuaiRandImport:
    """Result of `import_kuairand`. The converted files were temporary and are gone."""

    files: KuaiRandFiles
    ingest: Any  # whatever creatorlens.ingest.ingest_paths returned


# ---------------------------------------------------------------------------------------
# Header detection


_GZIP_MAGIC = b"\x1f\x8b"
_HEADER_LIMIT = 1 << 20  # a header line longer than this is not a header
_WHAT = {
    "log": "a KuaiRand log",
    "videos": "a video features file",
    "users": "a user features file",
}


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def _compression(paths: list[Path]) -> str:
    """DuckDB's `compression` for these files, told by their first bytes, not their names."""
    kinds = {_is_gzip(p) for p in paths}
    if kinds == {True}:
        return "gzip"
    return "none" if kinds == {False} else "auto"


def _read_header(path: Path, kind: str = "log") -> tuple[str, tuple[str, ...]]:
    """The delimiter and the column names of the header line of a CSV/TSV (maybe gzipped).

    Anything that is not such a file (missing, empty, binary, compressed otherwise, not
    UTF-8) raises `KuaiRandInputError` naming `path`.
    """
    what = _WHAT[kind]
    try:
        opener = gzip.open if _is_gzip(path) else open
        with opener(path, "rb") as fh:
            raw = fh.readline(_HEADER_LIMIT)
    except (OSError, EOFError, zlib.error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        reason = " ".join(reason.split()) or type(exc).__name__
        raise KuaiRandInputError(f"{path}: cannot read {what}: {reason}") from None
    if raw.startswith(b"PK\x03\x04"):
        raise KuaiRandInputError(
            f"{path}: a zip archive, not {what}; unzip it and give the CSV inside"
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise KuaiRandInputError(f"{path}: UTF-16 text; {what} must be UTF-8 (or ASCII)")
    if not raw.strip():
        raise KuaiRandInputError(
            f"{path}: empty file or empty first line; {what} starts with a header line"
        )
    if b"\0" in raw or (len(raw) == _HEADER_LIMIT and not raw.endswith(b"\n")):
        raise KuaiRandInputError(f"{path}: binary data, not {what} (a CSV or TSV text file)")
    try:
        line = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KuaiRandInputError(f"{path}: the header line is not UTF-8 text; not {what}") from None
    line = line.rstrip("\r\n")
    delimiter = "\t" if "\t" in line else ","
    try:
        names = next(csv.reader([line], delimiter=delimiter))
    except csv.Error as exc:
        raise KuaiRandInputError(f"{path}: unreadable header line ({exc}); not {what}") from None
    columns = tuple(name.strip() for name in names)
    seen: set[str] = set()
    for name in columns:
        if name and name in seen:
            raise KuaiRandInputError(f"{path}: the header names column {name!r} twice")
        seen.add(name)
    return delimiter, columns


def detect_layout(log: Path) -> LogLayout:
    """Tell the delimiter and the KuaiRand layout of `log` from its header line."""
    log = Path(log)
    delimiter, columns = _read_header(log, "log")
    present = set(columns)
    layout = LAYOUT_OFFICIAL if "is_like" in present else LAYOUT_LIKE_HATE
    missing = [c for c in _LAYOUT_REQUIRED[layout] if c not in present]
    if missing:
        hint = ""
        if len(columns) == 1 and ";" in columns[0]:
            hint = "; its header is separated by ';', a KuaiRand log by commas or tabs"
        elif "user_id" not in present and {"video_id", "author_id"} <= present:
            hint = "; it looks like a video features file (give that with --videos)"
        elif "video_id" not in present and {"user_id", "register_days"} <= present:
            hint = "; it looks like a user features file (give that with --users)"
        raise KuaiRandInputError(
            f"{log}: not a KuaiRand log: header lacks {', '.join(missing)} "
            f"(expected the official layout with is_like, or the like/hate subset with label)"
            + hint
        )
    return LogLayout(layout=layout, delimiter=delimiter, columns=columns)


# ---------------------------------------------------------------------------------------
# SQL helpers


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_csv_sql(paths: Path | list[Path], delimiter: str, columns: tuple[str, ...]) -> str:
    """A read_csv call that reads every column as text, with the header's own names."""
    listed = paths if isinstance(paths, list) else [paths]
    named = [c for c in columns if c]
    if len(set(named)) != len(named):
        raise KuaiRandInputError(f"{', '.join(map(str, listed))}: duplicate column names in header")
    # A trailing delimiter leaves an unnamed last column; it is read but never used.
    cols = ", ".join(f"{_lit(c or f'column{i:02d}')}: 'VARCHAR'" for i, c in enumerate(columns))
    if isinstance(paths, list):
        files = "[" + ", ".join(_lit(str(p)) for p in paths) + "]"
    else:
        files = _lit(str(paths))
    return (
        f"read_csv({files}, delim={_lit(delimiter)}, header=true, "
        f"auto_detect=false, quote='\"', escape='\"', columns={{{cols}}}, "
        f"compression={_lit(_compression(listed))})"
    )


def _col(columns: tuple[str, ...], name: str) -> str:
    """The column as text, or a typed NULL when the file does not have it."""
    return _ident(name) if name in columns else "CAST(NULL AS VARCHAR)"


# The message of the error kr_int raises; `_input_error` turns it into one readable line.
_BAD_INT = "creatorlens-kuairand-bad-int"

_MACROS = f"""
-- integers written as "12" or "12.0"; anything else that is not empty is an error that
-- names the column (col) and the value
CREATE MACRO kr_int(x, col) AS
    coalesce(TRY_CAST(x AS BIGINT), TRY_CAST(round(TRY_CAST(x AS DOUBLE)) AS BIGINT),
             CASE WHEN x IS NOT NULL
                  THEN CAST(error('{_BAD_INT}|' || col || '|' || left(x, 60)) AS BIGINT)
             END);
-- the same for optional feature columns, where junk becomes NULL
CREATE MACRO kr_try_int(x) AS
    coalesce(TRY_CAST(x AS BIGINT), TRY_CAST(round(TRY_CAST(x AS DOUBLE)) AS BIGINT));
"""


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _input_error(exc: duckdb.Error, files: list[Path]) -> KuaiRandInputError | None:
    """The one-line explanation of a DuckDB error caused by the contents of `files`.

    None when the error does not come from the input (then it is a bug, and propagates).
    """
    text = str(exc)
    named = re.search(r"^\s*file = (.+?)\s*$", text, re.M)
    where = named.group(1) if named else ", ".join(str(p) for p in files)
    if _BAD_INT in text:
        _, col, value = text.split(_BAD_INT, 1)[1].split("|", 2)
        value = value.splitlines()[0] if value.strip() else value  # a quoted value may span lines
        return KuaiRandInputError(f"{where}: column {col} holds {value!r}, not an integer")
    line = re.search(r"CSV Error on Line: (\d+)", text)
    if line:
        n = line.group(1)
        count = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
        if count:
            expected, found = map(int, count.groups())
            if found > expected:  # DuckDB stops counting at one too many
                return KuaiRandInputError(
                    f"{where}: line {n} has more fields than the header's {expected}"
                )
            return KuaiRandInputError(
                f"{where}: line {n} has {found} fields where the header has {expected}"
            )
        if "unterminated quote" in text:
            return KuaiRandInputError(f"{where}: line {n} has a quoted value that never ends")
        if "unicode" in text.lower() or "utf-8" in text.lower():
            return KuaiRandInputError(f"{where}: line {n} is not UTF-8 text")
        return KuaiRandInputError(f"{where}: line {n} is not valid CSV")
    lowered = text.lower()
    if isinstance(exc, duckdb.InvalidInputException) and (
        "unicode" in lowered or "utf-8" in lowered or "utf8" in lowered
    ):
        return KuaiRandInputError(f"{where}: not UTF-8 text")
    if isinstance(exc, duckdb.IOException) and ("gzip" in lowered or "compress" in lowered):
        return KuaiRandInputError(f"{where}: damaged gzip data ({_first_line(text)})")
    if isinstance(exc, duckdb.OutOfRangeException | duckdb.ConversionException):
        return KuaiRandInputError(f"{where}: a value is out of range ({_first_line(text)})")
    return None


def _reading(con: duckdb.DuckDBPyConnection, files: list[Path], sql: str) -> None:
    """Run `sql`, which reads `files`; errors their contents cause become one readable line."""
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        explained = _input_error(exc, files)
        if explained is None:
            raise
        raise explained from None


def _stage_log(con: duckdb.DuckDBPyConnection, logs: list[Path], layout: LogLayout) -> None:
    cols = layout.columns
    like_col = "is_like" if layout.layout == LAYOUT_OFFICIAL else "label"
    flags = {
        "is_click": "is_click",
        "is_like": like_col,
        "is_follow": "is_follow",
        "is_comment": "is_comment",
        "is_forward": "is_forward",
        "is_profile_enter": "is_profile_enter",
    }
    flag_sql = ",\n".join(
        f"            coalesce(kr_int({_ident(src)}, {_lit(src)}), 0) = 1 AS {dst}"
        for dst, src in flags.items()
    )
    _reading(
        con,
        logs,
        f"""
        CREATE TABLE raw_log AS
        SELECT
            kr_int({_ident("user_id")}, 'user_id') AS user_id,
            kr_int({_ident("video_id")}, 'video_id') AS video_id,
            kr_int({_ident("time_ms")}, 'time_ms') AS time_ms,
{flag_sql},
            coalesce(kr_int({_ident("play_time_ms")}, 'play_time_ms'), 0) AS play_time_ms,
            coalesce(kr_int({_ident("duration_ms")}, 'duration_ms'), 0) AS duration_ms
        FROM {_read_csv_sql(logs, layout.delimiter, cols)}
    """,
    )
    # Rows of one user x video at one millisecond get an ordinal so their event ids differ.
    # Ordering by every kept column makes the ordinal deterministic: rows that tie on all
    # of them produce identical events, so which one gets which ordinal cannot matter.
    con.execute("""
        CREATE TABLE log AS
        SELECT *,
            row_number() OVER (
                PARTITION BY user_id, video_id, time_ms
                ORDER BY is_click, is_like, is_follow, is_comment, is_forward,
                         is_profile_enter, play_time_ms, duration_ms
            ) AS ord
        FROM raw_log
        WHERE user_id IS NOT NULL AND video_id IS NOT NULL AND time_ms IS NOT NULL
    """)


def _stage_video_file(con: duckdb.DuckDBPyConnection, videos: Path) -> None:
    delimiter, cols = _read_header(videos, "videos")
    for required in ("video_id", "author_id"):
        if required not in cols:
            raise KuaiRandInputError(
                f"{videos}: not a video features file: the header lacks {required}"
            )
    _reading(
        con,
        [videos],
        f"""
        CREATE TABLE vfile AS
        SELECT * FROM (
            SELECT
                kr_int({_ident("video_id")}, 'video_id') AS video_id,
                kr_try_int({_ident("author_id")}) AS author_id,
                nullif(trim({_col(cols, "video_type")}), '') AS video_type,
                TRY_CAST(trim({_col(cols, "upload_dt")}) AS DATE) AS upload_dt,
                kr_try_int({_col(cols, "video_duration")}) AS video_duration,
                kr_try_int({_col(cols, "music_id")}) AS music_id,
                {_col(cols, "tag")} AS tag
            FROM {_read_csv_sql(videos, delimiter, cols)}
        )
        WHERE author_id IS NOT NULL
          AND video_id IN (SELECT video_id FROM vstats)
        QUALIFY row_number() OVER (
            PARTITION BY video_id
            ORDER BY author_id, upload_dt, video_duration, music_id, tag, video_type
        ) = 1
    """,
    )


def _stage_user_file(con: duckdb.DuckDBPyConnection, users: Path) -> None:
    delimiter, cols = _read_header(users, "users")
    for required in ("user_id", "register_days"):
        if required not in cols:
            raise KuaiRandInputError(
                f"{users}: not a user features file: the header lacks {required}"
            )
    _reading(
        con,
        [users],
        f"""
        CREATE TABLE ufile AS
        SELECT user_id, max(register_days) AS register_days
        FROM (
            SELECT kr_int({_ident("user_id")}, 'user_id') AS user_id,
                   kr_try_int({_ident("register_days")}) AS register_days
            FROM {_read_csv_sql(users, delimiter, cols)}
        )
        WHERE user_id IN (SELECT DISTINCT user_id FROM log)
          AND register_days BETWEEN 0 AND {_MAX_REGISTER_DAYS}
        GROUP BY user_id
    """,
    )


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> int:
    # zstd level 1 writes about twice as fast as the default level 3, files ~8% larger.
    row = con.execute(
        f"COPY ({query}) TO {_lit(str(target))} "
        "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
    ).fetchone()
    return int(row[0]) if row else 0


# ---------------------------------------------------------------------------------------
# Conversion


def convert_kuairand(
    log: Path | Sequence[Path],
    out_dir: Path,
    *,
    videos: Path | None = None,
    users: Path | None = None,
    creators_without_videos_file: int | None = None,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
) -> KuaiRandFiles:
    """Convert a KuaiRand log into `accounts.parquet`, `videos.parquet`, `events.parquet`.

    `log` is either an official KuaiRand log (comma-separated, with `is_like`) or the
    processed like/hate subset (tab-separated, with `label`); the header decides. A list of
    logs with one same header (e.g. the parts of KuaiRand-27K) is read as one log.
    `videos` (video_features_basic*.csv) gives each video its real author, upload date,
    duration, music and tags; videos the file does not list, or all of them when there is
    no file, go to synthetic creator `video_id mod K`, with
    K = `creators_without_videos_file` or ceil(number of such videos / 20).
    `users` (user_features*.csv) dates each account from its `register_days`.
    Existing files of the same names in `out_dir` are replaced. DuckDB works within
    `memory_limit` (a DuckDB size such as "2GB"; None for DuckDB's default of 80% of RAM)
    and spills to a scratch directory inside `out_dir` beyond it.
    """
    logs = [Path(log)] if isinstance(log, str | Path) else [Path(p) for p in log]
    if not logs:
        raise ValueError("no KuaiRand log given")
    out_dir = Path(out_dir)
    if creators_without_videos_file is not None and creators_without_videos_file < 1:
        raise ValueError("creators_without_videos_file must be at least 1")
    layout = detect_layout(logs[0])
    for other in logs[1:]:
        if detect_layout(other) != layout:
            raise KuaiRandInputError(
                f"{other}: header differs from {logs[0]}'s; convert it separately"
            )
    # Read the optional files' headers now: a wrong file is refused before any work.
    if videos is not None:
        _read_header(Path(videos), "videos")
    if users is not None:
        _read_header(Path(users), "users")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {name: out_dir / f"{name}.parquet" for name in ("accounts", "videos", "events")}

    with tempfile.TemporaryDirectory(prefix=".kuairand-", dir=out_dir) as scratch:
        con = duckdb.connect(str(Path(scratch) / "work.duckdb"))
        try:
            con.execute(f"SET temp_directory = {_lit(str(Path(scratch) / 'spill'))}")
            con.execute("SET enable_progress_bar = false")
            if memory_limit is not None:
                con.execute(f"SET memory_limit = {_lit(memory_limit)}")
            con.execute(_MACROS)
            return _convert(con, logs, layout, files, videos, users, creators_without_videos_file)
        except duckdb.OutOfRangeException as exc:  # a value no check above foresaw
            inputs = [*logs, *(Path(p) for p in (videos, users) if p is not None)]
            explained = _input_error(exc, inputs)
            if explained is None:
                raise
            raise explained from None
        finally:
            con.close()


def _convert(
    con: duckdb.DuckDBPyConnection,
    logs: list[Path],
    layout: LogLayout,
    files: dict[str, Path],
    videos: Path | None,
    users: Path | None,
    modulus: int | None,
) -> KuaiRandFiles:
    _stage_log(con, logs, layout)
    far = con.execute(
        f"SELECT time_ms FROM raw_log WHERE time_ms NOT BETWEEN -{_MAX_TIME_MS} AND "
        f"{_MAX_TIME_MS} LIMIT 1"
    ).fetchone()
    if far is not None:
        raise KuaiRandInputError(
            f"{', '.join(str(p) for p in logs)}: column time_ms holds {far[0]}, "
            "not a time in epoch milliseconds"
        )
    n_log_rows, n_skipped = con.execute(
        "SELECT count(*), count(*) FILTER (user_id IS NULL OR video_id IS NULL "
        "OR time_ms IS NULL) FROM raw_log"
    ).fetchone()
    con.execute("DROP TABLE raw_log")

    con.execute("""
        CREATE TABLE vstats AS
        SELECT video_id,
               min(time_ms) AS first_ts,
               max(duration_ms) FILTER (duration_ms > 0) AS log_duration,
               max(play_time_ms) AS max_play
        FROM log GROUP BY video_id
    """)
    if videos is not None:
        _stage_video_file(con, Path(videos))
    else:
        con.execute("""
            CREATE TABLE vfile (video_id BIGINT, author_id BIGINT, video_type VARCHAR,
                upload_dt DATE, video_duration BIGINT, music_id BIGINT, tag VARCHAR)
        """)
    n_from_file, n_unmatched = con.execute(
        "SELECT count(f.video_id), count(*) - count(f.video_id) "
        "FROM vstats s LEFT JOIN vfile f USING (video_id)"
    ).fetchone()
    k: int | None = None
    if n_unmatched:
        k = modulus or max(1, math.ceil(n_unmatched / VIDEOS_PER_SYNTHETIC_CREATOR))

    # posted_at: the upload date (midnight, Beijing time) but never after the first exposure
    # seen in the log; without an upload date, the first exposure itself.
    con.execute(f"""
        CREATE TABLE vids AS
        SELECT
            s.video_id,
            CASE WHEN f.video_id IS NOT NULL THEN 'kr-c' || f.author_id
                 ELSE 'kr-sc' || (((s.video_id % {k or 1}) + {k or 1}) % {k or 1})
            END AS creator_id,
            least(s.first_ts, coalesce(epoch_ms(f.upload_dt) - {_UTC_OFFSET_MS}, s.first_ts))
                AS posted_at,
            CASE
                WHEN f.video_duration > 0 THEN f.video_duration
                WHEN s.log_duration > 0 THEN s.log_duration
                WHEN s.max_play > 0 THEN s.max_play
                ELSE 1
            END AS duration_ms,
            coalesce(list_transform(
                list_filter(string_split(f.tag, ','), lambda t: trim(t) <> ''),
                lambda t: 'tag' || trim(t)), []) AS hashtags,
            CASE WHEN f.music_id > 0 THEN 'kr-m' || f.music_id END AS sound_id,
            CASE WHEN upper(f.video_type) NOT IN ('', 'UNKNOWN') THEN f.video_type END
                AS category
        FROM vstats s LEFT JOIN vfile f USING (video_id)
    """)

    # Reference day for register_days: the end of the last log day, Beijing time.
    ref_ms = con.execute(
        f"SELECT (floor((max(time_ms) + {_UTC_OFFSET_MS}) / {_DAY_MS}) + 1) * {_DAY_MS} "
        f"- {_UTC_OFFSET_MS} FROM log"
    ).fetchone()[0]
    if users is not None:
        _stage_user_file(con, Path(users))
    else:
        con.execute("CREATE TABLE ufile (user_id BIGINT, register_days BIGINT)")

    account_cols = f"""
            CAST(FALSE AS BOOLEAN) AS is_private,
            CAST(NULL AS INTEGER) AS birth_year,
            CAST(NULL AS VARCHAR) AS gender,
            {_lit(COUNTRY)} AS country,
            CAST(NULL AS VARCHAR) AS city,
            {_lit(LANGUAGE)} AS language,
            {_lit(TIMEZONE)} AS timezone,
            CAST(FALSE AS BOOLEAN) AS analytics_opt_out"""
    ref = int(ref_ms) if ref_ms is not None else 0
    n_accounts = _copy(
        con,
        f"""
        SELECT account_id, kind, {account_cols}, created_at, created_at AS updated_at
        FROM (
            SELECT 'kr-u' || l.user_id AS account_id, 'personal' AS kind,
                   least(min(l.time_ms),
                         coalesce({ref} - any_value(u.register_days) * {_DAY_MS},
                                  min(l.time_ms))) AS created_at
            FROM log l LEFT JOIN ufile u USING (user_id)
            GROUP BY l.user_id
            UNION ALL
            SELECT creator_id, 'creator', min(posted_at)
            FROM vids GROUP BY creator_id
        )
        ORDER BY account_id
        """,
        files["accounts"],
    )
    n_videos = _copy(
        con,
        """
        SELECT 'kr-v' || video_id AS video_id, creator_id, posted_at, duration_ms,
               '' AS caption, hashtags, sound_id, category, posted_at AS updated_at
        FROM vids ORDER BY video_id
        """,
        files["videos"],
    )

    offsets = ", ".join(f"({_lit(t)}, {o})" for t, o in EVENT_OFFSETS_MS.items())
    n_events = _copy(
        con,
        f"""
        WITH kr_types(type, offset_ms) AS (VALUES {offsets})
        SELECT
            concat_ws('-', 'kr', l.user_id, l.video_id, l.time_ms, l.ord, t.type) AS event_id,
            t.type,
            l.time_ms + t.offset_ms AS ts,
            'kr-u' || l.user_id AS actor_id,
            'kr-v' || l.video_id AS video_id,
            CASE WHEN t.type = 'view' THEN l.play_time_ms END AS watched_ms,
            CASE WHEN t.type = 'view' THEN {_lit(VIEW_SOURCE)} END AS source,
            CASE WHEN t.type = 'comment'
                 THEN concat_ws('-', 'kr-cm', l.user_id, l.video_id, l.time_ms, l.ord)
            END AS comment_id,
            CASE WHEN t.type = 'comment' THEN '' END AS text,
            CAST(NULL AS VARCHAR) AS reply_to,
            CASE WHEN t.type = 'share' THEN {_lit(SHARE_CHANNEL)} END AS channel,
            CASE WHEN t.type IN ('follow', 'profile_view') THEN v.creator_id END AS target_id,
            CAST(NULL AS VARCHAR) AS new_video_id,
            CAST(NULL AS VARCHAR) AS live_id,
            CAST(NULL AS BIGINT) AS gift_value
        FROM log l
        JOIN vids v USING (video_id)
        JOIN kr_types t ON (
               (t.type = 'view' AND (l.play_time_ms > 0 OR l.is_click))
            OR (t.type = 'like' AND l.is_like)
            OR (t.type = 'comment' AND l.is_comment)
            OR (t.type = 'share' AND l.is_forward)
            OR (t.type = 'profile_view' AND l.is_profile_enter)
            OR (t.type = 'follow' AND l.is_follow)
        )
        -- a total order ((ts, offset) gives time_ms back), cheaper to sort than event_id
        ORDER BY ts, l.user_id, l.video_id, l.ord, t.offset_ms
        """,
        files["events"],
    )
    return KuaiRandFiles(
        accounts=files["accounts"],
        videos=files["videos"],
        events=files["events"],
        n_accounts=n_accounts,
        n_videos=n_videos,
        n_events=n_events,
        layout=layout.layout,
        n_log_rows=int(n_log_rows),
        n_skipped_rows=int(n_skipped),
        n_videos_from_file=int(n_from_file),
        synthetic_creator_modulus=k,
    )


def import_kuairand(
    store: Any,
    log: Path | Sequence[Path],
    *,
    videos: Path | None = None,
    users: Path | None = None,
    creators_without_videos_file: int | None = None,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    work_dir: Path | None = None,
) -> KuaiRandImport:
    """Convert `log` into a temporary directory and ingest the result into `store`.

    `store` is a `creatorlens.store.Store`. `work_dir` is where the temporary directory
    goes (the system default otherwise); it needs room for the converted files.
    """
    from creatorlens.ingest import ingest_paths  # lazy: ingest is optional for conversion

    with tempfile.TemporaryDirectory(prefix="creatorlens-kuairand-", dir=work_dir) as tmp:
        files = convert_kuairand(
            log,
            Path(tmp),
            videos=videos,
            users=users,
            creators_without_videos_file=creators_without_videos_file,
            memory_limit=memory_limit,
        )
        result = ingest_paths(store, list(files.paths))
    return KuaiRandImport(files=files, ingest=result)
