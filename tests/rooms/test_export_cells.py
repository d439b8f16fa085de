"""Export cells: text a spreadsheet would read as a formula is written as text."""

from __future__ import annotations

import csv
import io

import pytest

from app.rooms.export_cells import cell, row


@pytest.mark.parametrize("forged", ['=HYPERLINK("http://evil.example","click")', "+1+1",
                                    "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1",
                                    "=cmd|' /C calc'!A0"])
def test_a_cell_that_would_start_a_formula_is_text(forged: str) -> None:
    safe = cell(forged)
    assert safe == "'" + forged
    written = io.StringIO()
    csv.writer(written).writerow(row(["Ada", forged]))
    read_back = next(csv.reader(io.StringIO(written.getvalue())))
    assert read_back == ["Ada", "'" + forged]


def test_plain_text_and_numbers_stay_as_they_are() -> None:
    assert row(["Ada Lovelace", "ZeroDivisionError", 3, -1, 2.5, None, True, "a=b"]) == \
        ["Ada Lovelace", "ZeroDivisionError", 3, -1, 2.5, None, True, "a=b"]
