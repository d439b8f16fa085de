"""Each sandbox layer, tested in a real forked child that reports back through a pipe.

The child is forked from this (single-threaded at that point) test process, as the zygote's
children are; the checks run inside the sandbox exactly as user code would.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from app.config import Settings
from app.runner.sandbox import mounts
from app.runner.sandbox.entry import enter_child
from app.runner.sandbox.layers import LAYERS, SandboxUnavailable
from app.runner.sandbox.probing import probe
from tests.runner.sandbox.childprobe import run_in_child
from tests.runner.sandbox_expected import missing, needs

IS_ROOT = os.geteuid() == 0
NAMESPACES = probe(Settings())["mount_ns"]
needs_namespaces = needs(NAMESPACES, "no namespaces on this host")


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    path = tmp_path / "scratch"
    path.mkdir(mode=0o700)
    return path


def _errno_of(action) -> int:  # type: ignore[no-untyped-def]
    try:
        action()
    except OSError as exc:
        return exc.errno or -1
    return 0


def test_probe_names_every_layer_and_this_host_has_the_core_ones() -> None:
    layers = probe(Settings())
    assert set(LAYERS) <= set(layers)
    assert all(isinstance(v, bool) for v in layers.values())
    assert layers["rlimits"] and layers["environment"] and layers["session"]


def test_environment_is_an_allow_list(settings: Settings, scratch: Path, monkeypatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("PLAYGROUND_HOSTED", "1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    outcome = run_in_child(lambda: dict(os.environ), settings, scratch)
    assert outcome.error is None
    env = outcome.value
    assert not {"SECRET_TOKEN", "PLAYGROUND_HOSTED", "AWS_SECRET_ACCESS_KEY"} & set(env)
    # The run's own tmpfs, at a fixed path that names neither the state dir nor the supervisor.
    home = str(mounts.RUN_DIR) if outcome.active["filesystem"] else str(scratch)
    assert env["HOME"] == home and env["TMPDIR"] == home


def test_rlimits_are_applied(settings: Settings, scratch: Path) -> None:
    def limits() -> dict[str, list[int]]:
        names = ("RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE", "RLIMIT_CPU")
        return {n: list(resource.getrlimit(getattr(resource, n))) for n in names}

    outcome = run_in_child(limits, settings, scratch)
    assert outcome.error is None and outcome.active["rlimits"]
    got = outcome.value
    assert got["RLIMIT_DATA"][0] == settings.memory_mb << 20
    assert got["RLIMIT_FSIZE"][0] == settings.file_size_mb << 20
    assert got["RLIMIT_NOFILE"][0] == settings.open_files
    assert got["RLIMIT_CORE"] == [0, 0]
    assert 0 < got["RLIMIT_CPU"][0] <= settings.cpu_s + 2


def test_list_bomb_becomes_memory_error(scratch: Path) -> None:
    def bomb() -> str:
        try:
            _ = [0] * (400 << 20)
        except MemoryError:
            return "MemoryError"
        return "allocated"

    assert run_in_child(bomb, Settings(memory_mb=300), scratch).value == "MemoryError"


def test_cpu_limit_ends_a_busy_loop_with_sigxcpu(scratch: Path) -> None:
    def spin() -> None:
        while True:
            pass

    outcome = run_in_child(spin, Settings(cpu_s=1), scratch)
    assert outcome.signal in (signal.SIGXCPU, signal.SIGKILL)


def test_required_layer_missing_fails_closed(scratch: Path) -> None:
    strict = Settings(require_sandbox="no_such_layer")
    with pytest.raises(SandboxUnavailable, match="no_such_layer"):
        probe(strict)
    outcome = run_in_child(lambda: "ran", strict, scratch)
    assert outcome.value is None and "no_such_layer" in (outcome.error or "")


def test_require_all_passes_on_a_host_with_every_layer(scratch: Path) -> None:
    layers = probe(Settings())
    strict = Settings(require_sandbox="all")
    if all(layers[name] for name in LAYERS):
        assert probe(strict)
    else:
        with pytest.raises(SandboxUnavailable):
            probe(strict)


@needs_namespaces
def test_wait_status_is_faithful_through_the_pid_namespace(settings: Settings, scratch) -> None:
    assert run_in_child(lambda: os._exit(7), settings, scratch).exit_code == 7
    crashed = run_in_child(lambda: ctypes.string_at(0), settings, scratch)
    assert crashed.signal == signal.SIGSEGV
    aborted = run_in_child(os.abort, settings, scratch)
    assert aborted.signal == signal.SIGABRT
    killed = run_in_child(lambda: os.kill(os.getpid(), signal.SIGKILL), settings, scratch)
    assert killed.signal == signal.SIGKILL


@needs_namespaces
def test_namespaces_hostname_pid_and_proc(settings: Settings, scratch: Path) -> None:
    def look() -> dict[str, object]:
        return {
            "pid": os.getpid(),
            "ppid": os.getppid(),
            "host": socket.gethostname(),
            "procs": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        }

    outcome = run_in_child(look, settings, scratch)
    assert outcome.error is None
    got = outcome.value
    # pid 1 is the namespace's init; the code runs as pid 2, where signals behave normally.
    assert got["pid"] == 2 and got["ppid"] == 1
    assert got["host"] == "sandbox"
    assert got["procs"] == [1, 2]  # the host's processes are invisible
    for name in ("net_ns", "mount_ns", "pid_ns", "ipc_ns", "uts_ns", "private_proc"):
        assert outcome.active[name], name


@needs_namespaces
@pytest.mark.parametrize("port", [8501, 22, 80])
def test_loopback_is_unreachable(settings: Settings, scratch: Path, port: int) -> None:
    # Listen on the host's loopback, so that a connect that escaped would succeed.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", 0))
    except OSError:
        pytest.skip("no loopback here")
    listener.listen()
    host_port = listener.getsockname()[1]

    def connect() -> list[int]:
        results = []
        for target in (port, host_port):
            results.append(
                _errno_of(lambda t=target: socket.create_connection(("127.0.0.1", t), timeout=2))
            )
        return results

    try:
        control = run_in_child(connect, settings, scratch, enter_sandbox=False)
        outcome = run_in_child(connect, settings, scratch)
    finally:
        listener.close()
    assert control.value[1] == 0  # without the sandbox the host's listener answers
    assert outcome.error is None
    assert all(code != 0 for code in outcome.value)


@needs_namespaces
def test_no_inet_sockets_at_all(settings: Settings, scratch: Path) -> None:
    def sockets() -> dict[str, int]:
        return {
            "inet": _errno_of(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM)),
            "inet6": _errno_of(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)),
            "netlink": _errno_of(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)),
            "unix": _errno_of(lambda: socket.socket(socket.AF_UNIX).close()),
            "unix_pair": _errno_of(lambda: [s.close() for s in socket.socketpair()]),
            "unix_dgram": _errno_of(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)),
            "unix_connect": _errno_of(lambda: socket.socket(socket.AF_UNIX).connect("/x")),
            "test_net": _errno_of(
                lambda: socket.create_connection(("192.0.2.1", 80), timeout=1)
            ),
        }

    outcome = run_in_child(sockets, settings, scratch)
    got = outcome.value
    assert got["unix"] == got["unix_pair"] == 0  # a stream socket or pair (asyncio) still works
    assert got["test_net"] != 0
    if outcome.active["seccomp"]:
        assert got["inet"] == got["inet6"] == got["netlink"] == errno.EAFNOSUPPORT
        # ... but it can reach no socket file: no connect, no datagram socket to sendto from.
        assert got["unix_connect"] == errno.ENOENT  # as if there were no socket at all
        assert got["unix_dgram"] == errno.EPERM


@needs_namespaces
def test_secrets_and_server_files_are_out_of_reach(settings: Settings, scratch: Path) -> None:
    secrets = [
        "/etc/shadow",
        str(mounts.REPO_ROOT / "app" / "config.py"),
        str(mounts.REPO_ROOT / "app" / "runner" / "supervisor" / "service.py"),
        str(mounts.REPO_ROOT / ".git" / "HEAD"),
        "/root/.bashrc",
        "/proc/1/environ",
    ]
    sibling = scratch.parent / "other-run"
    sibling.mkdir()
    (sibling / "secret.txt").write_text("other user's data")
    secrets.append(str(sibling / "secret.txt"))

    def read_all() -> dict[str, int]:
        return {p: _errno_of(lambda p=p: open(p, "rb").close()) for p in secrets}

    control = run_in_child(read_all, settings, scratch, enter_sandbox=False)
    outcome = run_in_child(read_all, settings, scratch)
    assert control.value[str(sibling / "secret.txt")] == 0  # readable without the sandbox
    assert outcome.error is None
    readable = [path for path, code in outcome.value.items() if code == 0]
    assert readable == []


@needs_namespaces
def test_a_live_run_cannot_see_another_live_runs_scratch(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first, second = state / "runs-1" / "run-1", state / "runs-1" / "run-2"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    settings = Settings(state_dir=str(state))
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    writer = os.fork()
    if writer == 0:  # the first run: writes a secret into its scratch and waits
        code = 1
        try:
            enter_child(settings, first)
            Path("secret.txt").write_text("first run's data")
            os.write(ready_w, b"r")
            os.read(done_r, 1)
            code = 0
        finally:
            os._exit(code)
    try:
        assert os.read(ready_r, 1) == b"r"

        def snoop() -> dict[str, object]:
            return {
                "direct": _errno_of(lambda: open(first / "secret.txt").close()),
                "listing": os.listdir(first) if first.exists() else None,
                "state": sorted(os.listdir(state)) if state.exists() else None,
            }

        outcome = run_in_child(snoop, settings, second)
    finally:
        os.write(done_w, b"d")
        os.waitpid(writer, 0)
    assert outcome.error is None, outcome.error
    assert outcome.value["direct"] != 0
    assert not outcome.value["listing"]  # at most the empty mount point of our own namespace


@needs_namespaces
def test_what_jax_needs_stays_readable(settings: Settings, scratch: Path) -> None:
    def use_jax() -> str:
        import jax
        import jax.numpy as jnp

        return repr(jax.jit(lambda x: (x * 2).sum())(jnp.arange(4)).item())

    outcome = run_in_child(use_jax, settings, scratch)
    assert outcome.error is None, outcome.error
    assert outcome.value == "12"


@needs_namespaces
def test_scratch_is_a_private_size_capped_tmpfs(settings: Settings, scratch: Path) -> None:
    host_tmp_marker = Path("/tmp") / f"host-marker-{os.getpid()}"
    host_tmp_marker.write_text("host")

    def files() -> dict[str, object]:
        Path("hello.txt").write_text("hi")
        big = 0
        try:
            with open("big.bin", "wb") as f:
                for _ in range(settings.file_size_mb * 2):
                    f.write(b"\0" * (1 << 20))
                    f.flush()
                    big += 1
        except OSError as exc:
            big_error = exc.errno
        else:
            big_error = 0
        return {
            "cwd": os.getcwd(),
            "listing": sorted(os.listdir(".")),
            "host_tmp_visible": host_tmp_marker.exists(),
            "tmp_writable": _errno_of(lambda: Path("/tmp/x").write_text("x")) == 0,
            "big_mb": big,
            "big_error": big_error,
        }

    try:
        outcome = run_in_child(files, settings, scratch)
    finally:
        host_tmp_marker.unlink()
    got = outcome.value
    assert outcome.error is None, outcome.error
    assert got["cwd"] == str(mounts.RUN_DIR)
    assert "hello.txt" in got["listing"]
    assert not got["host_tmp_visible"] and got["tmp_writable"]
    assert got["big_mb"] <= settings.file_size_mb
    assert got["big_error"] in (errno.ENOSPC, errno.EFBIG)
    assert not list(scratch.iterdir())  # the tmpfs lived in the run's namespace only


@needs_namespaces
def test_writes_outside_scratch_fail(settings: Settings, scratch: Path) -> None:
    targets = [
        "/etc/evil",
        "/usr/lib/evil",
        str(Path(sys.prefix) / "evil.py"),
        str(mounts.REPO_ROOT / "app" / "worker" / "evil.py"),
        "/root/evil",
    ]

    def write_all() -> dict[str, int]:
        return {t: _errno_of(lambda t=t: Path(t).write_text("x")) for t in targets}

    outcome = run_in_child(write_all, settings, scratch)
    assert outcome.error is None
    assert all(code != 0 for code in outcome.value.values()), outcome.value
    assert not any(Path(t).exists() for t in targets)


@needs_namespaces
def test_unprivileged_without_capabilities(settings: Settings, scratch: Path) -> None:
    def who() -> dict[str, object]:
        status = Path("/proc/self/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return {
            "uid": os.getuid(),
            "euid": os.geteuid(),
            "cap_eff": int(fields["CapEff"], 16),
            "cap_prm": int(fields["CapPrm"], 16),
            "nnp": int(fields["NoNewPrivs"]),
        }

    outcome = run_in_child(who, settings, scratch)
    got = outcome.value
    assert got["uid"] != 0 and got["euid"] != 0
    assert got["cap_eff"] == 0 and got["cap_prm"] == 0 and got["nnp"] == 1
    assert outcome.active["unprivileged"] and outcome.active["no_new_privs"]


@needs_namespaces
def test_seccomp_denies_escape_syscalls(settings: Settings, scratch: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)

    def call(name: str, *args: int) -> int:
        if getattr(libc, name)(*args) == -1:
            return ctypes.get_errno()
        return 0

    def attempts() -> dict[str, int]:
        return {
            "unshare_user": call("unshare", 0x10000000),
            "unshare_net": call("unshare", 0x40000000),
            "setns": call("setns", 0, 0),
            "mount": call("mount", b"none", b"/tmp", b"tmpfs", 0, None),
            "ptrace": call("ptrace", 16, 1, 0, 0),  # PTRACE_ATTACH to pid 1
            "io_uring_setup": call("syscall", 425, 8, None),
            "bpf": call("syscall", 321, 0, None, 0),
            "userfaultfd": call("syscall", 323, 0),
            "keyctl": call("syscall", 250, 0, 0),
        }

    outcome = run_in_child(attempts, settings, scratch)
    if not outcome.active["seccomp"]:
        missing("seccomp unavailable here")
    assert outcome.value == dict.fromkeys(outcome.value, errno.EPERM)


@needs_namespaces
def test_leftover_daemons_die_with_the_namespace(settings: Settings, scratch: Path) -> None:
    marker = scratch.parent / "daemon-alive"

    def spawn_and_leave() -> str:
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(2)  # would outlive the run without the pid namespace
                os._exit(0)
            os._exit(0)
        return os.readlink("/proc/self/ns/mnt")  # this run's alone (every run's cwd looks alike)

    outcome = run_in_child(spawn_and_leave, settings, scratch)
    assert str(outcome.value).startswith("mnt:")
    # pid 1 exited: the kernel killed everything else in its namespace.
    leftover = [p for p in Path("/proc").iterdir()
                if p.name.isdigit() and _in_namespace(p, outcome.value)]
    assert not leftover and not marker.exists()


def _in_namespace(proc: Path, mount_namespace: str) -> bool:
    try:
        return os.readlink(proc / "ns" / "mnt") == mount_namespace
    except OSError:
        return False


@pytest.mark.skipif(not IS_ROOT, reason="simulates an unprivileged container from root")
def test_unprivileged_host_uses_a_user_namespace(settings: Settings, scratch: Path) -> None:
    os.chown(scratch, 1000, 1000)

    def become_user() -> None:
        os.setgroups([])
        os.setresgid(1000, 1000, 1000)
        os.setresuid(1000, 1000, 1000)

    def inside() -> list[object]:
        started = 0
        try:
            for _ in range(settings.max_pids + 10):
                if os.fork() == 0:
                    time.sleep(5)
                    os._exit(0)
                started += 1
        except BlockingIOError:
            pass
        return [os.getuid(), os.getpid(), resource.getrlimit(resource.RLIMIT_NPROC)[0], started]

    outcome = run_in_child(inside, settings, scratch, before=become_user)
    if not outcome.active.get("user_ns"):
        pytest.skip("unprivileged user namespaces are disabled on this host")
    assert outcome.error is None, outcome.error
    uid, pid, nproc, started = outcome.value
    assert [uid, pid, nproc] == [65534, 2, settings.max_pids]
    assert started < settings.max_pids  # RLIMIT_NPROC stops a fork bomb without any cgroup
    for name in ("net_ns", "mount_ns", "filesystem", "pid_ns", "unprivileged", "no_new_privs"):
        assert outcome.active[name], name
