"""Where the runner keeps its state, which accelerator this host has, and the zygote's environment.

The platform is detected once at supervisor start in a throwaway subprocess: detecting it in the
zygote would initialise the JAX backend there, and a process with an initialised backend must
never fork (XLA's threads deadlock the child).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from app.config import Settings
from app.runner import policy as policy_module

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
# (docs/architecture.md); used only where the detection run shows this jaxlib accepts the flag.
CPU_WORKAROUND_FLAG = "--xla_cpu_experimental_ynn_fusion_type="
# Runs read the persistent compilation cache but never write it: with this threshold JAX skips the
# write before trying, so a read-only cache dir prints no warnings. The trusted warm-up sets 0.
NEVER_WRITE_SECS = "1000000000"
# XLA flags a zygote drops where its own jaxlib refuses them (set for runtimes other than the one
# the platform was detected with; app/runner/zygote.py checks them).
OPTIONAL_FLAGS_VAR = "PLAYGROUND_OPTIONAL_XLA_FLAGS"
DETECT_TIMEOUT_S = 120.0
# Where a run's writable compilation-cache layer is, as a path: a fixed descriptor number (the
# session's layer, or a throwaway directory), so that XLA's GPU autotuning cache, whose path is
# part of every cache key, has the same path in every process
# (app/runner/supervisor/session_cache.py).
LAYER_PATH = "/proc/self/fd/{fd}"
AUTOTUNE_DIR = "xla-autotune"


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
    max_concurrent: int  # effective: TPU forces 1, GPU hosts follow the GPU memory
    preinit_backend: bool  # preforked children may start the backend before a request arrives
    env: dict[str, str] = field(default_factory=dict)  # the zygote's whole environment
    notes: list[str] = field(default_factory=list)  # plain sentences for the System page
    policy: policy_module.ResourcePolicy | None = None
    gpu_memory_bytes: int | None = None  # of one GPU, where known
    cpu_xla_flags: str = ""  # XLA_FLAGS of a run that asked for the CPU (forced host devices)


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


def _probe(env: dict[str, str], interpreter: str | None = None) -> dict[str, object] | None:
    code = (
        "import json, jax; d = jax.devices(); m = None\n"
        "try:\n"
        "    m = (d[0].memory_stats() or {}).get('bytes_limit') if d[0].platform != 'cpu' "
        "else None\n"
        "except Exception:\n"
        "    pass\n"
        "print(json.dumps({'platform': jax.default_backend(), 'count': len(d), "
        "'kind': d[0].device_kind if d else '', 'memory': m}))"
    )
    try:
        done = subprocess.run(
            [interpreter or sys.executable, "-c", code],
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


def _nvidia_smi_memory() -> int | None:
    """The first GPU's memory in bytes as nvidia-smi reports it; None without it."""
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=30, check=False)
        return int(done.stdout.split()[0]) << 20
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None


def layer_fd(settings: Settings) -> int:
    """The cache layer's descriptor number in a run: the highest its RLIMIT_NOFILE allows."""
    return max(4, settings.open_files - 1)  # 0-3: the request, stdout, stderr, result


def gpu_flags(settings: Settings, compile_threads: int | None) -> str:
    """XLA_FLAGS that GPU runs add: their compile parallelism, and XLA's autotuning cache in the
    run's writable layer (the same path in every process: the path is part of the cache keys)."""
    flags = [f"--xla_gpu_per_fusion_autotune_cache_dir="
             f"{LAYER_PATH.format(fd=layer_fd(settings))}/{AUTOTUNE_DIR}"]
    if compile_threads:
        flags.append(f"--xla_gpu_force_compilation_parallelism={compile_threads}")
    return " ".join(flags)


def _host_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def runtime_cache_dir(settings: Settings, runtime_id: str) -> Path:
    """The shared compilation cache of one JAX runtime: an entry never crosses runtimes."""
    root = compile_cache_dir(settings)
    return root / f"jax-{runtime_id}" if runtime_id else root


