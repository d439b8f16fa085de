"""The hostile suite: every case of hostile_cases.CASES through the real Runner, on this host.

`python -m app selftest --hostile` runs it where the app is deployed (inside its container, as
its user), so an operator sees on their own host what tests/runner/sandbox/test_hostile.py
checks in CI.
For each case: the status is one of the case's clean outcomes (with a message unless "ok"), the
case's own check holds, nothing of the run is left (no process in the supervisor's tree or in a
run cgroup beyond the idle pool, no scratch directory), and an ordinary run right after succeeds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from app import protocol
from app.config import Settings
from app.protocol import RunRequest, RunResult
from app.runner import platform as runner_platform
from app.runner.api.runner import Runner
from app.runner.sandbox import cgroups, mounts
from app.selftest.hostile_cases import CASES, Hostile

SECRET_NAME = "HOSTILE_TEST_TOKEN"
SECRET_VALUE = "s3cr3t"
SETTLE_S = 15.0
PREFORK = 1
# An idle preforked child is up to three processes: the waiter, pid 1 of its namespace, the worker.
PROCESSES_PER_CHILD = 3


def suite_settings(state: Path) -> Settings:
    return Settings(
        timeout_s=4,
        max_timeout_s=60,  # the default stays 4 s; a case that walks the file system asks more
        cpu_s=6,  # above the 4 s wall clock: XLA's threads fill memory bombs fast
        memory_mb=768,
        max_pids=64,
        file_size_mb=8,
        output_bytes=64 * 1024,
        max_concurrent=1,
        prefork=PREFORK,
        pool_memory_mb=1,  # no room to grow the pool: every process beyond `prefork` is a leftover
        state_dir=str(state),
        compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())),
    )


def plant_state(path: Path) -> None:
    """What a run must not read: another run's file and one in the state dir."""
    other_run = path / "runs-1" / "run-1"
    other_run.mkdir(parents=True, exist_ok=True)
    (other_run / "secret.txt").write_text("another user's notebook")
    (path / "planted.txt").write_text("state dir secret")


@contextlib.contextmanager
def suite_runner(state: Path) -> Iterator[Runner]:
    """A started Runner with the suite's settings; the server's environment holds a secret."""
    saved = os.environ.get(SECRET_NAME)
    os.environ[SECRET_NAME] = SECRET_VALUE  # the server's environment, inherited by the runner
    os.environ["PLAYGROUND_HOSTILE_SECRET"] = SECRET_VALUE
    try:
        instance = Runner(suite_settings(state))
        instance.start()
    finally:
        os.environ.pop("PLAYGROUND_HOSTILE_SECRET", None)
        if saved is None:
            os.environ.pop(SECRET_NAME, None)
        else:
            os.environ[SECRET_NAME] = saved
    try:
        warm = instance.run(RunRequest(code="import jax.numpy as jnp\nprint(jnp.arange(3).sum())"))
        if warm.status != "ok":
            raise RuntimeError(f"the first ordinary run failed: {describe(warm)}")
        yield instance
    finally:
        instance.close()


