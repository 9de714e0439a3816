"""A throw-away PostgreSQL cluster for the self-tests (Debian's ``postgresql`` package).

``initdb`` into a temporary directory, ``postgres`` on a free loopback port with trust auth and no
durability (a test database), one database ``msc`` with Mastodon's schema subset loaded when asked.
PostgreSQL refuses to run as root, so under root the cluster belongs to the ``postgres`` user and
runs through ``runuser``. ``scripts/setup.sh --postgres`` installs the package.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from timing import scaled

START_TIMEOUT_S = 30.0


def pg_binary(name: str) -> str | None:
    """``name`` on PATH, else the newest ``/usr/lib/postgresql/*/bin/name`` (Debian's layout)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def temporary_postgres(*, schema: bool = True) -> Iterator[str]:
    """Yield ``postgresql://postgres@127.0.0.1:<port>/msc``; the cluster is removed afterwards."""
    import psycopg

    initdb, postgres = pg_binary("initdb"), pg_binary("postgres")
    if initdb is None or postgres is None:
        raise FileNotFoundError("PostgreSQL is not installed (scripts/setup.sh --postgres)")
    root = tempfile.mkdtemp(prefix="msc-pg-")
    data = os.path.join(root, "data")
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*prefix, initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=scaled(120),
    )
    port = _free_port()
    process = subprocess.Popen(
        [
            *prefix,
            postgres,
            "-D",
            data,
            "-k",
            root,
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + scaled(START_TIMEOUT_S)
        while True:
            try:
                with psycopg.connect(admin, autocommit=True, connect_timeout=2) as conn:
                    conn.execute("CREATE DATABASE msc")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)  # polling a child's startup: no event to wait on
        url = f"postgresql://postgres@127.0.0.1:{port}/msc"
        if schema:
            from conformance.reference.pg.store import load_schema

            load_schema(url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=scaled(20))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=scaled(10))
        shutil.rmtree(root, ignore_errors=True)
