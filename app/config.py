"""Settings from environment variables, read once. docs/operations.md lists them.

Every limit has a sane default for a small shared server; an operator tunes them with
PLAYGROUND_* variables. Invalid values fail loudly at start, naming the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    # Limits for one run
    timeout_s: float = 10.0  # wall clock
    max_timeout_s: float = 30.0  # a request may ask for less or more, never more than this
    cpu_s: float = 20.0  # CPU seconds per core of a run's share (all threads); ends busy loops
    memory_mb: int = 1536  # cgroup memory limit and RLIMIT_DATA (not RLIMIT_AS: XLA needs it)
    output_bytes: int = 1 << 20  # stdout + stderr together
    result_bytes: int = 8 << 20  # the worker's JSON result (views, jaxprs)
    max_pids: int = 64  # processes + threads in the run's cgroup (XLA starts ~17)
    file_size_mb: int = 16  # RLIMIT_FSIZE and the scratch tmpfs size
    open_files: int = 256  # RLIMIT_NOFILE
    code_bytes: int = 100 * 1024  # larger code is rejected before it reaches a worker
    # Pool and admission
    max_concurrent: int = _cores()  # runs executing at once (GPU hosts: also at most runs per GPU)
    queue_size: int = 16  # runs waiting for a slot; beyond: "busy"
    queue_wait_s: float = 30.0  # a queued run gives up with "busy" after this
    prefork: int = 1  # children always forked and waiting; more while runs come in bursts
    pool_memory_mb: int = 0  # what the waiting children add to memory at most; 0 = RAM / 8
    cores_per_run: int = 0  # a run's CPU share in cores (cgroup quota); 0 = cores / runs at once
    warm_child: bool = True  # a waiting child runs one tiny computation: a run's first op is fast
    rate_per_minute: int = 0  # runs per session per minute; 0 = unlimited (hosted: 30)
    fair_queue: bool = True  # sessions take turns in the queue; off: first come, first served
    # Hosted: limits are per client address (app/client_address.py), not per browser session
    trusted_proxies: str = ""  # comma list of proxy addresses/networks whose X-Forwarded-For counts
    queued_per_client: int = 0  # runs one client may have waiting; 0 = no cap (hosted: 4)
    reserved_slots: int = 0  # slots kept for clients with no run executing; 0 = none (hosted: 1/4)
    # As root, each run process gets its own uid and gid from this range (not shared kernel
    # quotas); it must hold max_concurrent + prefork + 4 at least
    run_uid_first: int = 400_000  # first uid (and gid) of the runs' range
    run_uid_count: int = 1024  # uids in the range
    # Accelerators
    cpu_devices: int = 8  # --xla_force_host_platform_device_count, for pmap demos on CPU
    gpu_memory_fraction: float = 0.0  # of its GPU, per run; 0 = 0.9 / runs per GPU
    gpu_gib_per_run: float = 16.0  # GPU memory one run may count on: runs per GPU = memory / this
    gpu_preload: bool = True  # the zygote loads the CUDA libraries once (no CUDA call there)
    # Per-session compilation cache: a writable layer over the shared read-only one
    session_cache_mb: int = 64  # each session's layer (a tmpfs of its own); 0 = no layers
    session_cache_sessions: int = 32  # layers kept at once; the least recently used goes first
    session_cache_idle_s: float = 1800.0  # a layer unused for this long is dropped
    # Behaviour
    hosted: bool = False  # public demo: hide app error details, rate limits on, notice shown
    require_sandbox: str = ""  # comma list of layers that must be active, else refuse to start
    allow_unbounded_memory: bool = False  # hosted: start even where a run's memory has no bound
    compile_cache_dir: str = ""  # "" = a private dir under the state dir
    state_dir: str = ""  # "" = $XDG_RUNTIME_DIR or /tmp, + jax-playground-<uid>
    runtimes_dir: str = ""  # where each JAX runtime's venv is (runtimes.toml); "" = .runtimes
    theme: str = "auto"  # light, dark or auto (follows the browser)
    live_update_s: float = 1.0  # a run in flight is redrawn this often (each costs the server CPU)
    # Rooms and exercise progress (app/rooms)
    database_url: str = ""  # "" = SQLite in the data dir; postgresql+psycopg://... for PostgreSQL
    data_dir: str = ""  # "" = $XDG_STATE_HOME or ~/.local/state, + jax-playground
    room_ttl_hours: float = 0.0  # rooms expire this long after creation; 0 = never (hosted: 24)
    rooms_per_hour: int = 0  # rooms one client may create per hour; 0 = unlimited (hosted: 5)
    room_max_participants: int = 300  # joins beyond this are refused
    room_joins_per_client: int = 0  # joins per client into one room; 0 = no cap (hosted: 5)
    learners_per_hour: int = 0  # personal links per client an hour; 0 = no cap (hosted: 20)
    learner_kib: int = 2048  # code one person may keep (drafts + attempts); past it, not kept
    room_mib: int = 128  # code one room may keep, all its participants together
    # Past one machine (docs/operations.md, "Worker hosts")
    runner_url: str = ""  # "" = runs on this host; redis://HOST:PORT/DB = on worker hosts
    host_ttl_s: float = 5.0  # a worker host silent this long is lost: its runs end "crashed"
    # What an operator sees: logs and metrics
    metrics_port: int = 0  # Prometheus /metrics of this replica or worker host; 0 = none

    @property
    def effective_rate_per_minute(self) -> int:
        if self.rate_per_minute:
            return self.rate_per_minute
        return 30 if self.hosted else 0

    @property
    def effective_room_ttl_hours(self) -> float:
        if self.room_ttl_hours:
            return self.room_ttl_hours
        return 24.0 if self.hosted else 0.0

    @property
    def effective_room_joins_per_client(self) -> int:
        if self.room_joins_per_client:
            return self.room_joins_per_client
        return 5 if self.hosted else 0

    @property
    def effective_learners_per_hour(self) -> int:
        if self.learners_per_hour:
            return self.learners_per_hour
        return 20 if self.hosted else 0

    @property
    def effective_rooms_per_hour(self) -> int:
        if self.rooms_per_hour:
            return self.rooms_per_hour
        return 5 if self.hosted else 0

    def for_runs(self) -> Settings:
        """These settings as the sandbox side may hold them: forked runs can read their
        process's memory, so a database URL that may carry a password never goes there (a
        SQLite URL names a file, no secret: it stays so the sandbox can hide that file)."""
        url = self.database_url if self.database_url.startswith("sqlite") else ""
        # The Redis URL (it may carry a password too) is no business of the sandbox side.
        return replace(self, database_url=url, runner_url="")


# Folders the SQLite database may not sit in directly: the sandbox cannot hide them whole.
SYSTEM_DATA_DIRS = frozenset({"/", "/etc", "/usr", "/usr/local", "/opt", "/srv", "/var",
                              "/var/lib", "/mnt"})


def data_dir(settings: Settings) -> Path:
    """Where the rooms database lives by default: outside the checkout, kept across restarts."""
    if settings.data_dir:
        return Path(settings.data_dir)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "jax-playground"


def database_url(settings: Settings) -> str:
    return settings.database_url or f"sqlite:///{data_dir(settings) / 'playground.db'}"


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite:/// URL (None for other databases and in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    _, sep, rest = url.partition(":///")
    path = rest.split("?", 1)[0]
    if not sep or not path or path == ":memory:":
        return None
    return Path(path).absolute()


def private_dirs(settings: Settings) -> list[Path]:
    """Folders runs must never see: the data dir and the SQLite database's folder."""
    folders = [data_dir(settings)]
    database = sqlite_path(database_url(settings))
    if database is not None:
        folders.append(database.parent)
    return folders


