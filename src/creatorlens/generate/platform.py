"""A realistic synthetic short-video platform: accounts, videos and an event stream.

Model in brief (all vectorized with numpy; ``default_rng(seed)`` drives everything, a second
stream seeded from the same seed only picks which timestamps are sent as epoch milliseconds):

* Accounts: creators ``c<n>`` (a few ``business``) and viewers ``u<n>`` (``personal``) with
  countries, matching cities / IANA zones / languages, ages (about 10 % minors, 13-17), about 26 %
  private (minors mostly private) and about 4 % analytics opt-outs. Logged-out devices
  ``dev-<n>`` only watch.
* Videos: creator size is Pareto-distributed and each video's appeal log-normal, so a few videos
  go viral; views decay with the video's age. Durations are log-normal (mostly 7-60 s, some up to
  3 min) by category; a back catalogue before the window keeps getting views.
* Views: every actor watches a Poisson number of videos per *local* calendar day, at local hours
  drawn from a daily rhythm (evening peak, later weekend mornings) with a weekend lift. Watch time:
  early swipes (< 3 s, which do not count as a play), partial watches with early drop-off,
  completions, and loops (``watched_ms`` > duration). For You brings about 70 % of the traffic.
* Engagement follows the views (likes ~8 %, comments ~0.5 %, shares ~0.4 %, saves, profile
  views, follows), with unlikes / unfollows later, ``follow_approve`` by private followees,
  mentions in comments and captions, duets / stitches (the new video is the actor's own) and
  LIVE sessions with joins, leaves, chat and gifts.

Rates were calibrated on public TikTok counters (Aug 2021: likes / plays 3.5-18 %, comments /
plays about 0.2 %, shares / plays 0.1-0.5 %) and on the KuaiRand watch-time shape (about 17 % of
plays under 3 s, a long tail of re-watches); neither file is read at run time.

Events are generated per local day and sub-chunk, kept in a small pending buffer and written in
UTC time order as soon as no later chunk can produce an earlier event, so memory stays bounded
and output is byte-identical for the same arguments.

Output: ids are ``c<n>`` / ``u<n>`` accounts, ``dev-<n>`` logged-out devices, ``v<n>`` videos,
``cm<n>`` comments, ``l<n>`` LIVE sessions, ``s<n>`` sounds and ``e<seed>-<n>`` events (numbered
in time order). Timestamps are RFC 3339 in the actor's (creator's, account's) own offset, ``Z``
for zero offsets; about 10 % of event ``ts`` are epoch milliseconds instead: a JSON integer in
NDJSON, the digits as text in CSV and parquet (where ``ts`` is a string column). Null fields are
omitted from NDJSON lines and empty in CSV.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from creatorlens.errors import UserError
from creatorlens.ingest.wire import (
    ACCOUNT_KINDS,
    EVENT_FIELDS,
    EVENT_TYPES,
    GENDERS,
    SHARE_CHANNELS,
    TRAFFIC_SOURCES,
    WireFiles,
)

from . import geo, texts
from .writer import FORMATS, EntityWriter

END = datetime(2026, 11, 1, tzinfo=UTC)
END_MS = int(END.timestamp()) * 1000
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MIN_MS = 60_000
REF_YEAR = END.year  # ages are REF_YEAR - birth_year
ONE_DAY = timedelta(days=1)

# ---- calibration ----------------------------------------------------------------------------
VIEWS_PER_ACCOUNT_DAY = 1.34  # logged-in accounts; defaults then give about 1M events
DEVICE_VIEW_SHARE = 0.04  # views by logged-out devices
DERIVED_PER_VIEW = 0.135  # engagement events per view (measured; used to hit `events`)
BACK_CATALOGUE_DAYS = 45
TAU_CLASSES_H = np.array([8.0, 12.0, 18.0, 27.0, 40.0, 60.0, 90.0, 135.0, 200.0])
LONG_TAIL_TAU_H = 600.0  # every video keeps a trickle of views for weeks
LONG_TAIL_WEIGHT = 0.03
CHUNK_VIEWS = 400_000  # views processed at once
EMIT_MIN_EVENTS = 250_000  # pending events are written in batches of at least this many
APPEAL_SIGMA = 1.0  # video appeal, log-normal
SIZE_EXPONENT = 0.7  # creator size (Pareto) to video reach

P_LIKE = 0.075
P_COMMENT = 0.0045
P_SHARE = 0.0030
P_SAVE = 0.0075
P_PROFILE_VIEW = 0.021
P_FOLLOW = 0.006
P_SOCIAL = 0.005  # per view: visit another account's profile (friends), maybe follow
P_SOCIAL_FOLLOW = 0.4
P_UNLIKE = 0.035
P_UNFOLLOW = 0.06
P_APPROVE = 0.85
P_REPLY = 0.25
P_COMMENT_MENTION = 0.07
P_CAPTION_MENTION = 0.05
P_DUET = 0.03
P_STITCH = 0.02
P_EPOCH_MS = 0.10  # events whose ts is sent as epoch milliseconds
ENGAGEMENT_BY_WATCH = np.array([0.03, 0.55, 1.5, 2.2])  # skip, partial, complete, loop

LIVE_CREATOR_SHARE = 0.25
LIVE_JOIN_SHARE = 0.002  # a session's expected audience, as a share of all accounts
LIVE_COMMENTS_PER_MIN = 0.22
LIVE_GIFTER_SHARE = 0.07
GIFT_VALUES = np.array([1, 5, 10, 20, 99, 199, 499, 999])
GIFT_P = np.array([0.45, 0.2, 0.12, 0.08, 0.07, 0.04, 0.03, 0.01])

# Local-hour rhythms (relative weights, hour 0..23).
_HOURS_WEEKDAY = np.array(
    [2.6, 1.4, 0.8, 0.5, 0.4, 0.5, 1.2, 2.2, 2.8, 3.0, 3.2, 3.6]
    + [4.4, 4.4, 3.6, 3.6, 4.0, 4.6, 5.4, 6.4, 7.2, 7.6, 7.0, 4.8]
)
_HOURS_WEEKEND = np.array(
    [3.4, 2.2, 1.3, 0.8, 0.5, 0.5, 0.7, 1.2, 2.0, 3.0, 3.8, 4.4]
    + [4.8, 4.8, 4.6, 4.6, 4.8, 5.2, 5.8, 6.6, 7.2, 7.4, 6.8, 5.0]
)
_HOURS_POSTING = np.array(
    [0.5, 0.3, 0.2, 0.1, 0.1, 0.2, 0.5, 1.0, 1.5, 1.8, 2.0, 2.4]
    + [2.8, 2.4, 2.0, 2.2, 2.6, 3.0, 3.4, 3.6, 3.4, 2.8, 1.8, 1.0]
)
_HOURS_LIVE = np.array(
    [1.0, 0.5, 0.2, 0.1, 0.1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8]
    + [1.0, 1.0, 1.0, 1.2, 1.5, 2.2, 3.2, 4.2, 5.0, 5.0, 4.0, 2.2]
)
_DOW_LIFT = np.array([0.95, 0.95, 0.97, 1.0, 1.08, 1.22, 1.2])  # Monday .. Sunday

# What insights find (issue 18): deterministic multipliers of a video's appeal, drawing no
# random numbers, so every other stream stays as it was. Videos posted in the local
# evening reach more; a few sounds and one hashtag per category help; a new sound appears
# in the last days and grows fast (a trend over many creators).
_POSTING_HOUR_APPEAL = np.array(
    [0.7, 0.6, 0.6, 0.6, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0, 1.0, 1.0]
    + [1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.6, 1.8, 1.7, 1.3, 1.0, 0.8]
)
HELPING_SOUNDS = {2: 1.8, 6: 1.5}  # sound index -> appeal multiplier
HELPING_TAG = 3  # the fourth tag of each category's list ("dancetutorial", "relatable", ...)
HELPING_TAG_APPEAL = 1.6
NEW_SOUND_DAYS = 10  # the new sound: on every 6th video posted in the last days
NEW_SOUND_APPEAL = 2.0

_SOURCE_P_LOGGED = {
    "for_you": 0.685,
    "following": 0.10,
    "profile": 0.05,
    "search": 0.045,
    "hashtag": 0.025,
    "sound": 0.02,
    "share_link": 0.04,
    "embed": 0.005,
    "other": 0.03,
}
_SOURCE_P_DEVICE = {
    "for_you": 0.50,
    "following": 0.0,
    "profile": 0.05,
    "search": 0.10,
    "hashtag": 0.03,
    "sound": 0.02,
    "share_link": 0.22,
    "embed": 0.05,
    "other": 0.03,
}
_CHANNEL_P = {
    "in_app": 0.20,
    "copy_link": 0.20,
    "whatsapp": 0.17,
    "instagram": 0.08,
    "facebook": 0.06,
    "x": 0.04,
    "telegram": 0.03,
    "sms": 0.06,
    "email": 0.01,
    "download": 0.10,
    "embed": 0.01,
    "other": 0.04,
}

T = {name: i for i, name in enumerate(EVENT_TYPES)}
_EV_COLS: dict[str, type] = {
    "ty": np.int8,
    "ms": np.int64,
    "actor": np.int32,
    "video": np.int32,
    "watched": np.int64,
    "source": np.int8,
    "comment": np.int64,
    "text": np.int32,
    "tprefix": np.int32,
    "reply": np.int64,
    "channel": np.int8,
    "target": np.int32,
    "new_video": np.int32,
    "live": np.int32,
    "gift": np.int64,
}


# What the generator wrote: the three wire files and their record counts.
GeneratedPlatform = WireFiles


def generate_platform(
    out_dir: Path,
    *,
    creators: int = 200,
    viewers: int = 20_000,
    days: int = 28,
    seed: int = 7,
    events: int | None = None,
    fmt: str = "ndjson",
    progress: Callable[[str, int, int], None] | None = None,
) -> GeneratedPlatform:
    """Generate a platform export into ``out_dir`` (``accounts|videos|events.<fmt>``).

    ``events`` is an approximate target total (within about 10 %); by default the count follows
    from ``creators``, ``viewers`` and ``days`` (the defaults give about 1M events). The window
    is the ``days`` days before 2026-11-01T00:00:00Z. Same arguments give identical bytes.
    Arguments or an ``out_dir`` it cannot use raise `GenerateError` (see `prepare_output`).
    """
    out_dir = prepare_output(
        out_dir, creators=creators, viewers=viewers, days=days, seed=seed, events=events, fmt=fmt
    )
    try:
        gen = _Generator(creators, viewers, days, seed, events, progress)
        con = duckdb.connect()
        try:
            return gen.run(out_dir, fmt, con)
        finally:
            con.close()
    except MemoryError:
        raise GenerateError(
            f"not enough memory for {creators:,} creators, {viewers:,} viewers"
            + (f", {events:,} events" if events is not None else f" over {days:,} days")
            + "; ask for fewer"
        ) from None
    except OSError as exc:
        raise GenerateError(_os_reason(exc, out_dir, "cannot write")) from None


def prepare_output(
    out_dir: Path,
    *,
    creators: int = 200,
    viewers: int = 20_000,
    days: int = 28,
    seed: int = 7,
    events: int | None = None,
    fmt: str = "ndjson",
) -> Path:
    """Check `generate_platform`'s arguments and make ``out_dir`` ready, as it does first.

    Raises `GenerateError` (one readable line) for arguments it cannot use, and for an
    ``out_dir`` that is a file, cannot be created or written, or holds entity files
    (``accounts|videos|events`` with an extension ``ingest DIR`` reads) that no earlier
    run wrote. An earlier run's files are left to be replaced, or removed when that run
    wrote another format. Calling it again, or then `generate_platform`, is harmless.
    """
    if creators < 1 or viewers < 0 or days < 1:
        raise GenerateError("need creators >= 1, viewers >= 0 and days >= 1")
    if days > MAX_DAYS:
        raise GenerateError(
            f"days must be at most {MAX_DAYS:,}: a longer window dates accounts before "
            "2000-01-01, which ingest refuses"
        )
    if seed < 0:
        raise GenerateError(f"seed must be 0 or more, not {seed}")
    if events is not None and events < 1:
        raise GenerateError("events must be positive")
    if fmt not in FORMATS:
        raise GenerateError(f"unknown format {fmt!r}; expected one of {sorted(FORMATS)}")
    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir, fmt)
    return out_dir


class GenerateError(UserError, ValueError):
    """Arguments or an output directory `generate_platform` cannot work with."""


# Accounts are dated up to 9 years (plus a day) before the window; ingest refuses timestamps
# before 2000-01-01, so the window may reach back no further than this many days.
MAX_DAYS = (END - datetime(2000, 1, 1, tzinfo=UTC)).days - (9 * 365 + 2)

# Written into the output directory before the data files: what `generate_platform` wrote
# there, so a later run may replace those files, and only those. Hidden, so `ingest DIR`
# leaves it alone.
MARKER = ".creatorlens-generate"
_ENTITIES = ("accounts", "videos", "events")
# Every name `ingest DIR` would read as one of the three entities.
_INGESTED_SUFFIXES = (".ndjson", ".jsonl", ".csv", ".parquet")


def _os_reason(exc: OSError, path: Path, doing: str) -> str:
    where = exc.filename if exc.filename is not None else path
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return f"{where}: {doing}: {reason}"


def _previous_output(out_dir: Path) -> set[str]:
    """The file names an earlier `generate_platform` recorded in ``out_dir``'s marker."""
    try:
        recorded = json.loads((out_dir / MARKER).read_text(encoding="utf-8"))
        return {name for name in recorded["files"] if isinstance(name, str) and "/" not in name}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _prepare_out_dir(out_dir: Path, fmt: str) -> None:
    """Create ``out_dir`` or check that it may be written into; mark it as generate's.

    Files of an earlier run (named in the marker) are replaced, or removed when that run
    wrote another format, so that ``ingest DIR`` reads one platform. Entity files that
    generate did not write (another platform's export, say) make it refuse the directory.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise GenerateError(f"{out_dir}: is a file, not a directory; give --out a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenerateError(_os_reason(exc, out_dir, "cannot create the directory")) from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise GenerateError(f"{out_dir}: cannot write into this directory (permission denied)")
    targets = {f"{entity}.{fmt}" for entity in _ENTITIES}
    ours = _previous_output(out_dir)
    present = [
        out_dir / f"{entity}{suffix}"
        for entity in _ENTITIES
        for suffix in _INGESTED_SUFFIXES
        if os.path.lexists(out_dir / f"{entity}{suffix}")
    ]
    for path in present:
        if not path.is_symlink() and path.is_dir():
            raise GenerateError(f"{path}: is a directory; generate writes a file of that name")
    foreign = sorted(p.name for p in present if p.name not in ours)
    if foreign:
        raise GenerateError(
            f"{out_dir}: already holds {', '.join(foreign)}, not written by creatorlens "
            "generate; choose an empty or new --out directory"
        )
    try:
        for path in present:
            if path.name not in targets:  # an earlier run's other format
                path.unlink()
        (out_dir / MARKER).write_text(
            json.dumps({"files": sorted(targets)}) + "\n", encoding="utf-8"
        )
    except OSError as exc:
        raise GenerateError(_os_reason(exc, out_dir, "cannot write")) from None


# ---- helpers ----------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """n draws from the categorical distribution p (any positive weights)."""
    cum = np.cumsum(p, dtype=np.float64)
    idx = np.searchsorted(cum, rng.random(n) * cum[-1], side="right")
    return np.minimum(idx, len(p) - 1)


def _probs(mapping: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    missing = set(mapping) - set(names)
    if missing:  # pragma: no cover - guards against a wire change
        raise ValueError(f"unknown names {sorted(missing)}")
    return np.array([mapping.get(n, 0.0) for n in names], dtype=np.float64)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _nullable(values: np.ndarray) -> pa.Array:
    """Arrow array with negative values (our "absent" code) as nulls."""
    return pa.array(values, mask=values < 0)


def _offset_sql(col: str) -> str:
    a = f"abs({col})"
    return (
        f"CASE WHEN {col} = 0 THEN 'Z' ELSE (CASE WHEN {col} < 0 THEN '-' ELSE '+' END)"
        f" || lpad(CAST({a} // 60 AS VARCHAR), 2, '0') || ':'"
        f" || lpad(CAST({a} % 60 AS VARCHAR), 2, '0') END"
    )


def _rfc3339_sql(ms: str, off: str, millis: bool) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.%g" if millis else "%Y-%m-%dT%H:%M:%S"
    return f"strftime(epoch_ms({ms} + {off} * 60000), '{fmt}') || {_offset_sql(off)}"


def _sql_list(names: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{n}'" for n in names) + "]"


def _enum_sql(col: str, names: tuple[str, ...]) -> str:
    return f"CASE WHEN {col} >= 0 THEN {_sql_list(names)}[{col} + 1] END"


def _id_sql(col: str, prefix: str) -> str:
    return f"CASE WHEN {col} >= 0 THEN '{prefix}' || ({col} + 1) END"


ACCOUNT_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("kind", pa.string()),
        ("is_private", pa.bool_()),
        ("birth_year", pa.int64()),
        ("gender", pa.string()),
        ("country", pa.string()),
        ("city", pa.string()),
        ("language", pa.string()),
        ("timezone", pa.string()),
        ("analytics_opt_out", pa.bool_()),
        ("created_at", pa.string()),
    ]
)
VIDEO_SCHEMA = pa.schema(
    [
        ("video_id", pa.string()),
        ("creator_id", pa.string()),
        ("posted_at", pa.string()),
        ("duration_ms", pa.int64()),
        ("caption", pa.string()),
        ("hashtags", pa.list_(pa.string())),
        ("sound_id", pa.string()),
        ("category", pa.string()),
    ]
)
# Columns that never need JSON escaping (ids, enums, timestamps) are quoted directly.
_SAFE_ACCOUNT = ("account_id", "kind", "gender", "country", "language", "timezone", "created_at")
_SAFE_VIDEO = ("video_id", "creator_id", "posted_at", "sound_id", "category")
_SAFE_EVENT = (
    "event_id",
    "type",
    "ts",
    "actor_id",
    "video_id",
    "source",
    "comment_id",
    "reply_to",
    "channel",
    "target_id",
    "new_video_id",
    "live_id",
)
_EVENT_ARROW_TYPES = {
    "watched_ms": pa.int64(),
    "gift_value": pa.int64(),
}
EVENT_SCHEMA = pa.schema([(f, _EVENT_ARROW_TYPES.get(f, pa.string())) for f in EVENT_FIELDS])


class _Events:
    """Column arrays of a batch of events (numeric codes; -1 = absent)."""

    __slots__ = tuple(_EV_COLS)

    def __init__(self, **cols: np.ndarray) -> None:
        n = len(cols["ms"])
        for name, dtype in _EV_COLS.items():
            v = cols.get(name)
            if v is None:
                setattr(self, name, np.full(n, -1, dtype=dtype))
            else:
                v = np.asarray(v)
                setattr(self, name, v.astype(dtype, copy=False) if v.ndim else np.full(n, v, dtype))

    def __len__(self) -> int:
        return len(self.ms)

    @staticmethod
    def empty() -> _Events:
        return _Events(ms=np.zeros(0, np.int64))

    @staticmethod
    def concat(parts: list[_Events]) -> _Events:
        parts = [p for p in parts if len(p)]
        if not parts:
            return _Events.empty()
        if len(parts) == 1:
            return parts[0]
        return _Events(**{c: np.concatenate([getattr(p, c) for p in parts]) for c in _EV_COLS})

    def take(self, idx: np.ndarray) -> _Events:
        return _Events(**{c: getattr(self, c)[idx] for c in _EV_COLS})


class _KeySet:
    """A growing set of int64 keys kept as one sorted array (vectorized membership)."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, np.int64)

    def add(self, keys: np.ndarray) -> np.ndarray:
        """Add distinct ``keys``; return the mask of those that were not in the set yet."""
        if not len(self.keys):
            new = np.ones(len(keys), bool)
        else:
            pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            new = self.keys[pos] != keys
        # Stable sort of two sorted runs is a linear merge.
        self.keys = np.sort(np.concatenate([self.keys, np.sort(keys[new])]), kind="stable")
        return new


