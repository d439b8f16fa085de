"""Every page under streamlit.testing's AppTest, against the real runner and the real library."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.snippets import load_library
from app.ui.navigation import section_page_file
from app.ui.run import WAIT_IN_PLACE
from app.ui.share import SharedState, encode

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = load_library()
RUN_TIMEOUT_S = 180  # a cold runner starts its zygote (import jax) on the first run


def open_page(page: str | None = None, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=RUN_TIMEOUT_S)
    at.session_state[WAIT_IN_PLACE] = True  # no timer here to redraw the live panel
    at.run()
    if query:
        at.query_params.update(query)
    if page:
        at.switch_page(f"../pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("success", "error", "warning", "info", "markdown", "caption")
             for e in getattr(at, kind)]
    parts += [e.value for e in at.code]
    return "\n".join(str(p) for p in parts)


def test_home_page_links_the_first_section_and_every_tool() -> None:
    at = open_page()
    assert at.title[0].value == "JAX Playground"
    assert len(at.get("page_link")) >= 5  # the guide's first section, 3 tools, System


def test_every_library_section_has_its_page_file() -> None:
    missing = [s.slug for s in LIBRARY.sections if not section_page_file(s.slug).is_file()]
    assert not missing


@pytest.mark.parametrize("section", LIBRARY.sections, ids=lambda s: s.slug)
def test_section_page_runs_its_first_snippet(section) -> None:  # type: ignore[no-untyped-def]
    at = open_page(section_page_file(section.slug).name)
    assert at.title[0].value == section.title
    if section.snippets:
        first = section.snippets[0]
        at.button(key=f"run::{first.id}").click().run()
        assert not at.exception
        shown = texts(at)
        if first.expect.outcome == "ok":
            assert "Ran in" in shown, shown[-2000:]
        else:
            assert first.expect.outcome in shown, shown[-2000:]
    elif section.pairs:
        pair = section.pairs[0]
        at.button(key=f"run-both::{pair.id}").click().run()
        assert not at.exception
        assert "Verdict:" in texts(at)
    else:
        pytest.skip(f"section {section.slug} has no snippets yet")


def test_playground_runs_the_blank_snippet_with_its_views() -> None:
    at = open_page("playground.py")
    at.toggle(key="inspect::playground/blank").set_value(True)
    at.button(key="run::playground/blank").click().run()
    assert not at.exception
    shown = texts(at)
    assert "Ran in" in shown and "f(x) =" in shown
    assert [t.label for t in at.tabs][:2] == ["Output", "jaxpr"]


def test_playground_shows_the_timeout_message() -> None:
    at = open_page("playground.py")
    at.session_state["code::playground/blank"] = "while True:\n    pass\n"
    at.slider(key="timeout::playground/blank").set_value(1.0)
    at.button(key="run::playground/blank").click().run()
    assert "Time limit reached" in texts(at)


def run_in_playground(code: str) -> AppTest:
    at = open_page("playground.py")
    at.session_state["code::playground/blank"] = code
    at.toggle(key="inspect::playground/blank").set_value(False)
    at.button(key="run::playground/blank").click().run()
    assert not at.exception
    return at


def test_rejected_run_says_why() -> None:
    at = run_in_playground("#" * 200_000)
    shown = texts(at)
    assert "Not run." in shown and "KiB" in shown


def test_output_flood_is_cut_with_a_mark() -> None:
    at = run_in_playground("while True:\n    print('x' * 1000)\n")
    shown = texts(at)
    assert "Output limit reached" in shown and "cut at the limit" in shown


def test_error_points_at_the_users_line() -> None:
    at = open_page("playground.py")
    at.session_state["code::playground/blank"] = "x = 1\ny = 2\nz = x / 0\n"
    at.toggle(key="inspect::playground/blank").set_value(False)
    at.button(key="run::playground/blank").click().run()
    shown = texts(at)
    assert "Your code raised ZeroDivisionError** on line 3" in shown
    assert "ZeroDivisionError: division by zero" in shown  # the message, as text


def test_edits_survive_a_page_switch_and_run() -> None:
    first = LIBRARY.sections[0].snippets[0]
    page = section_page_file(LIBRARY.sections[0].slug).name
    at = open_page(page)
    at.session_state[f"code::{first.id}"] = "print('edited', 6 * 7)\n"
    at.switch_page("../pages/system.py").run()
    at.switch_page(f"../pages/{page}").run()
    at.toggle(key=f"inspect::{first.id}").set_value(False)
    at.button(key=f"run::{first.id}").click().run()
    assert "edited 42" in texts(at)
    assert any("badge[" in m.value and "edited" in m.value for m in at.markdown)
    assert not at.button(key=f"reset::{first.id}").disabled


def chips(at: AppTest, key: str):  # type: ignore[no-untyped-def]
    """The st.pills widget with this key (AppTest lists pills as button groups)."""
    return next(g for g in at.get("button_group") if g.key == key)


def test_transform_lab_stack_repeats_a_wrapper_and_survives_a_page_switch() -> None:
    at = open_page("transform_lab.py")
    key = "lab::a::playground/blank"
    assert at.session_state[f"{key}::stack"] == ["grad", "jit"]
    chips(at, f"{key}::remove").set_value(1).run()  # drop jit
    chips(at, f"{key}::add").set_value("grad").run()
    chips(at, f"{key}::add").set_value("vmap").run()
    assert at.session_state[f"{key}::stack"] == ["grad", "grad", "vmap"]
    assert chips(at, f"{key}::add").value is None  # ready for the next click
    at.switch_page("../pages/system.py").run()
    at.switch_page("../pages/transform_lab.py").run()
    assert at.session_state[f"{key}::stack"] == ["grad", "grad", "vmap"]
    assert "jax.vmap(jax.grad(jax.grad(f)))" in texts(at)


def test_removing_a_step_keeps_the_options_of_the_steps_above_it() -> None:
    at = open_page("transform_lab.py")
    key = "lab::a::playground/blank"
    chips(at, f"{key}::remove").set_value(1).run()  # [grad]
    chips(at, f"{key}::add").set_value("grad").run()  # [grad, grad]
    at.text_input(key=f"{key}::1::grad::argnums").set_value("1").run()
    chips(at, f"{key}::remove").set_value(0).run()  # the first grad goes; argnums=1 moves down
    assert at.session_state[f"{key}::stack"] == ["grad"]
    assert at.text_input(key=f"{key}::0::grad::argnums").value == "1"
    chips(at, f"{key}::add").set_value("grad").run()  # a new step on top starts blank
    assert at.text_input(key=f"{key}::1::grad::argnums").value == ""
    assert "jax.grad(jax.grad(f, argnums=1))" in texts(at)


def test_hosted_mode_shows_the_sandbox_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import settings

    monkeypatch.setenv("PLAYGROUND_HOSTED", "1")
    settings.cache_clear()
    try:
        at = open_page("gotchas.py")
        assert "Public demo" in texts(at)
    finally:
        monkeypatch.delenv("PLAYGROUND_HOSTED")
        settings.cache_clear()


def test_hosted_system_page_hides_the_kernel_release(monkeypatch: pytest.MonkeyPatch) -> None:
    import platform

    from app.config import settings

    release = platform.release()
    assert release in texts(open_page("system.py"))  # the operator's own server shows it
    monkeypatch.setenv("PLAYGROUND_HOSTED", "1")
    settings.cache_clear()
    try:
        shown = texts(open_page("system.py"))
        assert f"{platform.system()} ({platform.machine()})" in shown
        assert release not in shown
    finally:
        monkeypatch.delenv("PLAYGROUND_HOSTED")
        settings.cache_clear()


def test_transform_lab_compares_two_stacks() -> None:
    at = open_page("transform_lab.py")
    run_buttons = [b for b in at.button if b.key and b.key.startswith("run::lab/")]
    run_buttons[0].click().run()
    assert not at.exception
    shown = texts(at)
    assert "jax.grad(jax.jit(f))" in shown and "jax.jit(jax.grad(f))" in shown
    assert sum(1 for t in at.tabs if t.label == "jaxpr") == 2


def test_gotchas_runs_both_sides_and_gives_a_verdict() -> None:
    pair = LIBRARY.pairs[0]
    at = open_page("gotchas.py")
    at.button(key=f"run-both::{pair.id}").click().run()
    assert not at.exception
    shown = texts(at)
    assert "Verdict:" in shown and "as expected" in shown, shown[-2000:]


def test_gotchas_shows_one_section_at_a_time() -> None:
    at = open_page("gotchas.py")
    last_section = LIBRARY.pairs[-1].section
    expected = [p.id for p in LIBRARY.pairs if p.section == last_section]
    at.get("button_group")[0].set_value(last_section).run()
    shown = [b.key.removeprefix("run-both::") for b in at.button
             if b.key and b.key.startswith("run-both::")]
    assert shown == expected


def test_system_page_shows_runner_and_limits() -> None:
    at = open_page("system.py")
    shown = texts(at)
    assert "not available" not in shown
    assert "device(s)" in shown
    assert any(m.label == "runs total" for m in at.metric)
    assert "PLAYGROUND_TIMEOUT_S" in str([d.value for d in at.dataframe])


def test_system_page_lists_the_jax_runtimes_and_their_pools() -> None:
    from app import runtimes
    from app.config import Settings

    installed = runtimes.installed(Settings())
    if not installed:
        pytest.skip("no JAX runtime installed (make setup)")
    at = open_page("system.py")
    assert f"JAX runtimes ({len(installed)})" in [h.value for h in at.subheader]
    table = next(d.value for d in at.dataframe if "pool memory (MiB)" in d.value.columns)
    assert list(table["JAX"]) == [f"{installed[0].id} (default)",
                                  *[r.id for r in installed[1:]]]
    assert table["zygote"][0] in ("ready", "starting")  # the default starts with the runner


def test_share_link_restores_code() -> None:
    first = LIBRARY.sections[0].snippets[0]
    token = encode(SharedState(first.id, "print('shared!')\n", {"inspect": False}))
    at = open_page(section_page_file(LIBRARY.sections[0].slug).name, query={"share": token})
    assert at.session_state[f"code::{first.id}"] == "print('shared!')\n"
    assert at.toggle(key=f"inspect::{first.id}").value is False
    assert "Opened from a share link" in texts(at)


def test_transform_lab_share_link_restores_stacks_and_options() -> None:
    code = "import jax.numpy as jnp\n\ndef f(x):\n    return jnp.sin(x) * 2\n\nx = jnp.ones(4)\n"
    token = encode(SharedState("playground/blank", code, {
        "function": "f", "args": "(x,)", "compare": False,
        "a": ["vmap", "jit"], "a_options": [{"in_axes": "0"}, {}],
    }))
    at = open_page("transform_lab.py", query={"share": token})
    key = "lab::a::playground/blank"
    assert at.session_state[f"{key}::stack"] == ["vmap", "jit"]
    assert at.text_input(key=f"{key}::0::vmap::in_axes").value == "0"
    at.button(key="run::lab/playground/blank").click().run()
    shown = texts(at)
    assert "jax.jit(jax.vmap(f, in_axes=0))" in shown and "Ran in" in shown


def test_second_derivative_from_a_repeated_grad_in_a_share_link() -> None:
    code = "import jax.numpy as jnp\n\ndef f(x):\n    return x ** 3\n"
    token = encode(SharedState("playground/blank", code, {
        "function": "f", "args": "(2.0,)", "compare": False, "a": ["grad", "grad"],
        "a_options": {"grad": {"argnums": "0"}},  # the older per-name form still opens
    }))
    at = open_page("transform_lab.py", query={"share": token})
    key = "lab::a::playground/blank"
    assert at.text_input(key=f"{key}::1::grad::argnums").value == "0"
    at.button(key="run::lab/playground/blank").click().run()
    shown = texts(at)
    assert "jax.grad(jax.grad(f, argnums=0), argnums=0)" in shown and "Ran in" in shown
    assert "Array(12., dtype=float32" in shown  # d²/dx² x³ = 6x at 2.0


def test_damaged_share_link_opens_the_page_with_a_notice() -> None:
    at = open_page(section_page_file(LIBRARY.sections[0].slug).name,
                   query={"share": "bm90IGEgbGluaw"})
    assert "damaged" in texts(at) or "not one the playground made" in texts(at)
    assert at.title[0].value == LIBRARY.sections[0].title


# Last in the file: it starts every runtime's zygote in the shared runner.
def test_a_gotcha_pairs_jax_side_is_compared_across_versions() -> None:
    from app.ui import jax_version
    from app.ui.plain import md_literal

    versions = jax_version.available()
    if len(versions) < 2:
        pytest.skip("make setup installs the runtimes")
    at = open_page("gotchas.py")
    pair = next(p for p in LIBRARY.pairs if p.section == LIBRARY.pairs[0].section)
    at.button(key=f"compare-versions::{pair.jax.id}").click().run()
    assert not at.exception
    shown = texts(at)
    assert "#### Compare versions" in shown
    for version in versions:  # one column per version, each saying what it ran on
        assert f"**JAX {md_literal(version, 40)}**" in shown
    captions = [c.value for c in at.caption]
    assert any(md_literal(f"JAX {versions[-1]} · jaxlib", 80) in c for c in captions), captions
