"""Pygments lexers for what the worker shows: jaxprs, StableHLO (MLIR) and optimised HLO text.

Pygments has no lexer for any of the three (its LLVM lexer marks MLIR's `%x = dialect.op` and
`tensor<4xf32>` as errors), so these are small RegexLexers written against real output of
jax.make_jaxpr, Lowered.as_text() and Compiled.as_text(). `get_lexer(view)` is what the UI asks.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pygments.lexer import Lexer, RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

_NUMBER = r"[+-]?(?:\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+)"
_INTEGER = r"[+-]?\d+"
_PUNCTUATION = r"[{}()\[\],;:.]"
_OPERATOR = r"[=<>+\-*/@~|&!^%#?$\\]"
# XLA element types as jaxprs and HLO print them: f32, bf16, i8, u32, c64, bool, pred, f8_e4m3fn.
_DTYPE = r"(?:bool|pred|token|float0|bf16|f8_\w+|[fiuc]\d+|s\d+)"


class JaxprLexer(RegexLexer):
    """`{ lambda ; a:f32[3]. let b:f32[3] = sin a in (b,) }` and the nested jaxprs in params."""

    name = "Jaxpr"
    aliases: ClassVar[list[str]] = ["jaxpr"]
    filenames: ClassVar[list[str]] = []

    tokens: ClassVar[dict[str, Any]] = {
        "root": [
            # b:f32[] = sin a : the primitive is the word after " = "
            (r"(\s=\s)([A-Za-z_][\w]*)", bygroups(Operator, Name.Function)),
            (r"\s+", Whitespace),
            (words(("lambda", "let", "in"), suffix=r"\b"), Keyword),
            # a:f32[3,2] -> variable, colon, type (also key<fry>[] and sharded f32[8@i])
            (rf"{_DTYPE}\[[^\]]*\]", Keyword.Type),
            (r"key<\w+>\[[^\]]*\]", Keyword.Type),
            # params: dimension_numbers=(...), axes=(0,), jaxpr={ ... }
            (r"([A-Za-z_]\w*)(=)", bygroups(Name.Attribute, Operator)),
            (r"'[^']*'|\"[^\"]*\"", String),
            (r"\b(?:True|False|None|inf|nan)\b", Keyword.Constant),
            (_NUMBER, Number.Float),
            (_INTEGER, Number.Integer),
            (r"[A-Za-z_]\w*", Name.Variable),
            (_PUNCTUATION, Punctuation),
            (_OPERATOR, Operator),
        ]
    }


_HLO_COMMON = [
    (r"\s+", Whitespace),
    (r"//.*?$", Comment.Single),
    (r"\"(?:[^\"\\]|\\.)*\"", String),
    # %arg0, %cst_0, %region_1.2, %0 (MLIR values and HLO instructions)
    (r"%[\w.\-$]+", Name.Variable),
    (r"@[\w.\-$]+", Name.Function),
    (r"\^[\w.\-$]+", Name.Label),
    (r"#[\w.\-$]+", Name.Decorator),
    # MLIR types: tensor<4x2xf32>, and HLO shapes: f32[4,2]{1,0}
    (r"\b(?:tensor|memref|vector|complex|tuple|index|none)\b", Keyword.Type),
    (rf"\b(?:\d+x)+(?:{_DTYPE}|i1)\b", Keyword.Type),
    (rf"\b{_DTYPE}\[[^\]]*\]", Keyword.Type),
    (rf"\b(?:{_DTYPE}|i1|ui\d+|si\d+)\b", Keyword.Type),
    # dialect ops and qualified names: stablehlo.dot_general, func.func, sdy.mesh
    (r"\b[a-z_]\w*(?:\.[A-Za-z_]\w*)+", Name.Builtin),
    (words(("module", "attributes", "public", "private", "return", "ROOT", "ENTRY",
            "HloModule", "dense", "loc", "applies", "across", "dimensions", "init"),
           prefix=r"\b", suffix=r"\b"), Keyword),
    (r"\b(?:true|false|DEFAULT|HIGHEST|inf|nan)\b", Keyword.Constant),
    (r"0x[0-9A-Fa-f]+", Number.Hex),
    (_NUMBER, Number.Float),
    (_INTEGER, Number.Integer),
    # HLO: multiply(%a, %b) and metadata={...}, is_scheduled=true
    (r"[A-Za-z_][\w\-]*(?=\()", Name.Function),
    (r"([A-Za-z_][\w\-]*)(=)", bygroups(Name.Attribute, Operator)),
    (r"[A-Za-z_][\w\-]*", Name),
    (_PUNCTUATION, Punctuation),
    (_OPERATOR, Operator),
]


class StableHloLexer(RegexLexer):
    """StableHLO / MLIR text as Lowered.as_text() prints it."""

    name = "StableHLO"
    aliases: ClassVar[list[str]] = ["stablehlo", "mlir"]
    filenames: ClassVar[list[str]] = []
    tokens: ClassVar[dict[str, Any]] = {"root": list(_HLO_COMMON)}


class HloLexer(RegexLexer):
    """XLA HLO text as Compiled.as_text() (or Lowered.as_text("hlo")) prints it."""

    name = "HLO"
    aliases: ClassVar[list[str]] = ["hlo"]
    filenames: ClassVar[list[str]] = []
    tokens: ClassVar[dict[str, Any]] = {"root": list(_HLO_COMMON)}


_BY_VIEW: dict[str, type[Lexer]] = {
    "jaxpr": JaxprLexer,
    "stablehlo": StableHloLexer,
    "hlo": HloLexer,
}


def get_lexer(view: str) -> Lexer | None:
    """A fresh lexer for a view name ('jaxpr', 'stablehlo', 'hlo'), or None for other views."""
    cls = _BY_VIEW.get(view)
    return cls() if cls else None
