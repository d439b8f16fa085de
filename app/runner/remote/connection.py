"""A Redis client for the run queue: short timeouts (a lost Redis is noticed in seconds, not
minutes) and one immediate retry (a pooled connection that died with a restarted server fails
once at send), and URLs printed without their password."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.config import REDIS_SCHEMES
from app.config import redact_url as redact

CONNECT_TIMEOUT_S = 2.0
# Above every blocking call's own timeout (BLPOP here waits <= 1 s) and an 8 MiB result's
# transfer, below anything a person would wait for.
SOCKET_TIMEOUT_S = 10.0


def check_url(url: str) -> None:
    """Raise ValueError unless url is one redis-py can open (redis://HOST:PORT/DB, rediss://,
    unix:///path?db=N)."""
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ValueError(f"{redact(url)!r}: expected redis://HOST:PORT/DB (or rediss://, unix://)")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError(f"{redact(url)!r}: no host")
    db = parts.path.strip("/")
    if parts.scheme != "unix" and db and not db.isdigit():
        raise ValueError(f"{redact(url)!r}: the path must be a database number")


def connect(url: str) -> redis.Redis:
    check_url(url)
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=SOCKET_TIMEOUT_S,
        retry=Retry(NoBackoff(), 1),
        client_name="jax-playground",
    )
