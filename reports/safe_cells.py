"""Formula-injection neutralisation for every cell we export (CSV, xlsx).

A spreadsheet treats a cell starting with = + - @, a tab or a carriage return as a formula
(OWASP "CSV injection"); prefixing a single quote makes it plain text in Excel and LibreOffice.
"""

from __future__ import annotations

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(DANGEROUS_FIRST) else value
