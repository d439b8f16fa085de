"""Where a run runs: the accelerator, or the CPU with its forced host devices. Pure.

A run asks with RunRequest.target. "auto" (the default) keeps it on the accelerator unless the
code needs more devices than the accelerator has: on a one-GPU host a pmap over 8 items fails,
while the CPU side has PLAYGROUND_CPU_DEVICES forced host devices, so such a snippet runs there
and the result says so. Whether code "needs more devices" is read from what it uses (pmap,
shard_map, meshes and shardings, a pmap in the Transform Lab's stack): the count it needs is only
known when it runs, so the CPU's devices are taken whenever the accelerator has fewer of them.

Child kinds (app/runner/supervisor/pool.py keeps a pool of each): "accelerator" (one GPU on a
multi-GPU host, the least busy one), "accelerator-all" (every GPU: pmap or sharding asked for more
than one) and "cpu" (JAX_PLATFORMS=cpu, forced host devices; on a CPU host the same hardware as
"accelerator").
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from app.protocol import InspectRequest

ACCELERATOR, ACCELERATOR_ALL, CPU = "accelerator", "accelerator-all", "cpu"
KINDS = (ACCELERATOR, ACCELERATOR_ALL, CPU)
# Names that only make sense with several devices.
MULTI_DEVICE_NAMES = frozenset({
    "pmap", "shard_map", "make_mesh", "Mesh", "AbstractMesh", "NamedSharding",
    "PositionalSharding", "device_put_sharded", "device_put_replicated", "pjit", "xmap",
    "set_mesh", "use_mesh", "create_device_mesh",
})
_NAME = re.compile(r"\b(" + "|".join(sorted(MULTI_DEVICE_NAMES)) + r")\b")


@dataclass(frozen=True)
class Placement:
    kind: str  # one of KINDS
    note: str = ""  # one sentence for the result when the choice was not the obvious one


def multi_device_uses(code: str, inspect: InspectRequest | None = None) -> list[str]:
    """The multi-device names the code uses (sorted), plus "pmap" for a pmap in the stack."""
    found: set[str] = set()
    if _NAME.search(code):  # cheap first; the parse below leaves out comments and strings
        found = _names_in(code)
    if inspect is not None and any(step.name == "pmap" for step in inspect.transforms):
        found.add("pmap")
    return sorted(found)


def _names_in(code: str) -> set[str]:
    found: set[str] = set()
    try:
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Name) and node.id in MULTI_DEVICE_NAMES:
                found.add(node.id)
            elif isinstance(node, ast.Attribute) and node.attr in MULTI_DEVICE_NAMES:
                found.add(node.attr)
            elif isinstance(node, ast.alias) and node.name.split(".")[-1] in MULTI_DEVICE_NAMES:
                found.add(node.name.split(".")[-1])
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        found.update(_NAME.findall(code))  # it will fail anyway; a guess from the text
    return found


def choose(target: str, uses: list[str], platform: str, accelerator_devices: int,
           cpu_devices: int) -> Placement:
    """The child kind for a run. target: RunRequest.target (anything unknown counts as "auto");
    uses: multi_device_uses of its code; platform: the host's ("cpu", "gpu", "tpu")."""
    if target == CPU:
        if platform == "cpu":
            return Placement(CPU)
        return Placement(CPU, f"Ran on the CPU with {cpu_devices} host devices, as chosen.")
    several = accelerator_devices > 1
    if platform == "cpu" or not uses:
        return Placement(ACCELERATOR)
    if target == ACCELERATOR:
        return Placement(ACCELERATOR_ALL if several else ACCELERATOR)
    if accelerator_devices >= cpu_devices:
        return Placement(ACCELERATOR_ALL if several else ACCELERATOR)
    what = ", ".join(uses)
    device = f"{accelerator_devices} {platform.upper()}" + ("s" if several else "")
    return Placement(CPU, (
        f"This code uses {what}, which needs more devices than this host's {device}: it ran on "
        f"the CPU's {cpu_devices} host devices instead. Choose the accelerator to run it there."
    ))
