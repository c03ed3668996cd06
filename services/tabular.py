"""Reading CSV and XLSX sheets as lists of dicts keyed by header (shared by the org and customer imports)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def read_rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    """(headers, row iterator); cells as stripped strings. XLSX is streamed read-only."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None) or ()

        def cells() -> Iterator[list[str]]:
            for row in rows:
                values = ["" if v is None else _cell(v) for v in row]
                if any(values):
                    yield values
            workbook.close()

        return [_cell(h) if h is not None else "" for h in header], cells()
    if suffix in (".csv", ".txt"):
        text = _decode(path.read_bytes())
        reader = csv.reader(io.StringIO(text))
        header = next(reader, [])

        def lines() -> Iterator[list[str]]:
            for row in reader:
                values = [c.strip() for c in row]
                if any(values):
                    yield values

        return [h.strip() for h in header], lines()
    raise ValueError(f"unsupported file type {suffix or '(none)'}: use .csv or .xlsx")


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
