"""Privacy: the one choke point every number leaving creatorlens passes through.

`PrivacyPolicy` holds the rules as a value; `suppression` applies them to breakdowns,
filters and windows with consistent noise; `likers` decides who may be named.
"""

from creatorlens.privacy.likers import Likers, is_public_actor, visible_likers
from creatorlens.privacy.policy import (
    AGE_BUCKETS,
    DEFAULT_POLICY,
    MINOR_BUCKET,
    PERSON_ATTRIBUTES,
    UNKNOWN,
    AnalyticsAccountError,
    PolicyError,
    PrivacyPolicy,
    load_policy,
    require_analytics_account,
)
from creatorlens.privacy.suppression import (
    Breakdown,
    Cell,
    Reason,
    Refusal,
    Row,
    Tally,
    UnsafeBreakdownError,
    Window,
    Withheld,
    check_filters,
    check_window,
    digest,
    protect_count,
    suppress_breakdown,
)

__all__ = [
    "AGE_BUCKETS",
    "DEFAULT_POLICY",
    "MINOR_BUCKET",
    "PERSON_ATTRIBUTES",
    "UNKNOWN",
    "AnalyticsAccountError",
    "Breakdown",
    "Cell",
    "Likers",
    "PolicyError",
    "PrivacyPolicy",
    "Reason",
    "Refusal",
    "Row",
    "Tally",
    "UnsafeBreakdownError",
    "Window",
    "Withheld",
    "check_filters",
    "check_window",
    "digest",
    "is_public_actor",
    "load_policy",
    "protect_count",
    "require_analytics_account",
    "suppress_breakdown",
    "visible_likers",
]
