"""The transform stack picker: an ordered stack of grad / value_and_grad / jit / vmap / pmap,
each with its options, turned into protocol TransformSteps (innermost first)."""

from __future__ import annotations

import ast
from typing import Any

import streamlit as st

from app.protocol import TRANSFORM_NAMES, TransformStep
from app.ui import state

# The options offered per wrapper: (option, label, placeholder). Values are Python literals.
OPTIONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "grad": (("argnums", "argnums", "0"), ("has_aux", "has_aux", "False")),
    "value_and_grad": (("argnums", "argnums", "0"), ("has_aux", "has_aux", "False")),
    "jit": (("static_argnums", "static_argnums", "()"),),
    "vmap": (("in_axes", "in_axes", "0"), ("out_axes", "out_axes", "0")),
    "pmap": (("axis_name", "axis_name", "None"), ("in_axes", "in_axes", "0")),
}


class OptionError(ValueError):
    pass


def _jsonable(value: Any) -> Any:
    """Tuples become lists (the protocol is JSON); the worker turns them back into tuples."""
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# Options are short literals (0, (None, 0), 'batch'): a cap on their length bounds the parser's
# work and memory ("-" * 100000 + "1" made it raise MemoryError; 2 MB took seconds).
MAX_OPTION_CHARS = 200


def parse_option(name: str, text: str) -> Any:
    """A Python literal typed by the person; OptionError says what is wrong."""
    if len(text) > MAX_OPTION_CHARS:
        raise OptionError(f"{name}: an option is at most {MAX_OPTION_CHARS} characters "
                          f"(this one has {len(text):,}).")
    try:
        return _jsonable(ast.literal_eval(text.strip()))
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise OptionError(f"{name} = {text!r} is not a Python literal such as 0, (None, 0) "
                          "or 'batch'") from exc


def steps_from(names: list[str], option_texts: list[dict[str, str]]) -> list[TransformStep]:
    """TransformSteps for the chosen names, innermost first, with the options that were set.

    option_texts[i] holds the texts typed for the i-th wrapper (the same wrapper may appear twice,
    e.g. grad of grad, each with its own options)."""
    steps = []
    for index, name in enumerate(names):
        texts = option_texts[index] if index < len(option_texts) else {}
        options = {}
        for option, text in texts.items():
            if text.strip():
                options[option] = parse_option(f"{name}.{option}", text)
        steps.append(TransformStep(name, options))  # type: ignore[arg-type]
    return steps


def expression(function: str, steps: list[TransformStep]) -> str:
    """The composition as Python, e.g. jax.jit(jax.grad(f)); mirrors the worker's rendering."""
    text = function
    for step in steps:
        args = [text] + [f"{k}={_literal(v)}" for k, v in step.options.items()]
        text = f"jax.{step.name}({', '.join(args)})"
    return text


def _literal(value: Any) -> str:
    if isinstance(value, list):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _stack_key(key: str) -> str:
    return f"{key}::stack"


def _option_key(key: str, index: int, name: str, option: str) -> str:
    return f"{key}::{index}::{name}::{option}"


def stack_names(key: str, default: list[str] | None = None) -> list[str]:
    """The wrappers of stack_picker(key, ...) in order; a plain session list (not a widget's state),
    so it survives page switches and may hold the same wrapper twice."""
    if _stack_key(key) not in st.session_state:
        st.session_state[_stack_key(key)] = list(default or [])
    return list(st.session_state[_stack_key(key)])


def _push(key: str, picker_key: str) -> None:
    """A wrapper chip was clicked: put it on top of the stack, and unselect the chip."""
    name = st.session_state.get(picker_key)
    if name in OPTIONS:
        st.session_state[_stack_key(key)] = [*stack_names(key), name]
    st.session_state[picker_key] = None


def _texts_at(key: str, index: int, name: str) -> dict[str, str]:
    return {
        option: str(st.session_state.get(_option_key(key, index, name, option), ""))
        for option, _, _ in OPTIONS[name]
    }


