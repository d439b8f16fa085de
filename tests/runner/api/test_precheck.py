"""The checks both runners make before a request goes anywhere (app/runner/api/precheck.py): its
size, with an exercise's check counted (both travel and both run), and its run id. The local
Runner and the RemoteRunner give the same answer for the same request."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.config import load
from app.protocol import RunRequest
from app.runner.api.precheck import refusal
from app.runner.api.runner import Runner
from app.runner.remote.client import RemoteRunner

LIMIT = 1024
SETTINGS = replace(load({}), code_bytes=LIMIT, queue_wait_s=1.0)
# Each part fits the limit alone; together they do not.
SPLIT = RunRequest(code="x = 1\n" + "#" * 600, check="assert x == 1\n" + "#" * 600)


def test_code_and_check_count_together_against_the_size_limit() -> None:
    refused = refusal(SPLIT, SETTINGS)
    assert refused is not None and refused.status == "rejected"
    assert "limit is 1 KiB" in refused.message
    assert refusal(replace(SPLIT, check=None), SETTINGS) is None


def test_a_malformed_run_id_is_refused_and_none_is_fine() -> None:
    for bad in ("", "a" * 65, "../x", "a b", "ü"):
        refused = refusal(RunRequest(code="1", run_id=bad), SETTINGS)
        assert refused is not None and "id is not valid" in refused.message, bad
    assert refusal(RunRequest(code="1", run_id="a" * 64), SETTINGS) is None
    assert refusal(RunRequest(code="1"), SETTINGS) is None


def test_the_size_counts_utf8_bytes_not_characters() -> None:
    assert refusal(RunRequest(code="é" * 600), SETTINGS) is not None  # 1200 bytes
    assert refusal(RunRequest(code="e" * 600), SETTINGS) is None


def test_the_local_runner_refuses_code_and_check_over_the_limit() -> None:
    runner = Runner(SETTINGS)  # refused before any supervisor starts
    try:
        result = runner.run(replace(SPLIT))
    finally:
        runner.close()
    assert result.status == "rejected" and "limit is 1 KiB" in result.message


@pytest.mark.timeout(60)
def test_the_remote_runner_refuses_code_and_check_over_the_limit(redis_server) -> None:  # type: ignore[no-untyped-def]
    runner = RemoteRunner(replace(SETTINGS, runner_url=redis_server.url(5)))
    try:
        result = runner.run(replace(SPLIT))
    finally:
        runner.close()
    # No host serves this queue: a request let through would end "busy" after queue_wait_s.
    assert result.status == "rejected" and "limit is 1 KiB" in result.message
