"""The HTTP service: the event collector, the creator API and operations, on one process.

`create_app(ServiceConfig(db=...))` is the ASGI app; `run` serves it with uvicorn.
"""

from __future__ import annotations

import socket

from creatorlens.errors import UserError
from creatorlens.serve.app import Service, ServiceConfig, create_app

__all__ = ["ServiceConfig", "check_port", "create_app", "run"]


def check_port(host: str, port: int) -> None:
    """Refuse, in one line, an address this process cannot listen on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def run(config: ServiceConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM stop it cleanly: the writer stores what
    is queued and the store is closed)."""
    import uvicorn

    from creatorlens.serve.operations import logging_config

    check_port(host, port)
    service = Service(config)
    service.open()
    uvicorn.run(
        create_app(service=service),
        host=host,
        port=port,
        log_config=logging_config(),
        access_log=False,
        server_header=False,
    )
