"""Start and stop the embedded reference server as a child process.

The suite and the reference server are independent implementations that meet only over the
network, so the server is never imported: it runs as ``python -m conformance.reference serve``,
picks free ports itself (``--port 0``) and announces its URLs and test accounts in one JSON line
on stdout. This module waits for that line with a deadline, keeps stderr for error messages, and
stops the child (SIGKILL: it holds nothing to save) however the run ends. ``prestart`` starts it
ahead of need (the CLI, before importing pytest); ``start_embedded`` adopts that child.

Use ``with embedded_server(heartbeat_s=1) as server: ...`` or ``start_embedded``/``stop``.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import conformance
from conformance.errors import SetupError

__all__ = [
    "EmbeddedAccount",
    "EmbeddedError",
    "EmbeddedServer",
    "discard_prestarted",
    "embedded_server",
    "prestart",
    "reference_command",
    "server_options",
    "start_embedded",
]

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_STDERR_TAIL = 4000


class EmbeddedError(SetupError):
    """The reference server could not be started (message carries its stderr tail)."""


@dataclass(frozen=True)
class EmbeddedAccount:
    id: str
    acct: str
    token: str


@dataclass
class EmbeddedServer:
    """A running reference server: what its startup line said, plus the process handle."""

    url: str
    streaming_url: str
    accounts: list[EmbeddedAccount]
    lists: list[dict[str, Any]]
    process: subprocess.Popen[bytes] = field(repr=False)
    _stderr: IO[bytes] = field(repr=False)

    @property
    def secrets(self) -> list[str]:
        return [account.token for account in self.accounts]

    def stderr_tail(self) -> str:
        return _read_tail(self._stderr)

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """Kill the child and reap it.

        Why not SIGTERM and a graceful close: the server holds nothing worth saving (an
        in-memory store, or a Redis bus it only publishes to), and its graceful close plus its
        interpreter's teardown cost ~0.3 s at the end of every run, on the run's critical path.
        """
        try:
            return _kill(self.process, timeout_s)
        finally:
            self._stderr.close()


def reference_command(args: Sequence[str] = ()) -> list[str]:
    """The command that runs the reference server (used by ``serve`` and by the launcher)."""
    return [sys.executable, "-m", "conformance.reference", "serve", *args]


def reference_env() -> dict[str, str]:
    """The child's environment: the package importable even when run from a checkout."""
    env = dict(os.environ)
    root = str(Path(conformance.__file__).resolve().parent.parent)
    existing = env.get("PYTHONPATH")
    env["PYTHONPATH"] = root if not existing else os.pathsep.join([root, existing])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _read_tail(handle: IO[bytes]) -> str:
    try:
        handle.flush()
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - _STDERR_TAIL))
        return handle.read().decode("utf-8", errors="replace").strip()
    except (OSError, ValueError):
        return ""


def _kill(process: subprocess.Popen[bytes], timeout_s: float) -> int | None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    return process.wait(timeout=timeout_s)


def _terminate(process: subprocess.Popen[bytes], timeout_s: float) -> int | None:
    if process.poll() is not None:
        return process.returncode
    try:
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=timeout_s)
    except ProcessLookupError:
        return process.poll()


def _read_line(process: subprocess.Popen[bytes], deadline: float) -> bytes | None:
    """Read stdout up to the first newline, or None if the child exits or the deadline passes."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    buffer = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not selector.select(timeout=min(remaining, 0.5)):
                if process.poll() is not None:
                    return None
                continue
            chunk = os.read(fd, 65536)
            if not chunk:  # stdout closed: the child is exiting; let it finish to get its status
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=max(0.1, min(5.0, deadline - time.monotonic())))
                return None
            buffer.extend(chunk)
            if b"\n" in buffer:
                return bytes(buffer.split(b"\n", 1)[0])


def _drain(stream: IO[bytes]) -> None:
    """Keep reading the child's stdout so it can never block on a full pipe."""
    try:
        while stream.read(65536):
            pass
    except (OSError, ValueError):
        pass


def _parse_startup(line: bytes) -> dict[str, Any]:
    info = json.loads(line.decode("utf-8"))
    if not isinstance(info, dict) or not isinstance(info.get("url"), str):
        raise ValueError("startup line has no url")
    return info


def _server_args(
    heartbeat_s: float | None,
    ping_interval_s: float | None,
    host: str,
    bus: str | None,
    redis_url: str | None,
    extra_args: Sequence[str],
) -> list[str]:
    args = ["--host", host, "--port", "0"]
    if heartbeat_s is not None:
        args += ["--heartbeat", f"{heartbeat_s:g}"]
    if ping_interval_s is not None:
        args += ["--ping-interval", f"{ping_interval_s:g}"]
    if bus is not None:
        args += ["--bus", bus]
    if redis_url is not None:
        args += ["--redis-url", redis_url]
    return args + list(extra_args)


@dataclass
class _Spawned:
    """A child that was started but whose startup line has not been read yet."""

    args: list[str]
    process: subprocess.Popen[bytes]
    stderr: IO[bytes]


