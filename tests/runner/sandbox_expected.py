"""A sandbox layer the host lacks: a skip on a developer's machine (no namespaces, no writable
cgroups), a failure where the whole sandbox is expected (CI=true, or PLAYGROUND_REQUIRE_SANDBOX
set), so that such a host can never give a green run."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])


def expected() -> bool:
    """CI, or an operator's PLAYGROUND_REQUIRE_SANDBOX: every layer must be there."""
    return (os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
            or bool(os.environ.get("PLAYGROUND_REQUIRE_SANDBOX", "").strip()))


def missing(what: str) -> NoReturn:
    """The test cannot check its layer here: skipped, or failed where the sandbox is expected."""
    if expected():
        pytest.fail(f"{what}, but the whole sandbox is expected here "
                    "(CI or PLAYGROUND_REQUIRE_SANDBOX)", pytrace=False)
    pytest.skip(what)


def needs(available: bool, what: str) -> Callable[[F], F]:
    """Decorator: the test runs where `available`; elsewhere it ends as missing(what)."""
    def wrap(test: F) -> F:
        if available:
            return test

        @functools.wraps(test)
        def unavailable(*_args: Any, **_kwargs: Any) -> None:
            missing(what)

        return unavailable  # type: ignore[return-value]
    return wrap
