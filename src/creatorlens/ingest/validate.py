"""Per-record checks as SQL: each entity's first failing check gives (field, reason).

The expressions are built once from the wire-format constants (never from input) and run
vectorized over a whole batch inside DuckDB.
"""

from __future__ import annotations

from creatorlens.ingest.wire import (
    ACCOUNT_KINDS,
    ANONYMOUS_TYPES,
    EVENT_REQUIRED,
    EVENT_TYPES,
    GENDERS,
    SHARE_CHANNELS,
    TRAFFIC_SOURCES,
    VIDEO_TYPES,
)

# Timestamps outside this range are refused: earlier is a unit mistake (epoch seconds sent as
# milliseconds), later is a clock far in the future.
EARLIEST_TS = "2000-01-01T00:00:00Z"
MAX_FUTURE = "INTERVAL 1 DAY"
# RFC 3339 date-time with a required offset; a space for the T, a space before the offset
# and offsets written +hh or +hhmm are tolerated, as many exporters write them.
RFC3339 = r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d{1,9})? ?([Zz]|[+-]\d\d(:?\d\d)?)"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# Event types as small integers (1-based, in EVENT_TYPES order): per-type checks compare
# integers instead of strings, once per check and record.
TYPE_NO_SQL = "list_position([" + ", ".join(f"'{t}'" for t in EVENT_TYPES) + "], type)"


def type_in(types: tuple[str, ...], column: str = "type_no") -> str:
    """SQL testing a type number column against a set of event types."""
    return f"{column} IN (" + ", ".join(str(EVENT_TYPES.index(t) + 1) for t in types) + ")"


# What DuckDB's cast refuses of the forms RFC3339 admits: a lower-case t or z (RFC 3339
# allows both) and a space before the offset. Only texts the plain cast refused are rewritten.
_CAST_FORM = "regexp_replace(upper({col}), ' ([Z+-])', '\\1')"


def timestamp_sql(col: str) -> str:
    """Parse RFC 3339 with an offset, or epoch milliseconds, into TIMESTAMPTZ (else NULL)."""
    # A text with a colon is never an integer; testing that first spares RFC 3339 texts the
    # failing integer cast, which costs more than the whole timestamp parse.
    return (
        f"CASE WHEN NOT contains({col}, ':') AND TRY_CAST({col} AS BIGINT) IS NOT NULL "
        f"THEN epoch_ms(TRY_CAST({col} AS BIGINT))::TIMESTAMPTZ "
        f"WHEN regexp_full_match({col}, '{RFC3339}') THEN coalesce(TRY_CAST({col} AS TIMESTAMPTZ), "
        f"TRY_CAST({_CAST_FORM.format(col=col)} AS TIMESTAMPTZ)) END"
    )


def _timestamp_checks(col: str, parsed: str, required: bool) -> list[tuple[str, str, str]]:
    checks = []
    if required:
        checks.append((f"{col} IS NULL OR {col} = ''", col, "missing"))
    checks += [
        (
            f"{col} IS NOT NULL AND {parsed} IS NULL",
            col,
            "not an RFC 3339 timestamp with offset nor epoch milliseconds",
        ),
        (f"{parsed} < TIMESTAMPTZ '{EARLIEST_TS}'", col, "before 2000-01-01 (epoch seconds?)"),
        (f"{parsed} > now() + {MAX_FUTURE}", col, "more than a day in the future"),
    ]
    return checks


def _required(col: str) -> tuple[str, str, str]:
    return (f"{col} IS NULL OR {col} = ''", col, "missing")


def _enum(col: str, values: tuple[str, ...], nullable: bool = False) -> tuple[str, str, str]:
    cond = f"{col} NOT IN {_in(values)}"
    if nullable:
        cond = f"{col} IS NOT NULL AND {cond}"
    return (cond, col, "not one of " + ", ".join(values))


