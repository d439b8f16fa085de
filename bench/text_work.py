"""What the worst texts a run can send cost the app: the IR diff and the HLO lexer on inputs built
to defeat them, before (difflib's SequenceMatcher with autojunk off; the HLO rules with an
unbounded string rule) and after (app.ui.widgets.diff_view.compute; app.lexers), alternated in
one run so that both columns see the same load.

Inputs: 'x' lines against alternating 'x', 'y' lines (the diff); '"' followed by k escaped
quotes, and 'f32[' repeated (the lexer). Prints the best of --rounds CPU times (process time,
not wall) per size, and the work the new diff reports (machine words). The "before" sizes stop
where one call takes tens of seconds; "after" also runs the largest inputs the app accepts.

    .venv/bin/python bench/text_work.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from pygments.lexer import RegexLexer  # noqa: E402
from pygments.token import Keyword, Name, Operator, Punctuation, String, Whitespace  # noqa: E402

from app.lexers import HloLexer  # noqa: E402
from app.ui.widgets import diff_view  # noqa: E402


class BeforeHloLexer(RegexLexer):
    """The rules of the HLO lexer that the crafted texts hit, as they were: an unbounded string
    rule that fails on an unclosed string after scanning to its end, from every quote."""

    name = "HLO (before)"
    tokens: ClassVar[dict[str, Any]] = {"root": [
        (r"\s+", Whitespace),
        (r"\"(?:[^\"\\]|\\.)*\"", String),
        (r"\b(?:bool|pred|bf16|[fiuc]\d+|s\d+)\[[^\]]*\]", Keyword.Type),
        (r"[A-Za-z_][\w\-]*", Name),
        (r"[{}()\[\],;:.]", Punctuation),
        (r"[=<>+\-*/@~|&!^%#?$\\]", Operator),
    ]}


def before_diff(a: str, b: str) -> None:
    difflib.SequenceMatcher(None, a.splitlines(), b.splitlines(), autojunk=False).get_opcodes()


def after_diff(a: str, b: str) -> None:
    diff_view.compute.cache_clear()
    diff_view.compute(a, b)


def lex(lexer: type, text: str) -> None:
    for _ in lexer().get_tokens(text):
        pass


def best(call: Callable[[], None], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return min(times)


def alternating(lines: int) -> tuple[str, str]:
    return "\n".join(["x"] * lines), "\n".join(["x", "y"] * (lines // 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    print(f"{'input':<44}{'before (s)':>12}{'after (s)':>12}  after's work")
    for lines in (250, 500, 1000, 2000, diff_view.MAX_DIFF_LINES):
        a, b = alternating(lines)
        before = (f"{best(lambda a=a, b=b: before_diff(a, b), rounds):12.3f}" if lines <= 1000
                  else f"{'(skipped)':>12}")
        after = best(lambda a=a, b=b: after_diff(a, b), rounds)
        work = diff_view.compute(a, b).work
        print(f"{f'diff: {lines} x lines vs x,y lines':<44}{before}{after:12.4f}  {work:,} words")
    for label, make in (("HLO lexer: '\"' + '\\\\\"' * k", lambda k: '"' + '\\"' * k),
                        ("HLO lexer: 'f32[' * k", lambda k: "f32[" * k)):
        for k in (2000, 4000, 8000, 100_000):
            text = make(k)
            before = (f"{best(lambda t=text: lex(BeforeHloLexer, t), rounds):12.3f}" if k <= 8000
                      else f"{'(skipped)':>12}")
            after = best(lambda t=text: lex(HloLexer, t), rounds)
            print(f"{f'{label}, k={k:,}':<44}{before}{after:12.4f}")


if __name__ == "__main__":
    main()
