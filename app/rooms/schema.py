"""The rooms database: its tables (SQLAlchemy Core) and a simple versioned schema.

`schema_version` holds one row, the number of migrations applied. Each migration is a function
of a connection, applied in order inside one transaction with the version bump, so a crash
mid-migration leaves the previous version whole. A new version appends a function to MIGRATIONS
and never edits an applied one. Times are Unix seconds (float), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, nullable=False),
)

rooms = Table(
    "rooms", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),  # public: in the join link
    Column("facilitator_hash", String(64), nullable=False),  # sha256 of the secret token
    Column("name", String(200), nullable=False),
    Column("items", Text, nullable=False),  # JSON list of {"kind": ..., "id": ...}
    Column("created_by", String(64), nullable=False),  # hash of the client id: rate limits
    Column("created_at", Float, nullable=False),
    Column("ends_at", Float, nullable=True),  # the facilitator's end time
    Column("expires_at", Float, nullable=True),  # hosted mode: gone after this
    Column("deleted_at", Float, nullable=True),
    # Added by _add_v2 (kept here too, so that a fresh database is created whole):
    Column("closed_at", Float, nullable=True),  # closed: read-only, the records stay readable
    Column("recovery_hash", String(64), nullable=True),  # sha256 of the recovery code
    Column("version", Integer, nullable=False, server_default=text("0")),  # bumped per change
    Column("stored_bytes", Integer, nullable=False, server_default=text("0")),  # code kept
    # Added by _add_v3: the JAX runtime the room's runs use (None: the server's newest).
    Column("jax", String(32), nullable=True),
    Index("ix_rooms_created_by", "created_by", "created_at"),
)

participants = Table(
    "participants", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("room_id", Integer, ForeignKey("rooms.id", ondelete="CASCADE"), nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),  # "" for a learner on their own
    Column("joined_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("seen_push_id", Integer, nullable=False, server_default=text("0")),
    # Added by _add_v2:
    Column("joined_by", String(64), nullable=True),  # hash of the client id: join limits
    Column("stored_bytes", Integer, nullable=False, server_default=text("0")),  # code kept
    Index("ix_participants_room", "room_id"),
)

drafts = Table(
    "drafts", metadata,
    Column("participant_id", Integer, ForeignKey("participants.id", ondelete="CASCADE"),
           primary_key=True),
    Column("item_id", String(200), primary_key=True),
    Column("code", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

attempts = Table(
    "attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("participant_id", Integer, ForeignKey("participants.id", ondelete="CASCADE"),
           nullable=False),
    Column("exercise_id", String(200), nullable=False),
    Column("attempt_key", String(64), nullable=False),  # the run id: one row per submission
    Column("submitted_at", Float, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # the run's status
    Column("failed_case", String(200), nullable=True),
    Column("error_type", String(100), nullable=True),
    Column("message", Text, nullable=False),
    Column("code", Text, nullable=False),
    UniqueConstraint("attempt_key", name="uq_attempts_key"),
    Index("ix_attempts_participant", "participant_id", "exercise_id"),
)

reveals = Table(
    "reveals", metadata,
    Column("participant_id", Integer, ForeignKey("participants.id", ondelete="CASCADE"),
           primary_key=True),
    Column("exercise_id", String(200), primary_key=True),
    Column("hints_shown", Integer, nullable=False),
    Column("solution_shown_at", Float, nullable=True),
)

pushes = Table(
    "pushes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("room_id", Integer, ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # "exercise", "snippet" or "solution"
    Column("item_id", String(200), nullable=False),
    Column("code", Text, nullable=True),  # a shown solution: the anonymised code
    Column("pushed_at", Float, nullable=False),
    Index("ix_pushes_room", "room_id", "id"),
)


def _create_v1(conn: Connection) -> None:
    for table in (rooms, participants, drafts, attempts, reveals, pushes):
        table.create(conn, checkfirst=True)


_V2_COLUMNS = {
    "rooms": ("closed_at FLOAT", "recovery_hash VARCHAR(64)",
              "version INTEGER NOT NULL DEFAULT 0", "stored_bytes INTEGER NOT NULL DEFAULT 0"),
    "participants": ("joined_by VARCHAR(64)", "stored_bytes INTEGER NOT NULL DEFAULT 0"),
}


def _add_v2(conn: Connection) -> None:
    """Closed rooms, recovery codes, change counters, storage counters, who joined."""
    present = {t: {c["name"] for c in inspect(conn).get_columns(t)} for t in _V2_COLUMNS}
    for table, columns in _V2_COLUMNS.items():
        for column in columns:
            if column.split()[0] not in present[table]:  # a fresh v1 from this metadata has it
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column}"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_participants_joined_by "
                      "ON participants (joined_by, joined_at)"))


def _add_v3(conn: Connection) -> None:
    """The room's JAX version."""
    if "jax" not in {c["name"] for c in inspect(conn).get_columns("rooms")}:
        conn.execute(text("ALTER TABLE rooms ADD COLUMN jax VARCHAR(32)"))


MIGRATIONS: list[Callable[[Connection], None]] = [_create_v1, _add_v2, _add_v3]
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    row = conn.execute(select(schema_version.c.version)).first()
    return int(row[0]) if row else 0


def migrate(conn: Connection) -> int:
    """Apply the missing migrations inside the caller's transaction; the version reached."""
    schema_version.create(conn, checkfirst=True)
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise RuntimeError(f"the database has schema version {version}, newer than this app's "
                           f"{SCHEMA_VERSION}: upgrade the app")
    for migration in MIGRATIONS[version:]:
        migration(conn)
    if version == 0:
        conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
    elif version < SCHEMA_VERSION:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
    return SCHEMA_VERSION
