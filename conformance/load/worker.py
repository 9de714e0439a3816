"""One worker process: an asyncio loop holding many lightweight subscribers (and a few samples).

The controller starts one worker per core (``multiprocessing``, spawn) and drives it over a
pipe with small commands, so that every step of a ramp is the same sequence in every process:

``hello``     answered once the process runs (spawning is not counted as connection setup)
``open``      connect this worker's share of subscribers (bounded concurrency, each with a
              deadline) and answer once every one has a response head, a refusal or a timeout
``status``    how many are connected, ready (have seen a warm-up event), measured deliveries
``measure``   the measurement window starts now (CPU and wall clock are read here)
``stop``      given the sequence numbers actually produced: the part dict (``stats.py``), then
              every connection is closed and the samples are judged
``exit``      leave (also on EOF of the pipe: a controller that died takes its workers along)

Connections are bare ``asyncio.Protocol`` objects around a sans-I/O core (``cores.py``): no task
per connection, no buffering beyond the parser's, so one core holds thousands of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import ssl
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from conformance.load.cores import Sink, SSECore, Tally, WSCore, make_core
from conformance.load.sample import SampleSet, judge_samples
from conformance.load.stats import summarize
from conformance.load.streams import StreamSpec

__all__ = ["raise_fd_limit", "worker_main"]


def raise_fd_limit() -> tuple[int, int]:
    """Raise the soft open-files limit to the hard limit (each subscriber is one descriptor)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft, hard


class _Subscriber(asyncio.Protocol):
    """The I/O side of one core: writes what the core wants sent, feeds what arrives."""

    def __init__(self, core: SSECore | WSCore) -> None:
        self.core = core
        self.transport: asyncio.Transport | None = None
        self.answered = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.core.start(time.time()))

    def data_received(self, data: bytes) -> None:
        out = self.core.feed(data, time.time())
        if out and self.transport is not None:
            self.transport.write(out)
        self._check()

    def eof_received(self) -> bool:
        self.core.eof(time.time())
        self._check()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        tally = self.core.tally
        tally.on_closed(f"connection lost: {exc!r}" if exc else "connection closed", time.time())
        if tally.status is None and tally.refused is None:
            tally.refused = "connection closed before a response"
        self._check()

    def _check(self) -> None:
        tally = self.core.tally
        if not self.answered.done() and (tally.status is not None or tally.refused is not None):
            self.answered.set_result(None)
        if tally.refused is not None and self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if isinstance(self.core, WSCore):
            goodbye = self.core.close_bytes()
            if goodbye:
                self.transport.write(goodbye)
        self.transport.close()


class Group:
    """This worker's subscribers for one step."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.sink = Sink(run_id=spec["run_id"])
        self.subscribers: list[_Subscriber] = []
        self.tallies: list[Tally] = []
        self.samples = SampleSet(
            base_url=spec["base_url"],
            token=spec.get("token"),
            heartbeat_timeout_s=float(spec["keepalive_timeout_s"]["sse"]),
            connect_timeout_s=float(spec["setup_timeout_s"]),
        )
        self.cpu0 = time.process_time()
        self.wall0 = time.monotonic()

    async def open(self) -> dict[str, Any]:
        spec = self.spec
        limit = asyncio.Semaphore(int(spec.get("concurrency", 64)))
        deadline = float(spec["setup_timeout_s"])
        jobs = [
            self._open_one(transport, StreamSpec(**stream), limit, deadline)
            for transport, stream in spec["subscribers"]
        ]
        jobs += [
            self.samples.open(f"{spec['name']}-{i}", transport, StreamSpec(**stream))
            for i, (transport, stream) in enumerate(spec.get("samples", []))
        ]
        await asyncio.gather(*jobs, return_exceptions=True)
        return self.status()

    async def _open_one(
        self, transport: str, stream: StreamSpec, limit: asyncio.Semaphore, deadline: float
    ) -> None:
        core = make_core(
            transport, self.spec["base_url"], stream, self.spec.get("token"), self.sink
        )
        self.tallies.append(core.tally)
        loop = asyncio.get_running_loop()
        async with limit:
            core.tally.started = time.time()
            try:
                tls = ssl.create_default_context() if core.tls else None
                if tls is not None and not self.spec.get("verify_tls", True):
                    tls.check_hostname = False
                    tls.verify_mode = ssl.CERT_NONE
                _, proto = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: _Subscriber(core),
                        core.host,
                        core.port,
                        ssl=tls,
                        server_hostname=core.host if tls else None,
                    ),
                    deadline,
                )
            except (OSError, TimeoutError) as exc:
                core.tally.refused = f"connect failed: {type(exc).__name__}"
                return
            self.subscribers.append(proto)
            remaining = max(0.1, deadline - (time.time() - core.tally.started))
            try:
                await asyncio.wait_for(asyncio.shield(proto.answered), remaining)
            except TimeoutError:
                core.tally.refused = f"no response head within {deadline:g} s"
                proto.close()

    def status(self) -> dict[str, Any]:
        tallies = self.tallies
        return {
            "subscribers": len(tallies),
            "connected": sum(1 for t in tallies if t.open),
            "refused": sum(1 for t in tallies if t.refused is not None),
            "ready": sum(1 for t in tallies if t.ready),
            "delivered": self.sink.measured_delivered,
            "samples": len(self.samples.recorders),
        }

    def measure(self) -> None:
        self.cpu0 = time.process_time()
        self.wall0 = time.monotonic()

    async def stop(self, produced: list[int], out_dir: str | None) -> dict[str, Any]:
        cpu_s = time.process_time() - self.cpu0
        wall_s = time.monotonic() - self.wall0
        part = summarize(
            self.tallies,
            self.sink,
            produced,
            now=time.time(),
            keepalive_timeout_s=self.spec["keepalive_timeout_s"],
            cpu_s=cpu_s,
            wall_s=wall_s,
        )
        for subscriber in self.subscribers:
            subscriber.close()
        transcripts = await self.samples.close()
        part["sample"] = judge_samples(
            transcripts, Path(out_dir) if out_dir else None, self.spec["name"]
        )
        return part


async def _serve(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def readable() -> None:
        try:
            inbox.put_nowait(conn.recv())
        except (EOFError, OSError):
            loop.remove_reader(conn.fileno())
            inbox.put_nowait(("exit", None))

    loop.add_reader(conn.fileno(), readable)
    group: Group | None = None
    while True:
        command, arg = await inbox.get()
        if command == "exit":
            if group is not None:
                with contextlib.suppress(Exception):
                    await group.stop([], None)
            return
        if command == "hello":
            conn.send(("hello", None))
        elif command == "open":
            group = Group(arg)
            conn.send(("opened", await group.open()))
        elif command == "status" and group is not None:
            conn.send(("status", group.status()))
        elif command == "measure" and group is not None:
            group.measure()
            conn.send(("measuring", None))
        elif command == "stop" and group is not None:
            part = await group.stop(list(arg["produced"]), arg.get("out_dir"))
            group = None
            conn.send(("result", part))
        else:
            conn.send(("error", f"unexpected command {command!r}"))


def worker_main(conn: Connection) -> None:
    """Entry point of a worker process."""
    raise_fd_limit()
    try:
        asyncio.run(_serve(conn))
    finally:
        conn.close()
