"""`salesbot leads import FILE`: header synonyms, the report, the rejects file, a rerun that creates nothing."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from chat.errors import DomainError
from models import Lead
from services.config import default_config
from services.lead_import import import_leads
from tests.harness import SHANGHAI, Bot

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def _sheet(path: Path, rows: list[list[str]]) -> Path:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_import_report_rejects_and_rerun(bot: Bot, tmp_path: Path) -> None:
    sheet = _sheet(
        tmp_path / "展会.xlsx",
        [
            ["单位名称", "联系人姓名", "手机号", "渠道", "需求", "展位号"],
            ["宁波华东精密有限公司", "王总", "13812345678", "展会", "要报价", "A1"],
            ["广州南方电气", "李工", "020-87654321", "", "", "B2"],
            ["坏电话公司", "赵总", "12345", "展会", "", "C3"],
            ["浙江华东精密", "王总", "13812345678", "展会", "", "A1"],  # the first row again: 已存在
            ["", "钱总", "13900000000", "", "", ""],
        ],
    )
    config = default_config()
    with bot.session() as s, s.begin():
        report = import_leads(s, path=sheet, config=config, now=NOW, source="展会")
    text = report.summary()
    assert (report.rows, report.created, report.existing, len(report.rejected)) == (5, 2, 1, 2)
    assert "新线索 2，已存在 1，跳过 2" in text and "展位号" in text
    assert "第 4 行" in text and "看不懂电话" in text
    assert report.rejects_path is not None and report.rejects_path.exists()
    with bot.session() as s:
        leads = {lead.company: lead for lead in s.scalars(select(Lead))}
    assert leads["宁波华东精密有限公司"].note == "要报价" and leads["宁波华东精密有限公司"].region == "华东"
    assert leads["广州南方电气"].region == "华南" and leads["广州南方电气"].assignee_userid == "rep_s1"
    assert leads["广州南方电气"].source == "展会"

    with bot.session() as s, s.begin():
        again = import_leads(s, path=sheet, config=config, now=NOW, source="展会")
    assert (again.created, again.existing) == (0, 3)
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(Lead)) == 2

    # The rejects file, corrected, imports as it is.
    ws = load_workbook(report.rejects_path).active
    rows = [[c.value or "" for c in row] for row in ws.iter_rows()]
    assert rows[0][-2:] == ["原行号", "原因"] and rows[1][-2] == 4
    fixed = tmp_path / "fixed.csv"
    with fixed.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(rows[0])
        writer.writerow(["坏电话公司", "赵总", "13700000000", "展会", "", "C3", 4, ""])
    with bot.session() as s, s.begin():
        third = import_leads(s, path=fixed, config=config, now=NOW)
    assert third.created == 1 and not third.rejected


def test_import_without_company_column_is_refused(bot: Bot, tmp_path: Path) -> None:
    sheet = tmp_path / "x.csv"
    sheet.write_text("联系人,电话\n王总,13812345678\n", encoding="utf-8")
    with bot.session() as s, s.begin(), pytest.raises(DomainError, match="找不到公司名称列"):
        import_leads(s, path=sheet, config=default_config(), now=NOW)


def test_cli_leads_import_queues_the_cards_and_reruns_cleanly(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main
    from models import OutboxMessage

    monkeypatch.setenv("DATABASE_URL", bot.state.settings.database_url)
    monkeypatch.delenv("SALESBOT_CONFIG", raising=False)
    sheet = tmp_path / "展会.csv"
    sheet.write_text(
        "公司名称,联系人,电话,备注\n宁波华东精密,王总,13812345678,要报价\n广州南方电气,李工,020-87654321,\n",
        encoding="utf-8",
    )
    assert main(["leads", "import", str(sheet), "--source", "火星"]) == 2
    assert "未知的来源「火星」" in capsys.readouterr().err
    assert main(["leads", "import", str(sheet), "--dry-run"]) == 0
    assert "（试运行，未写入任何数据）共 2 行：新线索 2" in capsys.readouterr().out
    assert main(["leads", "import", str(sheet), "--source", "展会"]) == 0
    assert "共 2 行：新线索 2，已存在 0" in capsys.readouterr().out
    assert main(["leads", "import", str(sheet)]) == 0
    assert "新线索 0，已存在 2" in capsys.readouterr().out
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(Lead)) == 2
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2  # one card per lead, once
