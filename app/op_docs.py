"""What each jaxpr primitive, StableHLO op and HLO op means: app/data/op_docs.toml, loaded once.

The data is written for this project (one line each, with a link to the official docs); the
views use it for hover titles and for the legend of the ops a listing uses.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "op_docs.toml"
VIEWS = ("jaxpr", "stablehlo", "hlo")

_PREFIXES = {
    "jax:": "https://docs.jax.dev/en/latest/_autosummary/{}.html",
    "stablehlo:": "https://openxla.org/stablehlo/spec#{}",
    "xla:": "https://openxla.org/xla/operation_semantics#{}",
}


@dataclass(frozen=True)
class OpDoc:
    op: str
    meaning: str
    url: str
    link: str  # as written in the data ("jax:jax.lax.sin"), for the tests


def expand_link(link: str) -> str:
    for prefix, pattern in _PREFIXES.items():
        if link.startswith(prefix):
            return pattern.format(link[len(prefix):])
    if link.startswith("https://"):
        return link
    raise ValueError(f"unknown link form: {link!r}")


@functools.cache
def table() -> dict[str, dict[str, OpDoc]]:
    """view -> op -> its entry."""
    with DATA.open("rb") as handle:
        raw = tomllib.load(handle)
    out: dict[str, dict[str, OpDoc]] = {}
    for view in VIEWS:
        entries = raw.get(view, {})
        out[view] = {op: OpDoc(op, meaning, expand_link(link), link)
                     for op, (meaning, link) in entries.items()}
    return out


def lookup(view: str, op: str) -> OpDoc | None:
    return table().get(view, {}).get(op)


def missing(view: str, ops: list[str]) -> list[str]:
    known = table().get(view, {})
    return [op for op in ops if op not in known]
