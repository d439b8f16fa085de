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
    "app.runner.supervisor",
    "app.runner.zygote",
    "app.runner.child",
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


FORBIDDEN_IN_PAGES = {"jax", "numpy", "subprocess", "os", "app.runner", "app.worker"}


@pytest.mark.parametrize("page", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_are_layout_only(page: Path) -> None:
    tree = ast.parse(page.read_text(), str(page))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    bad = {name for name in imported
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_PAGES)}
    assert not bad, f"{page.name} imports {sorted(bad)}: logic belongs in app/"
    assert len(page.read_text().splitlines()) <= 30, f"{page.name} is more than a thin page"
