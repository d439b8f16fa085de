"""The layering DESIGN.md asks for, checked: the sandbox side never pulls in the web app, and
pages stay layout-only."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SANDBOX_SIDE = [
    "app.worker.execute",
    "app.worker.inspection",
    "app.runner",
    "app.runner.factory",
    "app.runner.api.runner",
    "app.runner.supervisor.service",
    "app.runner.supervisor.pool",
    "app.runner.supervisor.pipes",
    "app.runner.supervisor.zygote_link",
    "app.runner.supervisor.warmup",
    "app.runner.zygote.fork_server",
    "app.runner.zygote.child",
    "app.runner.remote.client",
    "app.runner.remote.host",
    "app.snippet_check",
]


@pytest.mark.parametrize("module", SANDBOX_SIDE)
def test_sandbox_side_never_imports_the_web_app(module: str) -> None:
    # A fresh interpreter: this pytest process has imported streamlit already (AppTest).
    probe = (
        f"import importlib, json, sys; importlib.import_module({module!r}); "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] == 'streamlit' or m.startswith('app.ui'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# Room and exercise logic and the store: usable from the CLI, the bench and the pages alike.
NO_WEB_APP = ["app.exercises", "app.exercise_check", "app.rooms.store", "app.rooms.rooms",
              "app.rooms.learners", "app.rooms.dashboard", "app.rooms.attempts",
              "app.worker.checking"]


@pytest.mark.parametrize("module", NO_WEB_APP)
def test_rooms_and_exercises_never_import_the_web_app(module: str) -> None:
    test_sandbox_side_never_imports_the_web_app(module)


def _imports(path: Path) -> set[str]:
    """Every module a file imports; `from a import b` names both a and a.b (b may be a module)."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
    return imported


# The supervisor composes its parts; a part never reaches back into the supervisor, and the parts
# lean on each other one way only: pool (the child records) <- pipes, warmup; zygote_link alone.
SUPERVISOR_PARTS = ["app.runner.supervisor.pool", "app.runner.supervisor.pipes",
                    "app.runner.supervisor.warmup", "app.runner.supervisor.zygote_link",
                    "app.runner.supervisor.service"]
MAY_IMPORT = {
    "app.runner.supervisor.pool": set(),
    "app.runner.supervisor.pipes": {"app.runner.supervisor.pool"},
    "app.runner.supervisor.warmup": {"app.runner.supervisor.pool"},
    "app.runner.supervisor.zygote_link": set(),
}


@pytest.mark.parametrize("module", sorted(MAY_IMPORT))
def test_supervisor_parts_import_only_the_parts_below_them(module: str) -> None:
    path = ROOT / (module.replace(".", "/") + ".py")
    parts = _imports(path) & set(SUPERVISOR_PARTS)
    assert parts <= MAY_IMPORT[module], f"{module} imports {sorted(parts - MAY_IMPORT[module])}"


FORBIDDEN_IN_PAGES = {"jax", "numpy", "subprocess", "os", "app.runner", "app.worker"}


@pytest.mark.parametrize("page", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_are_layout_only(page: Path) -> None:
    imported = _imports(page)
    bad = {name for name in imported
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_PAGES)}
    assert not bad, f"{page.name} imports {sorted(bad)}: logic belongs in app/"
    assert len(page.read_text().splitlines()) <= 30, f"{page.name} is more than a thin page"
