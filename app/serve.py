"""``python -m app.serve``: the API server, in one process or in LOGDAWG_API_WORKERS processes
sharing one port. ``logdawg up`` and the API image start it.

It is uvicorn, with one thing mended. With ``--workers N`` uvicorn binds the port itself and
hands the socket to its processes, but binds it with protocol 0
(https://github.com/Kludex/uvicorn/issues/3149, open against the pinned 0.54.0). The
connections it accepts then report protocol 0 too, and asyncio turns ``TCP_NODELAY`` on only
for a connection that reports TCP. So Nagle's algorithm stays on, and every answer after the
first on a keep-alive connection waits ~40 ms for the client's delayed ACK: 32 clients got
~700 requests/s from two processes where one process answered 1,400.
"""

from __future__ import annotations

import argparse
import socket

import uvicorn
from pydantic import ValidationError
from uvicorn.supervisors import Multiprocess

from app.settings import Settings

APP = "app.main:create_app"


class TcpConfig(uvicorn.Config):
    """uvicorn's configuration, whose bound socket says it is TCP."""

    def bind_socket(self) -> socket.socket:
        return tcp_listener(super().bind_socket())


def tcp_listener(sock: socket.socket) -> socket.socket:
    """The same listening socket, re-wrapped so that it and the connections it accepts carry
    ``IPPROTO_TCP`` (Python reads the protocol back from the descriptor)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto != 0:
        return sock
    tcp = socket.socket(fileno=sock.detach())
    tcp.set_inheritable(True)  # the worker processes inherit it
    return tcp


def run(cfg: TcpConfig) -> None:
    """As ``uvicorn.run`` runs a configuration, with ``TcpConfig``'s socket."""
    if cfg.workers > 1:
        Multiprocess(cfg, sockets=[cfg.bind_socket()]).run()
        return
    server = uvicorn.Server(cfg)
    server.run()
    if not server.started:
        raise SystemExit(3)  # uvicorn's own exit code for a server that did not start


def main(argv: list[str] | None = None) -> None:
    try:
        settings = Settings()
    except ValidationError as exc:
        raise SystemExit(f"python -m app.serve: error: {exc}") from None
    parser = argparse.ArgumentParser(prog="python -m app.serve", description=__doc__)
    parser.add_argument("--host", default=settings.api_host)
    parser.add_argument("--port", type=int, default=settings.api_port)
    parser.add_argument(
        "--workers", type=int, default=settings.api_workers, help="LOGDAWG_API_WORKERS"
    )
    parser.add_argument("--no-access-log", dest="access_log", action="store_false")
    # Another ASGI app served the same way: the benchmarks' bare endpoint.
    parser.add_argument("--app", default=APP, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    # uvicorn's defaults otherwise (X-Forwarded-* trusted from FORWARDED_ALLOW_IPS only,
    # 127.0.0.1 unless set), but no "Server: uvicorn": answers need not name their software.
    run(
        TcpConfig(
            args.app,
            factory=args.app == APP,
            host=args.host,
            port=args.port,
            workers=args.workers,
            access_log=args.access_log,
            server_header=False,
        )
    )


if __name__ == "__main__":
    main()