def for_runtime(info: PlatformInfo, settings: Settings, runtime_id: str) -> PlatformInfo:
    """The platform as another runtime's zygote gets it: its own cache dir, and the XLA flags
    only the detecting runtime's jaxlib was seen to accept marked optional (that zygote checks
    them with its own jaxlib before its children start: an unknown flag aborts XLA)."""
    env = {**info.env, "JAX_COMPILATION_CACHE_DIR": str(runtime_cache_dir(settings, runtime_id))}
    cpu_xla = info.cpu_xla_flags
    if CPU_WORKAROUND_FLAG in cpu_xla:
        env[OPTIONAL_FLAGS_VAR] = CPU_WORKAROUND_FLAG
    return dataclasses.replace(info, env=env)


def detect(settings: Settings, environ: dict[str, str] | None = None,
           interpreter: str | None = None, runtime_id: str = "") -> PlatformInfo:
    """Find the accelerator, decide the resource policy, and build the zygote's environment;
    interpreter: the default runtime's Python (None: this process's own)."""
    env = base_env(settings, environ)
    env["JAX_COMPILATION_CACHE_DIR"] = str(runtime_cache_dir(settings, runtime_id))
    notes: list[str] = []
    cpu_flags = f"--xla_force_host_platform_device_count={settings.cpu_devices}"
    # Without preallocation and with the whole GPU as the limit, the probe reads the memory size.
    probe_env = {**env, "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
                 "XLA_PYTHON_CLIENT_MEM_FRACTION": "1.0"}
    found = _probe({**probe_env, "XLA_FLAGS": f"{cpu_flags} {CPU_WORKAROUND_FLAG}"}, interpreter)
    with_workaround = found is not None
    if found is None:  # a jaxlib that does not know the workaround flag refuses to start
        found = _probe({**probe_env, "XLA_FLAGS": cpu_flags}, interpreter)
    if found is None:
        notes.append("Platform detection failed; assuming CPU.")
        found = {"platform": "cpu", "count": settings.cpu_devices, "kind": "cpu"}
    platform = str(found["platform"])
    if platform in ("cuda", "rocm"):
        platform = "gpu"
    memory = found.get("memory")
    gpu_memory = int(memory) if isinstance(memory, int | float) and memory > 0 else None
    if platform == "gpu" and gpu_memory is None:
        gpu_memory = _nvidia_smi_memory()
    count = int(found["count"])  # type: ignore[call-overload]
    decided = policy_module.decide(
        settings, policy_module.HostFacts(platform, count, _host_cores(), gpu_memory))
    cpu_xla = f"{cpu_flags} {CPU_WORKAROUND_FLAG}" if with_workaround else cpu_flags
    preinit = True
    if platform == "cpu":
        env["XLA_FLAGS"] = cpu_xla
        notes.append(f"CPU with {settings.cpu_devices} forced host devices (for pmap demos).")
    elif platform == "gpu":
        # No preallocation; each run's share leaves room for the CUDA contexts beside it.
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
        env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{decided.gpu_memory_fraction:.3f}"
        # The detection run checked the CUDA installation once; every child need not again.
        env["JAX_SKIP_CUDA_CONSTRAINTS_CHECK"] = "1"
        flags = gpu_flags(settings, decided.compile_threads)
        if _probe({**env, "XLA_FLAGS": flags}, interpreter) is not None:
            env["XLA_FLAGS"] = flags
        else:
            notes.append("This jaxlib refused the GPU compile flags: XLA's autotuning results "
                         "are not cached and compilation is not capped per run.")
    elif platform == "tpu":
        preinit = False  # only one process may own the chip: a waiting child must not take it
    notes += decided.why
    return PlatformInfo(
        platform=platform,
        device_count=count,
        device_kind=str(found["kind"]),
        max_concurrent=decided.runs_at_once,
        preinit_backend=preinit,
        env=env,
        notes=notes,
        policy=decided,
        gpu_memory_bytes=gpu_memory,
        cpu_xla_flags=cpu_xla,
    )
