"""``python -m app.serve``: the connections an API process accepts have TCP_NODELAY, also when
``--workers N`` hands one listening socket to N spawned processes (uvicorn binds that socket
with protocol 0, and asyncio then leaves Nagle's algorithm on: ~40 ms per keep-alive answer)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path

from app.serve import TcpConfig

ROOT = Path(__file__).resolve().parents[2]


def _nodelay_of_first_connection(sock: socket.socket) -> int:
    """Serve ``sock`` as uvicorn's processes do (``loop.create_server(sock=...)``) and report
    TCP_NODELAY of the first connection accepted."""

    async def run() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            option = writer.get_extra_info("socket").getsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY
            )
            accepted.set_result(option)
            writer.close()

        server = await asyncio.start_server(connected, sock=sock)
        async with server:
            host, port = sock.getsockname()[:2]
            _, writer = await asyncio.open_connection(host, port)
            result = await asyncio.wait_for(accepted, 10)
            writer.close()
            return result

    return asyncio.run(run())


def _child(sock: socket.socket, answer: Connection) -> None:
    answer.send(_nodelay_of_first_connection(sock))


def _bound(workers: int) -> socket.socket:
    return TcpConfig("app.main:create_app", host="127.0.0.1", port=0, workers=workers).bind_socket()


def test_the_listening_socket_says_it_is_tcp() -> None:
    with _bound(2) as sock:
        assert sock.family == socket.AF_INET
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.get_inheritable(), "the worker processes inherit it"


def test_a_connection_accepted_in_this_process_has_nodelay() -> None:
    with _bound(1) as sock:
        assert _nodelay_of_first_connection(sock) == 1


def test_a_connection_accepted_by_a_spawned_worker_process_has_nodelay() -> None:
    """The socket travels to the process as uvicorn's supervisor sends it (spawn, pickled)."""
    spawn = multiprocessing.get_context("spawn")
    receiving, answer = spawn.Pipe(duplex=False)
    with _bound(2) as sock:
        child = spawn.Process(target=_child, args=(sock, answer))
        child.start()
        try:
            assert receiving.poll(60), "the worker process did not answer"
            assert receiving.recv() == 1
        finally:
            child.join(30)
    assert child.exitcode == 0


def _serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOGDAWG_")} | env
    return subprocess.run(
        [sys.executable, "-m", "app.serve", *args],
        capture_output=True, text=True, env=environment, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip


def test_bad_settings_and_arguments_exit_with_a_message_before_binding() -> None:
    bad_setting = _serve(LOGDAWG_API_WORKERS="0")
    assert bad_setting.returncode == 1
    assert "api_workers" in bad_setting.stderr and "Traceback" not in bad_setting.stderr
    bad_argument = _serve("--workers", "0")
    assert bad_argument.returncode == 2
    assert "--workers must be at least 1" in bad_argument.stderr
