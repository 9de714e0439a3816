"""Runs the steps of a load run: workers open subscribers, the stimulus fires, parts merge.

One step is always the same sequence, whatever its size:

1. every worker opens its share of the N subscribers and answers when each has a response
   head, a refusal or a timeout (bounded by ``setup_timeout_s``);
2. warm-up: a marked status is posted until every connected subscriber has seen one (a barrier,
   not a sleep: the server has really subscribed each of them), bounded by ``warmup_timeout_s``;
3. measurement: ``rate * duration`` stimuli on a fixed schedule, then a drain until every
   subscriber has every event or ``drain_s`` has passed;
4. each worker returns its part (``stats.py``) and closes its connections; parts are merged.

With a ramp, steps grow until one breaks a threshold (``report.judge_step``). Everything is
bounded twice: each phase has its own timeout, and the whole run a hard wall deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import time
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from conformance.load.config import LoadConfig
from conformance.load.report import build_step, judge_step
from conformance.load.stats import merge_parts
from conformance.load.stimulus import LoadStimulus
from conformance.load.worker import worker_main

__all__ = ["Controller", "LoadAborted", "assign"]

POLL_S = 0.1
PIPE_SLACK_S = 30.0


class LoadAborted(RuntimeError):
    """A phase could not complete (a worker died or did not answer in time)."""


def assign(n: int, config: LoadConfig) -> list[tuple[str, dict[str, Any], bool]]:
    """(transport, stream, sampled) of subscriber 0..n-1: transports alternate for ``mix``,
    streams rotate, and every ``sample_every``-th subscriber is a full recorder."""
    streams = config.streams
    out = []
    for i in range(n):
        if config.transport == "mix":
            transport = "sse" if i % 2 == 0 else "ws"
        else:
            transport = config.transport
        stream = asdict(streams[(i // 2 if config.transport == "mix" else i) % len(streams)])
        out.append((transport, stream, i % config.sample_every == 0))
    return out


class Controller:
    def __init__(
        self,
        config: LoadConfig,
        *,
        streaming_base: str,
        token: str | None,
        stimulus: LoadStimulus,
        verify_tls: bool = True,
    ) -> None:
        self.config = config
        self.streaming_base = streaming_base
        self.token = token
        self.stimulus = stimulus
        self.verify_tls = verify_tls
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        self.deadline = time.monotonic() + config.deadline_s
        self.log: list[str] = []

    # -- workers -----------------------------------------------------------------------------

    def start_workers(self) -> None:
        context = multiprocessing.get_context("spawn")
        for _ in range(max(1, self.config.workers)):
            ours, theirs = context.Pipe()
            process = context.Process(target=worker_main, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)

    def stop_workers(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError, ValueError):
                pipe.send(("exit", None))
        for process in self.processes:
            process.join(timeout=15.0)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5.0)
        for pipe in self.pipes:
            pipe.close()
        self.pipes.clear()
        self.processes.clear()

    async def _ask(self, command: str, args: list[Any], timeout_s: float) -> list[Any]:
        """Send one command to every worker (each its own arg) and gather the answers."""
        for pipe, arg in zip(self.pipes, args, strict=True):
            pipe.send((command, arg))
        limit = min(timeout_s, max(1.0, self.deadline - time.monotonic()) + PIPE_SLACK_S)
        answers = await asyncio.gather(*(self._recv(pipe, limit) for pipe in self.pipes))
        for kind, payload in answers:
            if kind == "error":
                raise LoadAborted(f"worker: {payload}")
        return [payload for _, payload in answers]

    async def _recv(self, pipe: Connection, timeout_s: float) -> Any:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        while not pipe.poll():
            if loop.time() > end:
                raise LoadAborted(f"a worker did not answer within {timeout_s:g} s")
            if not all(p.is_alive() for p in self.processes):
                raise LoadAborted("a worker process died")
            await asyncio.sleep(POLL_S / 2)  # polling a pipe: no awaitable to wait on
        return pipe.recv()

    async def status(self) -> dict[str, int]:
        parts = await self._ask("status", [None] * len(self.pipes), 30.0)
        return {k: sum(int(p[k]) for p in parts) for k in parts[0]}

    # -- one step ----------------------------------------------------------------------------

    def worker_specs(self, index: int, n: int) -> list[dict[str, Any]]:
        c = self.config
        plan = assign(n, c)
        w = len(self.pipes)
        specs = []
        for k in range(w):
            share = plan[k * n // w : (k + 1) * n // w]
            specs.append(
                {
                    "name": f"step{index}-w{k}",
                    "run_id": self.stimulus.run_id,
                    "base_url": self.streaming_base,
                    "token": self.token,
                    "verify_tls": self.verify_tls,
                    "subscribers": [(t, s) for t, s, sampled in share if not sampled],
                    "samples": [(t, s) for t, s, sampled in share if sampled],
                    "setup_timeout_s": c.setup_timeout_s,
                    "concurrency": c.concurrency,
                    "keepalive_timeout_s": {
                        "sse": c.keepalive_timeout_s[0],
                        "ws": c.keepalive_timeout_s[1],
                    },
                }
            )
        return specs

    async def step(self, index: int, n: int) -> dict[str, Any]:
        c = self.config
        t_open = time.monotonic()
        opened = await self._ask("open", self.worker_specs(index, n), c.setup_timeout_s * 4)
        connected = sum(o["connected"] for o in opened)
        open_s = time.monotonic() - t_open
        warm = await self._warm_up(connected)
        cpu0, wall0 = time.process_time(), time.monotonic()
        await self._ask("measure", [None] * len(self.pipes), 30.0)
        loop = asyncio.get_running_loop()
        hard = loop.time() + max(1.0, self.deadline - time.monotonic())
        produced = await self.stimulus.paced(c.rate, c.duration_s, hard)
        stimulus_s = time.monotonic() - wall0
        drained = await self._drain(connected * len(produced))
        controller_cpu = time.process_time() - cpu0
        out_dir = str(c.report_dir) if c.report_dir else None
        parts = await self._ask(
            "stop",
            [{"produced": [p.seq for p in produced], "out_dir": out_dir}] * len(self.pipes),
            c.setup_timeout_s * 2,
        )
        merged = merge_parts(parts)
        merged["processes"].append(
            {"cpu_s": round(controller_cpu, 4), "wall_s": round(stimulus_s, 4), "role": "stimulus"}
        )
        merged["cpu_s"] = round(merged["cpu_s"] + controller_cpu, 4)
        step = build_step(
            index,
            n,
            merged,
            produced,
            config=c,
            timings={
                "open_s": round(open_s, 3),
                "warmup_s": warm["seconds"],
                "warmup_stimuli": warm["stimuli"],
                "stimulus_s": round(stimulus_s, 3),
                "drain_complete": drained,
            },
        )
        judge_step(step, c)
        return step

    async def _warm_up(self, connected: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + self.config.warmup_timeout_s
        stimuli = 0
        while loop.time() < end and time.monotonic() < self.deadline:
            await self.stimulus.warmup()
            stimuli += 1
            settle = min(end, loop.time() + 1.0)
            while loop.time() < settle:
                state = await self.status()
                if state["ready"] >= min(connected, state["connected"]):
                    return {"seconds": round(loop.time() - start, 3), "stimuli": stimuli}
                await asyncio.sleep(POLL_S)  # polling other processes' counters
        self.log.append(f"warm-up incomplete after {self.config.warmup_timeout_s:g} s")
        return {"seconds": round(loop.time() - start, 3), "stimuli": stimuli}

    async def _drain(self, expected: int) -> bool:
        loop = asyncio.get_running_loop()
        end = loop.time() + self.config.drain_s
        while loop.time() < end and time.monotonic() < self.deadline:
            if (await self.status())["delivered"] >= expected:
                return True
            await asyncio.sleep(POLL_S)  # polling other processes' counters
        return False

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = []
        self.start_workers()
        try:
            await self._ask("hello", [None] * len(self.pipes), 120.0)
            for index, n in enumerate(self.config.steps()):
                if time.monotonic() >= self.deadline:
                    self.log.append("hard deadline reached: remaining steps skipped")
                    break
                step = await self.step(index, n)
                steps.append(step)
                if self.config.ramp and step["breaks"] and not self.config.keep_going:
                    break
        finally:
            await asyncio.get_running_loop().run_in_executor(None, self.stop_workers)
        return steps


def samples_for(n: int, every: int) -> int:
    return math.ceil(n / every) if n else 0


def default_report_dir(host: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return Path("reports") / f"load-{host}-{stamp}"
