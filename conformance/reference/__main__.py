"""``python -m conformance.reference serve``: start the reference server for the suite or a human.

Prints exactly one JSON line on stdout once listening (URLs, seeded accounts with their tokens,
lists), then serves until SIGTERM/SIGINT and exits 0. The suite reads that line to find its
target; nothing else is ever written to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence

from .app import start_server
from .bus import make_bus
from .faults import FAULTS, KNOBS, LOAD_FAULTS, VARIANTS, load_argument
from .settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m conformance.reference")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the reference Mastodon (REST + streaming)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 = any free port")
    serve.add_argument("--heartbeat", type=float, default=15.0, help="SSE :thump interval (s)")
    serve.add_argument("--ping-interval", type=float, default=30.0, help="WebSocket ping timer (s)")
    serve.add_argument("--bus", choices=("memory", "redis"), default="memory")
    serve.add_argument("--redis-url", default=None)
    serve.add_argument(
        "--database-url",
        default=None,
        help="postgresql://...: the streaming side reads tokens, lists, relations and filters "
        "from this Mastodon-schema database, as Mastodon's streaming server does",
    )
    serve.add_argument(
        "--split-ports",
        action="store_true",
        help="serve streaming on a second port; REST answers /api/v1/streaming with a 301",
    )
    serve.add_argument(
        "--list-faults",
        action="store_true",
        help="list the fault and knob names with what each does, then exit",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=0,
        help="streaming connections served at once; above it 503 (0 = no limit, as Mastodon)",
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        type=load_argument,
        metavar="NAME",
        help="break one rule on purpose, or switch on a real-server behaviour (repeatable; "
        "--list-faults lists them all)",
    )
    serve.add_argument(
        "--variant",
        action="append",
        default=[],
        choices=sorted(VARIANTS),
        metavar="NAME",
        help="a legal variation Mastodon does not use (repeatable): "
        + "; ".join(f"{k}: {v}" for k, v in VARIANTS.items()),
    )
    init_db = commands.add_parser(
        "init-db", help="load the Mastodon schema subset the streaming side reads (idempotent)"
    )
    init_db.add_argument("--database-url", required=True)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    if args.heartbeat <= 0 or args.ping_interval <= 0:
        raise SystemExit("--heartbeat and --ping-interval must be positive")
    if args.bus == "redis" and not args.redis_url:
        raise SystemExit("--bus redis needs --redis-url")
    return Settings(
        host=args.host,
        port=args.port,
        heartbeat_s=args.heartbeat,
        ping_interval_s=args.ping_interval,
        split_ports=args.split_ports,
        bus=args.bus,
        redis_url=args.redis_url,
        database_url=args.database_url,
        faults=frozenset(args.fault),
        variants=frozenset(args.variant),
        max_connections=args.max_connections,
    )


async def serve(settings: Settings) -> int:
    from .store import Store

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    streaming_store = None
    if settings.database_url:
        from .pg import PgStreamingStore

        streaming_store = PgStreamingStore(settings.database_url)
        try:
            streaming_store.check()
        except Exception as exc:  # one line, not a traceback: the URL or the schema is wrong
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise SystemExit(f"--database-url: cannot read the database: {detail}") from None
    server = await start_server(
        settings,
        store=Store.seeded(),
        bus=make_bus(settings.bus, settings.redis_url),
        streaming_store=streaming_store,
    )
    try:
        sys.stdout.write(json.dumps(server.startup_line(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await server.close()
        if streaming_store is not None:
            streaming_store.close()
    return 0


def list_faults() -> int:
    """``serve --list-faults``: every --fault name, one line each (faults, then knobs)."""
    width = max(len(name) for name in (*FAULTS, *KNOBS))
    lines = ["faults (each breaks one rule; the suite must then fail it):"]
    lines += [f"  {name:<{width}}  {text}" for name, text in sorted(FAULTS.items())]
    lines.append("knobs (behaviours some real servers have; no rule broken):")
    lines += [f"  {name:<{width}}  {text}" for name, text in sorted(KNOBS.items())]
    lines.append("load faults (with parameters; they show in the load report):")
    lines += [f"  {name:<{width}}  {text}" for name, text in sorted(LOAD_FAULTS.items())]
    try:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `serve --list-faults | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve" and args.list_faults:
        return list_faults()
    if args.command == "serve":
        return asyncio.run(serve(settings_from_args(args)))
    if args.command == "init-db":
        from .pg import load_schema

        load_schema(args.database_url)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
