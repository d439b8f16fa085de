"""The database behind rooms and exercise progress: one engine per process, short transactions.

SQLite (the default, a file in the data dir) runs in WAL mode with synchronous=FULL: readers
never wait for the writer, and a committed change survives a crash of the app or of the machine;
a crash mid-write loses only that uncommitted transaction. Write transactions start with
BEGIN IMMEDIATE, so concurrent writers queue on busy_timeout instead of failing when a read lock
cannot be upgraded. PLAYGROUND_DATABASE_URL=postgresql+psycopg://... points the same code at
PostgreSQL. The schema is migrated at open, under a lock, by whichever process comes first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import InterfaceError, OperationalError

from app.config import SYSTEM_DATA_DIRS, Settings, database_url, sqlite_path
from app.rooms import schema
from app.rooms.inputs import RoomError

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 15_000
_MIGRATION_LOCK = 7_301_401  # PostgreSQL advisory lock id for migrations


class StoreUnavailable(RuntimeError):
    """The database cannot be opened; the message says why, for the operator."""


class StoreBusy(RoomError):
    """A read or write failed in the database (locked by another process, the server gone, a
    lock not granted in time): the person sees one sentence and nothing half-written."""

    MESSAGE = ("The playground's database did not answer in time (it is busy or unavailable); "
               "nothing was saved by this step. Try again in a moment.")

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


@contextmanager
def _translated() -> Iterator[None]:
    # IntegrityError is left alone: callers use it (a duplicate attempt key).
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        log.warning("rooms database failure: %s", exc)
        raise StoreBusy() from exc


class Store:
    def __init__(self, url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.url = url
        self.path = sqlite_path(url)
        if self.path is not None:
            _prepare_sqlite_folder(self.path)
        self.engine: Engine = _engine(url, busy_timeout_ms)
        self.purged_at = 0.0  # the last sweep of expired rooms (app.rooms.rooms.purge_expired)
        self.dialect = self.engine.dialect.name
        with self.write() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
            self.version = schema.migrate(conn)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed at the end of the block, rolled back on error."""
        with _translated(), self.engine.connect() as conn:
            conn.execution_options(playground_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only transaction (a consistent snapshot on both databases)."""
        with _translated(), self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self.engine.dispose()


def _prepare_sqlite_folder(path: Path) -> None:
    folder = path.parent
    if str(folder.resolve()) in SYSTEM_DATA_DIRS:
        raise StoreUnavailable(f"put the SQLite database in a folder of its own, not {folder}: "
                               "runs must not see it, and the sandbox hides whole folders")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StoreUnavailable(f"cannot create the database folder {folder}: {exc}") from exc


def _engine(url: str, busy_timeout_ms: int) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000,
                                                  "check_same_thread": False})
        event.listen(engine, "connect", lambda c, r: _sqlite_connect(c, r, busy_timeout_ms))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # A lock held elsewhere (another process, a stuck transaction) fails after the same wait as
    # on SQLite instead of blocking the page for ever.
    options = f"-c lock_timeout={busy_timeout_ms}"
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                             connect_args={"options": options, "connect_timeout": 10})
    except Exception as exc:  # a malformed URL or a missing driver: say which setting
        raise StoreUnavailable(f"PLAYGROUND_DATABASE_URL cannot be used: {exc}") from exc


def _sqlite_connect(dbapi_connection: Any, _record: Any, busy_timeout_ms: int) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" event below issues BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                   f"busy_timeout={busy_timeout_ms}"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("playground_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_lock = threading.Lock()
_stores: dict[str, Store] = {}


def get_store(settings: Settings | None = None) -> Store:
    """The process-wide store for the configured database (opened and migrated once)."""
    from app.config import settings as configured

    url = database_url(settings or configured())
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = Store(url)
        return store
