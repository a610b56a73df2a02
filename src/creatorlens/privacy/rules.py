"""The rules a question filtered by a person's attribute must pass before anything is shown.

A filter is a breakdown by other means: `country is [US, IS]` minus `country is [US]` is
the Iceland row. So a filter obeys what a breakdown does, on each side of any difference a
creator can form from it:

- every value a person filter names (after duplicates are dropped), among the rows the
  other filters select, is a population of at least k_min (protected): adding or removing
  one value from a list can only move a k_min population, and a value nobody has (a junk
  value, added to reword a question) is refused rather than answered;
- what each person filter leaves out of the rows the other filters select (the values not
  named, unknown values and opted-out viewers alike) is at least k_min too: the unfiltered
  total minus a filtered one can only be a crowd;
- the filtered population is at least k_min, and not mostly minors; a filter whose ages,
  all age filters taken together, leave only 13-17 is refused whatever its size.

Each test is on a protected count with the noise bound as a margin, as in
`suppress_breakdown`, so whether a value near the threshold passes is decided by noise.
"""

from __future__ import annotations

from collections.abc import Sequence

from creatorlens.privacy.policy import AGE_BUCKETS, MINOR_BUCKET, UNKNOWN, PrivacyPolicy
from creatorlens.privacy.suppression import Reason, Refusal, clears, digest, protect_count
from creatorlens.query.metrics import DIMENSIONS
from creatorlens.query.model import Filter
from creatorlens.query.raw import PersonFacts


def protect(value: int, key: bytes, policy: PrivacyPolicy, secret: bytes, unit: int = 1) -> int:
    """`protect_count` under this key, policy and secret."""
    return protect_count(int(value), cell_key=key, policy=policy, secret=secret, unit=unit)


def allowed_ages(filters: Sequence[Filter]) -> set[str]:
    """The age buckets (and unknown) every age filter of a question lets through."""
    ages = {*AGE_BUCKETS, UNKNOWN}
    for f in filters:
        if f.dimension == "age":
            ages = ages & set(f.values) if f.op == "is" else ages - set(f.values)
    return ages


def check_person_filters(
    filters: Sequence[Filter],
    facts: PersonFacts,
    *,
    policy: PrivacyPolicy,
    secret: bytes,
    scope: bytes,
) -> Refusal | None:
    """Refuse a question whose person filters could single someone out (see the module)."""
    person = [(i, f) for i, f in enumerate(filters) if DIMENSIONS[f.dimension].person]
    if not person:
        return None
    names = tuple(sorted({f.dimension for _, f in person}))
    ages = allowed_ages(filters)
    if ages - {UNKNOWN} <= {MINOR_BUCKET}:
        return Refusal(
            Reason.FILTER_ON_MINORS, ("age",), "a population made only of minors is withheld"
        )

    def small(count: int, *key: object) -> bool:
        return not clears(protect(count, digest(scope, *key), policy, secret), policy.k_min, policy)

    if small(facts.population, "population"):
        return Refusal(
            Reason.FILTERED_POPULATION_BELOW_K_MIN,
            names,
            f"filtering on {', '.join(names)} leaves too few people (k_min = {policy.k_min})",
        )
    minors = protect(facts.minors, digest(scope, "minors"), policy, secret)
    if minors + policy.noise_bound > policy.minor_majority * facts.population:
        return Refusal(Reason.MOSTLY_MINORS, ("age",), "the filtered population is mostly minors")
    for i, dimension, value, people in facts.named:
        if small(people, "named", i, value):
            return Refusal(
                Reason.FILTER_VALUE_BELOW_K_MIN,
                (dimension,),
                f"a {dimension} the filter names has too few people to be told apart "
                f"(each needs k_min = {policy.k_min})",
            )
    for i, dimension, people in facts.left_out:
        if small(people, "left out", i):
            return Refusal(
                Reason.FILTER_LEAVES_OUT_TOO_FEW,
                (dimension,),
                f"the {dimension} filter leaves out too few people: the total minus this "
                f"answer would describe them (k_min = {policy.k_min})",
            )
    return None
