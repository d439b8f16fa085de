"""The "Compare versions" button and its result: one column per JAX version side by side
(status, output, error with its line, steady-state time, warnings), then each version's output,
jaxpr and HLO diffed against the default version's."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from app.protocol import RunRequest
from app.ui import jax_version, state
from app.ui.plain import md_literal
from app.ui.run import collect, submit
from app.ui.version_compare import VersionRow, outcome, rows
from app.ui.widgets.diff_view import show_diff

SUFFIX = "::versions"


def compare_button(container: Any, area_id: str, request: RunRequest, code: str) -> None:
    """A button that runs request on every runtime at once (the default version first)."""
    versions = jax_version.available()
    if len(versions) < 2:
        return
    if container.button("Compare versions", key=f"compare-versions::{area_id}",
                        help=f"Run this code on every JAX version here: {', '.join(versions)}"):
        requests = [replace(request, jax=v, run_id=None) for v in versions]
        submit(area_id + SUFFIX, requests, {"code": code, "versions": versions})


def show_comparison(area_id: str) -> None:
    """The latest comparison of this area, if any (collected once its runs are done)."""
    key = area_id + SUFFIX
    done = collect(key)
    if done:
        results, payload = done
        state.set_result(key, rows(payload["versions"], results))
    table = state.result(key)
    if not table:
        return
    st.markdown("#### Compare versions")
    _side_by_side(table)
    _diffs(table, key)


def _side_by_side(table: list[VersionRow]) -> None:
    for column, row in zip(st.columns(len(table)), table, strict=True):
        with column:
            st.markdown(f"**JAX {md_literal(row.version, 40)}** · `{md_literal(outcome(row), 60)}`")
            if row.ran_on:
                st.caption(md_literal(row.ran_on, 80))
            st.code(row.output or "(nothing printed)", language=None)
            if row.error:
                st.error(row.error[:2000], icon=":material/error:")
            if row.steady_ms is not None:
                st.caption(f"steady state {row.steady_ms:.3g} ms")
            for warning in row.warnings:
                st.warning(warning[:500], icon=":material/warning:")


def _diffs(table: list[VersionRow], key: str) -> None:
    base = table[0]
    for row in table[1:]:
        with st.expander(f"JAX {row.version} against JAX {base.version}", expanded=False):
            show_diff(base.output, row.output, f"output {base.version}",
                      f"output {row.version}", key=f"{key}::out::{row.version}")
            if base.jaxpr or row.jaxpr:
                show_diff(base.jaxpr, row.jaxpr, f"jaxpr {base.version}",
                          f"jaxpr {row.version}", key=f"{key}::jaxpr::{row.version}")
            if base.hlo or row.hlo:
                show_diff(base.hlo, row.hlo, f"HLO {base.version}", f"HLO {row.version}",
                          key=f"{key}::hlo::{row.version}")