def embedded_env(args: Sequence[str]) -> dict[str, str]:
    """``reference_env()`` for an embedded server started with ``args``.

    Why: aiohttp builds two default TLS client contexts when it is imported, loading the
    system's CA bundle (~50-70 ms of the server's ~0.3-0.4 s start, which a run waits for). An
    embedded server with no URL argument (in-memory bus, no Redis or database) opens no
    connection of its own at all, so it gets an empty CA file and skips that load. With a URL
    (a Redis over TLS may need the bundle) its environment is left as it is."""
    env = reference_env()
    if not any("://" in arg for arg in args):
        env["SSL_CERT_FILE"] = os.devnull
        env["SSL_CERT_DIR"] = os.devnull
    return env


def _spawn(args: list[str]) -> _Spawned:
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - owned by EmbeddedServer, closed in stop()
    try:
        process = subprocess.Popen(
            reference_command(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=embedded_env(args),
            start_new_session=True,  # Ctrl-C reaches us, and we stop the child in order
        )
    except OSError as exc:
        stderr.close()
        raise EmbeddedError(f"could not start the reference server: {exc}") from exc
    return _Spawned(args, process, stderr)


# At most one child started ahead of need (``prestart``), adopted by the next ``start_embedded``
# that asks for exactly the same arguments.
_prestarted: list[_Spawned] = []


def prestart(
    *,
    heartbeat_s: float | None = None,
    ping_interval_s: float | None = None,
    host: str = "127.0.0.1",
    bus: str | None = None,
    redis_url: str | None = None,
    extra_args: Sequence[str] = (),
) -> None:
    """Start the server now without waiting for it; ``start_embedded`` with the same
    arguments adopts it.

    Why: the child spends ~0.5 s of CPU importing aiohttp before it listens. The CLI calls this
    before importing pytest and collecting ~1000 cases, so on a multi-core machine the server
    is ready by the time the session needs it instead of the session waiting for it. A start
    that fails here is reported by the ``start_embedded`` that adopts it, as before. The caller
    must ``discard_prestarted()`` when the run ends (nothing adopted it: usage error, no case).
    """
    discard_prestarted()
    args = _server_args(heartbeat_s, ping_interval_s, host, bus, redis_url, extra_args)
    _prestarted.append(_spawn(args))


def discard_prestarted() -> None:
    """Stop a prestarted child nothing adopted (idempotent)."""
    while _prestarted:
        spawned = _prestarted.pop()
        try:
            _kill(spawned.process, STOP_TIMEOUT_S)
        finally:
            spawned.stderr.close()


def server_options(settings: Any) -> dict[str, Any]:
    """``start_embedded`` keyword arguments for a run's settings (``config.Settings``): one
    place, so the CLI's ``prestart`` and the run's start ask for the same server."""
    kwargs: dict[str, Any] = {
        "heartbeat_s": settings.embedded_heartbeat_s,
        "ping_interval_s": settings.embedded_ping_interval_s,
    }
    if settings.redis_url:
        kwargs.update(bus="redis", redis_url=settings.redis_url)
    return kwargs


def _adopt(args: list[str]) -> _Spawned | None:
    """The prestarted child if it was started with these arguments and is still alive."""
    if _prestarted and _prestarted[0].args == args and _prestarted[0].process.poll() is None:
        return _prestarted.pop()
    discard_prestarted()  # different arguments (or dead): never serve a run the wrong server
    return None


def start_embedded(
    *,
    heartbeat_s: float | None = None,
    ping_interval_s: float | None = None,
    host: str = "127.0.0.1",
    bus: str | None = None,
    redis_url: str | None = None,
    extra_args: Sequence[str] = (),
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> EmbeddedServer:
    """Start the reference server on free loopback ports and return once it announced itself
    (adopting the child ``prestart`` started with the same arguments, if any)."""
    args = _server_args(heartbeat_s, ping_interval_s, host, bus, redis_url, extra_args)
    spawned = _adopt(args) or _spawn(args)
    process, stderr = spawned.process, spawned.stderr

    line = _read_line(process, time.monotonic() + startup_timeout_s)
    problem: str | None = None
    info: dict[str, Any] = {}
    if line is None:
        if process.poll() is None:
            problem = f"no startup line within {startup_timeout_s:g} s"
        else:
            problem = f"exited with status {process.returncode} before announcing itself"
    else:
        try:
            info = _parse_startup(line)
        except ValueError as exc:  # includes JSONDecodeError
            problem = f"unreadable startup line ({exc})"
    if problem is not None:
        _terminate(process, STOP_TIMEOUT_S)
        tail = _read_tail(stderr)
        stderr.close()
        detail = f"\n--- reference server stderr ---\n{tail}" if tail else ""
        raise EmbeddedError(f"embedded reference server failed: {problem}{detail}")

    assert process.stdout is not None
    threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
    accounts = [
        EmbeddedAccount(id=str(a["id"]), acct=str(a.get("acct", "")), token=str(a["token"]))
        for a in info.get("accounts", [])
    ]
    return EmbeddedServer(
        url=info["url"].rstrip("/"),
        streaming_url=str(info.get("streaming_url") or info["url"]).rstrip("/"),
        accounts=accounts,
        lists=list(info.get("lists", [])),
        process=process,
        _stderr=stderr,
    )


@contextmanager
def embedded_server(**kwargs: Any) -> Iterator[EmbeddedServer]:
    """``start_embedded(**kwargs)`` as a context manager that always stops the child."""
    server = start_embedded(**kwargs)
    try:
        yield server
    finally:
        server.stop()
