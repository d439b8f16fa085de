"""The layering, checked: the import contracts of pyproject.toml (import-linter) hold, and pages
stay layout-only."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


CONTRACTS = [c["id"] for c in tomllib.loads((ROOT / "pyproject.toml").read_text())
             ["tool"]["importlinter"]["contracts"]]


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(contract: str) -> None:
    """The sandbox side and the runner never import the web app, rooms never import streamlit,
    the runner's processes import downwards only, no cycles (pyproject.toml; `make lint` too)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports), "--no-cache", "--contract", contract], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout


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


FORBIDDEN_IN_PAGES = {"jax", "numpy", "subprocess", "os", "app.runner", "app.worker"}


@pytest.mark.parametrize("page", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_are_layout_only(page: Path) -> None:
    imported = _imports(page)
    bad = {name for name in imported
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_PAGES)}
    assert not bad, f"{page.name} imports {sorted(bad)}: logic belongs in app/"
    assert len(page.read_text().splitlines()) <= 30, f"{page.name} is more than a thin page"
