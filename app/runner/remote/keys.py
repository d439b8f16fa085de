"""The Redis keys the Python side reads directly, named as playground.lua names them, and the
ids that go into keys (checked: a key is built only from ids we made or validated)."""

from __future__ import annotations

import hashlib

from app.protocol import RUN_ID  # the local Runner's rule for run ids: the same here

PREFIX = "pg:"
WAKE = PREFIX + "wake"  # one token per submitted run: idle hosts block on it
QUEUE = PREFIX + "queue"


def inbox(replica: str) -> str:
    """Where a replica's runs' events arrive (one reader per replica)."""
    return f"{PREFIX}inbox:{replica}"


def host(host_id: str) -> str:
    """The host's heartbeat: its status, expiring after PLAYGROUND_HOST_TTL_S."""
    return f"{PREFIX}host:{host_id}"


def host_control(host: str) -> str:
    """Where a host is told to stop runs (and wakes itself when a slot frees)."""
    return f"{PREFIX}host:{host}:ctl"


def run(run_id: str) -> str:
    return f"{PREFIX}run:{run_id}"


def valid_run_id(run_id: str) -> bool:
    return bool(RUN_ID.fullmatch(run_id))


def private_key(value: str) -> str:
    """A session or client id as it is stored: hashed (never readable in Redis, fixed length,
    safe in a key)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
