"""Issue 16 #15: an unreadable import file gets one Chinese line naming the problem, never a traceback."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from bot.cli import main
from models import Customer
from tests.harness import seed_org

HEADER = "客户名称,联系人,联系电话,行业,区域,负责人,地址\n"
ROW = "远大设备,王经理,13812345678,机械,华东,rep_e1,上海嘉定\n"


@pytest.fixture
def env(db: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Engine:
    monkeypatch.setenv("DATABASE_URL", db[0])
    monkeypatch.delenv("SALESBOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    from sqlalchemy.orm import Session

    with Session(db[1]) as s, s.begin():
        seed_org(s)
    return db[1]


def _import(path: Path, capsys: pytest.CaptureFixture[str], command: str = "customers") -> tuple[int, str]:
    code = main([command, "import", str(path)])
    captured = capsys.readouterr()
    return code, captured.err.strip()


def _customers(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Customer)) or 0


def _xlsx_with_dtd(path: Path) -> Path:
    good = path.with_name("good.xlsx")
    wb = Workbook()
    wb.active.append(["客户名称"])
    wb.save(good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + data.split(b"?>", 1)[-1]
            dst.writestr(item, data)
    return path


def test_case15_unreadable_files_get_one_chinese_line(
    env: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_bom = tmp_path / "utf16.csv"
    no_bom.write_bytes((HEADER + ROW).encode("utf-16-le"))
    huge = tmp_path / "huge.csv"
    huge.write_text(
        HEADER + "远大设备," + "长" * 140_000 + ",13812345678,机械,华东,rep_e1,上海\n", encoding="utf-8"
    )
    corrupt = tmp_path / "corrupt.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a workbook")
    dtd = _xlsx_with_dtd(tmp_path / "dtd.xlsx")
    expected = {no_bom: "编码无法识别", huge: "超过 128 KiB", corrupt: "不是有效的 XLSX", dtd: "DTD"}
    for path, problem in expected.items():
        for command in ("customers", "org") if path != huge else ("customers",):
            code, err = _import(path, capsys, command)
            assert code == 1, (path, command)
            assert problem in err and "Traceback" not in err and len(err.splitlines()) == 1, (
                path,
                command,
                err,
            )
    assert _customers(env) == 0


def test_case15_a_utf16_file_with_its_bom_is_read(
    env: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "utf16bom.csv"
    path.write_bytes((HEADER + ROW).encode("utf-16"))
    code = main(["customers", "import", str(path)])
    assert code == 0, capsys.readouterr().err
    assert _customers(env) == 1
