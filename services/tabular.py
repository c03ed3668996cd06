"""Reading CSV and XLSX sheets as lists of dicts keyed by header (shared by the org and customer imports).

Files come from clerks, not programs: anything unreadable (an encoding we cannot tell, a cell too large, a
corrupt or hostile XLSX) raises `TableError` with one Chinese sentence naming the problem, never a traceback.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

MAX_CELL_BYTES = 128 * 1024
MAX_CELL_CHARS = MAX_CELL_BYTES // 4  # a UTF-8 character is at most 4 bytes; any cell larger is not a field
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
SAVE_AS = "请在 Excel/WPS 中另存为「CSV UTF-8」或 .xlsx 后重新导入。"


class TableError(ValueError):
    """An import file that cannot be read; the message is for the clerk (Chinese, one line)."""


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise TableError(f"{name}：文件编码无法识别（UTF-16 内容有误）。{SAVE_AS}") from None
    if b"\x00" in raw:
        raise TableError(f"{name}：文件编码无法识别（像是没有标记的 UTF-16 或二进制文件）。{SAVE_AS}")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(f"{name}：文件编码无法识别（既不是 UTF-8 也不是 GBK）。{SAVE_AS}")


def _too_large(name: str, line: int | str) -> TableError:
    return TableError(f"{name}：第 {line} 行有单元格超过 128 KiB，不像是表格数据。请检查该行后重新导入。")


def _head(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The prolog of an XML part: a DTD can only come before the root element."""
    with archive.open(info) as member:
        return member.read(4096)


def _check_xlsx(path: Path) -> None:
    """A valid zip of XML parts without any DTD (openpyxl would parse one)."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith((".xml", ".rels")) and _DTD.search(_head(archive, info)):
                    raise TableError(f"{path.name}：文件含有不允许的 XML 声明（DTD），未导入。{SAVE_AS}")
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
        if isinstance(exc, TableError):
            raise
        raise TableError(
            f"{path.name}：不是有效的 XLSX 文件（可能已损坏或只是改了扩展名）。{SAVE_AS}"
        ) from None


def read_rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    """(headers, row iterator); cells as stripped strings. XLSX is streamed read-only."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    raise TableError(f"{path.name}：不支持的文件类型 {suffix or '（无扩展名）'}，请使用 .csv 或 .xlsx。")


def _read_xlsx(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    from openpyxl import load_workbook

    _check_xlsx(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None) or ()
    except TableError:
        raise
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors) for bad files
        raise TableError(f"{path.name}：XLSX 文件内容无法读取（可能已损坏）。{SAVE_AS}") from None

    def cells() -> Iterator[list[str]]:
        line = 1
        try:
            for row in rows:
                line += 1
                values = ["" if v is None else _cell(v) for v in row]
                if any(len(v) > MAX_CELL_CHARS for v in values):
                    raise _too_large(path.name, line)
                if any(values):
                    yield values
        except TableError:
            raise
        except Exception:
            raise TableError(f"{path.name}：第 {line} 行之后的内容无法读取（文件可能已损坏）。") from None
        finally:
            workbook.close()

    return [_cell(h) if h is not None else "" for h in header], cells()


def _read_csv(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    text = _decode(path.read_bytes(), path.name)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, [])
    except csv.Error:
        raise _too_large(path.name, 1) from None

    def lines() -> Iterator[list[str]]:
        try:
            for row in reader:
                values = [c.strip() for c in row]
                if any(values):
                    yield values
        except csv.Error:  # field larger than the csv module's limit (128 KiB)
            raise _too_large(path.name, reader.line_num) from None

    return [h.strip() for h in header], lines()


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
