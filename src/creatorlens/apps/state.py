"""What the app routes share on a running service: the app register, the store's app
tables, Authlib's server, the differential-privacy policy and this process's signing key."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from fastapi import Request

from creatorlens.apps.oauth import AppRegister, Server
from creatorlens.load import AppLedger
from creatorlens.privacy import DPPolicy, load_dp_policy

_LOCK = threading.Lock()


@dataclass
class AppsState:
    register: AppRegister
    ledger: AppLedger
    server: Server
    dp: DPPolicy
    # Signs the consent page's CSRF tokens and sessions; new with each process, so a
    # restart signs every creator out of the page, nothing more.
    signing: bytes


def apps_state(request: Request) -> AppsState:
    """The service's app state, made on first use."""
    service = request.app.state.service
    state = getattr(service, "apps", None)
    if state is None:
        with _LOCK:
            state = getattr(service, "apps", None)
            if state is None:
                register = AppRegister(service.config.db)
                ledger = AppLedger(service.store)
                state = AppsState(
                    register,
                    ledger,
                    Server(register, ledger),
                    load_dp_policy(service.config.policy),
                    secrets.token_bytes(32),
                )
                service.apps = state
    return state
