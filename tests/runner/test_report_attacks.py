"""Issue 9, items 1 and 3: whatever a run writes as its report, only that run suffers.

Through the real Runner (supervisor, zygote, sandbox), two slots: an attacking run writes bytes
on its result pipe (fd 3) or patches the worker's own serializer, while a victim's ordinary run
goes on in the other slot. The supervisor must not raise (same process afterwards), the attack
ends `crashed` with a sentence saying why, and the victim ends `ok`. How fast the victim's runs
are meanwhile is a figure, not an assertion: bench/report_attacks.py measures it.
"""

from __future__ import annotations

import base64
import json
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import Settings
from app.protocol import RunRequest, RunResult
from app.runner import platform as runner_platform
from app.runner.api.runner import Runner
from tests.runner.report_strategies import json_values, mutated_reports

VICTIM = "print(6 * 7)"
UNREADABLE = "The run's report could not be read: "


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    config = Settings(
        max_concurrent=2,
        prefork=1,
        pool_memory_mb=1,  # no room to grow the pool: only the `prefork` child waits between runs
        timeout_s=10,
        state_dir=str(tmp_path_factory.mktemp("report-attacks")),
        compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())),
    )
    instance = Runner(config)
    instance.start()
    assert instance.run(RunRequest(code=VICTIM)).status == "ok"
    yield instance
    instance.close()


def _with_victim(runner: Runner, attack: str) -> tuple[RunResult, RunResult, float]:
    """Run the attack and, at the same time, a victim's ordinary run: (attack, victim, the
    victim's request -> result seconds)."""
    box: dict[str, object] = {}

    def victim() -> None:
        started = time.monotonic()
        box["victim"] = runner.run(RunRequest(code=VICTIM))
        box["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=victim)
    thread.start()
    attack_result = runner.run(RunRequest(code=attack))
    thread.join(60)
    return attack_result, box["victim"], box["seconds"]  # type: ignore[return-value]


REPRODUCERS = {
    "deep_nesting": "import os\nos.write(3, b'[' * 200000)\nos._exit(0)\n",
    "patched_serializer": "import app.protocol as p\np.to_json = lambda r: '[' * 100000\n",
    "wrong_field_type": "import os\nos.write(3, b'{\"error\": 5}')\nos._exit(0)\n",
    "wrong_nested_type": "import app.protocol as p\n"
                         "p.to_json = lambda r: '{\"inspect\": {\"cost\": {\"flops\": []}}}'\n",
    "not_utf8": "import os\nos.write(3, b'\\xff\\xfe{}')\nos._exit(0)\n",
    "garbage_before_the_real_report": "import os\nos.write(3, b'{}{')\n",
}


@pytest.mark.parametrize("name", list(REPRODUCERS))
def test_a_hostile_report_crashes_its_own_run_only(runner: Runner, name: str) -> None:
    supervisor = runner.supervisor_pid()
    attack, victim, _ = _with_victim(runner, REPRODUCERS[name])
    assert attack.status == "crashed", attack
    assert attack.message.startswith(UNREADABLE), attack.message
    assert victim.status == "ok" and victim.stdout == "42\n", victim
    assert runner.supervisor_pid() == supervisor  # it never raised, never restarted


# What the run writes on fd 3: small payloads travel in the code (base64), long repetitions are
# built by the run itself (the code is capped at 100 KiB).
payloads = st.one_of(
    st.binary(max_size=2000).map(lambda d: f"base64.b64decode({base64.b64encode(d).decode()!r})"),
    json_values.map(lambda v: f"base64.b64decode({base64.b64encode(json.dumps(v).encode())!r})"),
    mutated_reports().map(lambda d: f"base64.b64decode({base64.b64encode(d).decode()!r})"),
    st.tuples(st.sampled_from([b"[", b"{\"a\":", b"[{},", b"\"\\u", b"\xff"]),
              st.integers(1, 300_000)).map(lambda t: f"{t[0]!r} * {t[1]}"),
)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=payloads, then_report=st.booleans())
def test_fuzzed_report_bytes_never_reach_the_supervisor_loop(
    runner: Runner, payload: str, then_report: bool
) -> None:
    """Any bytes on fd 3 (alone, or followed by the worker's real report): the supervisor stays
    up, the run ends with one status, a concurrent victim ends `ok`."""
    supervisor = runner.supervisor_pid()
    code = f"import base64, os\nos.write(3, {payload})\n" + ("" if then_report else "os._exit(0)\n")
    attack, victim, _ = _with_victim(runner, code)
    assert attack.status in ("crashed", "ok"), attack
    if attack.status == "crashed":
        assert attack.message, attack
    assert victim.status == "ok" and victim.stdout == "42\n", victim
    assert runner.supervisor_pid() == supervisor


AMPLIFIER = (
    "import os\n"
    "entry = b'{\"function\":\"f\",\"count\":1}'\n"
    "os.write(3, b'{\"compilations\":[' + b','.join([entry] * 300000) + b']}')\n"
    "os._exit(0)\n"
)


def test_a_300k_entry_report_does_not_stall_other_runs(runner: Runner) -> None:
    """A 7.8 MB report of 300k entries, sent over and over, while a victim runs trivial runs one
    after the other in the other slot: each attack is refused, every victim run ends ok, and
    victim runs keep finishing while the attacks are still coming (the decode is off the loop)."""
    victim_seconds: list[float] = []
    victims: list[RunResult] = []
    attacks: list[RunResult] = []
    stop = threading.Event()

    def attack_loop() -> None:
        for _ in range(4):
            attacks.append(runner.run(RunRequest(code=AMPLIFIER)))
        stop.set()

    attacker = threading.Thread(target=attack_loop)
    attacker.start()
    during_attacks = 0
    while not stop.is_set() or len(victims) < 5:
        started = time.monotonic()
        victims.append(runner.run(RunRequest(code=VICTIM)))
        victim_seconds.append(time.monotonic() - started)
        during_attacks += not stop.is_set()
    attacker.join(120)
    assert [a.status for a in attacks] == ["crashed"] * 4, attacks
    assert all("300000 entries (at most 200)" in a.message for a in attacks), attacks[0].message
    assert all(v.status == "ok" for v in victims), [v for v in victims if v.status != "ok"]
    print(f"victim runs: {len(victim_seconds)}, median {statistics.median(victim_seconds):.3f} s,"
          f" max {max(victim_seconds):.3f} s")
    assert during_attacks >= 1, victim_seconds


def test_a_large_honest_report_still_arrives_whole(runner: Runner) -> None:
    """Above the inline size the report goes through the decoder process, and nothing is lost."""
    result = runner.run(RunRequest(code="raise ValueError('é' * 100_000 + '\\ud800')"))
    assert result.status == "error", result
    assert result.error is not None and result.error.message == "é" * 100_000 + "\ud800"


def test_scratch_of_decoded_runs_is_gone(runner: Runner) -> None:
    sup = runner.supervisor_pid()
    root = runner_platform.state_dir(runner.settings) / f"runs-{sup}"
    deadline = time.monotonic() + 10
    while len(list(Path(root).glob("run-*"))) > 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(list(Path(root).glob("run-*"))) <= 2  # the preforked child's, at most
