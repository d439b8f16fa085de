"""Where a run runs (app/runner/supervisor/placement.py): pure. The end-to-end part, on this CPU
host, is in test_session_cache.py (a run asking for the CPU reaches a CPU child and says where it
ran)."""

from __future__ import annotations

import pytest

from app.protocol import InspectRequest, TransformStep
from app.runner.supervisor.placement import (
    ACCELERATOR,
    ACCELERATOR_ALL,
    CPU,
    choose,
    multi_device_uses,
)

PMAP = "import jax, jax.numpy as jnp\nprint(jax.pmap(lambda x: x * 2)(jnp.arange(8)))\n"


def test_multi_device_code_is_found_by_the_names_it_uses() -> None:
    assert multi_device_uses(PMAP) == ["pmap"]
    sharded = ("from jax.sharding import Mesh, NamedSharding, PartitionSpec as P\n"
               "mesh = jax.make_mesh((8,), ('x',))\n")
    assert multi_device_uses(sharded) == ["Mesh", "NamedSharding", "make_mesh"]
    assert multi_device_uses("from jax.experimental.shard_map import shard_map\n") == [
        "shard_map"]


def test_comments_strings_and_lookalikes_do_not_count() -> None:
    assert multi_device_uses("# jax.pmap would need 8 devices\nx = 'pmap'\nmy_pmap = 1\n") == []
    assert multi_device_uses("import jax\nprint(jax.devices())\n") == []


def test_broken_code_is_guessed_from_its_text_and_a_pmap_in_the_stack_counts() -> None:
    assert multi_device_uses("jax.pmap(lambda x: x)(\n") == ["pmap"]
    stack = InspectRequest("f", transforms=[TransformStep("jit"), TransformStep("pmap")])
    assert multi_device_uses("def f(x):\n    return x\n", stack) == ["pmap"]


def test_on_a_one_gpu_host_pmap_falls_back_to_the_cpu_devices_saying_so() -> None:
    placed = choose("auto", ["pmap"], "gpu", accelerator_devices=1, cpu_devices=8)
    assert placed.kind == CPU
    assert "uses pmap" in placed.note and "1 GPU:" in placed.note
    assert "CPU's 8 host devices" in placed.note


def test_single_device_code_stays_on_the_accelerator() -> None:
    assert choose("auto", [], "gpu", 1, 8).kind == ACCELERATOR
    assert choose("auto", [], "gpu", 1, 8).note == ""


def test_an_explicit_choice_is_kept() -> None:
    assert choose("accelerator", ["pmap"], "gpu", 1, 8).kind == ACCELERATOR
    cpu = choose("cpu", [], "gpu", 1, 8)
    assert cpu.kind == CPU and "as chosen" in cpu.note


def test_several_gpus_run_multi_device_code_on_all_of_them_when_there_are_enough() -> None:
    assert choose("auto", ["pmap"], "gpu", 8, 8).kind == ACCELERATOR_ALL
    assert choose("accelerator", ["pmap"], "gpu", 2, 8).kind == ACCELERATOR_ALL
    assert choose("auto", ["pmap"], "gpu", 2, 8).kind == CPU  # 2 < 8: the CPU has more


@pytest.mark.parametrize("target", ["auto", "accelerator", "tpu", "", "x" * 100])
def test_a_cpu_host_runs_everything_on_its_own_children(target: str) -> None:
    placed = choose(target, ["pmap"], "cpu", 8, 8)
    assert placed.kind == ACCELERATOR and placed.note == ""


def test_asking_for_the_cpu_on_a_cpu_host_uses_a_cpu_child_without_a_note() -> None:
    assert choose("cpu", [], "cpu", 8, 8) == choose("cpu", ["pmap"], "cpu", 8, 8)
    assert choose("cpu", [], "cpu", 8, 8).kind == CPU
    assert choose("cpu", [], "cpu", 8, 8).note == ""
