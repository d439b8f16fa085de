"""The zygote's CUDA library preload (app/runner/zygote/gpu_preload.py) on a host without CUDA: a
stand-in plugin package in a fresh process checks what preload calls and what it must never call
(the plugin's initialize(): its version check calls CUDA, and a process that touched CUDA cannot
fork usable children). The real plugin is exercised by deploy/device-check.sh on a GPU host."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys
from pathlib import Path

from app.runner.platform import REPO_ROOT

PLUGIN = '''
import os
calls = []
def _load_nvidia_libraries():
    calls.append("load")
def _get_library_path():
    return {library!r}
def initialize():
    raise SystemExit("initialize() must not run in the zygote")
'''

CHECK = '''
import os, sys
from app.runner.zygote import gpu_preload
from jax_plugins import xla_cuda12
name = gpu_preload.preload()
print(name, xla_cuda12.calls, len(os.listdir("/proc/self/task")))
'''


def test_preload_loads_the_plugins_libraries_and_calls_no_cuda(tmp_path: Path) -> None:
    library = ctypes.util.find_library("m") or "libm.so.6"
    package = tmp_path / "jax_plugins" / "xla_cuda12"
    package.mkdir(parents=True)
    (tmp_path / "jax_plugins" / "__init__.py").write_text("")
    (package / "__init__.py").write_text(PLUGIN.format(library=library))
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          cwd=str(REPO_ROOT), timeout=120,
                          env={"PYTHONPATH": f"{tmp_path}:{REPO_ROOT}", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["jax_plugins.xla_cuda12", "['load']", "1"]


def test_preload_finds_nothing_on_a_host_without_a_cuda_plugin() -> None:
    done = subprocess.run([sys.executable, "-c",
                           "from app.runner.zygote import gpu_preload; "
                           "print(gpu_preload.preload())"],
                          capture_output=True, text=True, cwd=str(REPO_ROOT), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
