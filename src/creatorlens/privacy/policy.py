"""The privacy policy: every threshold the privacy layer applies, as one value read from config.

Following OpenDP's lesson, the rules are not `if`s scattered through queries: they are the
fields of one frozen `PrivacyPolicy`, validated once, loaded from TOML, printed and tested.
A policy that would weaken a guarantee (k_min below 2, noise too small to hide one person,
a threshold that lets a mostly-minor population through) cannot be constructed at all.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from creatorlens.errors import UserError
from creatorlens.store.ages import AGE_BUCKETS as AGE_BUCKETS
from creatorlens.store.ages import MINOR_BUCKET as MINOR_BUCKET

# Age buckets of DESIGN.md. A minor (13-17) may appear only in MINOR_BUCKET: a finer or
# younger under-18 label would single out children and is treated as a bug, never shown.
# The buckets and the bucketing rule are the store's (written once, in store.ages).
UNKNOWN = "unknown"

# Attributes of a person: a breakdown or filter on any of them exposes a population.
PERSON_ATTRIBUTES = ("age", "gender", "country", "city", "language", "device")

ANALYTICS_KINDS = ("creator", "business")

# A protected count never strays more than NOISE_BOUND_SCALES noise scales from the truth;
# thresholds are compared against the protected count plus this bound (see noise_bound).
NOISE_BOUND_SCALES = 4

# The longest a LIVE's viewers may stay named after its last event (idle timeout, retention).
MAX_LIVE_KEEP_S = 86_400


class PolicyError(UserError):
    """A privacy policy value that is unknown, mistyped or unsafe, naming the key."""


class AnalyticsAccountError(UserError):
    """Analytics were asked for an account that is not a creator or business account."""

    def __init__(self, account_id: str, kind: str):
        self.account_id = account_id
        self.kind = kind
        super().__init__(
            f"account {account_id} is a {kind} account: analytics need a creator or "
            "business account. Switch it to a creator or business account in the app's "
            "account settings, then ask again."
        )


@dataclass(frozen=True, slots=True)
class PrivacyPolicy:
    """Who may see what: the thresholds, limits and noise applied to everything shown.

    Defaults follow the large platforms (k_min as TikTok and Instagram, top_n as Instagram,
    cell_min and "other" as YouTube, the 3-second view as TikTok); see docs/privacy.md.
    """

    # A breakdown by a person's attribute, or any filtered population, needs this many
    # people (TikTok and Instagram show demographics from 100 followers).
    k_min: int = 100
    # One breakdown row needs this many people; smaller rows merge into "other".
    cell_min: int = 10
    # At most this many rows per breakdown, by people (Instagram shows top 45).
    top_n: int = 45
    # A population whose minors (13-17) exceed this share is withheld entirely.
    minor_majority: float = 0.5
    # Windows crossed with person attributes are whole local days, at least this many.
    min_window_days: int = 1
    # Scale of the consistent discrete-Laplace noise on every count a breakdown shows
    # (per person for measures); 2 means one person moves a count's odds by at most e^0.5.
    noise_scale: float = 2.0
    # A play is a view once at least this much was watched (TikTok's 3 seconds).
    view_threshold_ms: int = 3_000
    # A LIVE that never sent live_end has ended once nothing came for this long (seconds).
    live_idle_timeout_s: int = 900
    # How long a LIVE's named room list is kept after the LIVE ends (0: deleted at the end).
    live_room_retention_s: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name), self)

    @property
    def noise_bound(self) -> int:
        """The most a protected count differs from the truth (per person for measures).

        Thresholds demand `protected >= floor + noise_bound`, which implies the true count is
        at least `floor`: the floor is never crossed, yet whether a count near it clears is
        decided by noise, not by one person's presence.
        """
        return math.ceil(NOISE_BOUND_SCALES * self.noise_scale)


def _int(name: str, value: Any, low: int, why: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{name} = {value!r}: must be an integer")
    if value < low:
        raise PolicyError(f"{name} = {value!r} is unsafe: must be at least {low} ({why})")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicyError(f"{name} = {value!r}: must be a number")
    return float(value)


def _check(name: str, value: Any, policy: PrivacyPolicy) -> None:
    """Refuse a field value that is mistyped or would weaken a guarantee."""
    if name == "k_min":
        _int(name, value, 2, "a population of one person is that person")
    elif name == "cell_min":
        _int(name, value, 2, "a row of one person names that person's attribute")
        if isinstance(policy.k_min, int) and value > policy.k_min:
            raise PolicyError(f"cell_min = {value} must not exceed k_min = {policy.k_min}")
    elif name == "top_n":
        _int(name, value, 1, "a breakdown shows at least one row")
    elif name == "minor_majority":
        share = _number(name, value)
        if not 0 < share <= 0.5:
            raise PolicyError(
                f"minor_majority = {value!r} is unsafe: must be above 0 and at most 0.5 "
                "(a population made mostly of minors is always withheld)"
            )
    elif name == "min_window_days":
        _int(name, value, 1, "windows crossed with person attributes are whole days")
    elif name == "noise_scale":
        scale = _number(name, value)
        if not 1.0 <= scale <= 1_000.0:
            raise PolicyError(
                f"noise_scale = {value!r} is unsafe: must be between 1 and 1000 "
                "(below 1 the noise is too often zero to hide one person)"
            )
    elif name == "view_threshold_ms":
        _int(name, value, 1, "a view is a play of some length")
    elif name == "live_idle_timeout_s":
        _int(name, value, 1, "a LIVE is idle after some time without events")
        if value > MAX_LIVE_KEEP_S:
            raise PolicyError(
                f"{name} = {value!r} is unsafe: at most {MAX_LIVE_KEEP_S} (a day), so a "
                "LIVE that never ended does not keep its viewers named"
            )
    elif name == "live_room_retention_s":
        _int(name, value, 0, "a retention is a length of time")
        if value > MAX_LIVE_KEEP_S:
            raise PolicyError(
                f"{name} = {value!r} is unsafe: at most {MAX_LIVE_KEEP_S} (a day); LIVE "
                "presence is visible while the LIVE runs, not kept"
            )


DEFAULT_POLICY = PrivacyPolicy()


def load_policy(path: str | Path | None = None) -> PrivacyPolicy:
    """The policy in a TOML file (its `[privacy]` table, else the whole file), or the defaults.

    Keys not named are the safe defaults; an unknown key is refused rather than ignored, so
    a misspelt `kmin = 500` cannot silently leave the threshold at its default.
    """
    if path is None:
        return DEFAULT_POLICY
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text())
    except OSError as e:
        raise PolicyError(f"{path}: cannot read the privacy policy ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{path}: not valid TOML ({e})") from None
    table = document.get("privacy", document)
    prefix = "privacy." if "privacy" in document else ""
    if not isinstance(table, dict):
        raise PolicyError(f"{path}: privacy must be a table")
    known = {f.name for f in fields(PrivacyPolicy)}
    for key in table:
        if key not in known:
            raise PolicyError(
                f"{path}: unknown key {prefix}{key} (known: {', '.join(sorted(known))})"
            )
    try:
        return PrivacyPolicy(**table)
    except PolicyError as e:
        raise PolicyError(f"{path}: {prefix}{e}") from None


def require_analytics_account(kind: str, account_id: str) -> None:
    """Refuse analytics for anything but a creator or business account (as TikTok's Pro)."""
    if kind not in ANALYTICS_KINDS:
        raise AnalyticsAccountError(account_id, kind)
