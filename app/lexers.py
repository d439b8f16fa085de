"""Pygments lexers for what the worker shows: jaxprs, StableHLO (MLIR) and optimised HLO text.

Pygments has no lexer for any of the three (its LLVM lexer marks MLIR's `%x = dialect.op` and
`tensor<4xf32>` as errors), so these are small RegexLexers written against real output of
jax.make_jaxpr, Lowered.as_text() and Compiled.as_text(). `get_lexer(view)` is what the UI asks.

The texts come from a run, so a forged one may be built to make a regex backtrack. Every rule
matches at most a bounded number of characters (MAX_TOKEN, checked by the tests), and a rule
that scans far (a string, a shape in brackets, a comment) matches whatever it scanned, closed or
not: no position costs more than a bounded scan, so lexing is linear in the text's length.
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

MAX_TOKEN = 4096  # the most characters one rule may match (tests check every rule)
_WORD = r"\w{0,200}"  # the tail of a name: longer names lex as several tokens
_NUMBER = (r"[+-]?(?:\d{1,64}\.\d{0,64}(?:[eE][+-]?\d{1,4})?|\d{1,64}[eE][+-]?\d{1,4}"
           r"|\.\d{1,64})")
_INTEGER = r"[+-]?\d{1,64}"
_PUNCTUATION = r"[{}()\[\],;:.]"
_OPERATOR = r"[=<>+\-*/@~|&!^%#?$\\]"
_SPACE = r"\s{1,200}"
# What sits in brackets after a dtype (a shape): to the closing bracket, or to the end of the
# line when there is none, so a lone "[" never makes the scan run again from the next position.
_BRACKETED = r"\[[^\]\n]{0,1000}\]?"
# A double-quoted string with escapes, closed or running to the end of its line.
_STRING = r'"(?:[^"\\\n]|\\[^\n]){0,2000}"?'
# XLA element types as jaxprs and HLO print them: f32, bf16, i8, u32, c64, bool, pred, f8_e4m3fn.
_DTYPE = r"(?:bool|pred|token|float0|bf16|f8_\w{1,16}|[fiuc]\d{1,3}|s\d{1,3})"


class JaxprLexer(RegexLexer):
    """`{ lambda ; a:f32[3]. let b:f32[3] = sin a in (b,) }` and the nested jaxprs in params."""

    name = "Jaxpr"
    aliases: ClassVar[list[str]] = ["jaxpr"]
    filenames: ClassVar[list[str]] = []

    tokens: ClassVar[dict[str, Any]] = {
        "root": [
            # b:f32[] = sin a : the primitive is the word after " = "
            (rf"(\s=\s)([A-Za-z_]{_WORD})", bygroups(Operator, Name.Function)),
            (_SPACE, Whitespace),
            (words(("lambda", "let", "in"), suffix=r"\b"), Keyword),
            # a:f32[3,2] -> variable, colon, type (also key<fry>[] and sharded f32[8@i])
            (rf"{_DTYPE}{_BRACKETED}", Keyword.Type),
            (rf"key<\w{{1,32}}>{_BRACKETED}", Keyword.Type),
            # params: dimension_numbers=(...), axes=(0,), jaxpr={ ... }
            (rf"([A-Za-z_]{_WORD})(=)", bygroups(Name.Attribute, Operator)),
            (r"'[^'\n]{0,4000}'?", String),
            (_STRING, String),
            (r"\b(?:True|False|None|inf|nan)\b", Keyword.Constant),
            (_NUMBER, Number.Float),
            (_INTEGER, Number.Integer),
            (rf"[A-Za-z_]{_WORD}", Name.Variable),
            (_PUNCTUATION, Punctuation),
            (_OPERATOR, Operator),
        ]
    }


_NAME_CHARS = r"[\w.\-$]{1,200}"
_HLO_WORD = r"[A-Za-z_][\w\-]{0,200}"
_HLO_COMMON = [
    (_SPACE, Whitespace),
    (r"//[^\n]{0,4000}", Comment.Single),
    (_STRING, String),
    # %arg0, %cst_0, %region_1.2, %0 (MLIR values and HLO instructions)
    (rf"%{_NAME_CHARS}", Name.Variable),
    (rf"@{_NAME_CHARS}", Name.Function),
    (rf"\^{_NAME_CHARS}", Name.Label),
    (rf"#{_NAME_CHARS}", Name.Decorator),
    # MLIR types: tensor<4x2xf32>, and HLO shapes: f32[4,2]{1,0}
    (r"\b(?:tensor|memref|vector|complex|tuple|index|none)\b", Keyword.Type),
    (rf"\b(?:\d{{1,20}}x){{1,32}}(?:{_DTYPE}|i1)\b", Keyword.Type),
    (rf"\b{_DTYPE}{_BRACKETED}", Keyword.Type),
    (rf"\b(?:{_DTYPE}|i1|ui\d{{1,3}}|si\d{{1,3}})\b", Keyword.Type),
    # dialect ops and qualified names: stablehlo.dot_general, func.func, sdy.mesh
    (rf"\b[a-z_]{_WORD}(?:\.[A-Za-z_]{_WORD}){{1,8}}", Name.Builtin),
    (words(("module", "attributes", "public", "private", "return", "ROOT", "ENTRY",
            "HloModule", "dense", "loc", "applies", "across", "dimensions", "init"),
           prefix=r"\b", suffix=r"\b"), Keyword),
    (r"\b(?:true|false|DEFAULT|HIGHEST|inf|nan)\b", Keyword.Constant),
    (r"0x[0-9A-Fa-f]{1,64}", Number.Hex),
    (_NUMBER, Number.Float),
    (_INTEGER, Number.Integer),
    # HLO: multiply(%a, %b) and metadata={...}, is_scheduled=true
    (rf"{_HLO_WORD}(?=\()", Name.Function),
    (rf"({_HLO_WORD})(=)", bygroups(Name.Attribute, Operator)),
    (_HLO_WORD, Name),
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
