"""The hostile snippets: what each tries, and the statuses that count as a clean outcome.

Each case is plain data so the table reads as a threat list; app/selftest/hostile.py runs every
one through the real Runner and checks the common promises (clear status, nothing left behind,
the next run works) plus the case's own check on the result. Over 400 lines on purpose: a
table, one entry per threat, is read as a whole.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from app.protocol import RunResult

MEMORY_LIKE = frozenset({"memory", "error"})  # XLA's RESOURCE_EXHAUSTED arrives as an error


@dataclass(frozen=True)
class Hostile:
    name: str
    code: str
    statuses: frozenset[str]
    check: Callable[[RunResult], bool] | None = None  # extra promise about the result
    why: str = ""
    marks: tuple[str, ...] = field(default=())
    timeout_s: float | None = None  # None: the suite's short default


def _said(text: str) -> Callable[[RunResult], bool]:
    return lambda r: text in r.stdout


def _error_type(*types: str) -> Callable[[RunResult], bool]:
    return lambda r: r.error is not None and r.error.type in types


def _advice(r: RunResult) -> str:
    return str(r.error.advice) if r.error is not None else ""


def _memory_clear(r: RunResult) -> bool:
    if r.status == "memory":
        return True
    return r.error is not None and "RESOURCE_EXHAUSTED" in r.error.message


def _unreadable_report(*why: str) -> Callable[[RunResult], bool]:
    return lambda r: (r.message.startswith("The run's report could not be read: ")
                      and all(w in r.message for w in why))


# Places hosts keep state; a run may write only where its own tmpfs covers them.
PLANT_PATHS = ("/run/lock", "/var/lock", "/run", "/var/cache", "/var/lib", "/var/log", "/var/mail",
               "/var/spool", "/dev/mqueue", "/dev", "/etc", "/usr/local", "/opt", "/srv", "/mnt",
               "/media", "/")


def _nothing_planted_on_the_host(r: RunResult) -> bool:
    """Judged by what the run could reach, not by how many places it could write: whatever it
    wrote must have landed on a tmpfs of its own, gone with the run."""
    return not any(os.path.exists(os.path.join(p, "hostile-planted")) for p in PLANT_PATHS)


_LOWER_OOM_SCORE = """
import time
print(open('/proc/self/oom_score_adj').read().strip(), flush=True)
for value in ('0', '-1000'):
    try:
        with open('/proc/self/oom_score_adj', 'w') as f:
            f.write(value)
    except OSError as exc:
        print(value, 'refused', exc.errno, flush=True)
    else:
        print(value, 'accepted', flush=True)
end = time.monotonic() + WAIT
while time.monotonic() < end:
    time.sleep(0.05)
