"""A throw-away PostgreSQL per test module (``tests/support/postgres_server.py``).

Skips with the reason when PostgreSQL is not installed; ``scripts/setup.sh --postgres`` installs
it and ``scripts/test.sh``/``.ci/run`` call that, so CI never skips.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from postgres_server import pg_binary, temporary_postgres


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    if pg_binary("initdb") is None or pg_binary("postgres") is None:
        pytest.skip("PostgreSQL is not installed (scripts/setup.sh --postgres)")
    with temporary_postgres(schema=True) as url:
        yield url
