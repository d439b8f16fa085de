"""The supervisor's pure parts: pool sizing, output and result caps, set-up failure counting.

No processes: the records are built by hand (no cgroup is created), so the decisions the
supervisor takes from them are checked directly; the runs in test_runs and test_limits check
the same behaviour end to end.
"""

from __future__ import annotations

import codecs
import signal
from pathlib import Path
from typing import Any

from app.protocol import RunRequest
from app.runner.supervisor import pipes, pool
from app.runner.supervisor.outcome import size_text
from app.runner.supervisor.pool import Child, PendingRun


def child(token: int = 1, **fields: Any) -> Child:
    c = Child(token, Path("/nonexistent"), None, False, -1, -1, -1, -1)  # type: ignore[arg-type]
    for stream in ("stdout", "stderr"):
        c.decoders[stream] = codecs.getincrementaldecoder("utf-8")("replace")
    for name, value in fields.items():
        setattr(c, name, value)
    return c


def run(timeout_s: float = 5.0, stream: bool = False) -> PendingRun:
    return PendingRun(7, RunRequest(code="pass"), 0.0, timeout_s, stream=stream)


def test_output_is_cut_at_the_limit_with_a_mark_and_the_run_killed_once() -> None:
    c = child()
    assert not pipes.add_output(c, "stdout", b"a" * 2000, limit=2048)
    assert pipes.add_output(c, "stdout", b"b" * 100, limit=2048)
    assert c.stdout == ["a" * 2000, "b" * 48 + pipes.TRUNCATION_MARK.format(limit="2 KiB")]
    assert c.truncated and c.kill_reason == "output"
    assert not pipes.add_output(c, "stderr", b"more", limit=2048)  # nothing after the cut
    assert c.stderr == []


def test_output_decodes_across_chunks_and_merges_a_stream_into_one_chunk() -> None:
    c = child()
    snowman = "☃".encode()
    pipes.add_output(c, "stdout", b"a" + snowman[:1], limit=100)
    pipes.add_output(c, "stdout", snowman[1:] + b"\xff", limit=100)
    pipes.add_output(c, "stderr", b"e", limit=100)
    assert "".join(c.stdout) == "a☃\ufffd"
    assert [(o.stream, o.text) for o in c.output] == [("stdout", "a☃\ufffd"), ("stderr", "e")]


def test_result_pipe_lines_mark_ready_then_start_the_run_clock() -> None:
    c = child(state="running", run=run(timeout_s=5.0), deadline=99.0)
    assert not pipes.add_result(c, b'{"layers": 1}\n', limit=1000, now=1.0)
    assert c.ready_at == 1.0 and not c.code_started and c.deadline == 99.0
    assert not pipes.add_result(c, b"started\n", limit=1000, now=2.0)
    assert c.code_started and c.started_at == 2.0 and c.deadline == 7.0


def test_an_oversized_result_asks_for_one_kill() -> None:
    c = child()
    assert not pipes.add_result(c, b"x" * 10, limit=10, now=0.0)
    assert pipes.add_result(c, b"y", limit=10, now=0.0)
    assert c.kill_reason == "result"
    assert not pipes.add_result(c, b"z", limit=10, now=0.0)


def test_pool_forks_the_target_plus_queued_runs_that_have_a_slot() -> None:
    busy = [child(1, state="running", run=run())]
    waiting = [child(2, state="idle")]
    assert pool.to_fork([], wanted_waiting=1, queued=0, free_slots=2, one_at_a_time=False) == 1
    # One slot left: only one of the three queued runs gets a child; one child waits already.
    assert pool.to_fork(busy + waiting, wanted_waiting=2, queued=3, free_slots=1,
                        one_at_a_time=False) == 2
    assert pool.to_fork([], wanted_waiting=2, queued=3, free_slots=4, one_at_a_time=True) == 1
    killed = [child(3, state="idle", kill_reason="shutdown")]  # on its way out: not waiting
    assert pool.to_fork(killed, wanted_waiting=1, queued=0, free_slots=2,
                        one_at_a_time=False) == 1


def test_a_burst_is_the_most_runs_that_came_within_a_preparation_time() -> None:
    # Three runs within 0.1 s, then two a second later: three children were needed at once.
    arrivals = [10.0, 10.02, 10.05, 11.0, 11.3]
    assert pool.burst_size(arrivals, now=12.0, prep_s=0.04) == 3
    # A slow preparation (a GPU child: ~0.9 s) joins runs further apart into one burst.
    assert pool.burst_size(arrivals, now=12.0, prep_s=0.9) == 5
    # Runs that came one by one, slower than a child is prepared, need no more than one.
    assert pool.burst_size([1.0, 2.0, 3.0, 4.0], now=5.0, prep_s=0.05) == 1
    # Only the recent window counts.
    assert pool.burst_size(arrivals, now=10.0 + pool.DEMAND_WINDOW_S + 0.5, prep_s=0.2) == 2
    assert pool.burst_size([], now=1.0, prep_s=0.05) == 0