print('now', open('/proc/self/oom_score_adj').read().strip(), flush=True)
"""


def _oom_score_kept(r: RunResult) -> bool:
    """Either every lower value was refused and the score is still 1000 (in the run's process
    and in a process it exec'd), or the supervisor ended the run for lowering it."""
    kept = ["1000", "0 refused 13", "-1000 refused 13", "now 1000"]
    lines = r.stdout.split("\n")
    if r.status == "crashed":
        return lines[0] == "1000" and "OOM score" in r.message
    return lines[:8] == kept + kept


def _none_open(r: RunResult) -> bool:
    """The snippet printed one errno per attempt, 'OPEN' for a success."""
    return "OPEN" not in r.stdout and r.stdout.strip() != ""


def _no_socket_reached(r: RunResult) -> bool:
    """The walk finished and every way of reaching each socket file failed (the suite's test
    also requires the walk to have found the socket planted where runs can see it)."""
    return "OPEN" not in r.stdout and "SCAN DONE" in r.stdout


# Every socket file the run can see, found by a walk of its whole file system (but /proc and
# /sys), plus the ones the test planted on the host ({host_sockets}: tried even where the view
# hides them); each tried as stream, seqpacket and datagram, and by sendto from a datagram pair.
SOCKET_SCAN = '''
import socket, stat
found, stack = [], ['/']
while stack:
    folder = stack.pop()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        continue
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if entry.path not in ('/proc', '/sys'):
                    stack.append(entry.path)
            elif not entry.is_file(follow_symlinks=False) and not entry.is_symlink():
                if stat.S_ISSOCK(entry.stat(follow_symlinks=False).st_mode):
                    found.append(entry.path)
        except OSError:
            continue
for path in found:
    print('socket file', path)
print('SCAN DONE', len(found))
def reach(path, kind):
    s = socket.socket(socket.AF_UNIX, kind)
    try:
        s.settimeout(1)
        s.connect(path)
    finally:
        s.close()
def datagram_pair(path):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        a.sendto(b'x', path)
    finally:
        a.close()
        b.close()
def stream_pair(path):
    a, b = socket.socketpair()
    try:
        a.connect(path)
    finally:
        a.close()
        b.close()
for path in found + [p for p in {host_sockets} if p not in found]:
    for kind in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET, socket.SOCK_DGRAM):
        attempt(f'{path} {kind!r}', lambda: reach(path, kind))
    attempt(f'{path} sendto', lambda: datagram_pair(path))
    attempt(f'{path} pair', lambda: stream_pair(path))
'''

ATTEMPTS = '''
import os
def attempt(label, action):
    try:
        action()
    except OSError as exc:
        print(label, type(exc).__name__, exc.errno)
    else:
        print(label, "OPEN")
'''

CASES: list[Hostile] = [
    # -- time -----------------------------------------------------------------------------------
    Hostile("busy_loop", "while True:\n    pass\n", frozenset({"timeout"})),
    Hostile("sleep_forever", "import time\ntime.sleep(10_000)\n", frozenset({"timeout"})),
    Hostile(
        "jax_while_loop_forever",
        "import jax\njax.lax.while_loop(lambda c: True, lambda c: c + 1, 0).block_until_ready()\n",
        frozenset({"timeout"}),
    ),
    Hostile(
        "threads_burn_cpu",
        "import threading\n"
        "def spin():\n    while True:\n        pass\n"
        "for _ in range(4):\n    threading.Thread(target=spin, daemon=True).start()\n"
        "spin()\n",
        frozenset({"timeout"}),
    ),
    Hostile(
        "ignore_sigterm_and_spin",
        "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGHUP):\n"
        "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass\n",
        frozenset({"timeout"}),
    ),
    # -- memory ---------------------------------------------------------------------------------
    Hostile("list_bomb", "x = [0] * (10 ** 10)\n", frozenset({"memory"})),
    Hostile(
        "list_growth",
        "chunks = []\nwhile True:\n    chunks.append(bytearray(8 << 20))\n",
        frozenset({"memory"}),
    ),
    Hostile("numpy_bomb", "import numpy as np\nx = np.ones((1 << 36,))\n", frozenset({"memory"})),
    Hostile(
        "jnp_huge_array",
        "import jax.numpy as jnp\nx = jnp.ones((1 << 38,), dtype=jnp.float32)\nprint(x.sum())\n",
        MEMORY_LIKE,
        _memory_clear,
    ),
    Hostile(
        "jnp_many_arrays",
        "import jax.numpy as jnp\nxs = []\n"
        "while True:\n    xs.append(jnp.ones((1 << 24,)) + len(xs))\n",
        MEMORY_LIKE | {"timeout"},
        lambda r: r.status == "timeout" or _memory_clear(r),
        why="twice in ~300 runs under heavy CPU contention (once in CI) the run went past the 4 s "
        "wall clock instead of failing its allocation in ~0.6 s; the cause was not found (no "
        "stack: it did not recur with a watchdog on): the wall clock ends such a run",
    ),
    Hostile(
        "shared_memory_outside_malloc",
        "import mmap\narea = mmap.mmap(-1, 4 << 30)\nchunk = b'1' * (64 << 20)\n"
        "for offset in range(0, len(area), len(chunk)):\n"
        "    area[offset:offset + len(chunk)] = chunk\n",
        frozenset({"memory"}),
        why="MAP_SHARED pages escape RLIMIT_DATA: the memory cgroup stops them, or, where there "
        "is none (a container), RLIMIT_AS refuses the mapping",
    ),
    Hostile(
        "memfd_bomb",
        "import os\nfd = os.memfd_create('bomb')\nchunk = b'1' * (16 << 20)\n"
        "while True:\n    os.write(fd, chunk)\n",
        frozenset({"memory", "error"}),
        why="RLIMIT_FSIZE stops the file; the memory cgroup would stop its pages",
    ),
    # -- processes ------------------------------------------------------------------------------
    Hostile("fork_bomb", "import os\nwhile True:\n    os.fork()\n", frozenset({"error"}),
            lambda r: _error_type("BlockingIOError")(r) and "MAX_PIDS" in _advice(r),
            why="only the run's own process reports; its copies exit as forked Python would"),
    Hostile(
        "thread_bomb",
        "import threading, time\nwhile True:\n"
        "    threading.Thread(target=time.sleep, args=(100,), daemon=True).start()\n",
        frozenset({"error"}),
        lambda r: _error_type("RuntimeError")(r) and "MAX_PIDS" in _advice(r),
    ),
    Hostile(
        "double_fork_setsid_daemon",
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        time.sleep(300)\n    os._exit(0)\nprint('parent done')\n",
        frozenset({"ok"}),
        _said("parent done"),
    ),
    Hostile(
        "subprocess_new_session",
        "import subprocess\n"
        "p = subprocess.Popen(['sleep', '300'], start_new_session=True)\nprint('spawned')\n",
        frozenset({"ok", "error"}),
    ),
    Hostile(
        "daemon_and_plain_threads",
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(300,), daemon=True).start()\n"
        "threading.Thread(target=time.sleep, args=(300,)).start()\nprint('left threads')\n",
        frozenset({"ok", "timeout"}),
    ),
    # -- network --------------------------------------------------------------------------------
    Hostile(
        "network_probes",
        ATTEMPTS
        + "import socket\n"
        "attempt('app_port', lambda: socket.create_connection(('127.0.0.1', 8501), timeout=2))\n"
        "attempt('loopback_ssh', lambda: socket.create_connection(('127.0.0.1', 22), timeout=2))\n"
        "attempt('host_listener', "
        "lambda: socket.create_connection(('127.0.0.1', {listener_port}), timeout=2))\n"
        "attempt('ipv6_loopback', lambda: socket.create_connection(('::1', 8501), timeout=2))\n"
        "attempt('test_net', lambda: socket.create_connection(('192.0.2.1', 80), timeout=2))\n"
        "attempt('udp', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
        ".sendto(b'x', ('192.0.2.1', 53)))\n"
        "attempt('raw', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, 1))\n",
        frozenset({"ok"}),
        _none_open,
    ),
    Hostile(
        "host_socket_files",
        ATTEMPTS + SOCKET_SCAN,
        frozenset({"ok"}),
        _no_socket_reached,
        why="connect() worked on a host socket file on a read-only mount: a run drove the run "
        "queue through Redis on a Unix socket under /run and forged another session's result",
        timeout_s=60,
    ),
    Hostile(
        "app_port_connect_raises",
        "import socket\nsocket.create_connection(('127.0.0.1', 8501), timeout=2)\n",
        frozenset({"error"}),
        lambda r: r.error is not None and r.error.line == 2,
    ),
    # -- secrets --------------------------------------------------------------------------------
    Hostile(
        "read_secret_files",
        ATTEMPTS
        + "attempt('shadow', lambda: open('/etc/shadow').read())\n"
        "attempt('root_home', lambda: os.listdir('/root/.ssh'))\n"
        "attempt('app_config', lambda: open('{repo}/app/config.py').read())\n"
        "attempt('app_runner', lambda: open('{repo}/app/runner/supervisor/service.py').read())\n"
        "attempt('git', lambda: open('{repo}/.git/config').read())\n"
        "attempt('other_run', lambda: open('{other_run}/secret.txt').read())\n"
        "attempt('state_dir', lambda: open('{state}/planted.txt').read())\n"
        "attempt('proc_init_environ', lambda: open('/proc/1/environ').read())\n",
        frozenset({"ok"}),
        _none_open,
    ),
    Hostile(
        "environment_variables",
        "import os\nprint(sorted(os.environ))\nprint(repr(dict(os.environ)))\n",
        frozenset({"ok"}),
        lambda r: "PLAYGROUND_HOSTILE_SECRET" not in r.stdout and "s3cr3t" not in r.stdout,
    ),
    Hostile(
        "processes_of_the_host_are_invisible",
        "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n",
        frozenset({"ok"}),
        lambda r: r.stdout.strip() == "[1, 2]",
    ),
    # -- files ----------------------------------------------------------------------------------
    Hostile(
        "write_outside_scratch",
        ATTEMPTS
        + "attempt('etc', lambda: open('/etc/evil', 'w').write('x'))\n"
        "attempt('usr', lambda: open('/usr/lib/evil', 'w').write('x'))\n"
        "attempt('app', lambda: open('{repo}/app/worker/evil.py', 'w').write('x'))\n"
        "attempt('cache', lambda: open('{cache}/evil', 'w').write('x'))\n"
        "attempt('cgroup', lambda: open('/sys/fs/cgroup/pids/pids.max', 'w').write('max'))\n"
        "attempt('proc_sys', lambda: open('/proc/sys/kernel/hostname', 'w').write('x'))\n",
        frozenset({"ok"}),
        _none_open,
    ),
    Hostile(
        "fill_the_disk",
        "with open('fill.bin', 'wb') as f:\n    while True:\n        f.write(b'0' * (1 << 20))\n",
        frozenset({"error"}),
        _error_type("OSError"),
    ),
    Hostile(
        "fill_tmp_and_shm",
        ATTEMPTS
        + "def fill(path):\n    with open(path, 'wb') as f:\n        for _ in range(4096):\n"
        "            f.write(b'0' * (1 << 20))\n"
        "attempt('tmp', lambda: fill('/tmp/fill.bin'))\n"
        "attempt('shm', lambda: fill('/dev/shm/fill.bin'))\n"
        "attempt('var_tmp', lambda: fill('/var/tmp/fill.bin'))\n",
        frozenset({"ok"}),
        _none_open,
    ),
    Hostile(
        "many_open_files",
        "files = [open('/dev/null') for _ in range(100_000)]\n",
        frozenset({"error"}),
        _error_type("OSError"),
    ),
    # -- output ---------------------------------------------------------------------------------
    Hostile("stdout_flood", "while True:\n    print('x' * 100)\n", frozenset({"output_limit"}),
            lambda r: r.truncated),
    Hostile(
        "stderr_flood",
        "import sys\nwhile True:\n    sys.stderr.write('e' * 1000)\n",
        frozenset({"output_limit"}),
        lambda r: r.truncated,
    ),
    Hostile("one_huge_print", "print('x' * 50_000_000)\n", frozenset({"output_limit", "memory"})),
    Hostile(
        "fd_level_flood",
        "import os\nwhile True:\n    os.write(1, b'y' * 65536)\n",
        frozenset({"output_limit"}),
    ),
    # -- crashes --------------------------------------------------------------------------------
    Hostile("ctypes_segfault", "import ctypes\nctypes.string_at(0)\n", frozenset({"crashed"})),
    Hostile("abort", "import os\nos.abort()\n", frozenset({"crashed"})),
    Hostile("exit_without_report", "import os\nos._exit(3)\n", frozenset({"crashed", "error"})),
    Hostile("kill_self", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
            frozenset({"crashed"})),
    Hostile("killpg_own_group", "import os\nos.killpg(0, 9)\n", frozenset({"crashed"})),
    # -- the parent -----------------------------------------------------------------------------
    Hostile(
        "kill_parent",
        "import os\nos.kill(os.getppid(), 9)\nprint('still here')\n",
        frozenset({"error", "ok", "crashed"}),
        lambda r: r.status != "error" or _error_type("PermissionError")(r),
        why="the parent is pid 1 of the namespace, owned by root: EPERM for the unprivileged run",
    ),
    Hostile(
        "signal_pid_1_and_everyone",
        "import os, signal\nfor sig in (signal.SIGTERM, signal.SIGKILL):\n"
        "    for target in (1, -1):\n        try:\n            os.kill(target, sig)\n"
        "        except OSError as exc:\n            print(target, exc.errno)\nprint('after')\n",
        frozenset({"ok", "crashed"}),
    ),
    Hostile(
        "kill_every_pid",
        "import os\nhit = []\nmine = {int(t) for t in os.listdir('/proc/self/task')}\n"
        "for pid in range(1, 70_000):\n    if pid in mine:\n        continue\n"
        "    try:\n        os.kill(pid, 9)\n"
        "    except OSError:\n        continue\n    hit.append(pid)\nprint('killed', hit)\n",
        frozenset({"ok"}),
        lambda r: r.stdout.strip() in ("killed []", "killed [1]"),
        why="other runs, the supervisor and the server are invisible from the run's pid namespace; "
        "pid 1 (its init) ignores the signal",
    ),
    Hostile(
        "escape_syscalls",
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "print(libc.unshare(0x40000000), libc.unshare(0x10000000), "
        "libc.ptrace(16, 1, 0, 0), libc.mount(b'none', b'/', None, 0x4000 | (1 << 18), None))\n",
        frozenset({"ok"}),
        lambda r: r.stdout.split() == ["-1", "-1", "-1", "-1"],
    ),
    # -- recursion ------------------------------------------------------------------------------
    Hostile(
        "recursion_bomb",
        "def f(n):\n    return f(n + 1) + 1\nf(0)\n",
        frozenset({"error"}),
        _error_type("RecursionError"),
    ),
    Hostile(
        "unbounded_recursion_limit",
        "import sys\nsys.setrecursionlimit(10 ** 7)\ndef f(n):\n    return f(n + 1) + 1\nf(0)\n",
        frozenset({"error", "memory", "crashed", "timeout"}),
    ),
    Hostile(
        "jit_trace_recursion",
        "import jax\n@jax.jit\ndef f(x):\n    return f(x) + 1\nf(1.0)\n",
        frozenset({"error"}),
        _error_type("RecursionError"),
    ),
    # -- the run's report ---------------------------------------------------------------------
    Hostile(
        "report_nested_too_deeply",
        "import os\nos.write(3, b'[' * 200000)\nos._exit(0)\n",
        frozenset({"crashed"}),
        _unreadable_report("nested too deeply"),
        why="json's RecursionError once escaped into the supervisor and ended every run",
    ),
    Hostile(
        "report_serializer_patched",
        "import app.protocol as p\np.to_json = lambda r: '[' * 100000\n",
        frozenset({"crashed"}),
        _unreadable_report("nested too deeply"),
        why="the worker's own serializer, replaced by user code: closing fd 3 would not help",
    ),
    Hostile(
        "report_field_of_the_wrong_type",
        "import os\nos.write(3, b'{\"error\": 5}')\nos._exit(0)\n",
        frozenset({"crashed"}),
        _unreadable_report("error: expected an object"),
    ),
    Hostile(
        "report_300k_entries",
        "import os\nentry = b'{\"function\":\"f\",\"count\":1}'\n"
        "os.write(3, b'{\"compilations\":[' + b','.join([entry] * 300000) + b']}')\n"
        "os._exit(0)\n",
        frozenset({"crashed"}),
        _unreadable_report("300000 entries (at most 200)"),
        why="7.8 MB that cost 13 s of the supervisor's one thread: refused by the entry cap, "
        "decoded in a process of its own",
    ),
    Hostile(
        "report_forges_its_platform",
        "import app.protocol as p\n"
        "p.to_json = lambda r: '{\"platform\": \"tpu\", \"value_repr\": \"forged\"}'\n",
        frozenset({"ok"}),
        lambda r: r.platform == "cpu" and r.value_repr == "forged",
        why="a run may say anything about itself (its value, shown to its session alone), but "
        "the platform shown is the host's",
    ),
    Hostile(
        "output_alternating_streams",
        "import os\nfor _ in range(100_000):\n    os.write(1, b'a')\n    os.write(2, b'b')\n",
        frozenset({"ok", "output_limit"}),
        lambda r: len(r.output) <= 2000,
        why="70k stdout/stderr blocks once made one result (each a widget in the page)",
    ),
    # -- the file system and the host ---------------------------------------------------------
    Hostile(
        "write_host_state_dirs",
        ATTEMPTS
        + f"for path in {PLANT_PATHS!r}:\n"
        "    attempt(path, lambda p=path: open(p + '/hostile-planted', 'w').write('x'))\n",
        frozenset({"ok"}),
        lambda r: _nothing_planted_on_the_host(r) and r.stdout.count("\n") == len(PLANT_PATHS),
        why="/run/lock (1777) was the host's: a run left files for the next user; now every "
        "mount is read-only and the writable ones are tmpfs of the run (/run/lock, /var/lock, "
        "and /dev/mqueue in a container, where it is 1777): a write may succeed, but only into "
        "the run's own tmpfs, so nothing lands where the host or the next run sees it",
    ),
    Hostile(
        "other_runs_cgroups_and_host_paths",
        "import os\nprint(os.listdir('/sys/fs/cgroup'))\n"
        "print(open('/proc/self/cgroup').read())\nprint(os.getcwd())\n"
        "print(open('/proc/self/mountinfo').read())\n",
        frozenset({"ok"}),
        lambda r: r.stdout.startswith("[]\n") and "jax-playground/" not in r.stdout
        and "runs-" not in r.stdout,
        why="other runs' cgroups and the supervisor's pid (in the scratch path) were visible",
    ),
    Hostile(
        "lower_own_oom_score",
        "import subprocess, sys\n"
        f"LOWER = {_LOWER_OOM_SCORE!r}\n"
        "exec(LOWER.replace('WAIT', '0'))\n"
        "# After an exec the process is dumpable again: its /proc files are its own to write.\n"
        "subprocess.run([sys.executable, '-c', LOWER.replace('WAIT', '2')])\n",
        frozenset({"ok", "crashed"}),
        _oom_score_kept,
        why="the host's OOM killer picks a run first, and the run cannot change that: the kernel "
        "records 1000 as the minimum only when the writer has CAP_SYS_RESOURCE; without it (an "
        "unprivileged container, this project's root without that capability) a run's exec'd "
        "process may write 0, and the supervisor, which checks the runs' scores, ends the run",
    ),
]
