"""The resource policy (app/runner/policy.py): pure, from a host's facts to what each run gets.

GPU hosts cannot be had here: their policy is checked as the function it is, with the facts of the
hosts the issue names (H200: 141 GiB, 16 cores; an 8-GPU host; a small 24 GiB card).
"""

from __future__ import annotations

from app.config import Settings
from app.runner.policy import HostFacts, cpu_limit_s, decide, resolved, rows, runs_per_gpu

GIB = 1 << 30
H200 = HostFacts("gpu", device_count=1, cores=16, gpu_memory_bytes=141 * GIB)


def test_a_cpu_host_shares_its_cores_between_the_runs_at_once() -> None:
    policy = decide(Settings(max_concurrent=2, cpu_s=20), HostFacts("cpu", 8, cores=2))
    assert (policy.runs_at_once, policy.cores_per_run, policy.cpu_limit_s) == (2, 1, 20)
    assert policy.runs_per_gpu is None and policy.compile_threads is None
    wide = decide(Settings(max_concurrent=4, cpu_s=20), HostFacts("cpu", 8, cores=16))
    assert (wide.cores_per_run, wide.cpu_limit_s) == (4, 80)


def test_a_gpu_host_takes_its_runs_at_once_from_the_gpu_memory_not_the_cores() -> None:
    policy = decide(Settings(max_concurrent=16), H200)
    assert policy.runs_per_gpu == 8 and policy.runs_at_once == 8  # 141 GiB / 16 GiB
    assert policy.gpu_memory_fraction == 0.9 / 8
    # 16 cores over 8 runs: 2 cores of quota, 40 s of CPU, XLA compiles on 2 threads.
    assert (policy.cores_per_run, policy.cpu_limit_s, policy.compile_threads) == (2, 40, 2)
    assert any("8 run(s) per GPU" in why for why in policy.why)


def test_the_cpu_time_limit_fits_an_ordinary_gpu_run_that_used_to_be_killed() -> None:
    # Measured on the H200 host: a 4096x4096 matmul run used more than 20 s of CPU in ~2.7 s
    # of wall time (XLA's compiler threads on 16 cores). Capped at 2 compile threads and with
    # 40 s of CPU time, it fits; a single-threaded busy loop still ends within the wall clock's
    # maximum (30 s) or the CPU-time limit, whichever comes first.
    policy = decide(Settings(max_concurrent=16), H200)
    assert policy.compile_threads is not None
    assert 2.7 * policy.compile_threads < policy.cpu_limit_s


def test_memory_per_run_and_operator_settings_bound_the_gpu_policy() -> None:
    # The operator's max_concurrent still caps; an explicit fraction and core count win.
    capped = decide(Settings(max_concurrent=3), H200)
    assert capped.runs_at_once == 3 and capped.runs_per_gpu == 3
    assert capped.cores_per_run == 5
    explicit = decide(Settings(max_concurrent=16, gpu_memory_fraction=0.3, cores_per_run=6), H200)
    assert explicit.gpu_memory_fraction == 0.3 and explicit.cores_per_run == 6
    assert explicit.cpu_limit_s == 6 * Settings().cpu_s
    # Eight GPUs: runs per GPU times GPUs, within the cores.
    eight = decide(Settings(max_concurrent=64), HostFacts("gpu", 8, 64, 80 * GIB))
    assert (eight.runs_per_gpu, eight.runs_at_once) == (5, 40)
    assert any("one GPU" in why for why in eight.why)


def test_runs_per_gpu_is_at_least_one_even_for_a_small_or_unknown_card() -> None:
    assert runs_per_gpu(24 * GIB, 16.0) == 1
    assert runs_per_gpu(None, 16.0) == 1
    assert runs_per_gpu(80 * GIB, 16.0) == 5
    assert runs_per_gpu(141 * GIB, 8.0) == 17


def test_a_tpu_runs_one_at_a_time() -> None:
    policy = decide(Settings(max_concurrent=8), HostFacts("tpu", 4, cores=8))
    assert policy.runs_at_once == 1 and policy.cores_per_run == 8


def test_resolved_settings_carry_the_policy_to_rlimits_cgroups_and_the_status() -> None:
    policy = decide(Settings(max_concurrent=16, cpu_s=20), H200)
    settings = resolved(Settings(max_concurrent=16, cpu_s=20), policy)
    assert settings.max_concurrent == 8 and settings.cores_per_run == 2
    assert cpu_limit_s(settings) == 40
    assert cpu_limit_s(Settings(cpu_s=20)) == 20  # unresolved (0): one core's worth
    shown = rows(policy)
    assert shown["runs per GPU"] == "8" and shown["CPU time per run"] == "40 s"
    assert shown["GPU memory per run"] == "11% of its GPU"
