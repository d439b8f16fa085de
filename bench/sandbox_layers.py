"""What each sandbox layer costs per run: fork a child of a process that imported jax (as the
zygote does), apply layers in it, and time fork -> layers applied -> child reports. Prints
medians and spread in milliseconds; asserts nothing.

    .venv/bin/python bench/sandbox_layers.py            # 20 rounds per configuration
    .venv/bin/python bench/sandbox_layers.py --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: F401 - the zygote's state: jax imported, backend not started

from app.config import Settings
from app.runner.sandbox import libc, mounts, seccomp_filter
from app.runner.sandbox.entry import enter_child, prepare, run_uids
from app.runner.sandbox.probing import probe

SETTINGS = Settings()
prepare(SETTINGS)  # as the zygote does: the walk of the host, once


def _fork_and_time(step: Callable[[Path], None], scratch: Path) -> float:
    """Seconds from just before fork to the child's 'done' byte (after step)."""
    read_fd, write_fd = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_fd)
            step(scratch)
            os.write(write_fd, b"d")
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_fd)
    done = os.read(read_fd, 1)
    elapsed = time.perf_counter() - start
    os.close(read_fd)
    os.waitpid(pid, 0)
    if done != b"d":
        raise RuntimeError(f"{step.__name__} failed in the child")
    return elapsed


def nothing(scratch: Path) -> None:
    pass


def namespaces_only(scratch: Path) -> None:
    libc.unshare(libc.CLONE_NEWNET | libc.CLONE_NEWNS | libc.CLONE_NEWIPC | libc.CLONE_NEWUTS)


def namespaces_and_mounts(scratch: Path) -> None:
    namespaces_only(scratch)
    state = Path(SETTINGS.state_dir or tempfile.gettempdir())
    plan = mounts.plan(scratch, SETTINGS.file_size_mb, 65534, 65534, state, None,
                       run_uids=run_uids(SETTINGS))
    mounts.apply(plan)


def seccomp_only(scratch: Path) -> None:
    seccomp_filter.install()


def every_layer(scratch: Path) -> None:
    enter_child(SETTINGS, scratch)


CONFIGURATIONS: list[tuple[str, Callable[[Path], None]]] = [
    ("fork + exit (baseline)", nothing),
    ("net+mount+ipc+uts namespaces", namespaces_only),
    ("namespaces + filesystem view", namespaces_and_mounts),
    ("seccomp filter (pyseccomp)", seccomp_only),
    ("enter_child: every layer", every_layer),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(f"host: {os.uname().release}, euid {os.geteuid()}, {os.cpu_count()} cores, "
          f"{args.rounds} rounds each; ms: median [min - max]")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        baseline = None
        for label, step in CONFIGURATIONS:
            times = [_fork_and_time(step, scratch) * 1000 for _ in range(args.rounds)]
            median = statistics.median(times)
            baseline = median if baseline is None else baseline
            extra = "" if step is nothing else f"  (+{median - baseline:.1f} over fork)"
            print(f"{label:32s} {median:7.1f} [{min(times):.1f} - {max(times):.1f}]{extra}")
    print("probe() (a real enter_child in a fresh interpreter + a cgroup):", end=" ")
    start = time.perf_counter()
    probe(SETTINGS)
    print(f"{(time.perf_counter() - start) * 1000:.0f} ms, once per supervisor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