@contextlib.contextmanager
def listener() -> Iterator[int]:
    """A server on the host's loopback: a connect that escaped the sandbox would succeed."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@contextlib.contextmanager
def host_sockets() -> Iterator[list[str]]:
    """Listening socket files on the host, as a Redis or a database keeps them, open to every
    uid (0777): under /run and under /var/lib (which runs can see), stream and datagram, where
    this user may make them (elsewhere the case's walk still tries every socket it finds)."""
    made: list[tuple[Path, socket.socket]] = []
    try:
        for parent in (Path("/run"), Path("/var/lib")):
            if not parent.is_dir() or not os.access(parent, os.W_OK):
                continue
            folder = parent / f"hostile-sockets-{os.getpid()}"
            folder.mkdir(mode=0o755, exist_ok=True)
            folder.chmod(0o755)
            for name, kind in (("stream.sock", socket.SOCK_STREAM),
                               ("dgram.sock", socket.SOCK_DGRAM)):
                server = socket.socket(socket.AF_UNIX, kind)
                made.append((folder / name, server))
                server.bind(str(folder / name))
                os.chmod(folder / name, 0o777)
                if kind == socket.SOCK_STREAM:
                    server.listen(16)
        yield [str(path) for path, _ in made]
    finally:
        for path, server in made:
            server.close()
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()


def code_for(case: Hostile, state: Path, listener_port: int,
             sockets: list[str] | None = None) -> str:
    cache = runner_platform.compile_cache_dir(Settings())
    return (
        case.code.replace("{listener_port}", str(listener_port))
        .replace("{host_sockets}", repr(sockets or []))
        .replace("{repo}", str(mounts.REPO_ROOT))
        .replace("{cache}", str(cache))
        .replace("{state}", str(state))
        .replace("{other_run}", str(state / "runs-1" / "run-1"))
    )


def leftovers(runner: Runner, state: Path) -> list[str]:
    """What of finished runs still exists: processes, cgroups, scratch directories."""
    sup_pid = runner.supervisor_pid()
    if sup_pid is None:
        return ["no supervisor"]
    problems: list[str] = []
    parents: dict[int, int] = {}
    for process in psutil.Process(sup_pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # exiting while we look: not a leftover
            parents[process.pid] = process.ppid()
    tree = list(parents)
    zygotes = [pid for pid, ppid in parents.items() if ppid == sup_pid]
    run_processes = [pid for pid, ppid in parents.items() if ppid != sup_pid]
    if len(zygotes) != 1 or len(run_processes) > PREFORK * PROCESSES_PER_CHILD:
        problems.append(f"processes under the supervisor: {tree}")
    scratch = list((state / f"runs-{sup_pid}").glob("run-*"))
    if len(scratch) > PREFORK:
        problems.append(f"scratch dirs: {[p.name for p in scratch]}")
    pids_root = cgroups.CGROUP_ROOT / "pids" / cgroups.GROUP_NAME
    groups = list(pids_root.glob(f"{sup_pid}-*")) if pids_root.is_dir() else []
    in_groups = sum(len(_read_or_empty(g / "cgroup.procs").split()) for g in groups)
    if len(groups) > PREFORK or in_groups > PREFORK * PROCESSES_PER_CHILD:
        problems.append(f"run cgroups: {[g.name for g in groups]} holding {in_groups} processes")
    return problems


def _read_or_empty(path: Path) -> str:
    """A cgroup file, or "" when its cgroup went away while we looked (not a leftover)."""
    try:
        return path.read_text()
    except OSError:  # ENOENT, or ENODEV when it is removed mid-read
        return ""


def settled(runner: Runner, state: Path) -> list[str]:
    deadline = time.monotonic() + SETTLE_S
    while (problems := leftovers(runner, state)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return problems


def describe(result: RunResult) -> str:
    error = f"{result.error.type}: {result.error.message[:200]}" if result.error else None
    return (
        f"status={result.status} message={result.message!r} error={error} "
        f"stdout={result.stdout[-300:]!r} stderr={result.stderr[-300:]!r}"
    )


def judge(case: Hostile, result: RunResult) -> str | None:
    """None when the result is one of the case's clean outcomes, else what is wrong."""
    if result.status not in case.statuses:
        return f"status {result.status} not in {sorted(case.statuses)}"
    if result.status != "ok" and not (result.message or result.error):
        return "no message"
    if case.check is not None and not case.check(result):
        return "the case's check failed"
    return None


@dataclass
class Outcome:
    name: str
    problem: str | None  # None: passed
    result: RunResult

    def line(self) -> str:
        verdict = "ok  " if self.problem is None else "FAIL"
        text = f"{verdict} {self.name:<36} {self.result.status}"
        if self.problem is not None:
            text += f": {self.problem}; {describe(self.result)}"
        return text


def run_case(runner: Runner, state: Path, listener_port: int, case: Hostile,
             sockets: list[str] | None = None) -> Outcome:
    code = code_for(case, state, listener_port, sockets)
    result = runner.run(RunRequest(code=code, timeout_s=case.timeout_s))
    problem = judge(case, result)
    if problem is None and (left := settled(runner, state)):
        problem = f"left behind: {left}"
    if problem is None:
        after = runner.run(RunRequest(code="print(6 * 7)"))
        if after.status != "ok" or after.stdout != "42\n":
            problem = f"the next ordinary run failed: {describe(after)}"
    return Outcome(case.name, problem, result)


def selftest_command(args: argparse.Namespace) -> int:
    if not args.hostile:
        print("nothing to do: name a suite (--hostile)", file=sys.stderr)
        return 2
    wanted = set(args.case or [])
    cases = [c for c in CASES if not wanted or c.name in wanted]
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="hostile-state-") as directory, \
            listener() as port, host_sockets() as sockets:
        state = Path(directory)
        plant_state(state)
        with suite_runner(state) as runner:
            layers = runner.run(RunRequest(code="print('layers')")).sandbox
            for case in cases:
                outcome = run_case(runner, state, port, case, sockets)
                outcomes.append(outcome)
                if not args.json:
                    print(outcome.line(), flush=True)
    passed = sum(o.problem is None for o in outcomes)
    if args.json:
        print(json.dumps({
            "passed": passed, "total": len(outcomes), "layers": layers,
            "failed": {o.name: {"problem": o.problem, "result": protocol.to_dict(o.result)}
                       for o in outcomes if o.problem is not None},
        }))
    else:
        on = [name for name, active in layers.items() if active]
        print(f"layers on {len(on)}/{len(layers)}: off {sorted(set(layers) - set(on)) or '-'}")
        print(f"hostile {passed}/{len(outcomes)}")
    return 0 if passed == len(outcomes) else 1
