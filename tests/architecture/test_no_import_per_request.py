"""No module search per HTTP request: httpcore imports ``sniffio`` on every request to learn
which async library runs it, and without the package installed each attempt fails after
searching ``sys.path`` (~50 us; ~800 requests a run). ``sniffio`` is a declared dependency."""

from __future__ import annotations

import asyncio
import importlib.abc
import sys
from typing import Any

from httpcore._synchronization import current_async_library


class _Watcher(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.searched: list[str] = []

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        self.searched.append(name)
        return None


def test_async_library_detection_searches_no_module() -> None:
    async def detect() -> list[str]:
        return [current_async_library() for _ in range(20)]

    asyncio.run(detect())  # first use may import what it needs, once
    watcher = _Watcher()
    sys.meta_path.insert(0, watcher)
    try:
        assert asyncio.run(detect()) == ["asyncio"] * 20
    finally:
        sys.meta_path.remove(watcher)
    assert watcher.searched == [], f"modules searched on every request: {set(watcher.searched)}"
