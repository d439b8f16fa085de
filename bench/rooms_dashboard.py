"""What one open dashboard costs the server per poll: a full rebuild (the queries and the grid's
HTML, as every poll did before the version counter) against the poll it makes now when nothing
changed (one read of the room's version). Participants and attempts are written through the
store, as the pages write them; the two are measured alternately, in one process. Prints CPU
milliseconds per poll (process time, so waiting on the database's lock is not counted).

    .venv/bin/python bench/rooms_dashboard.py                  # 30 participants, 8 exercises
    .venv/bin/python bench/rooms_dashboard.py --participants 100 --polls 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings
from app.protocol import CheckResult, RunResult
from app.rooms import learners, rooms
from app.rooms.catalogue import Item, catalogue
from app.rooms.dashboard import dashboard
from app.rooms.store import Store
from app.ui.widgets.dashboard_grid import grid_html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--exercises", type=int, default=8)
    parser.add_argument("--attempts", type=int, default=4, help="per participant and exercise")
    parser.add_argument("--polls", type=int, default=100)
    args = parser.parse_args()
    cat = catalogue()
    exercises = [e.id for e in cat.exercises.exercises][: args.exercises]
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(f"sqlite:///{Path(scratch) / 'data' / 'playground.db'}")
        settings = Settings()
        room = rooms.create_room(store, settings, cat, name="Bench",
                                 items=[Item("exercise", e) for e in exercises], ends_at=None,
                                 client_id="bench").room
        for n in range(args.participants):
            who = learners.learner(store, learners.join_room(store, settings, room.code, f"P{n}"))
            for e in exercises:
                for k in range(args.attempts):
                    ok = k == args.attempts - 1 and n % 2 == 0
                    check = CheckResult(True, passed_cases=["c"]) if ok else CheckResult(
                        False, case=f"case {n}.{k}", message="m")
                    learners.record_attempt(store, settings, who, e, f"{n}-{e}-{k}", "x" * 300,
                                            RunResult(status="ok", check=check))
        titles = {e: cat.title(Item("exercise", e)) for e in exercises}
        rebuild, poll = [], []
        for _ in range(args.polls):
            started = time.process_time()
            view = dashboard(store, room)
            grid_html(view, titles, "stuck", time.time())
            rebuild.append(time.process_time() - started)
            started = time.process_time()
            rooms.room_version(store, room.id)
            poll.append(time.process_time() - started)
        store.close()
    print(f"{args.participants} participants x {len(exercises)} exercises x {args.attempts} "
          f"attempts, {args.polls} polls each, SQLite")
    for name, times in (("full rebuild (before)", rebuild), ("version poll (now)", poll)):
        print(f"  {name:24} CPU per poll: median {statistics.median(times) * 1000:.2f} ms, "
              f"p95 {sorted(times)[int(len(times) * 0.95)] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
