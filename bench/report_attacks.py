"""A victim's trivial runs while another run keeps sending a 7.8 MB report of 300k entries:
request -> result of each victim run, with the same victim runs alone measured in the same run.

    .venv/bin/python bench/report_attacks.py [--victims 20]

Two slots, one preforked child. The attack's report is decoded off the supervisor's loop (in a
process of its own), so the victim's figures under attack should stay near its figures alone
(the bar: a median under 1 s). Prints figures only; tests/runner/test_report_attacks.py checks
the outcomes (every attack refused, every victim run ok).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.config import Settings  # noqa: E402
from app.protocol import RunRequest  # noqa: E402
from app.runner import platform as runner_platform  # noqa: E402
from app.runner.api.runner import Runner  # noqa: E402

VICTIM = "print(6 * 7)"
AMPLIFIER = (
    "import os\n"
    "entry = b'{\"function\":\"f\",\"count\":1}'\n"
    "os.write(3, b'{\"compilations\":[' + b','.join([entry] * 300000) + b']}')\n"
    "os._exit(0)\n"
)


def victims(runner: Runner, count: int, attacked: bool) -> list[float]:
    stop = threading.Event()

    def attack() -> None:
        while not stop.is_set():
            runner.run(RunRequest(code=AMPLIFIER))

    attacker = threading.Thread(target=attack, daemon=True)
    if attacked:
        attacker.start()
        time.sleep(0.5)  # the first attack is under way
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        result = runner.run(RunRequest(code=VICTIM))
        seconds.append(time.perf_counter() - started)
        if result.status != "ok":
            raise RuntimeError(f"victim run failed: {result.status} {result.message}")
    stop.set()
    if attacked:
        attacker.join(120)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victims", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        config = Settings(max_concurrent=2, prefork=1, pool_memory_mb=1, timeout_s=10,
                          state_dir=state,
                          compile_cache_dir=str(runner_platform.compile_cache_dir(Settings())))
        runner = Runner(config)
        runner.start()
        try:
            runner.run(RunRequest(code=VICTIM))  # warm
            for label, attacked in (("alone", False), ("under attack", True),
                                    ("alone again", False)):
                seconds = victims(runner, args.victims, attacked)
                print(f"victim {label:13s} median {statistics.median(seconds) * 1000:6.0f} ms"
                      f"   max {max(seconds) * 1000:6.0f} ms   ({len(seconds)} runs)")
        finally:
            runner.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