def test_the_ready_target_follows_the_burst_within_its_bound_and_the_memory_cap() -> None:
    assert pool.ready_target(1, burst=0, most=8, child_mb=100, memory_cap_mb=1024) == 1
    assert pool.ready_target(1, burst=5, most=8, child_mb=100, memory_cap_mb=1024) == 5
    assert pool.ready_target(1, burst=30, most=8, child_mb=100, memory_cap_mb=1024) == 8
    # GPU children hold a CUDA context each: the memory cap allows fewer.
    assert pool.ready_target(1, burst=30, most=8, child_mb=600, memory_cap_mb=2048) == 3
    # prefork holds whatever the cap says; a kind without a base may wait for none.
    assert pool.ready_target(2, burst=0, most=8, child_mb=4096, memory_cap_mb=1024) == 2
    assert pool.ready_target(0, burst=0, most=8, child_mb=100, memory_cap_mb=1024) == 0


def test_short_runs_may_keep_more_children_waiting_than_slots_on_a_cpu_host_only() -> None:
    # Back to back, 60 ms runs and 250 ms preparations need ~4 children waiting on 1 slot; a GPU
    # child holds a CUDA context, so a GPU host keeps at most one waiting per slot.
    assert pool.most_waiting(2, "cpu") == 2 * pool.WAITING_PER_SLOT_CPU
    assert pool.most_waiting(8, "gpu") == 8
    arrivals = [i * 0.06 for i in range(20)]
    burst = pool.burst_size(arrivals, now=1.2, prep_s=0.25)
    assert burst >= 8
    assert pool.ready_target(1, burst, pool.most_waiting(2, "cpu"), 28, 3072) == 8


def test_demand_is_kept_per_kind_and_forgotten_after_the_window() -> None:
    demand = pool.Demand()
    for at in (1.0, 1.01, 1.02):
        demand.record("accelerator", at)
    demand.record("cpu", 2.0)
    assert demand.burst("accelerator", 3.0, prep_s=0.05) == 3
    assert demand.burst("cpu", 3.0, prep_s=0.05) == 1
    assert demand.changes_at() == 1.0 + pool.DEMAND_WINDOW_S
    later = 2.5 + pool.DEMAND_WINDOW_S
    assert demand.burst("accelerator", later, prep_s=0.05) == 0
    assert demand.kinds(later) == []
    assert demand.changes_at() is None


def test_spares_beyond_the_target_are_the_newest_and_wait_for_no_run() -> None:
    idle = [child(token, state="idle") for token in (3, 1, 2)]
    assert [c.token for c in pool.spares(idle, keep=1)] == [2, 3]
    assert pool.spares([*idle, child(4, state="running")], keep=1) == []


def test_the_next_queued_run_gets_a_ready_child_of_its_kind_on_the_least_busy_gpu() -> None:
    preparing, ready = child(1, state="idle"), child(2, state="idle", ready_at=5.0)
    assert pool.next_for_queue([preparing, ready]) is ready
    older = child(0, state="idle")
    assert pool.next_for_queue([preparing, older]) is older
    assert pool.next_for_queue([child(3, state="idle", trusted=True)]) is None
    cpu = child(4, state="idle", kind="cpu", ready_at=1.0)
    assert pool.next_for_queue([preparing, cpu], "cpu") is cpu
    assert pool.next_for_queue([cpu]) is None  # an accelerator run never takes a CPU child
    # Two GPUs: GPU 0 runs a run, so the next run goes to the child on GPU 1, ready or not.
    on_0 = child(5, state="idle", gpu=0, ready_at=1.0)
    on_1 = child(6, state="idle", gpu=1)
    running = child(7, state="running", gpu=0, run=run())
    assert pool.next_for_queue([on_0, on_1, running]) is on_1


def test_new_one_gpu_children_go_to_the_gpu_holding_the_fewest() -> None:
    assert pool.pick_gpu([], gpus=4) == 0
    held = [child(1, state="running", gpu=0), child(2, state="idle", gpu=1),
            child(3, state="idle", gpu=0), child(4, state="exited", gpu=2)]
    assert pool.pick_gpu(held, gpus=3) == 2  # GPU 2's only child has exited
    assert pool.pick_gpu([*held, child(5, state="idle", gpu=2)], gpus=3) == 1


