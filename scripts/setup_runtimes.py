"""Install every JAX runtime runtimes.toml lists: one venv each, under PLAYGROUND_RUNTIMES_DIR
(default .runtimes/ID). A venv whose spec is unchanged is left alone; a runtime whose Python is
missing is skipped with one line. Prints per runtime what it cost (seconds, disk).

    python scripts/setup_runtimes.py [--only ID ...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import config, runtimes


def _disk_mb(path: Path) -> float:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total / 1e6


def install(settings: config.Settings, runtime: runtimes.Runtime, gpu: bool = False) -> str:
    """Install one runtime; returns the line to print."""
    target = runtimes.venv(settings, runtime)
    spec = runtime.spec(gpu)
    stamp = target / runtimes.STAMP
    if stamp.is_file() and stamp.read_text().strip() == spec:
        return f"{runtime.id}: up to date ({target})"
    python = runtimes.first_interpreter(runtime)
    if python is None:
        return (f"{runtime.id}: skipped: no Python {' or '.join(runtime.python)} here (pyenv, "
                "/usr/local/bin, /usr/bin, PATH)")
    started = time.monotonic()
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run([str(python), "-m", "venv", str(target)], capture_output=True, text=True)
    if made.returncode != 0:
        last = (made.stderr.strip().splitlines() or ["no output"])[-1]
        return f"{runtime.id}: skipped: {python} cannot make a venv ({last})"
    pip = [str(target / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    # Only this runtime's pins apply: the host's own pip constraint file is for the app's venv.
    env = {**os.environ, "PIP_CONSTRAINT": ""}
    done = subprocess.run([*pip, "install", "--quiet", *runtime.requirements(gpu)],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return f"{runtime.id}: FAILED: pip install: {tail}"
    check = subprocess.run(
        [str(target / "bin" / "python"), "-c", "import jax, jaxlib, numpy; print(jax.__version__)"],
        env={"JAX_PLATFORMS": "cpu", "PATH": os.environ.get("PATH", "")},
        capture_output=True, text=True)
    if check.returncode != 0 or check.stdout.strip() != runtime.jax:
        shutil.rmtree(target, ignore_errors=True)
        said = check.stdout.strip() or check.stderr[-200:]
        return f"{runtime.id}: FAILED: import jax gave {said}"
    stamp.write_text(spec + "\n")
    seconds = time.monotonic() - started
    return (f"{runtime.id}: installed JAX {runtime.jax} on {python} in {seconds:.0f} s, "
            f"{_disk_mb(target):.0f} MB ({target})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="runtime ids to install")
    parser.add_argument("--gpu", action="store_true",
                        help="the CUDA build of each runtime (its `cuda` extra in runtimes.toml)")
    args = parser.parse_args(argv)
    settings = config.settings()
    wanted = runtimes.listed()
    if args.only:
        unknown = set(args.only) - {r.id for r in wanted}
        if unknown:
            print(f"not in runtimes.toml: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        wanted = tuple(r for r in wanted if r.id in args.only)
    failed = False
    for runtime in wanted:
        line = install(settings, runtime, args.gpu)
        failed |= ": FAILED:" in line
        print(line, flush=True)
    if not runtimes.installed(settings):
        print("no JAX runtime is installed: runs cannot start", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
