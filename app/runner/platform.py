"""Where the runner keeps its state, which accelerator this host has, and the zygote's environment.

The platform is detected once at supervisor start in a throwaway subprocess: detecting it in the
zygote would initialise the JAX backend there, and a process with an initialised backend must
never fork (XLA's threads deadlock the child).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from app.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]

# Environment variables that may pass from the server to the zygote (and so to runs). Everything
# else (credentials, tokens, the server's own settings) is dropped.
PASS_THROUGH = (
    "JAX_PLATFORMS",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "LD_LIBRARY_PATH",
    "TPU_VISIBLE_CHIPS",
    "TPU_PROCESS_BOUNDS",
    "TPU_CHIPS_PER_PROCESS_BOUNDS",
)
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
# Works around the jaxlib 0.10.2 CPU compiler bug with matmul results fed to host callbacks
# (DESIGN.md); used only where the detection run shows this jaxlib accepts the flag.
CPU_WORKAROUND_FLAG = "--xla_cpu_experimental_ynn_fusion_type="
# Runs read the persistent compilation cache but never write it: with this threshold JAX skips the
# write before trying, so a read-only cache dir prints no warnings. The trusted warm-up sets 0.
NEVER_WRITE_SECS = "1000000000"
DETECT_TIMEOUT_S = 120.0


def state_dir(settings: Settings) -> Path:
    if settings.state_dir:
        return Path(settings.state_dir)
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return Path(base) / f"jax-playground-{os.getuid()}"


def compile_cache_dir(settings: Settings) -> Path:
    if settings.compile_cache_dir:
        return Path(settings.compile_cache_dir)
    return state_dir(settings) / "compile-cache"


@dataclass
class PlatformInfo:
    platform: str  # "cpu", "gpu" or "tpu"
    device_count: int
    device_kind: str
    max_concurrent: int  # effective: TPU forces 1
    preinit_backend: bool  # preforked children may start the backend before a request arrives
    env: dict[str, str] = field(default_factory=dict)  # the zygote's whole environment
    notes: list[str] = field(default_factory=list)  # plain sentences for the System page


def base_env(settings: Settings, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The scrubbed environment every run starts from, before accelerator settings."""
    source = os.environ if environ is None else environ
    env = {name: source[name] for name in PASS_THROUGH if name in source}
    cache = compile_cache_dir(settings)
    env.update(
        # The server's PATH (not secret): GPU builds may look for CUDA tools such as ptxas on it.
        PATH=source.get("PATH") or SAFE_PATH,
        LANG="C.UTF-8",
        PYTHONPATH=str(REPO_ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
        # One thread after `import jax`, so the zygote can fork safely.
        OPENBLAS_NUM_THREADS="1",
        MALLOC_ARENA_MAX="2",
        TF_CPP_MIN_LOG_LEVEL="1",
        JAX_COMPILATION_CACHE_DIR=str(cache),
        JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="-1",
        JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=NEVER_WRITE_SECS,
        # XLA's own autotune caches would also write into the cache dir.
        JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES="none",
    )
    return env


def _probe(env: dict[str, str]) -> dict[str, object] | None:
    code = (
        "import json, jax; d = jax.devices(); "
        "print(json.dumps({'platform': jax.default_backend(), 'count': len(d), "
        "'kind': d[0].device_kind if d else ''}))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=str(REPO_ROOT),
            capture_output=True,
            text=True,
            timeout=DETECT_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def detect(settings: Settings, environ: dict[str, str] | None = None) -> PlatformInfo:
    """Find the accelerator and build the zygote's environment for it."""
    env = base_env(settings, environ)
    notes: list[str] = []
    cpu_flags = f"--xla_force_host_platform_device_count={settings.cpu_devices}"
    found = _probe({**env, "XLA_FLAGS": f"{cpu_flags} {CPU_WORKAROUND_FLAG}"})
    with_workaround = found is not None
    if found is None:  # a jaxlib that does not know the workaround flag refuses to start
        found = _probe({**env, "XLA_FLAGS": cpu_flags})
    if found is None:
        notes.append("Platform detection failed; assuming CPU.")
        found = {"platform": "cpu", "count": settings.cpu_devices, "kind": "cpu"}
    platform = str(found["platform"])
    max_concurrent = settings.max_concurrent
    preinit = True
    if platform == "cpu":
        flags = f"{cpu_flags} {CPU_WORKAROUND_FLAG}" if with_workaround else cpu_flags
        env["XLA_FLAGS"] = flags
        notes.append(f"CPU with {settings.cpu_devices} forced host devices (for pmap demos).")
    elif platform == "gpu" or platform == "cuda" or platform == "rocm":
        platform = "gpu"
        # Leave room for each process's CUDA context beside the runs' arrays.
        fraction = settings.gpu_memory_fraction or 0.9 / max_concurrent
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
        env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{fraction:.3f}"
        notes.append(
            f"GPU without preallocation; each run may use {fraction:.0%} of the GPU memory."
        )
    elif platform == "tpu":
        max_concurrent = 1
        preinit = False  # only one process may own the chip: a waiting child must not take it
        notes.append("TPU: one process owns the chip, so runs are serialised (one at a time).")
    return PlatformInfo(
        platform=platform,
        device_count=int(found["count"]),  # type: ignore[call-overload]
        device_kind=str(found["kind"]),
        max_concurrent=max_concurrent,
        preinit_backend=preinit,
        env=env,
        notes=notes,
    )
