"""Code that changes what the check relies on, through the real sandbox (each in its own run):
the check fails and names what was replaced, instead of passing."""

from __future__ import annotations

import pytest

from app.exercises import load_exercises
from app.protocol import RunRequest

NANSUM = load_exercises().by_id("sharp-bits/jit-nansum")
WRONG = "import jax.numpy as jnp\ndef nansum(x):\n    return jnp.sum(x)\n"

TAMPERING = {
    "numpy.allclose replaced": "import numpy as np\nnp.allclose = lambda *a, **k: True\n",
    "a builtin replaced": "import builtins\nbuiltins.abs = lambda *a: 0\n",
    "isinstance replaced": "import builtins\nbuiltins.isinstance = lambda *a: True\n",
    "the checking module patched": ("import app.worker.checking as c\n"
                                    "c.expect_close = lambda *a, **k: None\n"),
    "patched during the check": ("import numpy as np\n_real = jnp.sum\n"
                                 "def nansum(x):\n    np.allclose = lambda *a, **k: True\n"
                                 "    return jnp.sum(x)\n"),
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=list(TAMPERING))
def test_tampering_fails_the_check(runner, tamper: str) -> None:
    assert NANSUM is not None
    result = runner.run(RunRequest(WRONG + tamper, check=NANSUM.check))
    if result.check is None:  # it broke the worker itself: a crash, never a pass
        assert result.status == "crashed", result.message
        return
    assert not result.check.passed
    assert result.check.case in ("the check's tools are untouched", "nansum of [1, nan, 2]")


def test_the_guard_names_what_was_replaced(runner) -> None:
    assert NANSUM is not None
    result = runner.run(RunRequest(WRONG + TAMPERING["numpy.allclose replaced"],
                                   check=NANSUM.check))
    assert result.check is not None and "numpy.allclose" in result.check.message


def test_the_check_counts_against_the_code_size_limit(runner) -> None:
    limit = runner.settings.code_bytes
    result = runner.run(RunRequest("x = 1", check="#" * limit))
    assert result.status == "rejected" and "limit" in result.message