def test_preparation_phases_come_from_the_childs_marks() -> None:
    c = child(forked_at=100.0, ready_at=100.2, marks={
        "forked": 100.01, "go": 100.02, "sandboxed": 100.05, "backend": 100.15,
        "warm": 100.19})
    assert pool.prep_phases(c) == {"fork": 10.0, "cgroup_wait": 10.0, "sandbox": 30.0,
                                   "backend": 100.0, "warm_op": 40.0, "ready_line": 10.0}
    # Marks out of order or from another clock are left out, not shown as negative times.
    assert pool.prep_phases(child(forked_at=100.0, ready_at=100.2,
                                  marks={"forked": 5.0, "go": "x"})) == {}


def test_setup_failures_count_only_unexpected_exits_before_a_run() -> None:
    health = pool.SetupHealth()
    assert not health.died_at_setup(child(exit_status=signal.SIGKILL))  # we killed it
    assert not health.died_at_setup(child(exit_status=0))
    for _ in range(pool.SETUP_FAILURES_BEFORE_GIVING_UP - 1):
        assert not health.died_at_setup(child(exit_status=3 << 8))
    assert health.died_at_setup(child(exit_status=3 << 8, stderr=["Traceback\n", "OSError: x\n"]))
    assert health.failing()
    assert health.result().message.endswith("OSError: x")



def test_a_streamed_runs_output_waits_one_batch_interval_then_goes_in_order() -> None:
    c = child(state="running", run=run(stream=True))
    assert pipes.live_due(c, now=5.0) is None
    pipes.add_output(c, "stdout", b"a\n", limit=1000, now=5.0)
    pipes.add_output(c, "stdout", b"b\n", limit=1000, now=5.05)
    pipes.add_output(c, "stderr", b"e\n", limit=1000, now=5.06)
    assert pipes.live_due(c, now=5.06) == 5.0 + pipes.LIVE_BATCH_S  # from the oldest
    chunks = pipes.take_live(c)
    assert [(o.stream, o.text) for o in chunks] == [("stdout", "a\nb\n"), ("stderr", "e\n")]
    assert pipes.live_due(c, now=6.0) is None and pipes.take_live(c) == []
    assert [(o.stream, o.text) for o in c.output] == [("stdout", "a\nb\n"), ("stderr", "e\n")]


def test_a_full_batch_is_due_at_once_and_nothing_past_the_cap_is_streamed() -> None:
    c = child(state="running", run=run(stream=True))
    limit = pipes.LIVE_BATCH_BYTES + 10
    pipes.add_output(c, "stdout", b"x" * pipes.LIVE_BATCH_BYTES, limit=limit, now=1.0)
    assert pipes.live_due(c, now=1.0) == 1.0
    pipes.take_live(c)
    assert pipes.add_output(c, "stdout", b"y" * 100, limit=limit, now=1.5)
    (last,) = pipes.take_live(c)
    assert last.text == "y" * 10 + pipes.TRUNCATION_MARK.format(limit=size_text(limit))
    pipes.add_output(c, "stdout", b"z", limit=limit, now=2.0)
    assert pipes.take_live(c) == []


def test_output_of_a_run_not_streamed_is_kept_only_for_its_result() -> None:
    c = child(state="running", run=run(stream=False))
    pipes.add_output(c, "stdout", b"a", limit=100, now=1.0)
    assert pipes.live_due(c, now=1.0) is None and c.live == []
    assert c.stdout == ["a"]


def test_a_run_is_found_to_stop_while_queued_or_running_not_after() -> None:
    waiting = [PendingRun(3, RunRequest(code="pass"), 0.0, 1.0),
               PendingRun(4, RunRequest(code="pass"), 0.0, 1.0)]
    assert pool.queued_run(waiting, 4) is waiting[1]
    assert pool.queued_run(waiting, 7) is None
    running = child(1, state="running", run=run())  # run id 7
    exited = child(2, state="exited", run=PendingRun(8, RunRequest(code="pass"), 0.0, 1.0))
    timing_out = child(3, state="running", kill_reason="timeout",
                       run=PendingRun(9, RunRequest(code="pass"), 0.0, 1.0))
    children = [running, exited, timing_out]
    assert pool.running_child(children, 7) is running
    assert pool.running_child(children, 8) is None  # it ended: its own status stands
    assert pool.running_child(children, 9) is None  # already being killed for its time