_PREFIX = "PLAYGROUND_"
REDIS_SCHEMES = ("redis", "rediss", "unix")


def _parse(kind: type, name: str, raw: str) -> object:
    try:
        if kind is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        return kind(raw)
    except ValueError as exc:
        raise ValueError(f"{_PREFIX}{name.upper()}={raw!r} is not a valid {kind.__name__}") from exc


def load(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    defaults = Settings()
    for f in fields(Settings):
        raw = env.get(_PREFIX + f.name.upper())
        if raw is not None:
            values[f.name] = _parse(type(getattr(defaults, f.name)), f.name, raw)
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.timeout_s <= 0 or settings.memory_mb < 256 or settings.max_concurrent < 1:
        raise ValueError("PLAYGROUND_TIMEOUT_S > 0, MEMORY_MB >= 256, MAX_CONCURRENT >= 1")
    if (settings.cores_per_run < 0 or settings.gpu_gib_per_run <= 0
            or settings.session_cache_mb < 0 or settings.session_cache_sessions < 1):
        raise ValueError("PLAYGROUND_CORES_PER_RUN >= 0, GPU_GIB_PER_RUN > 0, "
                         "SESSION_CACHE_MB >= 0, SESSION_CACHE_SESSIONS >= 1")
    if not 0.1 <= settings.live_update_s <= 10:
        raise ValueError("PLAYGROUND_LIVE_UPDATE_S must be between 0.1 and 10 (seconds)")
    if settings.runner_url and urlsplit(settings.runner_url).scheme not in REDIS_SCHEMES:
        raise ValueError(f"{_PREFIX}RUNNER_URL must be redis://HOST:PORT/DB (or rediss://, "
                         "unix://), or empty for this host's own runner")
    if settings.host_ttl_s < 1:
        raise ValueError(f"{_PREFIX}HOST_TTL_S >= 1 (heartbeats go every quarter of it)")
    from app.client_address import parse_networks

    try:
        parse_networks(settings.trusted_proxies)
    except ValueError as exc:
        raise ValueError(f"PLAYGROUND_TRUSTED_PROXIES: {exc}") from exc
    if settings.run_uid_first < 1000 or settings.run_uid_first + settings.run_uid_count > 1 << 31:
        raise ValueError("PLAYGROUND_RUN_UID_FIRST: 1000 or more, the range below 2^31")
    if settings.run_uid_count < settings.max_concurrent + settings.prefork + 4:
        raise ValueError("PLAYGROUND_RUN_UID_COUNT must be at least "
                         "PLAYGROUND_MAX_CONCURRENT + PLAYGROUND_PREFORK + 4")
    return settings


@cache
def settings() -> Settings:
    return load()


def redact_url(url: str) -> str:
    """A URL without its password (for the System page and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"{parts.username or ''}:***@{host}", parts.path,
                       parts.query, ""))


SECRET_URLS = ("runner_url", "database_url")  # may carry a password


def shown_value(config: Settings, name: str) -> object:
    """A setting's value as the System page may show it: URLs without their password (and not
    at all in hosted mode: the deployment's layout is not the public's business)."""
    value = getattr(config, name)
    if name in SECRET_URLS and value:
        return "set" if config.hosted else redact_url(value)
    return value


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) rows for docs/operations.md and the System page."""
    comments = _field_comments()
    defaults = Settings()
    return [
        (_PREFIX + f.name.upper(), repr(getattr(defaults, f.name)), comments.get(f.name, ""))
        for f in fields(Settings)
    ]


def _field_comments() -> dict[str, str]:
    import inspect

    out: dict[str, str] = {}
    for line in inspect.getsource(Settings).splitlines():
        head, sep, comment = line.partition("#")
        if sep and ":" in head and "=" in head:
            out[head.split(":")[0].strip()] = comment.strip()
    return out
