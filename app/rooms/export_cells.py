"""Cells of a spreadsheet export (CSV) that a spreadsheet shows as text, never runs.

Names, error types and messages in a room's export were typed by people or written by runs. A
cell that starts with = + - @ (or a tab or carriage return, which some spreadsheets skip before
reading a formula) is read as a formula by Excel, LibreOffice and Google Sheets:
`=HYPERLINK("http://evil","click")` becomes a live link, DDE formulas may run programs. OWASP's
advice: prefix such a cell with a single quote, which the spreadsheet shows as text. Numbers
the export itself wrote (ints and floats) stay numbers.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A value safe to write into a CSV cell: text that would start a formula gets a leading '."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def row(values: list[object]) -> list[object]:
    """Every cell of one CSV row made safe."""
    return [cell(value) for value in values]
