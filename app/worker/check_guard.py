"""The check's tamper guard: what the person's code could change to make a check pass unsolved.

A snapshot taken before any user code, compared before and after the check; any replaced or
deleted item fails the check, naming it:
- every public attribute of the modules the check relies on (NumPy, builtins, jax and the parts
  of JAX that trace, compile and report compilations, the check's own modules), by identity:
  `jax._src.dispatch._on_exit = True` (which silences JAX's compile events) is a replaced
  attribute;
- the attributes of the classes defined in those modules and of JAX's array type
  (`ArrayImpl.__array__` replaced would make every real array read as anything);
- JAX's monitoring listener lists: every listener present before is still there, in order
  (the run may add its own).
New attributes are fine (lazy imports). What a snapshot cannot see is listed in
docs/exercise-checks.md.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

_isinstance = builtins.isinstance
_type = builtins.type
_vars = builtins.vars
_id = builtins.id

# Modules whose attributes the check relies on; a replaced one means the check cannot trust them.
GUARDED_MODULES = (
    "builtins", "math", "numpy", "numpy.random", "jax", "jax.numpy", "jax.lax", "jax.random",
    "jax.tree", "jax.tree_util", "jax.monitoring", "jax._src.monitoring", "jax._src.dispatch",
    "jax._src.pjit", "jax._src.compiler", "jax._src.interpreters.pxla", "jax._src.api",
    "jax._src.array", "app.protocol", "app.worker.checking", "app.worker.check_values",
    "app.worker.check_calls", "app.worker.check_guard", "app.worker.execute",
)
_LISTENER_LISTS = ("_event_listeners", "_event_duration_secs_listeners",
                   "_event_time_span_listeners", "_scalar_listeners")

Snapshot = dict[str, Any]


def _classes() -> dict[str, type]:
    """Classes defined in the guarded modules, and JAX's array type with its bases."""
    found: dict[str, type] = {}
    for name in GUARDED_MODULES:
        module = sys.modules.get(name)
        if not _isinstance(module, ModuleType) or name in ("builtins", "numpy", "math"):
            continue
        for attribute, value in _vars(module).items():
            if _isinstance(value, type) and getattr(value, "__module__", None) == name:
                found[f"{name}.{attribute}"] = value
    from app.worker.check_values import JAX_ARRAY

    for base in JAX_ARRAY.__mro__[:-1]:
        found[f"{base.__module__}.{base.__qualname__}"] = base
    return found


def _listeners() -> dict[str, tuple[int, ...]]:
    monitoring = sys.modules.get("jax._src.monitoring")
    if not _isinstance(monitoring, ModuleType):
        return {}
    return {name: tuple(_id(f) for f in getattr(monitoring, name, ()))
            for name in _LISTENER_LISTS}


def snapshot() -> Snapshot:
    """Identities of everything listed in the module docstring, as they are now."""
    modules = {}
    for name in GUARDED_MODULES:
        module = sys.modules.get(name)
        if _isinstance(module, ModuleType):
            modules[name] = {k: _id(v) for k, v in _vars(module).items()
                             if not k.startswith("__")}
    classes = {name: (_id(cls), {k: _id(v) for k, v in dict(_vars(cls)).items()})
               for name, cls in _classes().items()}
    return {"modules": modules, "classes": classes, "listeners": _listeners()}


def tampered(before: Snapshot) -> list[str]:
    """What was replaced or deleted since the snapshot, by name (new attributes are fine)."""
    changed = []
    for name, attributes in before["modules"].items():
        module = sys.modules.get(name)
        current: Mapping[str, Any] = _vars(module) if _isinstance(module, ModuleType) else {}
        changed += [f"{name}.{k}" for k, ident in attributes.items()
                    if k not in current or _id(current[k]) != ident]
    now = _classes()
    for name, (ident, attributes) in before["classes"].items():
        cls = now.get(name)
        if cls is None or _id(cls) != ident:
            changed.append(name)
            continue
        current = _vars(cls)
        changed += [f"{name}.{k}" for k, value_id in attributes.items()
                    if k not in current or _id(current[k]) != value_id]
    listeners = _listeners()
    for name, idents in before["listeners"].items():
        if listeners.get(name, ())[: len(idents)] != idents:
            changed.append(f"jax monitoring's {name.strip('_')}")
    return changed