# ---- the generator ----------------------------------------------------------------------------


class _Generator:
    def __init__(self, creators, viewers, days, seed, events, progress) -> None:
        self.C, self.V, self.D, self.seed = int(creators), int(viewers), int(days), int(seed)
        self.target_events = events
        self.progress = progress or (lambda stage, done, total: None)
        self.rng = np.random.default_rng(seed)
        # Which events carry epoch-ms timestamps: its own stream, independent of write batching.
        self.rng_ts = np.random.default_rng([abs(self.seed), 1])
        self.start_ms = END_MS - self.D * DAY_MS
        self.n_acc = self.C + self.V
        self.n_dev = max(10, self.V // 4)

    # -- accounts -------------------------------------------------------------------------------

    def _geo(self, n: int) -> tuple[np.ndarray, ...]:
        rng = self.rng
        country = _pick(rng, geo.COUNTRY_WEIGHTS, n).astype(np.int16)
        city = np.full(n, -1, np.int16)
        lang = np.full(n, -1, np.int16)
        for k in range(len(geo.COUNTRIES)):
            sel = np.flatnonzero(country == k)
            cities, cw = geo.COUNTRY_CITIES[k]
            city[sel] = cities[_pick(rng, cw, len(sel))]
            langs, lw = geo.COUNTRY_LANGS[k]
            lang[sel] = langs[_pick(rng, lw, len(sel))]
        tz = geo.CITY_TZ[city]
        no_city = rng.random(n) < 0.08
        city[no_city] = -1
        # Without a city, most still have their country's main zone; some have no zone at all.
        tz = np.where(no_city & (rng.random(n) < 0.15), -1, tz).astype(np.int16)
        tz = np.where(no_city & (tz >= 0), geo.COUNTRY_MAIN_TZ[country], tz).astype(np.int16)
        no_country = rng.random(n) < 0.02
        country[no_country] = -1
        city[no_country] = -1
        tz[no_country] = -1
        en = geo.LANGUAGES.index("en")
        lang[no_country] = np.where(rng.random(int(no_country.sum())) < 0.5, -1, en)
        lang[rng.random(n) < 0.03] = -1
        return country, city, lang, tz

    def make_accounts(self) -> None:
        rng, C, n = self.rng, self.C, self.n_acc
        is_creator = np.arange(n) < C
        kind = np.where(is_creator, ACCOUNT_KINDS.index("creator"), ACCOUNT_KINDS.index("personal"))
        business = is_creator & (rng.random(n) < 0.08)
        kind[business] = ACCOUNT_KINDS.index("business")
        self.country, self.city, self.lang, tz = self._geo(n)
        self.tz_raw = tz
        # Ages: ~10 % minors 13-17; birth year = reference year - age.
        age_lo = np.array([13, 18, 25, 35, 45, 55])
        age_hi = np.array([17, 24, 34, 44, 54, 70])
        bucket = _pick(rng, np.array([0.10, 0.36, 0.27, 0.14, 0.08, 0.05]), n)
        age = rng.integers(age_lo[bucket], age_hi[bucket] + 1)
        minor = age < 18
        birth = (REF_YEAR - age).astype(np.int64)
        birth_null = (rng.random(n) < 0.09) | business
        gender = _pick(rng, np.array([0.55, 0.42, 0.03]), n).astype(np.int8)
        gender[(rng.random(n) < 0.06) | business] = -1
        p_private = np.where(minor, 0.60, np.where(is_creator, 0.05, 0.22))
        private = (rng.random(n) < p_private) & ~business
        opt_out = rng.random(n) < 0.04
        # Account age: creators are older accounts; nobody opened an account before age 13.
        acc_days = 35 + _lognormal(rng, 500.0, 0.8, n)
        acc_days = np.minimum(acc_days, np.maximum((age - 13) * 365.0, 35.0))
        acc_days = np.minimum(acc_days, 9 * 365.0)
        acc_days[is_creator] = np.maximum(acc_days[is_creator], BACK_CATALOGUE_DAYS + 60)
        created = self.start_ms - (acc_days * DAY_MS).astype(np.int64) - rng.integers(0, DAY_MS, n)
        self.kind, self.business, self.private, self.opt_out = kind, business, private, opt_out
        self.birth = np.where(birth_null, -1, birth)
        self.gender, self.created = gender, created
        self.minor = minor

        # Devices (logged-out viewers): only a zone matters.
        _, _, _, dev_tz = self._geo(self.n_dev)
        self.tz_all = np.concatenate([np.maximum(tz, 0), np.maximum(dev_tz, 0)]).astype(np.int64)
        # Viewing activity: heavy users and light ones.
        act = _lognormal(rng, 1.0, 1.1, n)
        act[is_creator] *= 0.6
        act /= act.mean() if n else 1.0
        dev_act = _lognormal(rng, 1.0, 1.0, self.n_dev)
        dev_act *= DEVICE_VIEW_SHARE / (1 - DEVICE_VIEW_SHARE) * act.sum() / dev_act.sum()
        self.act_all = np.concatenate([act, dev_act])
        self.act_cum = np.cumsum(act)  # logged-in accounts only (live audiences)
        # Who gets visited / followed / mentioned socially: a few popular accounts.
        social = rng.pareto(1.5, n) + 1.0
        social[is_creator] *= 5.0
        self.social_cum = np.cumsum(social)

    def _pick_account(self, cum: np.ndarray, n: int, avoid: np.ndarray) -> np.ndarray:
        """n accounts drawn by the cumulative weights ``cum``; draws equal to avoid are -1."""
        if n == 0:
            return np.zeros(0, np.int32)
        who = np.searchsorted(cum, self.rng.random(n) * cum[-1], side="right")
        who = np.minimum(who, len(cum) - 1).astype(np.int32)
        return np.where(who == avoid, -1, who).astype(np.int32)

    # -- videos ---------------------------------------------------------------------------------

    def make_videos(self) -> None:
        rng, C = self.rng, self.C
        size = np.minimum(rng.pareto(1.3, C) + 1.0, 1000.0)
        self.size = size
        niche = _pick(rng, texts.CATEGORY_WEIGHTS, C)
        rate = np.clip(_lognormal(rng, 0.45, 0.6, C) * size**0.08, 0.02, 5.0)
        span = BACK_CATALOGUE_DAYS + self.D
        n_per = np.maximum(rng.poisson(rate * span), 1)
        creator = np.repeat(np.arange(C, dtype=np.int32), n_per)
        nv = len(creator)
        local_day = rng.integers(-BACK_CATALOGUE_DAYS, self.D, nv)
        tod = _pick(rng, _HOURS_POSTING, nv) * HOUR_MS + rng.integers(0, HOUR_MS, nv)
        tz = self.tz_all[creator]
        noon = self.start_ms + local_day * DAY_MS + 12 * HOUR_MS
        posted = self.start_ms + local_day * DAY_MS - self.offsets.at(tz, noon) * MIN_MS + tod
        posted = np.where(posted >= END_MS, END_MS - 1 - rng.integers(0, HOUR_MS, nv), posted)
        order = np.argsort(posted, kind="stable")
        creator, posted = creator[order], posted[order].astype(np.int64)

        appeal = _lognormal(rng, 1.0, APPEAL_SIGMA, nv)
        z = np.log(appeal) / APPEAL_SIGMA
        cat = np.where(
            rng.random(nv) < 0.88, niche[creator], _pick(rng, texts.CATEGORY_WEIGHTS, nv)
        )
        dur = _lognormal(rng, 19_000.0, 0.6, nv) * texts.CATEGORY_DURATION[cat]
        dur = np.clip(dur, 5_000, 180_000).astype(np.int64)
        cat = np.where(rng.random(nv) < 0.05, -1, cat)
        n_sounds = max(20, nv // 5)
        sound = _pick(rng, 1.0 / np.arange(1, n_sounds + 1) ** 1.1, nv).astype(np.int64)
        sound[rng.random(nv) < 0.15] = -1

        self.nv = nv
        self.v_creator, self.v_posted, self.v_dur, self.v_z = creator, posted, dur, z
        posted_hour = (tod[order] // HOUR_MS).astype(np.int64)
        new_sound = (posted >= END_MS - NEW_SOUND_DAYS * DAY_MS) & (np.arange(nv) % 6 == 0)
        new_sound &= sound >= 0
        sound = np.where(new_sound, n_sounds, sound)
        lift = _POSTING_HOUR_APPEAL[posted_hour] * np.where(new_sound, NEW_SOUND_APPEAL, 1.0)
        for s_idx, mult in HELPING_SOUNDS.items():
            lift = np.where(sound == s_idx, lift * mult, lift)
        self.v_cat, self.v_sound = cat, sound
        self.v_base = appeal * size[creator] ** SIZE_EXPONENT * lift
        # Attention decays with age; viral videos hold it longer. Decay constants are quantized
        # into classes (see _pick_videos), plus one slow long-tail class holding every video.
        tau_h = _lognormal(rng, 30.0, 0.5, nv) * (1 + 0.3 * np.maximum(z, 0))
        cls = np.abs(np.log(tau_h)[:, None] - np.log(TAU_CLASSES_H)[None, :]).argmin(axis=1)
        self.cls_videos = [np.flatnonzero(cls == c) for c in range(len(TAU_CLASSES_H))]
        self.cls_tau_ms = [t * HOUR_MS for t in TAU_CLASSES_H]
        self.cls_w0 = [self.v_base[v] for v in self.cls_videos]
        self.cls_videos.append(np.arange(nv))
        self.cls_tau_ms.append(LONG_TAIL_TAU_H * HOUR_MS)
        self.cls_w0.append(LONG_TAIL_WEIGHT * self.v_base)
        keep = [i for i, v in enumerate(self.cls_videos) if len(v)]
        self.cls_videos = [self.cls_videos[i] for i in keep]
        self.cls_tau_ms = [self.cls_tau_ms[i] for i in keep]
        self.cls_w0 = [self.cls_w0[i] for i in keep]
        self.v_like = _lognormal(rng, 1.0, 0.45, nv) * np.exp(0.12 * z)
        self.v_comment = _lognormal(rng, 1.0, 0.6, nv)
        self.v_share = _lognormal(rng, 1.0, 0.7, nv) * np.exp(0.15 * z)
        self.v_neg = rng.beta(1.4, 7.0, nv)

        # Caption mentions of another creator; duets and stitches of earlier videos.
        mention = np.where(rng.random(nv) < P_CAPTION_MENTION, _pick(rng, size, nv), -1)
        mention = np.where(mention == creator, -1, mention)
        in_window = posted >= self.start_ms
        remix = in_window & (rng.random(nv) < P_DUET + P_STITCH)
        stitch = rng.random(nv) < P_STITCH / (P_DUET + P_STITCH)
        kind = np.where(remix, np.where(stitch, 2, 1), 0)
        prefix = np.searchsorted(posted, posted, side="left")  # videos strictly earlier
        cum = np.cumsum(self.v_base)
        dk = np.flatnonzero((kind > 0) & (prefix > 0))
        orig = np.searchsorted(cum, rng.random(len(dk)) * cum[prefix[dk] - 1], side="right")
        orig = np.minimum(orig, prefix[dk] - 1)
        ok = self.v_creator[orig] != creator[dk]
        dk, orig = dk[ok], orig[ok]
        ev_ms = posted[dk] + rng.integers(1000, 5000, len(dk))
        duets = _Events(
            ty=np.where(kind[dk] == 1, T["duet"], T["stitch"]),
            ms=ev_ms,
            actor=creator[dk],
            video=orig,
            new_video=dk,
        )
        mk = np.flatnonzero((mention >= 0) & in_window)
        mentions = _Events(
            ty=T["mention"],
            ms=posted[mk] + rng.integers(1000, 5000, len(mk)),
            actor=creator[mk],
            target=mention[mk],
            video=mk,
        )
        self.video_events = _Events.concat([duets, mentions])
        self.v_mention = mention

    # -- expected volume --------------------------------------------------------------------------

    def _scale_for_target(self) -> float:
        """Activity multiplier so that the total lands near ``events`` (1.0 without target)."""
        dows = [(END - (self.D - d) * ONE_DAY).weekday() for d in range(self.D)]
        lift = float(_DOW_LIFT[dows].sum())
        self.base_rate = (
            VIEWS_PER_ACCOUNT_DAY * self.n_acc / max(self.act_all[: self.n_acc].sum(), 1e-9)
        )
        views = self.base_rate * self.act_all.sum() * lift
        sessions = self.live_rate.sum() / 7.0 * self.D
        stay_min = 4.5 * np.exp(0.5)
        per_join = 2 + LIVE_COMMENTS_PER_MIN * stay_min + LIVE_GIFTER_SHARE * 1.7
        joins = (
            self.live_rate.sum()
            / 7.0
            * self.D
            * self._live_audience(1.0)
            * float((self.live_rate * self.reach).sum() / max(self.live_rate.sum(), 1e-9))
            * np.exp(0.125)
        )
        variable = views * (1 + DERIVED_PER_VIEW) + joins * per_join
        fixed = 2 * sessions + len(self.video_events)
        if self.target_events is None:
            return 1.0
        return max((self.target_events - fixed) / max(variable, 1e-9), 1e-6)

    # -- views and what follows them -----------------------------------------------------------

    def _pick_videos(self, ms: np.ndarray) -> np.ndarray:
        """A video for each view at ``ms`` (sorted), among videos posted strictly before it.

        A video's weight at time t is ``base * exp(-(t - posted) / tau)`` plus a small long
        tail. With tau quantized into a few classes the weight factors into a time part and a
        video part, so every class is sampled through prefix sums: a view costs a few binary
        searches, however many videos there are. -1 where no video exists yet.
        """
        n = len(ms)
        out = np.full(n, -1, np.int32)
        if not n:
            return out
        rng = self.rng
        ref = int(ms[0])  # rebase the exponentials on this chunk (no overflow on long runs)
        n_cls = len(self.cls_videos)
        mass = np.zeros((n, n_cls))
        prefix, cums = [], []
        for c, (vids, tau_ms, w0) in enumerate(
            zip(self.cls_videos, self.cls_tau_ms, self.cls_w0, strict=True)
        ):
            posted = self.v_posted[vids]
            k_max = int(np.searchsorted(posted, ms[-1], side="left"))  # later ones can't be seen
            posted = posted[:k_max]
            cum = np.concatenate([[0.0], np.cumsum(w0[:k_max] * np.exp((posted - ref) / tau_ms))])
            k = np.searchsorted(posted, ms, side="left")
            mass[:, c] = cum[k] * np.exp(-(ms - ref) / tau_ms)
            prefix.append(k)
            cums.append(cum)
        acc = np.cumsum(mass, axis=1)
        total = acc[:, -1]
        comp = (acc < (rng.random(n) * total)[:, None]).sum(axis=1)
        comp = np.minimum(comp, n_cls - 1)
        u = rng.random(n)
        for c in range(n_cls):
            sel = np.flatnonzero((comp == c) & (total > 0))
            if not len(sel):
                continue
            k = prefix[c][sel]
            cum = cums[c]
            j = np.searchsorted(cum, u[sel] * cum[k], side="right") - 1
            j = np.clip(j, 0, np.maximum(k - 1, 0))
            ok = k > 0
            out[sel[ok]] = self.cls_videos[c][j[ok]]
        return out

    def _views(self, actor: np.ndarray, ms: np.ndarray) -> list[_Events]:
        rng, n_acc = self.rng, self.n_acc
        vid = self._pick_videos(ms)
        ok = vid >= 0
        actor, ms, vid = actor[ok], ms[ok], vid[ok]
        n = len(vid)
        if n == 0:
            return []
        dur = self.v_dur[vid]
        z = self.v_z[vid]
        logged = actor < n_acc
        p_skip = np.clip(0.25 - 0.06 * z + 0.06 * ~logged, 0.06, 0.6)
        p_loop = np.clip(0.085 * np.sqrt(20_000 / dur) + 0.03 * z, 0.01, 0.4)
        p_comp = np.clip(0.22 + 0.06 * z - 0.10 * np.log(dur / 20_000), 0.05, 0.65)
        p_comp = np.minimum(p_comp, 1 - p_skip - p_loop)
        u = rng.random(n)
        cat = np.where(
            u < p_skip,
            0,
            np.where(u < p_skip + p_loop, 3, np.where(u < p_skip + p_loop + p_comp, 2, 1)),
        )
        watched = np.where(
            cat == 0,
            200 + rng.beta(1.2, 1.8, n) * 2790,
            np.where(
                cat == 1,
                3000 + (dur - 3000) * rng.beta(0.7, 1.6, n),
                np.where(cat == 2, dur, dur * rng.geometric(0.55, n) + rng.random(n) * dur),
            ),
        ).astype(np.int64)
        source = np.where(
            logged, _pick(rng, self.p_src_logged, n), _pick(rng, self.p_src_device, n)
        )
        out = [_Events(ty=T["view"], ms=ms, actor=actor, video=vid, watched=watched, source=source)]

        creator = self.v_creator[vid]
        eng = ENGAGEMENT_BY_WATCH[cat]
        m = logged & (actor != creator)  # self-views produce nothing further
        # Independent reactions.
        r_like = m & (rng.random(n) < np.minimum(0.95, P_LIKE * eng * self.v_like[vid]))
        r_comment = m & (rng.random(n) < P_COMMENT * eng * self.v_comment[vid])
        r_share = m & (rng.random(n) < P_SHARE * eng * self.v_share[vid])
        r_save = m & (rng.random(n) < P_SAVE * eng)
        r_pv = m & (rng.random(n) < P_PROFILE_VIEW * eng)
        r_follow = m & (rng.random(n) < P_FOLLOW * eng)
        r_social = logged & (rng.random(n) < P_SOCIAL)

        out.append(self._likes(actor[r_like], vid[r_like], ms[r_like], watched[r_like]))
        i = np.flatnonzero(r_save)
        out.append(
            _Events(
                ty=T["save"],
                ms=ms[i] + 500 + (rng.random(len(i)) * watched[i]).astype(np.int64),
                actor=actor[i],
                video=vid[i],
            )
        )
        i = np.flatnonzero(r_share)
        ch_country = self.country[actor[i]].astype(np.int64)
        u = rng.random(len(i))[:, None]
        ch = (self.channel_cum[ch_country] < u).sum(axis=1)
        out.append(
            _Events(
                ty=T["share"],
                ms=ms[i] + 500 + (rng.random(len(i)) * watched[i]).astype(np.int64),
                actor=actor[i],
                video=vid[i],
                channel=np.minimum(ch, len(SHARE_CHANNELS) - 1),
            )
        )
        # Profile visits and follows of the video's creator.
        pv_ms = ms + watched + 300 + rng.exponential(2500.0, n).astype(np.int64)
        i = np.flatnonzero(r_pv)
        out.append(_Events(ty=T["profile_view"], ms=pv_ms[i], actor=actor[i], target=creator[i]))
        f_ms = np.where(
            r_pv,
            pv_ms + 300 + rng.exponential(4000.0, n).astype(np.int64),
            ms + 300 + (rng.random(n) * watched).astype(np.int64),
        )
        i = np.flatnonzero(r_follow)
        f_actor, f_target, f_time = [actor[i]], [creator[i]], [f_ms[i]]
        # Social: look at a (popular) account's profile, sometimes follow it.
        i = np.flatnonzero(r_social)
        tgt = self._pick_account(self.social_cum, len(i), actor[i])
        keep = tgt >= 0
        i, tgt = i[keep], tgt[keep]
        s_pv = ms[i] + watched[i] + 1000 + rng.exponential(3000.0, len(i)).astype(np.int64)
        out.append(_Events(ty=T["profile_view"], ms=s_pv, actor=actor[i], target=tgt))
        sf = rng.random(len(i)) < P_SOCIAL_FOLLOW
        f_actor.append(actor[i][sf])
        f_target.append(tgt[sf])
        f_time.append(s_pv[sf] + 500 + rng.exponential(3000.0, int(sf.sum())).astype(np.int64))
        out.append(
            self._follows(np.concatenate(f_actor), np.concatenate(f_target), np.concatenate(f_time))
        )
        i = np.flatnonzero(r_comment)
        c_ms = ms[i] + watched[i] + _lognormal(rng, 12_000.0, 0.7, len(i)).astype(np.int64)
        out.append(self._comments(actor[i], vid[i], c_ms))
        return out

    def _likes(self, actor, vid, ms, watched) -> _Events:
        rng = self.rng
        key = actor.astype(np.int64) * self.nv + vid
        _, first = np.unique(key, return_index=True)
        first.sort()
        key, actor, vid, ms, watched = (
            key[first],
            actor[first],
            vid[first],
            ms[first],
            watched[first],
        )
        new = self.liked.add(key)
        actor, vid, ms, watched = actor[new], vid[new], ms[new], watched[new]
        # A like is made while watching: at some instant of the play.
        l_ms = ms + (rng.random(len(ms)) * watched).astype(np.int64)
        likes = _Events(ty=T["like"], ms=l_ms, actor=actor, video=vid)
        un = rng.random(len(ms)) < P_UNLIKE
        delay = 2000 + _lognormal(rng, 20 * MIN_MS, 2.0, int(un.sum())).astype(np.int64)
        unlikes = _Events(ty=T["unlike"], ms=l_ms[un] + delay, actor=actor[un], video=vid[un])
        return _Events.concat([likes, unlikes])

    def _follows(self, actor, target, ms) -> _Events:
        rng = self.rng
        order = np.argsort(ms, kind="stable")
        actor, target, ms = actor[order], target[order], ms[order]
        key = actor.astype(np.int64) * self.n_acc + target
        _, first = np.unique(key, return_index=True)
        first.sort()
        key, actor, target, ms = key[first], actor[first], target[first], ms[first]
        new = self.followed.add(key)
        actor, target, ms = actor[new], target[new], ms[new]
        n = len(ms)
        private = self.private[target]
        approved = private & (rng.random(n) < P_APPROVE)
        a_ms = ms + MIN_MS + _lognormal(rng, 2 * HOUR_MS, 1.3, n).astype(np.int64)
        approvals = _Events(
            ty=T["follow_approve"],
            ms=a_ms[approved],
            actor=target[approved],
            target=actor[approved],
        )
        can_unfollow = ~private | approved
        un = can_unfollow & (rng.random(n) < P_UNFOLLOW)
        base = np.where(approved, a_ms, ms)
        u_ms = base + HOUR_MS + _lognormal(rng, 2 * DAY_MS, 1.2, n).astype(np.int64)
        unfollows = _Events(ty=T["unfollow"], ms=u_ms[un], actor=actor[un], target=target[un])
        follows = _Events(ty=T["follow"], ms=ms, actor=actor, target=target)
        return _Events.concat([follows, approvals, unfollows])

    def _comments(self, actor, vid, ms) -> _Events:
        rng = self.rng
        n = len(ms)
        if n == 0:
            return _Events.empty()
        cid = self.next_comment + np.arange(n, dtype=np.int64)
        self.next_comment += n
        u = rng.random(n)
        neg = self.v_neg[vid]
        neu = texts.TONE_SHARES["neutral"]
        tone = np.where(u < neg, 2, np.where(u < neg + neu, 1, 0))
        starts = np.asarray(self.tone_starts)
        text = starts[tone] + rng.integers(0, self.per_tone, n)
        ment = rng.random(n) < P_COMMENT_MENTION
        m_target = np.where(ment, self._pick_account(self.social_cum, n, actor), -1)
        # Replies: to the previous comment on the same video (earlier in time).
        order = np.lexsort((ms, vid))
        sv, sm, sc = vid[order], ms[order], cid[order]
        first = np.concatenate([[True], sv[1:] != sv[:-1]])
        prev_id = np.where(first, self.last_comment[sv], np.concatenate([[-1], sc[:-1]]))
        prev_ms = np.where(first, self.last_comment_ms[sv], np.concatenate([[-1], sm[:-1]]))
        reply_sorted = np.where(
            (prev_id >= 0) & (prev_ms < sm) & (rng.random(n) < P_REPLY), prev_id, -1
        )
        reply = np.empty(n, np.int64)
        reply[order] = reply_sorted
        last = np.concatenate([sv[1:] != sv[:-1], [True]])
        lv, lm, lc = sv[last], sm[last], sc[last]
        newer = lm > self.last_comment_ms[lv]
        self.last_comment[lv[newer]] = lc[newer]
        self.last_comment_ms[lv[newer]] = lm[newer]
        comments = _Events(
            ty=T["comment"],
            ms=ms,
            actor=actor,
            video=vid,
            comment=cid,
            text=text,
            tprefix=m_target,
            reply=reply,
        )
        i = np.flatnonzero(m_target >= 0)
        mentions = _Events(
            ty=T["mention"], ms=ms[i] + 1, actor=actor[i], target=m_target[i], comment=cid[i]
        )
        return _Events.concat([comments, mentions])

    # -- LIVE ----------------------------------------------------------------------------------

    def _live_audience(self, scale: float) -> float:
        """Expected joins of an average session: grows with the population and its activity."""
        return LIVE_JOIN_SHARE * self.n_acc * scale

    def _lives(self, d: int, off_day: np.ndarray) -> _Events:
        rng = self.rng
        hosts = np.flatnonzero(rng.random(self.C) < self.live_rate / 7.0)
        n = len(hosts)
        if n == 0 or self.n_acc == 0:
            return _Events.empty()
        tod = _pick(rng, _HOURS_LIVE, n) * HOUR_MS + rng.integers(0, HOUR_MS, n)
        start = self.start_ms + d * DAY_MS - off_day[self.tz_all[hosts]] * MIN_MS + tod
        dur = np.clip(_lognormal(rng, 40 * MIN_MS, 0.55, n), 5 * MIN_MS, 240 * MIN_MS)
        end = start + dur.astype(np.int64)
        n_join = rng.poisson(
            self._live_audience(self.scale) * self.reach[hosts] * _lognormal(rng, 1, 0.5, n)
        )
        live_id = self.next_live + np.arange(n, dtype=np.int32)
        self.next_live += n
        ok = (start >= self.start_ms) & (end < END_MS)
        n_join = np.where(ok, n_join, 0)
        sess = np.repeat(np.arange(n), n_join)
        host = hosts[sess]
        who = self._pick_account(self.act_cum, len(sess), host)
        keep = who >= 0
        sess, who = sess[keep], who[keep]
        _, first = np.unique(sess.astype(np.int64) * self.n_acc + who, return_index=True)
        first.sort()  # an account joins a session once
        sess, who = sess[first], who[first]
        m = len(sess)
        s0, s1 = start[sess], end[sess]
        join = s0 + 1000 + (rng.beta(1.0, 1.8, m) * (s1 - s0 - 3000)).astype(np.int64)
        stay = _lognormal(rng, 4.5 * MIN_MS, 1.0, m).astype(np.int64)
        leave = np.minimum(join + stay, s1 - 1 - rng.integers(0, 500, m))
        leave = np.maximum(leave, join + 1)
        span = leave - join
        n_com = rng.poisson(LIVE_COMMENTS_PER_MIN * np.minimum(span / MIN_MS, 60.0))
        ci = np.repeat(np.arange(m), n_com)
        c_ms = join[ci] + 1 + (rng.random(len(ci)) * (span[ci] - 1)).astype(np.int64)
        c_text = self.live_text0 + rng.integers(0, self.n_live_texts, len(ci))
        gifter = (rng.random(m) < LIVE_GIFTER_SHARE) & ~self.minor[who]  # gifts are 18+
        n_gift = np.where(gifter, 1 + rng.poisson(0.7, m), 0)
        gi = np.repeat(np.arange(m), n_gift)
        g_ms = join[gi] + 1 + (rng.random(len(gi)) * (span[gi] - 1)).astype(np.int64)
        g_val = GIFT_VALUES[_pick(rng, GIFT_P, len(gi))]
        okh = np.flatnonzero(ok)
        return _Events.concat(
            [
                _Events(ty=T["live_start"], ms=start[okh], actor=hosts[okh], live=live_id[okh]),
                _Events(ty=T["live_end"], ms=end[okh], actor=hosts[okh], live=live_id[okh]),
                _Events(ty=T["live_join"], ms=join, actor=who, live=live_id[sess]),
                _Events(ty=T["live_leave"], ms=leave, actor=who, live=live_id[sess]),
                _Events(
                    ty=T["live_comment"],
                    ms=c_ms,
                    actor=who[ci],
                    live=live_id[sess[ci]],
                    text=c_text,
                ),
                _Events(
                    ty=T["live_gift"], ms=g_ms, actor=who[gi], live=live_id[sess[gi]], gift=g_val
                ),
            ]
        )

    # -- output ----------------------------------------------------------------------------------

    def _emit(self, boundary: int, final: bool = False) -> None:
        """Write the pending events before ``boundary`` (in time order) once there are enough."""
        pend = self.pending
        if not len(pend) or (len(pend) < EMIT_MIN_EVENTS and not final):
            return
        order = np.argsort(pend.ms, kind="stable")
        k = int(np.searchsorted(pend.ms[order], boundary, side="left"))
        if k == 0 or (k < EMIT_MIN_EVENTS and not final):
            return
        out = pend.take(order[:k])
        self.pending = pend.take(order[k:])
        self._write_events(out)

    def _write_events(self, ev: _Events) -> None:
        n = len(ev)
        off = self.offsets.at(self.tz_all[ev.actor], ev.ms).astype(np.int16)
        text = self.text_pool.take(_nullable(ev.text))
        pref = self.actor_ids.take(_nullable(ev.tprefix))
        text = pc.coalesce(pc.binary_join_element_wise("@", pref, " ", text, ""), text)
        tbl = pa.table(
            {
                "eid": np.arange(self.n_events + 1, self.n_events + n + 1, dtype=np.int64),
                "ty": ev.ty,
                "ms": ev.ms,
                "off": off,
                "ep": self.rng_ts.random(n) < P_EPOCH_MS,
                "actor_id": self.actor_ids.take(pa.array(ev.actor)),
                "video": ev.video,
                "watched_ms": _nullable(ev.watched),
                "source": ev.source,
                "comment": ev.comment,
                "text": text,
                "reply": ev.reply,
                "channel": ev.channel,
                "target_id": self.actor_ids.take(_nullable(ev.target)),
                "new_video": ev.new_video,
                "live": ev.live,
                "gift_value": _nullable(ev.gift),
            }
        )
        self.n_events += n
        self.ev_writer.write_query(self._event_sql, {"__ev": tbl})

    def _event_sql_text(self) -> str:
        return f"""
        SELECT
            'e{self.seed}-' || eid AS event_id,
            {_sql_list(EVENT_TYPES)}[ty + 1] AS type,
            CASE WHEN ep THEN CAST(ms AS VARCHAR) ELSE {_rfc3339_sql("ms", "off", True)} END AS ts,
            ep AS _epoch,
            actor_id,
            {_id_sql("video", "v")} AS video_id,
            watched_ms,
            {_enum_sql("source", TRAFFIC_SOURCES)} AS source,
            {_id_sql("comment", "cm")} AS comment_id,
            text,
            {_id_sql("reply", "cm")} AS reply_to,
            {_enum_sql("channel", SHARE_CHANNELS)} AS channel,
            target_id,
            {_id_sql("new_video", "v")} AS new_video_id,
            {_id_sql("live", "l")} AS live_id,
            gift_value
        FROM __ev
        """

    def _write_accounts(self, out_dir: Path, fmt: str) -> Path:
        n = self.n_acc
        tbl = pa.table(
            {
                "account_id": self.actor_ids.slice(0, n),
                "kind": self.kind.astype(np.int8),
                "is_private": self.private,
                "birth_year": _nullable(self.birth),
                "gender": self.gender,
                "country": pa.array(geo.COUNTRY_CODES).take(_nullable(self.country)),
                "city": pa.array(geo.CITIES).take(_nullable(self.city)),
                "language": pa.array(geo.LANGUAGES).take(_nullable(self.lang)),
                "timezone": pa.array(geo.TIMEZONES).take(_nullable(self.tz_raw)),
                "analytics_opt_out": self.opt_out,
                "ms": self.created,
                "off": self.offsets.at(self.tz_all[:n], self.created).astype(np.int16),
            }
        )
        sql = f"""
        SELECT account_id, {_sql_list(ACCOUNT_KINDS)}[kind + 1] AS kind, is_private, birth_year,
            {_enum_sql("gender", GENDERS)} AS gender, country, city, language, timezone,
            analytics_opt_out, {_rfc3339_sql("ms", "off", False)} AS created_at
        FROM __t
        """
        path = out_dir / f"accounts.{fmt}"
        self._write_once(path, fmt, ACCOUNT_SCHEMA, tbl, sql, safe=_SAFE_ACCOUNT)
        return path

    def _write_videos(self, out_dir: Path, fmt: str) -> Path:
        mention_ids = [None if m < 0 else f"c{m + 1}" for m in self.v_mention.tolist()]
        captions, tags = texts.video_texts(self.rng, self.v_cat, mention_ids)
        self._helping_tags(tags)
        tbl = pa.table(
            {
                "video": np.arange(self.nv, dtype=np.int64),
                "creator_id": self.actor_ids.take(pa.array(self.v_creator)),
                "ms": self.v_posted,
                "off": self.offsets.at(self.tz_all[self.v_creator], self.v_posted).astype(np.int16),
                "duration_ms": self.v_dur,
                "caption": pa.array(captions, pa.string()),
                "hashtags": pa.array(tags, pa.list_(pa.string())),
                "sound": self.v_sound,
                "category": pa.array(texts.CATEGORIES).take(_nullable(self.v_cat)),
            }
        )
        sql = f"""
        SELECT {_id_sql("video", "v")} AS video_id, creator_id,
            {_rfc3339_sql("ms", "off", False)} AS posted_at, duration_ms, caption, hashtags,
            {_id_sql("sound", "s")} AS sound_id, category
        FROM __t
        """
        path = out_dir / f"videos.{fmt}"
        self._write_once(path, fmt, VIDEO_SCHEMA, tbl, sql, safe=_SAFE_VIDEO)
        return path

    def _helping_tags(self, tags: list[list[str]]) -> None:
        """Videos with their category's helping hashtag reach more (views are drawn after
        the videos are written, from the classes' weights)."""
        helping = {t[HELPING_TAG] for t in texts.CATEGORY_TAGS.values()}
        boost = np.array([HELPING_TAG_APPEAL if helping & set(t) else 1.0 for t in tags])
        self.v_base = self.v_base * boost
        self.cls_w0 = [w * boost[v] for w, v in zip(self.cls_w0, self.cls_videos, strict=True)]

    def _write_once(self, path, fmt, schema, tbl, sql, safe) -> None:
        w = EntityWriter(self.con, path, fmt, schema, safe=safe)
        try:
            w.write_query(sql, {"__t": tbl})
        finally:
            w.close()

    # -- orchestration ---------------------------------------------------------------------------

    def run(self, out_dir: Path, fmt: str, con: duckdb.DuckDBPyConnection) -> GeneratedPlatform:
        rng = self.rng
        self.con = con
        self.make_accounts()
        lo = int(self.created.min()) if self.n_acc else self.start_ms
        lo = min(lo, self.start_ms - (BACK_CATALOGUE_DAYS + 2) * DAY_MS)
        self.offsets = geo.OffsetTable.build(lo, END_MS + 2 * DAY_MS)
        self.actor_ids = pa.array(
            [f"c{i + 1}" for i in range(self.C)]
            + [f"u{i + 1}" for i in range(self.V)]
            + [f"dev-{i + 1}" for i in range(self.n_dev)],
            pa.string(),
        )
        acc_path = self._write_accounts(out_dir, fmt)
        self.progress("accounts", self.n_acc, self.n_acc)

        self.make_videos()
        vid_path = self._write_videos(out_dir, fmt)
        self.progress("videos", self.nv, self.nv)

        # Text pools: comments (by tone) then live chat.
        comments, self.tone_starts = texts.comment_pool(rng)
        self.per_tone = self.tone_starts[1] - self.tone_starts[0]
        live = texts.live_pool(rng)
        self.live_text0, self.n_live_texts = len(comments), len(live)
        self.text_pool = pa.array(comments + live, pa.string())

        self.p_src_logged = _probs(_SOURCE_P_LOGGED, TRAFFIC_SOURCES)
        self.p_src_device = _probs(_SOURCE_P_DEVICE, TRAFFIC_SOURCES)
        base = _probs(_CHANNEL_P, SHARE_CHANNELS)
        rows = []
        for code in (*geo.COUNTRY_CODES, None):  # last row: unknown country (index -1)
            w = base.copy()
            for ch, mult in geo.COUNTRY_CHANNEL_BOOST.get(code, {}).items():
                w[SHARE_CHANNELS.index(ch)] *= mult
            rows.append(np.cumsum(w) / w.sum())
        self.channel_cum = np.array(rows)

        # Some creators go LIVE (bigger ones more often); hosting LIVE is for adults only.
        live_creator = rng.random(self.C) < LIVE_CREATOR_SHARE * np.minimum(
            1.5, 0.6 + 0.15 * np.log(self.size)
        )
        live_creator &= ~self.minor[: self.C]
        self.live_rate = np.where(live_creator, _lognormal(rng, 1.6, 0.6, self.C), 0.0)
        reach = self.size**0.6
        self.reach = reach / reach.mean()
        self.scale = self._scale_for_target()

        self.liked = _KeySet()
        self.followed = _KeySet()
        self.last_comment = np.full(self.nv, -1, np.int64)
        self.last_comment_ms = np.full(self.nv, -1, np.int64)
        self.next_comment = 1
        self.next_live = 1
        self.n_events = 0
        self.pending = _Events.concat(
            [self.video_events.take(np.flatnonzero(self.video_events.ms < END_MS))]
        )
        self._event_sql = self._event_sql_text()
        ev_path = out_dir / f"events.{fmt}"
        self.ev_writer = EntityWriter(
            con,
            ev_path,
            fmt,
            EVENT_SCHEMA,
            safe=_SAFE_EVENT,
            raw={"ts": "CASE WHEN _epoch THEN ts ELSE '\"' || ts || '\"' END"},
        )
        try:
            self._run_days()
        finally:
            self.ev_writer.close()
        return GeneratedPlatform(
            accounts=acc_path,
            videos=vid_path,
            events=ev_path,
            n_accounts=self.n_acc,
            n_videos=self.nv,
            n_events=self.n_events,
        )

    def _run_days(self) -> None:
        rng = self.rng
        n_tz = len(geo.TIMEZONES)
        max_off_ms = self.offsets.max_offset_min * MIN_MS
        rate = self.base_rate * self.scale * self.act_all
        first_dow = (END - self.D * ONE_DAY).weekday()
        local_days = range(-1, self.D + 1)
        for step, d in enumerate(local_days):
            dow = (first_dow + d) % 7
            noon = self.start_ms + d * DAY_MS + 12 * HOUR_MS
            off_day = self.offsets.at(np.arange(n_tz), np.full(n_tz, noon))
            self.pending = _Events.concat([self.pending, self._lives(d, off_day)])
            counts = rng.poisson(rate * _DOW_LIFT[dow])
            actor = np.repeat(np.arange(len(rate), dtype=np.int32), counts)
            hours = _HOURS_WEEKEND if dow >= 5 else _HOURS_WEEKDAY
            tod = _pick(rng, hours, len(actor)) * HOUR_MS + rng.integers(0, HOUR_MS, len(actor))
            ms = self.start_ms + d * DAY_MS - off_day[self.tz_all[actor]] * MIN_MS + tod
            inside = (ms >= self.start_ms) & (ms < END_MS)
            actor, ms = actor[inside], ms[inside]
            order = np.argsort(ms, kind="stable")
            actor, ms = actor[order], ms[order]
            day_floor = self.start_ms + (d + 1) * DAY_MS - max_off_ms
            for a in range(0, max(len(ms), 1), CHUNK_VIEWS):
                b = min(a + CHUNK_VIEWS, len(ms))
                new = _Events.concat(self._views(actor[a:b], ms[a:b]))
                new = new.take(np.flatnonzero(new.ms < END_MS))
                self.pending = _Events.concat([self.pending, new])
                boundary = day_floor if b >= len(ms) else min(day_floor, int(ms[b]))
                self._emit(boundary)
            self.progress("events", step + 1, len(local_days))
        self._emit(END_MS, final=True)
