"""Runner latency, throughput and idle-pool memory: the same as `python -m app bench`.

    .venv/bin/python bench/runner_latency.py [--runs N] [--baseline-runs N] [--clients N]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
