"""A jaxpr with its variables renamed in order of first appearance, for diffs.

JAX names variables a, b, ..., z, ba, bb, ... as it meets them, so two stacks that build the
same computation in another order (jit of grad against grad of jit) print mostly the same lines
with other letters: a line diff then shows every renamed line as changed. Renaming each bound
variable to the n-th name in order of first appearance (the same scheme JAX uses) leaves only
the structural difference. A variable is a name bound somewhere as `name:type`; the primitive
after " = ", parameter names and their values (name=f) and literals keep their text. Linear in
the text's length (one pass over the jaxpr lexer's tokens).
"""

from __future__ import annotations

import functools
import re

from pygments.token import Name, Operator, Whitespace

from app.lexers import JaxprLexer

_BINDER = re.compile(r"\b([a-z]{1,8})(?=:)")  # a:f32[3] (JAX's names are lowercase letters)
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def jax_name(index: int) -> str:
    """The index-th variable name as JAX prints them: a..z, ba..bz, ca.. (base 26, no leading a)."""
    digits = []
    while True:
        index, rest = divmod(index, 26)
        digits.append(_ALPHABET[rest])
        if index == 0:
            return "".join(reversed(digits))


class _Scope:
    """One `{ lambda ... }`: its own names, counted from a (JAX reuses letters inside)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.names: dict[str, str] = {}

    def rename(self, name: str) -> str:
        if name not in self.names:
            self.names[name] = jax_name(len(self.names))
        return self.names[name]


@functools.lru_cache(maxsize=8)  # a page diffs the same jaxprs more than once per redraw
def canonical(text: str) -> str:
    """The jaxpr with every bound variable renamed in order of first appearance in its scope
    (each nested jaxpr is one; they are closed, so an inner name never means an outer one)."""
    bound = set(_BINDER.findall(text))
    scopes = [_Scope(0)]
    depth = 0
    out: list[str] = []
    after_param = False  # the token follows `param=`: its value, not a variable
    lexer = JaxprLexer(stripnl=False, ensurenl=False)
    for ttype, value in lexer.get_tokens(text):
        if ttype in Name.Variable and value in bound and not after_param:
            value = scopes[-1].rename(value)
        elif value == "{":
            depth += 1
        elif value == "lambda":
            scopes.append(_Scope(depth))
        elif value == "}":
            if len(scopes) > 1 and scopes[-1].depth == depth:
                scopes.pop()
            depth -= 1
        if ttype not in Whitespace and value.strip():
            after_param = ttype in Operator and value == "=" and bool(out) \
                and out[-1][-1:].isalnum()
        out.append(value)
    return "".join(out)
