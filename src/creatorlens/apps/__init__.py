"""Third-party apps: registered by the operator, granted scopes by a creator (OAuth 2 with
PKCE, on Authlib), answered with aggregates carrying differential-privacy noise within a
monthly budget (docs/apps.md).

`router` holds the consent page, the token endpoint, the app API and the creator's grant
routes; `grants_of(request, creator_id)` lists a creator's grants for a settings page.
"""

from fastapi import APIRouter

from creatorlens.apps import api, consent
from creatorlens.apps.api import grants_of
from creatorlens.apps.scopes import NEVER_GRANTED, SCOPE_TEXT

router = APIRouter()
router.include_router(consent.router)
router.include_router(api.router)

__all__ = ["NEVER_GRANTED", "SCOPE_TEXT", "grants_of", "router"]
