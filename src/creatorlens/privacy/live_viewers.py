"""Who in a LIVE's room the host may see by name.

LIVE presence is a visible act while the LIVE runs (DESIGN.md, "Privacy classes"), but a
viewer whose account is private, or who opted out of analytics, is counted and shown as
"a private viewer", never named; so is an account the store does not know. The rule reads
the accounts' settings in force now, so a viewer who turns private mid-LIVE stops being
named at once.
"""

from __future__ import annotations

from typing import Any

PRIVATE_VIEWER = "a private viewer"

# Accounts among `$accounts` that are public and have not opted out of analytics.
_NAMED_VIEWERS = """
SELECT account_id FROM accounts
WHERE account_id IN (SELECT unnest($accounts::VARCHAR[]))
  AND NOT is_private AND NOT analytics_opt_out
"""


def named_viewers(con: Any, account_ids: list[str]) -> set[str]:
    """Which of the room's accounts may be named to the host."""
    if not account_ids:
        return set()
    return {a for (a,) in con.execute(_NAMED_VIEWERS, {"accounts": account_ids}).fetchall()}
