"""Store tests run against SQLite (a file in a temp dir) and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.rooms.store import Store
from tests.rooms.postgres import postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store on each database."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'rooms' / 'playground.db'}")
        yield store
        store.close()
        return
    url = request.getfixturevalue("postgres_url")
    store = Store(url)
    with store.write() as conn:  # a clean slate per test, on the one server of the session
        from app.rooms.schema import metadata

        for table in reversed(metadata.sorted_tables):
            if table.name != "schema_version":
                conn.execute(table.delete())
    yield store
    store.close()
