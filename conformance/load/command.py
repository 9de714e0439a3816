"""``mastodon-streaming-conformance load``: options, the embedded server, the run, the reports.

Without ``--target`` the embedded reference server is started (as ``run`` does), with its SSE
heartbeat and WebSocket ping at 5 s so that missed keep-alives show within a short step; its
``--fault`` knobs (e.g. ``drop-above:N``) pass through ``--fault``. Exit statuses: 0 the run
completed (a ramp always ends by reporting its capacity; a single step also needs to meet the
thresholds), 1 a single step broke a threshold, 2 a usage, safety or setup problem.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from conformance.load.config import LoadConfig, SafetyError, check_target, parse_ramp
from conformance.load.streams import parse_streams

__all__ = ["add_load_parser", "load_main"]

PROG = "mastodon-streaming-conformance load"
EMBEDDED_KEEPALIVE_S = 5.0
_SETTINGS_FIELDS = (
    "target",
    "streaming_url",
    "token",
    "second_token",
    "stimulus",
    "redis_url",
    "account_id",
    "second_account_id",
    "list_id",
    "verify_tls",
)


def _positive(kind: type) -> Any:
    def convert(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    convert.__name__ = kind.__name__
    return convert


def add_load_parser(commands: Any) -> None:
    p = commands.add_parser(
        "load",
        help="fan-out under load: how many subscribers a server holds, and how fast",
        description="Open many SSE/WebSocket subscribers, post marked statuses, and measure "
        "delivery, loss, order and latency per event and subscriber. Without --target the "
        "embedded reference server is used. Tokens come from MSC_TOKEN / MSC_SECOND_TOKEN.",
    )
    p.add_argument("--target", metavar="URL", help="server to load (default: embedded)")
    p.add_argument("--streaming-url", metavar="URL")
    p.add_argument("--token", help="prefer MSC_TOKEN: a flag shows in process listings")
    p.add_argument("--second-token", help="prefer MSC_SECOND_TOKEN")
    p.add_argument("--stimulus", choices=("rest", "redis"))
    p.add_argument("--redis-url", metavar="URL")
    p.add_argument("--account-id")
    p.add_argument("--second-account-id")
    p.add_argument("--list-id")
    p.add_argument("--insecure", dest="verify_tls", action="store_const", const=False)
    p.add_argument(
        "--subscribers",
        type=_positive(int),
        default=100,
        metavar="N",
        help="connections per step (default 100)",
    )
    p.add_argument(
        "--transport",
        choices=("sse", "ws", "mix"),
        default="mix",
        help="mix alternates SSE and WebSocket",
    )
    p.add_argument(
        "--streams",
        default="public,hashtag,user",
        metavar="LIST",
        help="streams the subscribers rotate over: public, hashtag[:TAG], user",
    )
    p.add_argument("--tag", help="hashtag of the stimuli (default: load<run id>)")
    p.add_argument(
        "--rate", type=_positive(float), default=2.0, metavar="R", help="stimuli per second"
    )
    p.add_argument(
        "--duration",
        type=_positive(float),
        default=10.0,
        metavar="S",
        help="seconds of stimuli per step",
    )
    p.add_argument("--ramp", metavar="START:STEP:MAX", help="grow N until a threshold breaks")
    p.add_argument(
        "--keep-going", action="store_true", help="run every ramp step, even after a broken one"
    )
    p.add_argument(
        "--max-loss",
        type=float,
        default=0.001,
        metavar="FRACTION",
        help="threshold: lost / expected deliveries (default 0.001)",
    )
    p.add_argument(
        "--max-p99-ms",
        type=_positive(float),
        default=2000.0,
        metavar="MS",
        help="threshold: p99 latency (default 2000)",
    )
    p.add_argument(
        "--sample-every",
        type=_positive(int),
        default=100,
        metavar="K",
        help="one subscriber in K records a full transcript for the judges",
    )
    p.add_argument(
        "--workers",
        type=_positive(int),
        default=os.cpu_count() or 1,
        help="subscriber processes (default: one per core)",
    )
    p.add_argument(
        "--concurrency",
        type=_positive(int),
        default=64,
        metavar="N",
        help="connection attempts in flight per worker",
    )
    p.add_argument(
        "--setup-timeout",
        type=_positive(float),
        default=60.0,
        metavar="S",
        help="per connection, and for the warm-up",
    )
    p.add_argument(
        "--drain",
        type=_positive(float),
        default=5.0,
        metavar="S",
        help="wait after the last stimulus for late deliveries",
    )
    p.add_argument(
        "--deadline",
        type=_positive(float),
        default=3600.0,
        metavar="S",
        help="hard wall deadline of the whole run",
    )
    p.add_argument(
        "--heartbeat-timeout",
        type=_positive(float),
        metavar="S",
        help="longest SSE silence before a heartbeat counts as missed",
    )
    p.add_argument(
        "--ping-timeout",
        type=_positive(float),
        metavar="S",
        help="longest gap between server pings before one counts as missed",
    )
    p.add_argument(
        "--embedded-heartbeat",
        type=_positive(float),
        default=EMBEDDED_KEEPALIVE_S,
        help="embedded server heartbeat and ping interval (default 5)",
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="embedded server fault, e.g. drop-above:N[:K], delay-above:N:MS",
    )
    p.add_argument(
        "--report-dir", type=Path, metavar="DIR", help="default reports/load-<host>-<time>"
    )
    p.add_argument("--allow-public-load", action="store_true", help="allow a public target")
    p.add_argument("--confirm-target", metavar="HOST", help="required with --allow-public-load")


def _config(args: argparse.Namespace, run_id: str, embedded: bool) -> LoadConfig:
    tag = args.tag or f"load{run_id}"
    hb = args.heartbeat_timeout or (2 * args.embedded_heartbeat if embedded else 20.0)
    ping = args.ping_timeout or (2 * args.embedded_heartbeat if embedded else 35.0)
    if not 0 <= args.max_loss <= 1:
        raise ValueError("--max-loss is a fraction between 0 and 1")
    return LoadConfig(
        subscribers=args.subscribers,
        transport=args.transport,
        streams=tuple(parse_streams(args.streams, tag)),
        rate=args.rate,
        duration_s=args.duration,
        ramp=parse_ramp(args.ramp) if args.ramp else None,
        max_loss=args.max_loss,
        max_p99_ms=args.max_p99_ms,
        sample_every=args.sample_every,
        workers=args.workers,
        setup_timeout_s=args.setup_timeout,
        warmup_timeout_s=args.setup_timeout,
        drain_s=args.drain,
        keepalive_timeout_s=(hb, ping),
        deadline_s=args.deadline,
        concurrency=args.concurrency,
        report_dir=args.report_dir,
        stimulus=args.stimulus or "rest",
        keep_going=args.keep_going,
    )


def load_main(args: argparse.Namespace) -> int:
    from conformance.config import SettingsError, resolve_settings
    from conformance.load.marker import new_run_id
    from conformance.load.worker import raise_fd_limit

    run_id = new_run_id()
    try:
        import h11  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as exc:
        print(
            f"{PROG}: error: {exc.name} is missing: pip install "
            "'mastodon-streaming-conformance[load]'",
            file=sys.stderr,
        )
        return 2
    try:
        cli = {name: getattr(args, name, None) for name in _SETTINGS_FIELDS}
        settings = resolve_settings(cli)
        config = _config(args, run_id, embedded=settings.target is None)
        if settings.target is None and (args.allow_public_load or args.confirm_target):
            raise ValueError("--allow-public-load/--confirm-target need --target")
        if settings.target is not None and args.fault:
            raise ValueError("--fault applies to the embedded server only (no --target)")
        for url in filter(None, (settings.target, settings.streaming_url)):
            check_target(url, allow_public=args.allow_public_load, confirm_host=args.confirm_target)
    except (SettingsError, SafetyError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    raise_fd_limit()  # before the embedded server starts: the child inherits the limit
    server = None
    if settings.target is None:
        from conformance.embedded import EmbeddedError, start_embedded

        extra: list[str] = []
        for spec in args.fault:
            extra += ["--fault", spec]
        try:
            bus = {"bus": "redis", "redis_url": settings.redis_url} if settings.redis_url else {}
            server = start_embedded(
                heartbeat_s=args.embedded_heartbeat,
                ping_interval_s=args.embedded_heartbeat,
                extra_args=extra,
                **bus,  # --stimulus redis: the embedded server listens on that Redis
            )
        except EmbeddedError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
        a, b = server.accounts[0], server.accounts[1]
        settings = replace(
            settings,
            target=server.url,
            streaming_url=server.streaming_url,
            token=a.token,
            second_token=b.token,
            account_id=a.id,
            second_account_id=b.id,
            list_id=str(server.lists[0]["id"]) if server.lists else settings.list_id,
        )
    try:
        return asyncio.run(_run(settings, config, run_id, embedded=server is not None, args=args))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.stop()


async def _run(
    settings: Any, config: LoadConfig, run_id: str, *, embedded: bool, args: argparse.Namespace
) -> int:
    import httpx

    from conformance.discovery import DiscoveryError, discover
    from conformance.load.controller import Controller, LoadAborted, default_report_dir
    from conformance.load.report import build_report, write_reports
    from conformance.load.stimulus import LoadStimulus, build_driver
    from conformance.stimulus.base import StimulusError

    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load_start = os.getloadavg()
    try:
        target = await discover(settings, embedded=embedded)
    except DiscoveryError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    host = (target.base_url.split("//", 1)[-1].split("/", 1)[0]).replace(":", "_")
    out_dir = config.report_dir or default_report_dir(host)
    config = replace(config, report_dir=out_dir)
    tag = next((s.tag for s in config.streams if s.tag), None) or args.tag or f"load{run_id}"
    async with httpx.AsyncClient(verify=settings.verify_tls) as client:
        try:
            driver = build_driver(settings, target, tag, client)
        except StimulusError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
        stimulus = LoadStimulus(driver=driver, run_id=run_id, tag=tag)
        t0 = time.monotonic()
        try:
            await stimulus.setup(30.0)
            controller = Controller(
                config,
                streaming_base=target.streaming_base,
                token=settings.token,
                stimulus=stimulus,
                verify_tls=settings.verify_tls,
            )
            steps = await controller.run()
        except (StimulusError, LoadAborted, TimeoutError) as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
        finally:
            await stimulus.close()
    meta = {
        "run_id": run_id,
        "started_at": started,
        "duration_s": round(time.monotonic() - t0, 3),
        "target": {
            "url": target.base_url,
            "streaming_url": target.streaming_base,
            "version": target.version,
            "embedded": embedded,
            "faults": list(args.fault),
        },
        "machine": {
            "cores": os.cpu_count() or 1,
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "stimulus": {"driver": driver.name, "failures": stimulus.failures[:50]},
        "notes": controller.log,
    }
    report = build_report(steps, meta=meta, config=config_json(config))
    paths = write_reports(report, out_dir)
    print(paths["markdown"].read_text(encoding="utf-8"))
    print(f"reports: {out_dir}/load.json, load.html, load-summary.md")
    if config.ramp is None and any(s["breaks"] for s in steps):
        return 1
    return 0 if steps else 2


def config_json(config: LoadConfig) -> dict[str, Any]:
    return {
        "subscribers": config.subscribers,
        "transport": config.transport,
        "streams": [s.label for s in config.streams],
        "rate": config.rate,
        "duration_s": config.duration_s,
        "ramp": list(config.ramp) if config.ramp else None,
        "max_loss": config.max_loss,
        "max_p99_ms": config.max_p99_ms,
        "sample_every": config.sample_every,
        "workers": config.workers,
        "keepalive_timeout_s": {
            "sse": config.keepalive_timeout_s[0],
            "ws": config.keepalive_timeout_s[1],
        },
        "stimulus": config.stimulus,
        "keep_going": config.keep_going,
    }