def _bool(col: str) -> list[tuple[str, str, str]]:
    return [_required(col), (f"TRY_CAST({col} AS BOOLEAN) IS NULL", col, "not a boolean")]


def _rows(checks: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [(f"({c})", field, reason.replace("'", "''")) for c, field, reason in checks]


def _problem(checks: list[tuple[str, str, str]]) -> str:
    """One CASE giving the 1-based index of the first failing check (NULL when none)."""
    whens = " ".join(f"WHEN {cond} THEN {i}" for i, (cond, _, _) in enumerate(_rows(checks), 1))
    return f"CASE {whens} END AS problem"


def _labels(checks: list[tuple[str, str, str]], problem: str) -> str:
    """The field and reason of a problem index, looked up in constant lists."""
    rows = _rows(checks)
    fields = "[" + ", ".join(f"'{field}'" for _, field, _ in rows) + "]"
    reasons = "[" + ", ".join(f"'{reason}'" for _, _, reason in rows) + "]"
    return f"{fields}[{problem}] AS bad_field, {reasons}[{problem}] AS bad_reason"


# An event check: condition, field, reason, and the event types it applies to (None: all).
TypedCheck = tuple[str, str, str, tuple[str, ...] | None]


def _event_typed_checks() -> list[TypedCheck]:
    """Checks of an event record, in order, each with the types it applies to."""
    checks: list[TypedCheck] = [
        (
            "event_id IS NULL AND type IS NULL AND ts IS NULL AND actor_id IS NULL",
            "record",
            "not a JSON object with event fields (malformed line or empty record)",
            None,
        ),
        (*_required("event_id"), None),
        ("length(event_id) > 200", "event_id", "longer than 200 characters", None),
        (*_required("type"), None),
        ("type_no IS NULL", "type", _enum("type", EVENT_TYPES)[2], None),
        *((*check, None) for check in _timestamp_checks("ts", "ts_parsed", required=True)),
        (*_required("actor_id"), None),
    ]
    required_by: dict[str, list[str]] = {}
    for event_type, fields in EVENT_REQUIRED.items():
        for f in fields:
            required_by.setdefault(f, []).append(event_type)
    for f, types in required_by.items():
        # Texts may be empty (a comment of only a sticker), never absent.
        cond = f"{f} IS NULL" if f == "text" else _required(f)[0]
        checks.append((cond, f, "missing", tuple(types)))
    checks += [
        (
            "video_id IS NULL AND comment_id IS NULL",
            "video_id",
            "missing (a mention needs video_id or comment_id)",
            ("mention",),
        ),
        ("watched_parsed IS NULL", "watched_ms", "not an integer", ("view",)),
        ("watched_parsed < 0", "watched_ms", "negative", ("view",)),
        (*_enum("source", TRAFFIC_SOURCES), ("view",)),
        (*_enum("channel", SHARE_CHANNELS), ("share",)),
        (
            "gift_parsed IS NULL OR NOT isfinite(gift_parsed)",
            "gift_value",
            "not a number",
            ("live_gift",),
        ),
        ("gift_parsed < 0", "gift_value", "negative", ("live_gift",)),
        (
            "video_creator IS NULL",
            "video_id",
            "unknown video (ingest its videos file first)",
            VIDEO_TYPES,
        ),
    ]
    return checks


def event_checks() -> list[tuple[str, str, str]]:
    """Checks of an event record, in order; the first that holds names the problem."""
    return [
        (cond if types is None else f"({cond}) AND {type_in(types)}", field, reason)
        for cond, field, reason, types in _event_typed_checks()
    ]


def _event_problem() -> str:
    """The same first failing check as `_problem(event_checks())`, found more cheaply.

    Most checks apply to a few event types only, yet a flat CASE tests every one of them
    on every record. Here a CASE on the type number picks the checks of the record's own
    type, so a record is tested only against checks that can fail for it. The checks
    before the first typed one are tested first for all records, as in the flat CASE.
    """
    numbered = [
        (i, f"({cond})", types) for i, (cond, _, _, types) in enumerate(_event_typed_checks(), 1)
    ]
    lead = 0
    while lead < len(numbered) and numbered[lead][2] is None:
        lead += 1

    def first_failing(items: list[tuple[int, str, tuple[str, ...] | None]]) -> str:
        if not items:
            return "NULL"
        return "CASE " + " ".join(f"WHEN {cond} THEN {i}" for i, cond, _ in items) + " END"

    rest = numbered[lead:]
    whens = [f"WHEN {cond} THEN {i}" for i, cond, _ in numbered[:lead]]
    for type_no, event_type in enumerate(EVENT_TYPES, 1):
        own = [c for c in rest if c[2] is None or event_type in c[2]]
        whens.append(f"WHEN type_no = {type_no} THEN {first_failing(own)}")
    untyped = first_failing([c for c in rest if c[2] is None])
    return f"CASE {' '.join(whens)} ELSE {untyped} END AS problem"


def account_checks() -> list[tuple[str, str, str]]:
    """Checks of an account record, in order."""
    return [
        (
            "account_id IS NULL AND kind IS NULL AND is_private IS NULL",
            "record",
            "not an account record (malformed line or empty record)",
        ),
        _required("account_id"),
        ("length(account_id) > 200", "account_id", "longer than 200 characters"),
        _required("kind"),
        _enum("kind", ACCOUNT_KINDS),
        *_bool("is_private"),
        (
            "birth_year IS NOT NULL AND TRY_CAST(birth_year AS SMALLINT) IS NULL",
            "birth_year",
            "not an integer",
        ),
        (
            "TRY_CAST(birth_year AS SMALLINT) NOT BETWEEN 1900 AND year(now())",
            "birth_year",
            "outside 1900 and this year",
        ),
        _enum("gender", GENDERS, nullable=True),
        (
            "country IS NOT NULL AND NOT regexp_full_match(country, '[A-Z]{2}')",
            "country",
            "not an ISO 3166 alpha-2 code",
        ),
        (
            "timezone IS NOT NULL AND timezone NOT IN (SELECT name FROM pg_timezone_names())",
            "timezone",
            "not an IANA time zone name",
        ),
        *_bool("analytics_opt_out"),
        *_timestamp_checks("created_at", "created_parsed", required=True),
        *_timestamp_checks("updated_at", "updated_parsed", required=False),
    ]


def video_checks() -> list[tuple[str, str, str]]:
    """Checks of a video record, in order."""
    return [
        (
            "video_id IS NULL AND creator_id IS NULL AND posted_at IS NULL",
            "record",
            "not a video record (malformed line or empty record)",
        ),
        _required("video_id"),
        ("length(video_id) > 200", "video_id", "longer than 200 characters"),
        _required("creator_id"),
        *_timestamp_checks("posted_at", "posted_parsed", required=True),
        _required("duration_ms"),
        ("TRY_CAST(duration_ms AS BIGINT) IS NULL", "duration_ms", "not an integer"),
        ("TRY_CAST(duration_ms AS BIGINT) <= 0", "duration_ms", "not positive"),
        (
            "hashtags IS NOT NULL AND hashtags_parsed IS NULL",
            "hashtags",
            "not a list of strings",
        ),
        *_timestamp_checks("updated_at", "updated_parsed", required=False),
    ]


CHECKS = {"events": event_checks, "accounts": account_checks, "videos": video_checks}


def problem_column(entity: str) -> str:
    """SQL select item `problem`: which check of `entity` failed first, or NULL."""
    if entity == "events":
        return _event_problem()
    return _problem(CHECKS[entity]())


def problem_labels(entity: str, problem: str = "problem") -> str:
    """SQL select items `bad_field, bad_reason` for a problem index column."""
    return _labels(CHECKS[entity](), problem)


NAMED_TYPES_SQL = _in(tuple(t for t in EVENT_TYPES if t not in ANONYMOUS_TYPES))
