"""The run-outcome decision table (app.runner.supervisor.outcome.classify): pure, no sandbox, no
JAX.

Wait statuses are real: each comes from os.waitpid on a /bin/sh that exits with a code or kills
itself with a signal (subprocess spawns it; no fork of this process, which may hold JAX threads).
On Linux these are the encodings os.waitstatus_to_exitcode reads: exit code n is n << 8, death by
signal s is s (no core: the shell sets `ulimit -c 0` first); test_wait_statuses_are_real checks it.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess

import pytest

from app import protocol
from app.config import Settings
from app.protocol import ErrorInfo, OutputChunk, WorkerReport
from app.runner.supervisor.outcome import RunFacts, classify, unqueued

SETTINGS = Settings(output_bytes=1 << 20, result_bytes=512 * 1024, memory_mb=700, cpu_s=7.5)
LAYERS = b'{"layers": {"seccomp": true, "netns": 1}, "marks": {"forked": 1.5}}\n'


@functools.cache
def wait_status(script: str) -> int:
    """The raw wait status of `sh -c script`, as the supervisor gets it from the zygote."""
    process = subprocess.Popen(["/bin/sh", "-c", "ulimit -c 0; " + script])
    _, status = os.waitpid(process.pid, 0)
    process.returncode = 0  # reaped above: Popen must not wait for it again
    return status


def exited(code: int) -> int:
    return wait_status(f"exit {code}")


def killed(sig: signal.Signals) -> int:
    return wait_status(f"kill -{sig.name.removeprefix('SIG')} $$")


def report(**kwargs: object) -> bytes:
    return protocol.to_json(WorkerReport(**kwargs)).encode()  # type: ignore[arg-type]


def facts(status: int, data: bytes | None = None, **kwargs: object) -> RunFacts:
    """A run that wrote its layers line, "started", then data (a report, by default clean)."""
    if data is None:
        data = report(value_repr="3", platform="cpu")
    defaults: dict[str, object] = {
        "result_data": LAYERS + b"started\n" + data,
        "stdout": ["3\n"],
        "output": [OutputChunk("stdout", "3\n")],
        "enqueued_at": 100.0,
        "started_at": 100.25,
        "exited_at": 101.5,
        "timeout_s": 4.0,
    }
    defaults.update(kwargs)
    return RunFacts(exit_status=status, **defaults)  # type: ignore[arg-type]


def test_wait_statuses_are_real() -> None:
    assert os.waitstatus_to_exitcode(exited(0)) == 0
    assert os.waitstatus_to_exitcode(exited(3)) == 3
    assert exited(3) == 3 << 8
    assert os.waitstatus_to_exitcode(killed(signal.SIGKILL)) == -signal.SIGKILL
    assert killed(signal.SIGXCPU) == signal.SIGXCPU  # no core-dump bit


def test_clean_run_is_ok_with_the_report_fields() -> None:
    result = classify(facts(exited(0), cgroup_layers={"cgroup_memory": True}, maxrss_kb=2048),
                      SETTINGS, "gpu")
    assert result.status == "ok"
    assert result.message == "Finished."
    assert result.value_repr == "3"
    assert result.platform == "gpu"  # the host's, never what the run's report claims
    assert result.stdout == "3\n" and result.stderr == ""
    assert result.output == [OutputChunk("stdout", "3\n")]
    assert result.duration_s == 1.25 and result.queue_s == 0.25
    assert result.peak_memory_mb == 2.0  # maxrss, as there is no cgroup figure
    assert result.sandbox == {"seccomp": True, "netns": True, "cgroup_memory": True}
    assert result.truncated is False and result.error is None


def test_cgroup_peak_is_preferred_to_maxrss() -> None:
    result = classify(facts(exited(0), cgroup_peak_mb=123.456, maxrss_kb=2048), SETTINGS, "cpu")
    assert result.peak_memory_mb == 123.5


def test_timeout_kill_is_timeout() -> None:
    result = classify(facts(killed(signal.SIGKILL), b"", kill_reason="timeout"), SETTINGS, "cpu")
    assert result.status == "timeout"
    assert result.message == "Stopped: the run took longer than 4 s."


def test_output_kill_is_output_limit_and_truncated() -> None:
    result = classify(facts(killed(signal.SIGKILL), b"", kill_reason="output"), SETTINGS, "cpu")
    assert result.status == "output_limit"
    assert result.truncated is True
    assert result.message == ("Stopped: the run printed more than 1 MiB; "
                              "the output is truncated.")


def test_result_kill_is_output_limit_and_truncated() -> None:
    result = classify(facts(killed(signal.SIGKILL), b"", kill_reason="result"), SETTINGS, "cpu")
    assert result.status == "output_limit"
    assert result.truncated is True
    assert "larger than 512 KiB" in result.message


def test_a_stopped_run_is_cancelled_and_keeps_what_it_printed() -> None:
    result = classify(facts(killed(signal.SIGKILL), b"", kill_reason="cancelled"), SETTINGS,
                      "cpu")
    assert result.status == "cancelled"
    assert result.message == "You stopped the run after 1.2 s; what it printed is kept."
    assert result.stdout == "3\n" and result.output == [OutputChunk("stdout", "3\n")]


def test_a_run_stopped_in_the_queue_is_cancelled_with_its_wait() -> None:
    result = unqueued(2.345678)
    assert result.status == "cancelled" and result.queue_s == 2.3457
    assert result.stdout == "" and "waited in the queue" in result.message


def test_oom_kill_is_memory() -> None:
    result = classify(facts(killed(signal.SIGKILL), b"", oom_killed=True), SETTINGS, "cpu")
    assert result.status == "memory"
    assert result.message == "Out of memory: the run went over its 700 MiB and was stopped."


@pytest.mark.parametrize(("error", "platform", "expected"), [
    (ErrorInfo("MemoryError", "", line=3), "cpu",
     "Out of memory on line 3: MemoryError (host limit 700 MiB)"),
    (ErrorInfo("XlaRuntimeError", "RESOURCE_EXHAUSTED: Out of memory allocating 8 GiB\nmore"),
     "gpu", "Out of memory: RESOURCE_EXHAUSTED: Out of memory allocating 8 GiB (host limit "
     "700 MiB, accelerator memory is shared by the runs)"),
])
def test_memory_error_in_the_report_is_memory(error: ErrorInfo, platform: str,
                                              expected: str) -> None:
    result = classify(facts(exited(0), report(error=error)), SETTINGS, platform)
    assert result.status == "memory"
    assert result.message == expected
    assert result.error == error


def test_sigxcpu_is_timeout() -> None:
    result = classify(facts(killed(signal.SIGXCPU), b""), SETTINGS, "cpu")
    assert result.status == "timeout"
    assert result.message == ("Stopped: the run used more than 7.5 s of CPU time "
                              "(7.5 s per core of its 1-core share).")


def test_the_cpu_time_limit_grows_with_the_runs_share_of_cores() -> None:
    four_cores = Settings(cpu_s=7.5, cores_per_run=4)
    result = classify(facts(killed(signal.SIGXCPU), b""), four_cores, "gpu")
    assert result.status == "timeout"
    assert "more than 30 s of CPU time (7.5 s per core of its 4-core share)" in result.message


def test_a_run_that_filled_its_session_cache_layer_is_output_limit() -> None:
    stopped = classify(facts(killed(signal.SIGKILL), kill_reason="cache"), SETTINGS, "cpu")
    assert stopped.status == "output_limit"
    assert "filled its session's compilation cache (64 MiB) and was stopped" in stopped.message
    # Filled in its last moments, after it finished: the status says so, its report stays.
    ended = classify(facts(exited(0), cache_full=True), SETTINGS, "cpu")
    assert ended.status == "output_limit" and "as it ended" in ended.message
    assert ended.value_repr == "3"


def test_where_it_ran_and_the_cache_counts_reach_the_result() -> None:
    data = report(value_repr="3", platform="gpu",
                  compile_cache={"session_hits": 2, "x" * 99: 1})
    result = classify(facts(exited(0), data, target="cpu", notes=["Ran on the CPU."]),
                      SETTINGS, "gpu")
    assert result.target == "cpu" and result.notes == ["Ran on the CPU."]
    # Placed in a CPU child by the supervisor: the CPU, whatever the report claims.
    assert result.platform == "cpu"
    assert result.compile_cache == {"session_hits": 2, "x" * 40: 1}
    on_the_gpu = classify(facts(exited(0), report(value_repr="3", platform="cpu"),
                                target="accelerator"), SETTINGS, "gpu")
    assert on_the_gpu.platform == "gpu"  # the host's, not the report's
    # A cache count of the wrong type makes the report undecodable: that run alone crashes.
    forged = classify(facts(exited(0), report(value_repr="3", compile_cache={"bad": "2"})),
                      SETTINGS, "gpu")
    assert forged.status == "crashed"


@pytest.mark.parametrize("line", [b"[1, 2]", b"not json", b'{"layers": 3, "marks": []}', b""])
def test_a_malformed_ready_line_gives_no_layers_instead_of_failing(line: bytes) -> None:
    from app.runner.supervisor.outcome import ready_line

    assert ready_line(line) == ({}, {})


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT])
def test_death_by_signal_is_crashed_with_the_signal_name(sig: signal.Signals) -> None:
    result = classify(facts(killed(sig)), SETTINGS, "cpu")  # even after a clean report
    assert result.status == "crashed"
    assert result.message == f"The run's process was killed by {sig.name}."


def test_no_report_is_crashed() -> None:
    result = classify(facts(exited(0), b""), SETTINGS, "cpu")
    assert result.status == "crashed"
    assert result.message == "The run's process exited (code 0) before reporting a result."
    assert result.value_repr is None


@pytest.mark.parametrize(("data", "why"), [
    (b"not json", "not JSON"),
    (b'["a list"]', "expected an object, got a list"),
    (b"[" * 200_000, "nested too deeply"),
    (b'{"error": 5}', "error: expected an object, got an integer"),
    (b'{"error": {"type": "E", "message": 5}}',
     "error.message: has the wrong type: expected str, got an integer"),
    (b'{"compilations": [' + b'{"function": "f", "count": 1},' * 300 + b'{"function": "f", '
     b'"count": 1}]}', "compilations: 301 entries (at most 200)"),
    (b'{"value_repr": "\\ud800 ok", "inspect": {"timings": {"steady": {"median_s": true, '
     b'"min_s": 0, "spread_s": 0, "count": 1}}}}',
     "inspect.timings.steady.median_s: has the wrong type: expected float, got a boolean"),
])
def test_a_report_that_cannot_be_decoded_ends_its_run_crashed(data: bytes, why: str) -> None:
    """Issue 9, item 1: whatever the run wrote, classify never raises; the run says why."""
    result = classify(facts(exited(0), data), SETTINGS, "cpu")
    assert result.status == "crashed"
    assert result.message.startswith("The run's report could not be read: "), result.message
    assert why in result.message
    assert result.value_repr is None and result.error is None


def test_nonzero_exit_after_a_report_is_crashed() -> None:
    result = classify(facts(exited(3)), SETTINGS, "cpu")
    assert result.status == "crashed"
    assert result.message == "The run's process exited with code 3 after reporting."


def test_report_error_is_error_with_the_line() -> None:
    error = ErrorInfo("TypeError", "unsupported operand", line=2)
    result = classify(facts(exited(0), report(error=error)), SETTINGS, "cpu")
    assert result.status == "error"
    assert result.message == "TypeError on line 2: unsupported operand"
    assert result.error == error


@pytest.mark.parametrize(("reason", "status"), [
    ("timeout", "timeout"), ("output", "output_limit"), ("result", "output_limit"),
    ("shutdown", "crashed"), ("zygote", "crashed"), ("cancelled", "cancelled"),
])
def test_a_forged_report_never_overrides_a_kill(reason: str, status: str) -> None:
    """A clean report and exit 0 (the run finished just as it was killed) stay a kill; a
    forged MemoryError report is ignored too."""
    forged = report(value_repr="forged", platform="tpu",
                    error=ErrorInfo("MemoryError", "", line=1))
    for data in (report(value_repr="forged", platform="tpu"), forged):
        result = classify(facts(exited(0), data, kill_reason=reason), SETTINGS, "cpu")
        assert result.status == status
        assert result.value_repr is None and result.error is None
        assert result.platform == "cpu"
        if reason in ("shutdown", "zygote"):
            assert result.message == "The run was stopped because the runner restarted."


def test_layers_line_that_is_not_json_is_ignored() -> None:
    data = b"garbage\nstarted\n" + report(value_repr="1")
    result = classify(RunFacts(exit_status=exited(0), result_data=data,
                               cgroup_layers={"cgroup_pids": False}), SETTINGS, "cpu")
    assert result.status == "ok"
    assert result.sandbox == {"cgroup_pids": False}
