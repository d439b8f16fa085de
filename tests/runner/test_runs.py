"""Ordinary runs through the shared Runner (tests/conftest.py): output, errors, statuses."""

from __future__ import annotations

import threading

import pytest

from app.protocol import STATUSES, RunRequest, RunResult
from app.runner.api.runner import Runner


def run(runner: Runner, code: str, **kwargs: object) -> RunResult:
    return runner.run(RunRequest(code=code, **kwargs))  # type: ignore[arg-type]


def test_trivial_jax_snippet_runs_in_the_sandbox(runner: Runner) -> None:
    result = run(runner, "import jax.numpy as jnp\nprint(jnp.arange(3).sum())")
    assert result.status == "ok", result
    assert result.stdout == "3\n"
    assert result.error is None
    assert result.platform == "cpu"
    assert result.duration_s > 0
    assert result.sandbox and all(isinstance(v, bool) for v in result.sandbox.values())
    assert result.truncated is False


def test_stdout_and_stderr_are_captured_in_the_order_they_were_written(runner: Runner) -> None:
    code = (
        "import sys\nfor i in range(40):\n"
        "    print('out', i)\n    print('err', i, file=sys.stderr)\n"
    )
    result = run(runner, code)
    assert result.status == "ok", result
    expected_out = "".join(f"out {i}\n" for i in range(40))
    expected_err = "".join(f"err {i}\n" for i in range(40))
    assert result.stdout == expected_out
    assert result.stderr == expected_err
    merged = [(chunk.stream, line) for chunk in result.output for line in chunk.text.splitlines()]
    assert merged == [
        pair for i in range(40) for pair in (("stdout", f"out {i}"), ("stderr", f"err {i}"))
    ]


def test_last_expression_value_and_x64(runner: Runner) -> None:
    result = run(runner, "import jax.numpy as jnp\njnp.arange(2).dtype", x64=True)
    assert result.status == "ok", result
    assert result.value_repr == "dtype('int64')"


def test_jax_debug_print_inside_jit_is_captured(runner: Runner) -> None:
    code = (
        "import jax, jax.numpy as jnp\n"
        "@jax.jit\n"
        "def f(x):\n"
        "    jax.debug.print('x is {}', x)\n"
        "    return x * 2\n"
        "print(f(jnp.float32(3.0)))\n"
    )
    result = run(runner, code)
    assert result.status == "ok", result
    assert "x is 3.0" in result.stdout
    assert "6.0" in result.stdout


def test_runtime_error_reports_the_users_line(runner: Runner) -> None:
    result = run(runner, "x = 1\ny = 2\n\ndef f():\n    return 1 / 0\n\nf()\n")
    assert result.status == "error"
    assert result.error is not None
    assert result.error.type == "ZeroDivisionError"
    assert result.error.line == 5
    assert "<snippet>" in result.error.traceback
    assert "line 5" in result.message


def test_syntax_error_reports_the_users_line(runner: Runner) -> None:
    result = run(runner, "a = 1\nb = (\nprint(a)\n")
    assert result.status == "error"
    assert result.error is not None and result.error.type == "SyntaxError"
    assert result.error.line == 2


def test_jax_error_in_user_code_has_user_line(runner: Runner) -> None:
    code = "import jax.numpy as jnp\nx = jnp.ones(3)\ny = jnp.ones(4)\nz = x + y\n"
    result = run(runner, code)
    assert result.status == "error"
    assert result.error is not None and result.error.line == 4
    assert "shapes" in result.error.message or "broadcast" in result.error.message


def test_runs_see_the_forced_host_devices(runner: Runner) -> None:
    result = run(runner, "import jax\nprint(jax.device_count(), jax.default_backend())")
    assert result.status == "ok", result
    assert result.stdout == "8 cpu\n"  # the forced host devices, for pmap demos


def test_state_does_not_leak_between_runs(runner: Runner) -> None:
    first = run(runner, "import builtins\nbuiltins.LEAK = 1\nopen('mine.txt', 'w').write('x')")
    second = run(runner, "import builtins, os\nprint(hasattr(builtins, 'LEAK'), os.listdir('.'))")
    assert first.status == "ok", first
    assert second.stdout == "False []\n"


def test_timeout_status(runner: Runner) -> None:
    result = run(runner, "import time\nprint('start', flush=True)\ntime.sleep(60)", timeout_s=1.0)
    assert result.status == "timeout"
    assert result.stdout == "start\n"
    assert "1 s" in result.message


def test_busy_loop_is_stopped_by_the_wall_clock(runner: Runner) -> None:
    result = run(runner, "while True:\n    pass\n", timeout_s=1.0)
    assert result.status == "timeout"


