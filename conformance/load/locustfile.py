"""The load subscribers on Locust: when one machine cannot hold enough connections.

Run a master and any number of workers (each worker on its own machine or core)::

    export MSC_TOKEN=... MSC_SECOND_TOKEN=...      # workers need MSC_TOKEN, the master both
    locust -f conformance/load/locustfile.py --master --headless -u 5000 -r 500 \\
        --expect-workers 4 --run-time 15m --msc-target http://10.0.0.5:3000 --msc-rate 2 \\
        --msc-duration 30 --msc-report-dir reports/load-locust
    locust -f conformance/load/locustfile.py --worker --master-host 10.0.0.1   # on each worker

Each Locust user is one lightweight subscriber (the same sans-I/O cores as ``load``, here on
gevent sockets); each worker keeps the same tallies and histograms as a ``load`` worker process
and reports progress to the master with custom messages. The master drives the stimulus (the
suite's REST or Redis driver, in a child process: ``stimulus_proc.py``) once every user is
connected: warm-up until every subscriber has seen an event, ``--msc-rate`` stimuli per second
for ``--msc-duration`` seconds, a drain, then ``msc_stop`` to the workers, whose parts
(``stats.summarize``) come back as ``msc_part`` messages and are merged exactly into the same
``load.json``, ``load.html`` and ``load-summary.md`` as ``load`` writes (one step). Sampled full
transcripts are judged only by ``load`` itself, not here. ``--run-time`` is the hard deadline.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import ssl
import sys
import time
from typing import Any

import gevent
from gevent import subprocess
from locust import User, constant, events, task
from locust.runners import MasterRunner, WorkerRunner

from conformance.load.config import LoadConfig, SafetyError, check_target
from conformance.load.cores import Sink, Tally, make_core
from conformance.load.marker import new_run_id
from conformance.load.stats import merge_parts, summarize
from conformance.load.streams import parse_streams

PROGRESS_EVERY_S = 0.5
DEFAULT_TAG = "mscload"
POLL_S = 0.1


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    add = parser.add_argument
    add("--msc-target", default=os.environ.get("MSC_TARGET", ""), help="server under load")
    add("--msc-streaming-url", default="", help="streaming base (default: discovered)")
    add("--msc-streams", default="public,hashtag,user")
    add("--msc-transport", default="mix", choices=("sse", "ws", "mix"))
    add("--msc-rate", type=float, default=2.0)
    add("--msc-duration", type=float, default=10.0)
    add("--msc-drain", type=float, default=5.0)
    add("--msc-setup-timeout", type=float, default=60.0)
    add("--msc-keepalive-timeout", type=float, default=20.0)
    add("--msc-max-loss", type=float, default=0.001)
    add("--msc-max-p99-ms", type=float, default=2000.0)
    add("--msc-run-id", default="", help="set by the master's caller; one per run")
    add("--msc-tag", default="")
    add("--msc-stimulus", default="rest", choices=("rest", "redis"))
    add("--msc-report-dir", default="reports/load-locust")
    add("--msc-allow-public-load", action="store_true")
    add("--msc-confirm-target", default="")


class _WorkerState:
    """This worker's subscribers (every user of this process adds one tally). The run id the
    markers carry arrives from the master (``msc_run``) before the first stimulus."""

    def __init__(self) -> None:
        self.sink = Sink(run_id="")
        self.tallies: list[Tally] = []
        self.counter = itertools.count()
        self.cpu0 = time.process_time()
        self.wall0 = time.monotonic()


STATE = _WorkerState()
MASTER: dict[str, Any] = {"progress": {}, "parts": {}}


def _opts(environment: Any) -> Any:
    return environment.parsed_options


def _run_id(environment: Any) -> str:
    opts = _opts(environment)
    if not opts.msc_run_id:
        opts.msc_run_id = new_run_id()
    return str(opts.msc_run_id)


class StreamingSubscriber(User):
    """One subscriber: connects, then reads its stream until the user is stopped."""

    wait_time = constant(1)

    @task
    def subscribe(self) -> None:
        opts = _opts(self.environment)
        index = next(STATE.counter)
        tag = opts.msc_tag or DEFAULT_TAG
        streams = parse_streams(opts.msc_streams, tag)
        transport = opts.msc_transport
        if transport == "mix":
            transport = "sse" if index % 2 == 0 else "ws"
        spec = streams[(index // 2 if opts.msc_transport == "mix" else index) % len(streams)]
        base = opts.msc_streaming_url or opts.msc_target
        core = make_core(transport, base, spec, os.environ.get("MSC_TOKEN"), STATE.sink)
        STATE.tallies.append(core.tally)
        self._read(core, opts)
        while True:  # keep the user (not the socket) alive until Locust stops it
            gevent.sleep(3600)

    def _read(self, core: Any, opts: Any) -> None:
        tally = core.tally
        tally.started = time.time()
        try:
            sock = socket.create_connection((core.host, core.port), opts.msc_setup_timeout)
            if core.tls:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=core.host)
        except OSError as exc:
            tally.refused = f"connect failed: {type(exc).__name__}"
            self._report(tally, exc)
            return
        try:
            sock.sendall(core.start(time.time()))
            sock.settimeout(None)
            reported = False
            while tally.closed is None:
                data = sock.recv(65536)
                now = time.time()
                if not data:
                    core.eof(now)
                    break
                out = core.feed(data, now)
                if out:
                    sock.sendall(out)
                if not reported and (tally.status is not None or tally.refused is not None):
                    reported = True
                    self._report(tally, RuntimeError(tally.refused) if tally.refused else None)
                if tally.refused is not None:
                    break
        except OSError as exc:
            tally.on_closed(f"connection lost: {type(exc).__name__}", time.time())
        finally:
            sock.close()

    def _report(self, tally: Tally, exc: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type=tally.transport.upper(),
            name=tally.stream,
            response_time=(tally.setup_s or 0.0) * 1000,
            response_length=0,
            exception=exc,
            context={},
        )


# -- worker side ---------------------------------------------------------------------------


def _progress() -> dict[str, int]:
    tallies = STATE.tallies
    return {
        "subscribers": len(tallies),
        "answered": sum(1 for t in tallies if t.status is not None or t.refused is not None),
        "connected": sum(1 for t in tallies if t.open),
        "ready": sum(1 for t in tallies if t.ready),
        "delivered": STATE.sink.measured_delivered,
    }


def _on_stop(environment: Any, msg: Any, **_kw: Any) -> None:
    opts = _opts(environment)
    part = summarize(
        STATE.tallies,
        STATE.sink,
        msg.data["produced"],
        now=time.time(),
        keepalive_timeout_s={"sse": opts.msc_keepalive_timeout, "ws": opts.msc_keepalive_timeout},
        cpu_s=time.process_time() - STATE.cpu0,
        wall_s=time.monotonic() - STATE.wall0,
    )
    part["sample"] = {"transcripts": 0, "verdicts": {}, "failures": [], "failure_count": 0}
    environment.runner.send_message("msc_part", part)


def _on_run(environment: Any, msg: Any, **_kw: Any) -> None:
    STATE.sink.run_id = str(msg.data["run_id"])


def _on_measure(environment: Any, msg: Any, **_kw: Any) -> None:
    STATE.cpu0, STATE.wall0 = time.process_time(), time.monotonic()


def _report_progress(environment: Any) -> None:
    while True:
        environment.runner.send_message("msc_progress", _progress())
        gevent.sleep(PROGRESS_EVERY_S)


# -- master side ---------------------------------------------------------------------------


def _totals() -> dict[str, int]:
    rows = list(MASTER["progress"].values())
    keys = ("subscribers", "answered", "connected", "ready", "delivered")
    return {k: sum(r.get(k, 0) for r in rows) for k in keys}


def _wait(predicate: Any, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        gevent.sleep(POLL_S)  # polling counters other processes send
    return predicate()


class _Stimulus:
    """The stimulus child process (``stimulus_proc.py``)."""

    def __init__(self, opts: Any, run_id: str, tag: str) -> None:
        env = dict(os.environ)
        env["MSC_TARGET"] = opts.msc_target
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "conformance.load.stimulus_proc", "--run-id", run_id,
             "--tag", tag, "--stimulus", opts.msc_stimulus],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )  # fmt: skip

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the stimulus process exited")
        return dict(json.loads(line))

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        try:
            self.ask({"cmd": "close"})
            self.proc.wait(timeout=120)
        except Exception:
            self.proc.kill()


def _orchestrate(environment: Any) -> None:
    from conformance.load.report import build_report, build_step, judge_step, write_reports

    opts = _opts(environment)
    runner = environment.runner
    run_id, started = _run_id(environment), time.time()
    users = int(opts.num_users or 0)
    log: list[str] = []
    runner.send_message("msc_run", {"run_id": run_id})
    _wait(lambda: _totals()["answered"] >= users, opts.msc_setup_timeout)
    tag = opts.msc_tag or DEFAULT_TAG
    stimulus = _Stimulus(opts, run_id, tag)
    try:
        hello = stimulus.read()
        if "error" in hello:
            raise RuntimeError(hello["error"])
        connected = _totals()["connected"]
        end = time.monotonic() + opts.msc_setup_timeout
        while time.monotonic() < end:
            stimulus.ask({"cmd": "warmup"})
            if _wait(lambda: _totals()["ready"] >= connected, 1.0):
                break
        runner.send_message("msc_measure", {})
        result = stimulus.ask(
            {"cmd": "measure", "rate": opts.msc_rate, "duration": opts.msc_duration}
        )
        produced = result["produced"]
        _wait(lambda: _totals()["delivered"] >= connected * len(produced), opts.msc_drain)
        MASTER["parts"].clear()
        workers = runner.worker_count
        runner.send_message("msc_stop", {"produced": [p[0] for p in produced]})
        if not _wait(lambda: len(MASTER["parts"]) >= workers, 60.0):
            log.append(f"only {len(MASTER['parts'])} of {workers} workers sent their part")
        merged = merge_parts(list(MASTER["parts"].values()))
        merged["processes"].append({"cpu_s": 0.0, "wall_s": result["window_s"], "role": "stimulus"})
        config = LoadConfig(
            subscribers=users,
            transport=opts.msc_transport,
            streams=tuple(parse_streams(opts.msc_streams, tag)),
            rate=opts.msc_rate,
            duration_s=opts.msc_duration,
            max_loss=opts.msc_max_loss,
            max_p99_ms=opts.msc_max_p99_ms,
        )
        step = build_step(
            0,
            users,
            merged,
            [_Produced(*p) for p in produced],
            config=config,
            timings={"stimulus_s": round(result["window_s"], 3)},
        )
        judge_step(step, config)
        report = build_report(
            [step],
            meta={
                "run_id": run_id,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(started)),
                "duration_s": round(time.time() - started, 3),
                "target": {
                    "url": opts.msc_target,
                    "streaming_url": opts.msc_streaming_url or opts.msc_target,
                    "embedded": False,
                },
                "machine": {"cores": os.cpu_count() or 1},
                "stimulus": {"driver": hello.get("driver", "?"), "failures": result["failures"]},
                "notes": log,
                "locust": {"workers": workers, "parts": len(MASTER["parts"])},
            },
            config={
                "subscribers": users,
                "transport": opts.msc_transport,
                "streams": [s.label for s in config.streams],
                "rate": opts.msc_rate,
                "duration_s": opts.msc_duration,
            },
        )
        write_reports(report, _report_dir(opts))
    finally:
        stimulus.close()
        runner.quit()


class _Produced:
    def __init__(self, seq: int, sent_us: int, took_s: float) -> None:
        self.seq, self.sent_us, self.took_s = seq, sent_us, took_s


def _report_dir(opts: Any) -> Any:
    from pathlib import Path

    return Path(opts.msc_report_dir)


@events.init.add_listener
def _on_init(environment: Any, **_kw: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.register_message("msc_run", _on_run)
        runner.register_message("msc_stop", _on_stop)
        runner.register_message("msc_measure", _on_measure)
        gevent.spawn(_report_progress, environment)
    elif isinstance(runner, MasterRunner):
        opts = _opts(environment)
        for url in filter(None, (opts.msc_target, opts.msc_streaming_url)):
            try:
                check_target(
                    url,
                    allow_public=opts.msc_allow_public_load,
                    confirm_host=opts.msc_confirm_target or None,
                )
            except SafetyError as exc:
                print(f"locustfile: {exc}", file=sys.stderr)
                runner.quit()
                return

        def on_progress(environment: Any, msg: Any, **_kw: Any) -> None:
            MASTER["progress"][msg.node_id] = msg.data

        def on_part(environment: Any, msg: Any, **_kw: Any) -> None:
            MASTER["parts"][msg.node_id] = msg.data

        runner.register_message("msc_progress", on_progress)
        runner.register_message("msc_part", on_part)


@events.test_start.add_listener
def _on_test_start(environment: Any, **_kw: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        _run_id(environment)
        gevent.spawn(_orchestrate, environment)
