"""Replays the Dockerfile for real without a Docker engine, then checks the served app is healthy.

Every instruction is read from the Dockerfile (nothing is copied by hand), so the file cannot rot:
- FROM python:X.Y-...: a throwaway venv from this host's pythonX.Y stands in for the base image;
- ARG/ENV: set for the following steps (and the start) exactly as Docker would;
- RUN: executed with /bin/sh -c as in the image, in the throwaway root, with the venv's python
  first on PATH; two kinds are verified instead of executed, to leave this host alone:
  apt-get (the packages must already be installed here) and useradd (the uid is only recorded);
- WORKDIR/COPY: folders under the throwaway root, the build context filtered by .dockerignore;
- USER: the start command and the health check run as that uid (setpriv), if we are root, and
  under deploy/seccomp-playground.json (as docs/container.md tells `docker run`) unless
  --no-seccomp;
- CMD: started with PORT set to a free loopback port; HEALTHCHECK's command must answer within
  its --timeout before --start-period ends, then answer again several times;
- afterwards no process of that uid may be left, and the throwaway root is removed.
Differences from a real build, on purpose: the host's pip cache and index settings are used
(PIP_NO_CACHE_DIR is dropped: same packages, fewer downloads), and the kernel, cgroups, AppArmor
and namespaces are this machine's, not those a container runtime would give.

Usage: python3 -m deploy.container_check [--build-arg K=V] [--keep] [--smoke-run] [--no-seccomp]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from deploy import dockerfile

REPO = Path(__file__).resolve().parent.parent
PASS_THROUGH = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT",
                "PIP_DEFAULT_TIMEOUT", "PIP_CONFIG_FILE", "LANG")
SMOKE_SNIPPET = "import jax.numpy as jnp\nprint(jnp.arange(3).sum())\n"


class CheckFailed(RuntimeError):
    pass


@dataclass
class Replay:
    root: Path  # stands in for the image's /
    venv: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    uid: int | None = None
    gid: int | None = None
    users: dict[str, tuple[int, Path]] = field(default_factory=dict)  # name -> (uid, home)
    expose: list[int] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    health_timeout_s: float = 30.0
    health_start_s: float = 0.0
    cmd: list[str] = field(default_factory=list)
    seccomp: bool = False  # run under deploy/seccomp-playground.json, as `docker run` is told to

    def path(self, image_path: str) -> Path:
        """An absolute path of the image, inside the throwaway root; relative: from WORKDIR."""
        if image_path.startswith("/"):
            return self.root / image_path.lstrip("/")
        return (self.cwd or self.root) / image_path


def log(message: str) -> None:
    print(f"[container-check] {message}", flush=True)


def base_python(from_value: str) -> str:
    image = from_value.split()[0]
    name, _, tag = image.partition(":")
    if name != "python" or not tag[:4].replace(".", "").isdigit():
        raise CheckFailed(f"FROM {image}: only python:X.Y-* base images can be replayed")
    version = ".".join(tag.split("-")[0].split(".")[:2])
    for candidate in (f"/usr/bin/python{version}", shutil.which(f"python{version}")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise CheckFailed(f"FROM {image}: no python{version} on this host")


def context_files(patterns: list[str]) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(REPO):
        rel_dir = Path(dirpath).relative_to(REPO).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = [d for d in dirnames if not dockerfile.ignored(rel_dir + d, patterns)]
        files += [Path(dirpath) / f for f in filenames
                  if not dockerfile.ignored(rel_dir + f, patterns)]
    return files


def copy(replay: Replay, value: str, patterns: list[str]) -> None:
    flags, rest = dockerfile.split_flags(value)
    if "from" in flags:
        raise CheckFailed("COPY --from (multi-stage) is not replayed")
    *sources, dest = dockerfile.exec_form(rest) if rest.startswith("[") else rest.split()
    target = replay.path(dockerfile.substitute(dest, replay.env))
    for source in sources:
        if source in (".", "./"):
            for file in context_files(patterns):
                out = target / file.relative_to(REPO)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, out)
        else:
            src = REPO / source
            if dockerfile.ignored(source, patterns) or not src.exists():
                raise CheckFailed(f"COPY {source}: not in the build context")
            out = target / src.name if dest.endswith("/") else target
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)


def verify_apt(command: str) -> None:
    """The packages an apt-get install would add must be installed on this host already."""
    words = command.replace("&&", " ").replace(";", " ").split()
    if "install" not in words:
        return
    packages = []
    for word in words[words.index("install") + 1 :]:
        if word in ("rm", "apt-get", "apt"):
            break
        if not word.startswith("-"):
            packages.append(word.split("=")[0])
    for package in packages:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                capture_output=True, text=True, check=False)
        if "install ok installed" not in status.stdout:
            raise CheckFailed(f"apt package {package} is not installed on this host")
    log(f"apt packages present on this host: {' '.join(packages)}")


def record_user(replay: Replay, command: str) -> None:
    words = command.split()
    uid = int(words[words.index("--uid") + 1]) if "--uid" in words else 10001
    name = words[-1]
    home = replay.path(f"/home/{name}")
    home.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(home, uid, uid)
    replay.users[name] = (uid, home)
    log(f"user {name} (uid {uid}) recorded, not added to this host")


def run_step(replay: Replay, command: str) -> None:
    started = time.monotonic()
    proc = subprocess.run(["/bin/sh", "-c", command], cwd=replay.cwd or replay.root,
                          env=replay.env, check=False)
    if proc.returncode:
        raise CheckFailed(f"RUN failed with exit {proc.returncode}: {command}")
    log(f"RUN ok in {time.monotonic() - started:.1f} s: {command[:90]}")


def set_user(replay: Replay, value: str) -> None:
    user, _, group = dockerfile.substitute(value, replay.env).partition(":")
    if user.isdigit():
        uid = int(user)
        home = next((h for u, h in replay.users.values() if u == uid), replay.root / "home")
    else:
        uid, home = replay.users[user]
    replay.uid = uid
    replay.gid = int(group) if group.isdigit() else uid
    replay.env["HOME"] = str(home)


def replay_file(replay: Replay, build_args: dict[str, str]) -> None:
    instructions = dockerfile.read(REPO / "Dockerfile")
    patterns = dockerfile.ignore_patterns(REPO / ".dockerignore")
    froms = [i for i in instructions if i.keyword == "FROM"]
    if len(froms) != 1:
        raise CheckFailed("exactly one FROM (single stage) is replayed")
    subprocess.run([base_python(froms[0].value), "-m", "venv", str(replay.venv)], check=True)
    for instruction in instructions:
        keyword, value = instruction.keyword, instruction.value
        if keyword == "ARG":
            for name, default in dockerfile.key_values(value).items():
                replay.env[name] = build_args.get(name, default)
        elif keyword == "ENV":
            for name, raw in dockerfile.key_values(value).items():
                if name != "PIP_NO_CACHE_DIR":  # the host's pip cache: same wheels, no download
                    replay.env[name] = dockerfile.substitute(raw, replay.env)
        elif keyword == "WORKDIR":
            replay.cwd = replay.path(dockerfile.substitute(value, replay.env))
            replay.cwd.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            copy(replay, value, patterns)
        elif keyword == "RUN":
            if "apt-get" in value:
                verify_apt(value)
            elif value.startswith("useradd"):
                record_user(replay, value)
            else:
                run_step(replay, value)
        elif keyword == "USER":
            set_user(replay, value)
        elif keyword == "EXPOSE":
            replay.expose += [int(p.split("/")[0]) for p in value.split()]
        elif keyword == "HEALTHCHECK":
            flags, rest = dockerfile.split_flags(value)
            replay.healthcheck = dockerfile.exec_form(rest.removeprefix("CMD").strip())
            replay.health_timeout_s = dockerfile.seconds(flags.get("timeout", "30s"))
            replay.health_start_s = dockerfile.seconds(flags.get("start-period", "0s"))
        elif keyword == "CMD":
            replay.cmd = dockerfile.exec_form(value)
        elif keyword not in ("FROM", "LABEL", "STOPSIGNAL"):
            raise CheckFailed(f"line {instruction.line}: {keyword} is not replayed")


def as_user(replay: Replay, argv: list[str]) -> list[str]:
    """argv as the container would run it: the image's user, the documented seccomp profile."""
    if replay.uid is not None and os.geteuid() == 0:
        argv = ["setpriv", f"--reuid={replay.uid}", f"--regid={replay.gid}", "--clear-groups",
                "--inh-caps=-all", "--", *argv]
    if replay.seccomp:  # the image's own python applies it (pyseccomp is in requirements.txt)
        argv = [str(replay.venv / "bin" / "python"), "-m", "deploy.seccomp_profile", "--exec",
                "--", *argv]
    return argv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health(replay: Replay) -> tuple[bool, float]:
    started = time.monotonic()
    try:
        proc = subprocess.run(as_user(replay, replay.healthcheck), cwd=replay.cwd,
                              env=replay.env, capture_output=True,
                              timeout=replay.health_timeout_s, check=False)
        ok = proc.returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
    return ok, time.monotonic() - started