def _remove(key: str, picker_key: str) -> None:
    """A step chip was clicked: drop that step; the steps above it keep their option texts."""
    index = st.session_state.get(picker_key)
    names = stack_names(key)
    st.session_state[picker_key] = None
    if not isinstance(index, int) or not 0 <= index < len(names):
        return
    kept = [(n, _texts_at(key, i, n)) for i, n in enumerate(names) if i != index]
    last = len(names) - 1  # the top slot empties: a wrapper added there later starts blank
    for option, _, _ in OPTIONS[names[last]]:
        state.preset(_option_key(key, last, names[last], option), "")
    _write(key, kept)


def _write(key: str, steps: list[tuple[str, dict[str, str]]]) -> None:
    st.session_state[_stack_key(key)] = [name for name, _ in steps]
    for index, (name, texts) in enumerate(steps):
        for option, _, _ in OPTIONS[name]:
            text = texts.get(option, "")
            value = text if isinstance(text, str) else ""
            state.preset(_option_key(key, index, name, option), value)


def stack_picker(key: str, label: str, default: list[str],
                 allowed: tuple[str, ...] = TRANSFORM_NAMES) -> list[TransformStep] | None:
    """Build a stack by clicking wrappers (click order = innermost first; one may repeat, e.g.
    grad twice for a second derivative), remove a step by clicking it, set each step's options.

    Returns the steps, or None after showing what is wrong with an option.
    """
    names = [n for n in stack_names(key, [n for n in default if n in allowed]) if n in OPTIONS]
    add_key, remove_key = f"{key}::add", f"{key}::remove"
    # wrap=True: in a column the chips would stay on one row and "+ pmap" slides off a phone.
    st.pills(label, [n for n in allowed if n in OPTIONS], key=add_key, on_change=_push,
             args=(key, add_key), format_func=lambda name: f"+ {name}", wrap=True,
             help="Each click wraps the stack in one more transform: the first wraps your "
             "function, the next wraps that, and so on. A wrapper may repeat (grad of grad).")
    if not names:
        st.caption("No wrapper: the plain function.")
    else:
        st.pills("Stack (click a step to remove it)", list(range(len(names))), key=remove_key,
                 on_change=_remove, args=(key, remove_key), wrap=True,
                 format_func=lambda i: f"{i + 1}. {names[i]} ✕" if i < len(names) else "✕")
    texts: list[dict[str, str]] = []
    if names:
        with st.expander("Options of each step", expanded=False):
            for index, name in enumerate(names):
                columns = st.columns(len(OPTIONS[name]) + 1, vertical_alignment="bottom")
                columns[0].markdown(f"{index + 1}. `jax.{name}`")
                step_texts: dict[str, str] = {}
                for column, (option, option_label, placeholder) in zip(
                    columns[1:], OPTIONS[name], strict=True
                ):
                    step_texts[option] = state.widget(
                        column.text_input, option_label, _option_key(key, index, name, option),
                        "", placeholder=placeholder, max_chars=MAX_OPTION_CHARS,
                    )
                texts.append(step_texts)
    try:
        return steps_from(names, texts)
    except OptionError as exc:
        st.error(str(exc))
        return None


def option_texts(key: str) -> list[dict[str, str]]:
    """The option texts typed into stack_picker(key, ...), one dict per step, for a share link."""
    return [
        {option: text for option, text in _texts_at(key, index, name).items() if text}
        for index, name in enumerate(stack_names(key))
        if name in OPTIONS
    ]


def preset_stack(key: str, names: list[str], texts: Any) -> None:
    """Set stack_picker(key, ...)'s wrappers and option texts before it is drawn.

    texts: one dict per step, or (links made before wrappers could repeat) one dict per name."""
    valid = [n for n in names if n in OPTIONS]
    steps = []
    for index, name in enumerate(valid):
        if isinstance(texts, list):
            step = texts[index] if index < len(texts) else {}
        else:
            step = texts.get(name, {}) if isinstance(texts, dict) else {}
        steps.append((name, step if isinstance(step, dict) else {}))
    _write(key, steps)
