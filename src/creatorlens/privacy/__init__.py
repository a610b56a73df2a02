"""Privacy: the release stage every number leaving creatorlens passes through.

`PrivacyPolicy` holds the rules as a value; `release(raw, policy, audience, secret=...)` is
the one function turning a raw answer of the query floor into what an audience may see
(`suppression` and `rules` are the rules it applies, `likers` who may be named, `dp` the
differential privacy of third-party apps).
"""

from creatorlens.privacy.dp import App, AppAnswer, DPPolicy, ScopeMissing, load_dp_policy
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
from creatorlens.privacy.release import (
    Audience,
    Creator,
    NotForAudience,
    Operator,
    PublicCard,
    release,
)
from creatorlens.privacy.result import QueryResult
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
    "App",
    "AppAnswer",
    "Audience",
    "Breakdown",
    "Cell",
    "Creator",
    "DPPolicy",
    "Likers",
    "NotForAudience",
    "Operator",
    "PolicyError",
    "PrivacyPolicy",
    "PublicCard",
    "QueryResult",
    "Reason",
    "Refusal",
    "Row",
    "ScopeMissing",
    "Tally",
    "UnsafeBreakdownError",
    "Window",
    "Withheld",
    "check_window",
    "digest",
    "is_public_actor",
    "load_dp_policy",
    "load_policy",
    "protect_count",
    "release",
    "require_analytics_account",
    "suppress_breakdown",
    "visible_likers",
]
