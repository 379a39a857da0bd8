"""Spreadsheet cells that cannot run: formula-injection escaping for every XLSX and CSV we write.

A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula (or
becomes one) in Excel, LibreOffice and WPS; a name like ``=HYPERLINK(...)`` typed into a sign-up
would run on a staff member's machine. Such cells get a leading ``'``, which spreadsheets show as
text. Numbers stay numbers.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(v) for v in values]
