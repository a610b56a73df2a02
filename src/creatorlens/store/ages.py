"""Age buckets: the one rule turning an age in years into the bucket anyone is shown.

A minor (under 18) is always 13-17, never a finer or younger label; ingest buckets an
actor's age at the event's time, the follower panels a follower's age at a period's end.
"""

from __future__ import annotations

AGE_BUCKETS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55+")
MINOR_BUCKET = "13-17"
# The lowest age of each bucket above the minors', in order.
_BOUNDS = ((18, "13-17"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"))


def age_bucket_sql(age: str) -> str:
    """SQL giving the bucket of the age (in whole years) that expression `age` computes."""
    cases = "\n     ".join(f"WHEN {age} < {low} THEN '{bucket}'" for low, bucket in _BOUNDS)
    return f"CASE WHEN {age} IS NULL THEN NULL\n     {cases}\n     ELSE '55+' END"
