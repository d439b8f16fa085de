"""How long the supervisor spends evicting a hostile session cache layer (it is single-threaded:
every other run's events wait that long).

    .venv/bin/python bench/layer_eviction.py [--repeat 3]

Per depth: a 64 MiB layer (the default) holding a chain of that many nested directories (the
oldest entry) and 4 x 13 MiB of files (81 %: past the eviction mark), then the run "ends" and
SessionLayers.release evicts. The deepest chain a default layer can hold is its inode cap (4,096).
Printed: each time and whether the layer was kept (evicted down to half) or dropped.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import Settings
from app.runner.supervisor.session_cache import SessionLayers
from tests.runner.supervisor import tree_builder


def one(depth: int) -> tuple[float, bool]:
    held = SessionLayers(Settings(session_cache_mb=64), shared_by_uids=False)
    try:
        layer = held.acquire("bench", 0.0)
        assert layer is not None
        root = os.open(f"/proc/self/fd/{layer.fd}", os.O_RDONLY | os.O_DIRECTORY)
        try:
            tree_builder.build(root, [["chain", b"d".hex(), depth]])
            os.utime("d", (1.0, 1.0), dir_fd=root)
            for i in range(4):
                fd = os.open(f"blob-{i}", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=root)
                os.write(fd, b"\x01" * (13 << 20))
                os.close(fd)
        finally:
            os.close(root)
        start = time.perf_counter()
        held.release(layer, 1.0, filled=False)
        return time.perf_counter() - start, "bench" in held.layers
    finally:
        held.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for depth in (100, 1500, 4000):
        for _ in range(args.repeat):
            took, kept = one(depth)
            print(f"depth {depth:5d}: {took * 1000:7.1f} ms, layer {'kept' if kept else 'dropped'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
