"""Every doc names only files, make targets, CLI commands and settings that exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs import doc_references as refs


@pytest.mark.parametrize("doc", refs.doc_files(), ids=lambda p: str(p.relative_to(refs.REPO)))
def test_the_doc_names_only_what_exists(doc: Path) -> None:
    assert refs.problems(doc, doc.read_text()) == []


def test_the_docs_the_check_covers_are_there() -> None:
    names = {str(p.relative_to(refs.REPO)) for p in refs.doc_files()}
    for doc in ("README.md", "CONTRIBUTING.md", "deploy/README.md", "snippets/README.md",
                "docs/architecture.md", "docs/operations.md", "docs/security.md",
                "docs/user-guide.md", "docs/instructors-guide.md", "docs/benchmarks.md"):
        assert doc in names


BOGUS = """\
Run `make deploy` then `python -m app serve --port 1`, or `python -m app bench --turbo`.
Settings: `PLAYGROUND_WARP_SPEED=1`; code in `app/runner/warp.py` and `warp_drive.py`;
tests in `tests/runner/test_limits.py::test_no_such_test`; `python -m app.no_such_module`.
See [the design](DESIGN.md), [ops](operations.md#no-such-heading),
`docs/screenshots/issue{1,2}.png`.

```bash
make bogus-target
.venv/bin/python bench/no_such_bench.py
```
"""


def test_a_doc_with_bogus_names_fails_on_each_of_them() -> None:
    found = refs.problems(refs.REPO / "docs" / "bogus.md", BOGUS)
    expected = [
        "make target 'deploy' is not in the Makefile",
        "make target 'bogus-target' is not in the Makefile",
        "`python -m app serve` is not a subcommand of app/cli.py",
        "`python -m app bench` has no option --turbo",
        "setting PLAYGROUND_WARP_SPEED is not in app.config.Settings",
        "path app/runner/warp.py does not exist",
        "no file named warp_drive.py in the repository",
        "tests/runner/test_limits.py has no test_no_such_test",
        "`python -m app.no_such_module`: no such module",
        "link to DESIGN.md, which does not exist",
        "link to operations.md#no-such-heading: no such heading",
        "path docs/screenshots/issue1.png does not exist",
        "path docs/screenshots/issue2.png does not exist",
        "path bench/no_such_bench.py does not exist",
    ]
    for problem in expected:
        assert problem in found
    assert len(found) == len(expected), found


def test_names_that_exist_pass() -> None:
    good = ("`make run`, `make test`, `python -m app check snippets/ --markdown x.md`, "
            "`python -m app worker-host --redis URL [--slots N]`, `PLAYGROUND_TIMEOUT_S`, "
            "`app/runner/supervisor/pool.py`, `pool.py`, `tests/runner/test_limits.py::"
            "test_the_cpu_time_limit_is_per_core_of_the_runs_share`, `python -m app.server run`, "
            "`PLAYGROUND_LOG_LEVEL`, [the screenshot](screenshot.png), "
            "[hosted mode](operations.md#hosted-mode)")
    assert refs.problems(refs.REPO / "docs" / "good.md", good) == []
