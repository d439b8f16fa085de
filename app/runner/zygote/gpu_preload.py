"""GPU hosts: load the CUDA libraries once in the zygote, so a child's backend start does not.

Starting the GPU backend in a child loads JAX's CUDA plugin and the NVIDIA libraries it needs
(cuBLAS, cuDNN, cuFFT...: hundreds of MiB of shared objects to map and relocate), then creates a
CUDA context. The loading is the same in every child and touches no GPU: done here, before the
fork, the children inherit the mapped libraries (shared, copy-on-write) and their own dlopen finds
them loaded. The CUDA context is not shared: no CUDA call happens here (cuInit in a process that
then forks leaves the children unable to use CUDA), each child still creates its own.
PLAYGROUND_GPU_PRELOAD=0 turns it off (bench/runner_latency.py --gpu measures both ways).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib

PLUGINS = ("jax_plugins.xla_cuda13", "jax_plugins.xla_cuda12", "jax_plugins.cuda")


def preload() -> str | None:
    """Load the first CUDA plugin's libraries found; its name, or None if there is none."""
    for name in PLUGINS:
        try:
            plugin = importlib.import_module(name)
        except ImportError:
            continue
        # What the plugin's initialize() does first, without its version check (that one calls
        # CUDA) and without registering the backend.
        loader = getattr(plugin, "_load_nvidia_libraries", None)
        if callable(loader):
            with contextlib.suppress(Exception):
                loader()
        library = getattr(plugin, "_get_library_path", None)
        path = library() if callable(library) else None
        if path:
            with contextlib.suppress(OSError):
                ctypes.CDLL(str(path))
        return name
    return None
