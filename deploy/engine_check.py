"""The image built and run by a real container engine, as an operator runs it (docs/container.md).

Steps, each timed: the base image (deploy/engine.py: pulled, or the debootstrap stand-in, cached
in the work dir), `build` (CPU; `--gpu` builds the cuda13 variant too), `run` with the documented
options (DOCUMENTED_OPTIONS, the same list docs/container.md shows), health (the image's own
HEALTHCHECK, through the engine), one sandboxed run (`python -m app run`), the hostile suite
inside the container (`python -m app selftest --hostile --json`), the start page, stop, cleanup.
The last line is the summary:

    container: built in N s, healthy in N s, layers on K/K, hostile N/N

Usage: python3 -m deploy.engine_check [--engine docker|podman] [--gpu] [--keep] [--no-hostile]
Standard library only. Exit 0 only if every step passed.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from deploy import dockerfile, engine

REPO = Path(__file__).resolve().parent.parent
IMAGE = "localhost/jax-playground:check"
GPU_IMAGE = "localhost/jax-playground:check-cuda"
CONTAINER = "jax-playground-check"
SMOKE_SNIPPET = "import jax.numpy as jnp\nprint(jnp.arange(3).sum())\n"
# The host's CA bundle, for pip inside the build where outbound TLS goes through a proxy with its
# own CA (as on the CI machines). Read-only; it is not in the image.
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

# `docker run` / `podman run` options of docs/container.md, verbatim; each is explained there.
DOCUMENTED_OPTIONS = [
    "--cap-drop=ALL",
    "--security-opt", "no-new-privileges",
    "--security-opt", "seccomp=deploy/seccomp-playground.json",
    "--security-opt", "apparmor=unconfined",
    "--security-opt", "systempaths=unconfined",
    "--memory", "8g",
    "--pids-limit", "2048",
    "-e", "PLAYGROUND_HOSTED=1",
]
# The cgroup layers and what stands in for each where the engine gives no writable cgroup.
REPLACEMENTS = {"cgroup_memory": "rlimit_as", "cgroup_pids": "rlimit_nproc",
                "cgroup_cpu": "rlimits"}


class CheckFailed(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[container-check] {message}", flush=True)


def base_image() -> str:
    froms = [i for i in dockerfile.read(REPO / "Dockerfile") if i.keyword == "FROM"]
    if len(froms) != 1:
        raise CheckFailed("exactly one FROM (single stage) is expected")
    return froms[0].value.split()[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build(eng: engine.Engine, tag: str, accelerator: str) -> float:
    started = time.monotonic()
    args = ["build", "-t", tag, "--build-arg", f"ACCELERATOR={accelerator}"]
    if eng.name == "podman":
        # OCI format (podman's default) drops HEALTHCHECK.
        args += ["--format", "docker"]
        if CA_BUNDLE.exists():
            args += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
    proc = subprocess.run(eng.argv(*args, str(REPO)), env=eng.env, text=True,
                          capture_output=True, timeout=1800, check=False)
    if proc.returncode != 0:
        raise CheckFailed(f"build ({accelerator}) failed: {(proc.stdout + proc.stderr)[-3000:]}")
    return time.monotonic() - started


def image_size_mb(eng: engine.Engine, tag: str) -> float:
    out = eng.run("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip()
    return int(out) / 1e6 if out.isdigit() else float("nan")


def healthy(eng: engine.Engine) -> bool:
    if eng.name == "podman":  # no systemd timer here: run the HEALTHCHECK command ourselves
        return eng.run("healthcheck", "run", CONTAINER, check=False, timeout=60).returncode == 0
    state = eng.run("inspect", "--format", "{{.State.Health.Status}}", CONTAINER,
                    check=False).stdout.strip()
    return state == "healthy"


def wait_healthy(eng: engine.Engine, deadline_s: float) -> float:
    started = time.monotonic()
    while not healthy(eng):
        running = eng.run("inspect", "--format", "{{.State.Running}}", CONTAINER,
                          check=False).stdout.strip()
        if running != "true":
            raise CheckFailed(f"the container stopped: {logs(eng)}")
        if time.monotonic() - started > deadline_s:
            raise CheckFailed(f"not healthy within {deadline_s:g} s: {logs(eng)}")
        time.sleep(0.5)
    return time.monotonic() - started


def logs(eng: engine.Engine) -> str:
    proc = eng.run("logs", CONTAINER, check=False)
    return (proc.stdout + proc.stderr)[-3000:]


def exec_app(eng: engine.Engine, *args: str, stdin: str | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return eng.run("exec", "-i", CONTAINER, "python", "-m", "app", *args, check=False,
                   timeout=timeout, input_text=stdin)


def smoke_run(eng: engine.Engine) -> dict[str, bool]:
    proc = exec_app(eng, "run", "--json", "-", stdin=SMOKE_SNIPPET)
    try:
        result = json.loads(proc.stdout)
    except ValueError as exc:
        raise CheckFailed(f"sandboxed run: no JSON ({proc.stdout[-500:]}{proc.stderr[-800:]})"
                          ) from exc
    if result.get("status") != "ok" or result.get("stdout") != "3\n":
        raise CheckFailed(f"sandboxed run: {json.dumps(result)[:1500]}")
    log(f"sandboxed run ok; limits: {json.dumps(result.get('limits', {}))}")
    return {str(k): bool(v) for k, v in result.get("sandbox", {}).items()}


def layers_on(layers: dict[str, bool]) -> tuple[int, int, list[str]]:
    """(on, total, notes): a cgroup layer counts as on where its stated replacement is active."""
    informational = {"user_ns", *REPLACEMENTS.values()} - {"rlimits"}
    names = [n for n in layers if n not in informational]
    on, notes = 0, []
    for name in names:
        if layers[name]:
            on += 1
        elif layers.get(REPLACEMENTS.get(name, ""), False):
            on += 1
            notes.append(f"{name} by {REPLACEMENTS[name]}")
    return on, len(names), notes


def hostile(eng: engine.Engine) -> tuple[int, int]:
    proc = exec_app(eng, "selftest", "--hostile", "--json", timeout=900)
    try:
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise CheckFailed(f"hostile suite: no summary ({proc.stdout[-800:]}"
                          f"{proc.stderr[-1500:]})") from exc
    for name, failed in summary.get("failed", {}).items():
        result = failed.get("result", {})
        log(f"hostile FAIL {name}: {failed.get('problem')}; status={result.get('status')} "
            f"message={result.get('message', '')[:200]!r} "
            f"stdout={result.get('stdout', '')[-300:]!r}")
    return int(summary["passed"]), int(summary["total"])


def start_page(port: int) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
        body = response.read(200_000).decode(errors="replace")
    if response.status != 200 or "<title>" not in body.lower():
        raise CheckFailed(f"start page: HTTP {response.status}")


def remove(eng: engine.Engine) -> None:
    eng.run("rm", "-f", CONTAINER, check=False, timeout=120)


def check(args: argparse.Namespace) -> str:
    eng = engine.choose(Path(args.work_dir), args.engine)
    log(f"engine: {eng.name} (work dir {eng.work_dir})")
    started = time.monotonic()
    how = engine.ensure_base(eng, base_image(), log)
    log(f"base image {base_image()}: {how} in {time.monotonic() - started:.0f} s")
    built_s = build(eng, IMAGE, "cpu")
    log(f"built {IMAGE} in {built_s:.0f} s, {image_size_mb(eng, IMAGE):.0f} MB")
    if args.gpu:
        gpu_s = build(eng, GPU_IMAGE, "cuda13")
        log(f"built {GPU_IMAGE} in {gpu_s:.0f} s, {image_size_mb(eng, GPU_IMAGE):.0f} MB")
    remove(eng)
    port = free_port()
    options = [*DOCUMENTED_OPTIONS, "-p", f"127.0.0.1:{port}:8501"]
    try:
        eng.run("run", "-d", "--name", CONTAINER, *options, IMAGE, cwd=REPO, timeout=120)
        healthy_s = wait_healthy(eng, args.health_s)
        log(f"healthy {healthy_s:.1f} s after start")
        layers = smoke_run(eng)
        on, total, notes = layers_on(layers)
        log(f"layers on {on}/{total}" + (f" ({', '.join(notes)})" if notes else "")
            + f"; off: {sorted(n for n, v in layers.items() if not v) or '-'}")
        passed = total_cases = 0
        if not args.no_hostile:
            hostile_started = time.monotonic()
            passed, total_cases = hostile(eng)
            log(f"hostile suite {passed}/{total_cases} in "
                f"{time.monotonic() - hostile_started:.0f} s")
        start_page(port)
        log("start page answers")
        if not healthy(eng):
            raise CheckFailed("unhealthy after the runs")
        stop_started = time.monotonic()
        eng.run("stop", "-t", "20", CONTAINER, timeout=120)
        log(f"stopped in {time.monotonic() - stop_started:.1f} s")
    except (CheckFailed, engine.EngineError, OSError, subprocess.TimeoutExpired) as exc:
        raise CheckFailed(f"{exc}\n--- container log ---\n{logs(eng)}") from exc
    finally:
        if not args.keep:
            remove(eng)
            if eng.name == "podman":  # the previous build's layers, now untagged
                eng.run("image", "prune", "-f", check=False, timeout=300)
    summary = (f"container: built in {built_s:.0f} s, healthy in {healthy_s:.1f} s, "
               f"layers on {on}/{total}, hostile {passed}/{total_cases}")
    if on != total or passed != total_cases or (total_cases == 0 and not args.no_hostile):
        raise CheckFailed(summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("docker", "podman"), default=None,
                        help="default: docker where its daemon answers, else podman")
    parser.add_argument("--work-dir", default=str(engine.DEFAULT_WORK_DIR),
                        help="engine storage, settings and the stand-in base image (kept)")
    parser.add_argument("--gpu", action="store_true", help="build the cuda13 image too")
    parser.add_argument("--keep", action="store_true", help="leave the container running")
    parser.add_argument("--no-hostile", action="store_true", help="skip the hostile suite")
    parser.add_argument("--health-s", type=float, default=90.0,
                        help="how long the container may take to become healthy")
    args = parser.parse_args(argv)
    try:
        summary = check(args)
    except (CheckFailed, engine.EngineError) as exc:
        log(f"FAIL: {exc}")
        return 1
    print(summary, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