def smoke_run(replay: Replay) -> None:
    """One snippet through the installed app's sandbox, as the image's user."""
    proc = subprocess.run(as_user(replay, ["python", "-m", "app", "run", "--json", "-"]),
                          cwd=replay.cwd, env=replay.env, input=SMOKE_SNIPPET, text=True,
                          capture_output=True, timeout=120, check=False)
    log(f"smoke run exit {proc.returncode}: {proc.stdout.strip()[:600]}")
    if proc.returncode != 0 or '"status": "ok"' not in proc.stdout:
        raise CheckFailed(f"smoke run failed: {proc.stderr.strip()[-800:]}")


def leftover_processes(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) == uid:
                found.append(int(entry.name))
    return found


def serve_and_probe(replay: Replay, probes: int, smoke: bool) -> None:
    replay.env["PORT"] = str(free_port())
    replay.env["ADDRESS"] = "127.0.0.1"  # loopback only while checking
    replay.env["PATH"] = f"{replay.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    log(f"starting {replay.cmd} as uid {replay.uid} on 127.0.0.1:{replay.env['PORT']}"
        + (" under deploy/seccomp-playground.json" if replay.seccomp else ""))
    started = time.monotonic()
    server = subprocess.Popen(as_user(replay, replay.cmd), cwd=replay.cwd, env=replay.env,
                              start_new_session=True)
    try:
        deadline = started + max(replay.health_start_s, 30.0)
        while True:
            if server.poll() is not None:
                raise CheckFailed(f"the start command exited with {server.returncode}")
            ok, _ = health(replay)
            if ok:
                break
            if time.monotonic() > deadline:
                raise CheckFailed("no healthy answer within the HEALTHCHECK start period")
            time.sleep(0.5)
        log(f"healthy {time.monotonic() - started:.1f} s after start")
        latencies = []
        for _ in range(probes):
            ok, took = health(replay)
            if not ok:
                raise CheckFailed("a later health check failed")
            latencies.append(took)
        log(f"{probes} more health checks ok, slowest {max(latencies) * 1000:.0f} ms "
            f"(limit {replay.health_timeout_s:g} s)")
        if smoke:
            smoke_run(replay)
    finally:
        stop(server)


