"""The load stimulus as a child process speaking JSON lines (used by the Locust master).

Locust runs under gevent; the suite's stimulus drivers are asyncio (httpx, redis.asyncio). Rather
than mixing the two event loops in one process, the Locust master starts this module and drives
it over stdin/stdout, one JSON object per line:

``{"cmd": "warmup"}`` -> ``{"ok": true}``; ``{"cmd": "measure", "rate": R, "duration": S}`` ->
``{"produced": [[seq, sent_us, took_s], ...], "window_s": W}``; ``{"cmd": "close"}`` (cleanup,
as after a normal run) -> ``{"ok": true}``, then it exits. The first line it writes is
``{"ready": true}`` after the driver's setup, or ``{"error": "..."}``. Target and tokens come
from the environment (``MSC_TARGET``, ``MSC_TOKEN``, ``MSC_SECOND_TOKEN``, ...), never argv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

__all__ = ["main"]

HARD_DEADLINE_S = 3600.0


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def _serve(run_id: str, tag: str, stimulus_kind: str) -> int:
    import httpx

    from conformance.config import resolve_settings
    from conformance.discovery import DiscoveryError, discover
    from conformance.load.stimulus import LoadStimulus, build_driver
    from conformance.stimulus.base import StimulusError

    settings = resolve_settings({"stimulus": stimulus_kind})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    deadline = loop.time() + HARD_DEADLINE_S
    async with httpx.AsyncClient(verify=settings.verify_tls) as client:
        try:
            target = await discover(settings)
            stimulus = LoadStimulus(build_driver(settings, target, tag, client), run_id, tag)
            await stimulus.setup(30.0)
        except (DiscoveryError, StimulusError, TimeoutError) as exc:
            _say({"error": str(exc)})
            return 2
        _say({"ready": True, "driver": stimulus.driver.name})
        try:
            while loop.time() < deadline:
                line = await asyncio.wait_for(reader.readline(), deadline - loop.time())
                if not line:
                    break
                command = json.loads(line)
                if command["cmd"] == "warmup":
                    _say({"ok": await stimulus.warmup()})
                elif command["cmd"] == "measure":
                    start = time.monotonic()
                    hard = loop.time() + float(command.get("max_s", 600.0))
                    produced = await stimulus.paced(
                        float(command["rate"]), float(command["duration"]), hard
                    )
                    _say(
                        {
                            "produced": [[p.seq, p.sent_us, p.took_s] for p in produced],
                            "window_s": time.monotonic() - start,
                            "failures": stimulus.failures[:50],
                        }
                    )
                elif command["cmd"] == "close":
                    break
        finally:
            await stimulus.close()
            _say({"ok": True, "closed": True})
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.load.stimulus_proc")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--stimulus", choices=("rest", "redis"), default="rest")
    args = parser.parse_args(argv)
    return asyncio.run(_serve(args.run_id, args.tag, args.stimulus))


if __name__ == "__main__":
    sys.exit(main())
