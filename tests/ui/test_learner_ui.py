"""The learner's side without a browser: when a clock stop is the server's fault, check
messages as markdown (code, documentation links, nothing else), the marks, the pinned choice."""

from __future__ import annotations

from pathlib import Path

from app import busy
from app.config import Settings
from app.protocol import CheckResult, ErrorInfo, RunResult
from app.rooms.learners import Progress
from app.ui.check_text import check_markdown
from app.ui.marks import marked
from app.ui.widgets.exercise_area import check_mark
from tests.ui.test_pages import open_page

WALL = RunResult(status="timeout", message="Stopped: the run took longer than 10 s.")
CPU = RunResult(status="timeout", message="Stopped: the run used more than 20 s of CPU time "
                "(20 s per core of its 1-core share).")
CALM = busy.HostLoad(cpu_pressure_pct=3.0, load_per_core=0.2)
LOADED = busy.HostLoad(cpu_pressure_pct=75.0, load_per_core=4.0)


def test_a_clock_stop_on_a_loaded_host_or_after_a_long_queue_is_the_servers() -> None:
    assert busy.busy_reason(WALL, LOADED) is not None
    assert busy.busy_reason(WALL, CALM) is None
    assert busy.busy_reason(CPU, LOADED) is None  # the CPU limit: the code's own use
    queued = RunResult(status="timeout", message=WALL.message, queue_s=12.0)
    assert "queue" in (busy.busy_reason(queued, None) or "")
    assert busy.busy_reason(RunResult(status="ok"), LOADED) is None
    no_psi = busy.HostLoad(cpu_pressure_pct=None, load_per_core=3.0)
    assert busy.busy_reason(WALL, no_psi) is not None


def test_host_load_reads_the_kernels_pressure_file(tmp_path: Path) -> None:
    psi = tmp_path / "cpu"
    psi.write_text("some avg10=61.50 avg60=40.00 avg300=10.00 total=123\n"
                   "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
    assert busy.host_load(psi).cpu_pressure_pct == 61.5
    assert busy.host_load(tmp_path / "missing").cpu_pressure_pct is None


def test_the_apps_own_heavy_runs_get_a_limit_that_fits() -> None:
    limits = Settings(timeout_s=10.0, max_timeout_s=30.0)
    assert busy.at_least(busy.PASSES_TIMEOUT_S, 10.0, limits) == 30.0
    assert busy.at_least(busy.CHECK_TIMEOUT_S, 25.0, limits) == 25.0
    assert busy.at_least(busy.PASSES_TIMEOUT_S, 10.0, Settings(max_timeout_s=15.0)) == 15.0


def test_check_messages_show_code_and_real_docs_links_and_nothing_else() -> None:
    url = "https://docs.jax.dev/en/latest/errors.html#jax.errors.NonConcreteBooleanIndexError"
    shown = check_markdown(f"raised X (your line 6): See {url}. Use `x[mask]`, not "
                           "[a](https://evil.example) or https://evil.example/p **bold**")
    assert f"]({url})" in shown and "\u2060" not in shown.split(" Use")[0]
    assert "`x[mask]`" in shown
    assert "](https://evil" not in shown and "\\*\\*bold\\*\\*" in shown
    assert "\u2060" in shown  # the other address stays inert text


def test_not_started_has_no_mark_beside_the_radio_circle() -> None:
    assert marked("Nansum", None) == "Nansum"
    assert marked("Nansum", Progress("attempted", 1, 0, False)) == "✗ Nansum"
    assert marked("Nansum", Progress("done", 2, 0, False)) == "✓ Nansum"


def test_a_failed_case_marks_the_line_it_names() -> None:
    code = "a = 1\nb = 2\nc = 3\n"
    check = CheckResult(False, case="c", message="your code raised TypeError (your line 2): x")
    assert check_mark(RunResult(status="ok", check=check), code, code).line == 2
    assert check_mark(RunResult(status="ok", check=check), code, code + "# edited\n") is None
    raised = RunResult(status="error", error=ErrorInfo(type="E", message="m", line=3))
    assert check_mark(raised, code, code).line == 3


def test_check_and_run_buttons_carry_no_tooltip() -> None:
    at = open_page("exercises.py", {"exercise": "sharp-bits/jit-nansum"})
    assert not at.button(key="check::sharp-bits/jit-nansum").help
    playground = open_page("playground.py")
    run = [b for b in playground.button if b.key and b.key.startswith("run::")]
    assert run and not any(b.help for b in run)


def test_all_done_says_what_next() -> None:
    from app.exercises import load_exercises
    from app.protocol import CheckResult
    from app.rooms import learners
    from app.rooms.store import get_store

    db = get_store()
    token = learners.start_alone(db)
    who = learners.learner(db, token)
    passed = RunResult(status="ok", check=CheckResult(True, passed_cases=["a case"]))
    everything = load_exercises().exercises
    for number, exercise in enumerate(everything):
        learners.record_attempt(db, Settings(), who, exercise.id, f"done-{token}-{number}",
                                exercise.solution, passed)
    at = open_page("exercises.py", {"p": token})
    shown = [s.value for s in at.success]
    assert any("All done" in s for s in shown), shown
    assert f"{len(everything)} of {len(everything)} done" in at.caption[0].value


def test_someone_learning_alone_can_still_create_or_join_a_room() -> None:
    from app.rooms import learners
    from app.rooms.store import get_store

    token = learners.start_alone(get_store())  # it stays in every link of their session
    at = open_page("rooms.py", {"p": token})
    assert "Create a room" in [h.value for h in at.subheader]
