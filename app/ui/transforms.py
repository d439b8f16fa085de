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


def parse_option(name: str, text: str) -> Any:
    """A Python literal typed by the person; OptionError says what is wrong."""
    try:
        return _jsonable(ast.literal_eval(text.strip()))
    except (ValueError, SyntaxError) as exc:
        raise OptionError(f"{name} = {text!r} is not a Python literal such as 0, (None, 0) "
                          "or 'batch'") from exc


def steps_from(names: list[str], option_texts: dict[str, dict[str, str]]) -> list[TransformStep]:
    """TransformSteps for the chosen names, innermost first, with the options that were set."""
    steps = []
    for name in names:
        options = {}
        for option, text in option_texts.get(name, {}).items():
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


def stack_picker(key: str, label: str, default: list[str],
                 allowed: tuple[str, ...] = TRANSFORM_NAMES) -> list[TransformStep] | None:
    """Pick wrappers in order (click order = innermost first) and their options.

    Returns the steps, or None after showing what is wrong with an option.
    """
    names = state.widget(
        st.multiselect, label, f"{key}::names", [n for n in default if n in allowed],
        options=list(allowed),
        help="Wrappers apply in the order you pick them: the first one wraps your function, "
        "the next wraps that, and so on. The same wrapper can be used once per stack.",
        placeholder="no wrapper: the plain function",
    )
    texts: dict[str, dict[str, str]] = {}
    if names:
        with st.expander("Options", expanded=False):
            for name in names:
                columns = st.columns(len(OPTIONS[name]) + 1, vertical_alignment="bottom")
                columns[0].markdown(f"`jax.{name}`")
                for column, (option, option_label, placeholder) in zip(
                    columns[1:], OPTIONS[name], strict=True
                ):
                    texts.setdefault(name, {})[option] = state.widget(
                        column.text_input, option_label, f"{key}::{name}::{option}", "",
                        placeholder=placeholder,
                    )
    try:
        return steps_from(names, texts)
    except OptionError as exc:
        st.error(str(exc))
        return None


def option_texts(key: str) -> dict[str, dict[str, str]]:
    """The option texts typed into stack_picker(key, ...), for a share link."""
    names = st.session_state.get(f"{key}::names") or []
    texts: dict[str, dict[str, str]] = {}
    for name in names:
        for option, _, _ in OPTIONS.get(name, ()):
            text = st.session_state.get(f"{key}::{name}::{option}", "")
            if text:
                texts.setdefault(name, {})[option] = text
    return texts


def preset_stack(key: str, names: list[str], texts: dict[str, dict[str, str]]) -> None:
    """Set stack_picker(key, ...)'s wrappers and option texts before it is drawn."""
    valid = [n for n in names if n in OPTIONS]
    state.preset(f"{key}::names", valid)
    for name in valid:
        for option, _, _ in OPTIONS[name]:
            text = texts.get(name, {}).get(option, "")
            state.preset(f"{key}::{name}::{option}", text if isinstance(text, str) else "")