def stop(server: subprocess.Popen[bytes]) -> None:
    for sig, wait_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-arg", action="append", default=[], metavar="K=V")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway root")
    parser.add_argument("--probes", type=int, default=5, help="health checks after the first")
    parser.add_argument("--no-seccomp", action="store_true",
                        help="do not apply deploy/seccomp-playground.json to the start")
    parser.add_argument("--smoke-run", action="store_true",
                        help="also run one snippet with `python -m app run` as the user")
    args = parser.parse_args(argv)
    build_args = dict(a.partition("=")[::2] for a in args.build_arg)

    # Not under /tmp: in the image the interpreter is /usr/local and the app /srv, and the sandbox
    # covers /tmp with a fresh tmpfs, which would hide a venv there from the runs.
    parent = REPO / "var"  # ignored by git and by .dockerignore
    parent.mkdir(mode=0o755, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="container-check-", dir=parent))
    root.chmod(0o755)  # the image's user must reach the venv and the code
    env = {"PATH": f"{root / 'venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(root)}
    env.update({k: os.environ[k] for k in PASS_THROUGH if k in os.environ})
    env["PIP_CACHE_DIR"] = str(Path.home() / ".cache" / "pip")
    replay = Replay(root=root, venv=root / "venv", env=env)
    existing_state = set(Path(tempfile.gettempdir()).glob("jax-playground-*"))
    try:
        replay_file(replay, build_args)
        if not replay.cmd or not replay.healthcheck:
            raise CheckFailed("the Dockerfile needs a CMD and a HEALTHCHECK")
        replay.seccomp = not args.no_seccomp
        serve_and_probe(replay, args.probes, args.smoke_run)
        if replay.uid is not None and os.geteuid() == 0:
            time.sleep(1.0)
            left = leftover_processes(replay.uid)
            if left:
                for pid in left:
                    os.kill(pid, signal.SIGKILL)
                raise CheckFailed(f"processes left by uid {replay.uid} after stop: {left}")
        log("PASS")
        return 0
    except CheckFailed as exc:
        log(f"FAIL: {exc}")
        return 1
    finally:
        for state in set(Path(tempfile.gettempdir()).glob("jax-playground-*")) - existing_state:
            shutil.rmtree(state, ignore_errors=True)  # the app's state dir, /tmp in the image
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
