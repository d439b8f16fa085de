"""Code that does not solve an exercise but tries to make its check pass anyway, through the real
sandbox, for every exercise: a stand-in result that claims to equal anything, and code that
hides compilations from the check's counter. Each must fail the check (or crash the run), never
pass it."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.exercises import load_exercises
from app.protocol import RunRequest, RunResult

EXERCISES = load_exercises().exercises

# A pytree with no leaves (so jax.jit returns it as it is) whose __array__ is an object array
# of elements equal to everything, shaped like the expected answer (read from the caller's
# frames), and whose every attribute, call, item and conversion gives itself or a number.
FORGED = '''
import sys

import jax
import numpy as np


class _Equal:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __bool__(self):
        return True

    __hash__ = object.__hash__


def _wanted_shape():
    frame = sys._getframe(2)
    while frame is not None:
        for name in ("want_array", "want"):
            value = frame.f_locals.get(name)
            if value is not None and hasattr(value, "shape"):
                return tuple(value.shape)
        frame = frame.f_back
    return ()


class Forged(_Equal):
    dtype = np.dtype("float32")

    def __array__(self, dtype=None, copy=None):
        shape = _wanted_shape()
        out = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            out[index] = _Equal()
        return out

    @property
    def shape(self):
        return _wanted_shape()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):
        return iter((self, self))

    def __len__(self):
        return 2

    def __int__(self):
        return 16

    __index__ = __int__

    def __float__(self):
        return 0.0


jax.tree_util.register_pytree_node(Forged, lambda f: ((), None), lambda aux, children: Forged())
'''

# Ways to hide a recompilation from the check's counter, each appended to code that compiles
# on every call.
HIDE_COMPILATIONS = {
    "dispatch _on_exit": "import jax._src.dispatch\njax._src.dispatch._on_exit = True\n",
    "jit disabled": "import jax\njax.config.update('jax_disable_jit', True)\n",
    "listeners cleared": "import jax\njax.monitoring.clear_event_listeners()\n",
    "log_elapsed_time silenced": (
        "import jax._src.dispatch as d\n"
        "d.LogElapsedTimeContextManager.__exit__ = lambda self, *a: None\n"),
}


def forged_submission(check: str) -> str:
    """Every name the check reads from `user`, defined as a Forged stand-in."""
    names = sorted(set(re.findall(r"\buser\.([A-Za-z_]\w*)", check)))
    return FORGED + "".join(f"{name} = Forged()\n" for name in names)


def assert_not_passed(result: RunResult, what: str) -> None:
    # The code itself runs to the end: otherwise the check never looked at what it made.
    assert result.error is None, f"{what}: the code raised {result.error}"
    if result.check is None:  # it broke the worker itself: never a pass
        assert result.status in ("crashed", "error"), f"{what}: {result.status} {result.message}"
        return
    assert not result.check.passed, f"{what} passed the check: {result.check.passed_cases}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_a_forged_result_or_hidden_compilations_never_pass(runner, exercise) -> None:
    timeout = runner.settings.max_timeout_s
    hidden = exercise.starter + "\n" + HIDE_COMPILATIONS["dispatch _on_exit"]
    with ThreadPoolExecutor(2) as pool:
        forged, silenced = pool.map(
            runner.run, [exercise.request(forged_submission(exercise.check), timeout),
                         exercise.request(hidden, timeout)])
    assert_not_passed(forged, "a forged result")
    assert_not_passed(silenced, "the starter with JAX's compile events switched off")


JIT_ONCE = load_exercises().by_id("jit-compilation/jit-once")


@pytest.mark.parametrize("hide", HIDE_COMPILATIONS.values(), ids=list(HIDE_COMPILATIONS))
def test_hiding_compilations_fails_the_compile_once_check(runner, hide: str) -> None:
    assert JIT_ONCE is not None
    result = runner.run(RunRequest(JIT_ONCE.starter + "\n" + hide, check=JIT_ONCE.check,
                                   timeout_s=runner.settings.max_timeout_s))
    assert_not_passed(result, "the starter with compilations hidden")
    assert result.check is not None
    assert result.check.case in ("three more calls with the same shape compile nothing",
                                 "the check's tools are untouched"), result.check


def test_the_forged_result_is_refused_by_name(runner) -> None:
    nansum = load_exercises().by_id("sharp-bits/jit-nansum")
    assert nansum is not None
    result = runner.run(nansum.request(forged_submission(nansum.check),
                                       runner.settings.max_timeout_s))
    assert result.check is not None and not result.check.passed
    assert result.check.case == "nansum of [1, nan, 2]"
    assert "should be a JAX array or a number, but it is a __main__.Forged" in \
        result.check.message, result.check.message