def test_code_larger_than_the_limit_is_rejected_without_a_worker(runner: Runner) -> None:
    before = runner.status()["runs_total"]
    code = "x = 1\n" * (runner.settings.code_bytes // 6 + 10)
    result = run(runner, code)
    assert result.status == "rejected"
    assert "KiB" in result.message
    assert runner.status()["runs_total"] == before  # the supervisor never saw it


def test_memory_status_for_an_allocation_over_the_limit(runner: Runner) -> None:
    result = run(runner, "x = bytearray(4 * 1024 ** 3)\n")
    assert result.status == "memory", result
    assert result.error is not None and result.error.type == "MemoryError"


@pytest.mark.parametrize(
    "code",
    ["import os\nos.abort()", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)"],
)
def test_a_crashing_process_is_crashed(runner: Runner, code: str) -> None:
    result = run(runner, code)
    assert result.status == "crashed"
    assert "killed by SIG" in result.message


def test_exit_without_a_report_is_crashed(runner: Runner) -> None:
    result = run(runner, "import os\nprint('bye', flush=True)\nos._exit(3)")
    assert result.status == "crashed"
    assert result.stdout == "bye\n"
    assert "code 3" in result.message


def test_sys_exit_zero_is_ok(runner: Runner) -> None:
    assert run(runner, "import sys\nsys.exit(0)").status == "ok"


def test_a_forged_report_does_not_change_the_status(runner: Runner) -> None:
    code = (
        "import os, json\n"
        "os.write(3, b'{}\\n')\n"
        "os.abort()\n"
    )
    assert run(runner, code).status == "crashed"


def test_concurrent_runs_from_threads(runner: Runner) -> None:
    results: dict[int, RunResult] = {}

    def one(i: int) -> None:
        results[i] = run(runner, f"import jax.numpy as jnp\nprint(int(jnp.arange({i}).sum()))")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, result in results.items():
        assert result.status == "ok", result
        assert result.stdout == f"{sum(range(i))}\n"


def test_on_update_reports_running(runner: Runner) -> None:
    updates: list[tuple[str, int | None]] = []
    result = runner.run(RunRequest(code="print(1)"), lambda s, p: updates.append((s, p)))
    assert result.status == "ok"
    kinds = [kind for kind, _ in updates]
    assert kinds[-2:] == ["running", "output"]  # it started, then printed (streamed)


def test_status_describes_pool_platform_and_limits(runner: Runner) -> None:
    info = runner.status()
    assert info["platform"] == "cpu"
    assert info["zygote_ready"] is True
    assert info["zygote_threads"] == 1  # the fork-safety condition
    assert info["limits"]["timeout_s"] == runner.settings.timeout_s
    assert info["warm"]["done"] is True
    assert "snippets" not in info["warm"]  # only the app's runner (get_runner) warms snippets
    assert set(info["status_counts"]) <= set(STATUSES)


def test_runs_read_but_never_write_the_compilation_cache(runner: Runner) -> None:
    from app import runtimes
    from app.runner.platform import runtime_cache_dir

    default = runtimes.default(runner.settings)
    cache = runtime_cache_dir(runner.settings, default.id if default else "")
    before = sorted(p.name for p in cache.iterdir())
    assert any(name.startswith("jit_") for name in before)  # the trusted warm-up filled it
    code = (
        "import jax, jax.numpy as jnp, uuid\n"
        "k = uuid.uuid4().int % 1000 + 7\n"
        "f = jax.jit(lambda x: jnp.tanh(x) * k + jnp.arange(k).sum())\n"
        "print(f(jnp.ones(k)).shape)\n"
    )
    result = run(runner, code)
    assert result.status == "ok", result
    assert result.stderr == ""  # no "error writing persistent cache" warning either
    assert sorted(p.name for p in cache.iterdir()) == before


def test_device_allocation_failures_count_as_memory() -> None:
    from app.runner.supervisor.outcome import _is_memory_error

    assert _is_memory_error("MemoryError", "")
    assert _is_memory_error(
        "JaxRuntimeError", "RESOURCE_EXHAUSTED: Out of memory while trying to allocate 17 GiB"
    )
    assert not _is_memory_error("ValueError", "shapes do not match")



def test_invalid_utf8_output_is_replaced_not_fatal(runner: Runner) -> None:
    result = run(runner, "import os\nos.write(1, b'bad \\xff\\xfe bytes\\n')\nprint('after')")
    assert result.status == "ok", result
    assert result.stdout == "bad \ufffd\ufffd bytes\nafter\n"


def test_code_just_under_the_size_limit_arrives_intact(runner: Runner) -> None:
    filler = "# " + "\x01é" * 100 + "\n"  # escapes make the JSON request several times larger
    body = "print('big ok')\n"
    count = (runner.settings.code_bytes - len(body.encode()) - 200) // len(filler.encode())
    code = filler * count + body
    assert len(code.encode()) < runner.settings.code_bytes
    result = run(runner, code)
    assert result.status == "ok", result
    assert result.stdout == "big ok\n"


@pytest.mark.parametrize("replace", [
    "os._exit = lambda *a: None",
    "import posix; posix._exit = os._exit = lambda *a: None; sys.exit = lambda *a: None",
    "os._exit = lambda *a: None\n"
    "for name in ('app.runner.zygote.child', 'app.runner.zygote.fork_server'):\n"
    "    if name in sys.modules:\n        sys.modules[name]._exit = os._exit",
])
def test_a_run_that_disables_exit_still_ends_as_itself(runner: Runner, replace: str) -> None:
    """A run replaced os._exit with a no-op: its process continued into the zygote's own code
    after the run and a traceback of the runner's internals reached its stderr."""
    result = run(runner, f"import os, sys\n{replace}\nprint('done')\n")
    assert result.status == "ok", result
    assert result.stdout == "done\n" and result.stderr == "", result
