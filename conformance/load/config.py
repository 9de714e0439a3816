"""The load command's settings, the ramp syntax, and the safety rule for targets.

Load is the one thing the suite does that can hurt a server, so targets are loopback or
private-network addresses unless ``--allow-public-load`` is given together with
``--confirm-target HOST`` naming the target's host exactly (a typo in a URL must not point a
few thousand connections at somebody else's instance).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from conformance.load.streams import StreamSpec

__all__ = ["LoadConfig", "SafetyError", "check_target", "parse_ramp", "ramp_steps"]

MAX_SUBSCRIBERS = 200_000
MAX_STEPS = 50


class SafetyError(ValueError):
    """The target may not be loaded without an explicit confirmation."""


@dataclass(frozen=True)
class LoadConfig:
    subscribers: int = 100
    transport: str = "mix"  # sse | ws | mix
    streams: tuple[StreamSpec, ...] = (StreamSpec("public"),)
    rate: float = 2.0
    duration_s: float = 10.0
    ramp: tuple[int, int, int] | None = None
    max_loss: float = 0.001
    max_p99_ms: float = 2000.0
    sample_every: int = 100
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    setup_timeout_s: float = 60.0
    warmup_timeout_s: float = 60.0
    drain_s: float = 5.0
    keepalive_timeout_s: tuple[float, float] = (20.0, 35.0)  # (sse heartbeat, ws ping)
    deadline_s: float = 3600.0
    concurrency: int = 64
    report_dir: Path | None = None
    stimulus: str = "rest"
    #: run every ramp step even after one broke a threshold (capacity is still the last
    #: sustained step before the first broken one)
    keep_going: bool = False

    def steps(self) -> list[int]:
        return ramp_steps(*self.ramp) if self.ramp else [self.subscribers]


def parse_ramp(text: str) -> tuple[int, int, int]:
    """``START:STEP:MAX`` -> (start, step, max), all positive, start <= max."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError("--ramp takes START:STEP:MAX, e.g. 500:1500:5000")
    try:
        start, step, top = (int(p) for p in parts)
    except ValueError:
        raise ValueError("--ramp values must be integers") from None
    if start < 1 or step < 1 or top < start or top > MAX_SUBSCRIBERS:
        raise ValueError(f"--ramp needs 1 <= START <= MAX <= {MAX_SUBSCRIBERS} and STEP >= 1")
    if len(ramp_steps(start, step, top)) > MAX_STEPS:
        raise ValueError(f"--ramp would take more than {MAX_STEPS} steps")
    return start, step, top


def ramp_steps(start: int, step: int, top: int) -> list[int]:
    """START, START+STEP, ... and MAX itself as the last step."""
    out = list(range(start, top + 1, step))
    if out[-1] != top:
        out.append(top)
    return out


def _addresses(host: str) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except OSError:
        return []


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_loopback or ip.is_private or ip.is_link_local


def check_target(url: str, *, allow_public: bool, confirm_host: str | None) -> str:
    """The target's host if loading it is allowed; SafetyError naming the fix otherwise."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        raise SafetyError(f"target {url!r} has no host")
    addresses = _addresses(host)
    if addresses and all(_is_private(a) for a in addresses):
        return host
    if not allow_public:
        raise SafetyError(
            f"{host} is not a loopback or private address: load it only with "
            f"--allow-public-load --confirm-target {host}"
        )
    if (confirm_host or "").lower() != host:
        raise SafetyError(f"--allow-public-load needs --confirm-target {host} (the target host)")
    return host
