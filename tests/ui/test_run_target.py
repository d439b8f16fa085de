"""The "Run on" choice (RunRequest.target) on the Playground and in the Transform Lab, and the
resource policy on the System page: AppTest against the real runner. On this CPU host both
choices run on the CPU; what is checked is that the choice reaches the runner and comes back on
the result."""

from __future__ import annotations

from test_pages import open_page, texts

CODE = "import jax\nprint('devices', jax.device_count())\n"


def test_the_playground_sends_the_chosen_target_and_shows_where_it_ran() -> None:
    at = open_page("playground.py")
    at.session_state["code::playground/blank"] = CODE
    at.toggle(key="inspect::playground/blank").set_value(False)
    at.radio(key="target::playground/blank").set_value("cpu")
    at.button(key="run::playground/blank").click().run()
    assert not at.exception
    result, _code = at.session_state["result::playground/blank"]
    assert result.status == "ok", result
    assert result.target == "cpu" and result.platform == "cpu"
    assert "devices 8" in texts(at)
    at.radio(key="target::playground/blank").set_value("auto")
    at.button(key="run::playground/blank").click().run()
    result, _code = at.session_state["result::playground/blank"]
    assert result.target == "accelerator"


def test_the_transform_lab_sends_the_chosen_target_for_both_stacks() -> None:
    at = open_page("transform_lab.py")
    key = "lab::target::playground/blank"
    assert at.radio(key=key).value == "auto"
    at.radio(key=key).set_value("cpu")
    at.button(key="run::lab/playground/blank").click().run()
    assert not at.exception
    shown, _code = at.session_state["result::lab/playground/blank"]
    assert [result.target for _label, result in shown] == ["cpu"] * len(shown)


def test_the_system_page_shows_the_resource_policy() -> None:
    at = open_page("system.py")
    tables = str([d.value for d in at.dataframe])
    assert "CPU time per run" in tables and "runs at once" in tables
    assert "per core" in texts(at)  # the policy's sentence on the CPU-time limit
