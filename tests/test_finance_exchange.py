"""`salesbot finance export` (the sheet for 用友 U8 / 金蝶) and `salesbot finance import` (ERP receipts):
idempotent on the voucher number, rejects with reasons in a file that can be fixed and imported again."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from chat.errors import DomainError
from models import Payment
from services.finance_export import export_finance
from services.finance_import import import_receipts
from tests.collections_factory import contract_id, ready_opportunity
from tests.harness import Bot


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture
def two_contracts(bot: Bot) -> tuple[int, int]:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万 分期 30/60/10 签约时/发货时/验收后30天")
    ready_opportunity(bot, customer="华南精工", name="=1+1产线", phone="13912345678")
    bot.send_text("rep_e1", "合同 =1+1产线 10万")
    return contract_id(bot), contract_id(bot, "=1+1产线")


def payments(bot: Bot) -> list[tuple[int | None, Decimal, str | None, str]]:
    with bot.session() as s:
        return [
            (p.contract_id, p.amount, p.voucher_no, p.source)
            for p in s.scalars(select(Payment).order_by(Payment.id))
        ]


def test_import_is_idempotent_on_the_voucher_and_rejects_with_reasons(
    bot: Bot, two_contracts: tuple[int, int], tmp_path: Path
) -> None:
    a, b = two_contracts
    sheet = write_csv(
        tmp_path / "u8收款.csv",
        [
            [
                "凭证字号",
                "合同号",
                "收款金额",
                "收款日期",
                "摘要",
            ],  # synonyms of 凭证号, 合同编号, 回款金额, 回款日期
            ["记-0001", f"SB{a:06d}", "200000", "2026-11-25", "首付款"],
            ["记-0002", f"#{b}", "5万", "2026/11/26", ""],
            ["记-0003", "SB999999", "1000", "2026-11-26", ""],  # no such contract
            ["", f"SB{a:06d}", "1000", "2026-11-26", ""],  # no voucher
            ["记-0004", f"SB{a:06d}", "很多", "2026-11-26", ""],
            ["记-0005", f"SB{a:06d}", "1000", "2026-13-40", ""],
            ["记-0006", f"SB{a:06d}", "900000", "2026-11-26", ""],  # more than is owed
            ["记-0002", f"#{b}", "5万", "2026/11/26", ""],  # the same voucher twice in the file
        ],
    )
    with bot.session() as s:
        report = import_receipts(s, path=sheet, config=bot.state.config, now=bot.clock())
        s.commit()
    assert (report.rows, report.imported, report.already, len(report.rejected)) == (8, 2, 0, 6)
    assert report.amount == Decimal(250000) and "摘要" in report.ignored_columns
    assert [r.kind for r in report.rejected] == [
        "找不到合同",
        "缺少凭证号",
        "金额无效",
        "日期无效",
        "超过未收金额",
        "文件内凭证号重复",
    ]
    assert payments(bot) == [(a, Decimal(200000), "记-0001", "erp"), (b, Decimal(50000), "记-0002", "erp")]
    with bot.session() as s:
        first = s.scalars(select(Payment).where(Payment.voucher_no == "记-0001")).one()
        assert first.received_at.date() == date(2026, 11, 25)
    rejects = report.rejects_path
    assert rejects is not None and rejects.name == "u8收款.rejects.csv"
    with rejects.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-2:] == ["原行号", "原因"] and [r[-2] for r in rows[1:]] == ["4", "5", "6", "7", "8", "9"]
    assert "找不到合同：SB999999" in rows[1][-1]

    # The same file again: nothing is recorded twice.
    with bot.session() as s:
        again = import_receipts(
            s, path=sheet, config=bot.state.config, now=bot.clock(), write_rejects_file=False
        )
        s.commit()
    assert (again.imported, again.already) == (0, 2) and len(payments(bot)) == 2

    # The rejects file, fixed, imports as it is (its 原行号/原因 columns are ignored).
    fixed = [r[:] for r in rows]
    fixed[1][1] = f"SB{a:06d}"
    fixed[3][2] = "1000"
    with bot.session() as s:
        third = import_receipts(
            s,
            path=write_csv(tmp_path / "fixed.csv", fixed),
            config=bot.state.config,
            now=bot.clock(),
            write_rejects_file=False,
        )
        s.commit()
    assert third.imported == 2 and third.rejected and "原因" not in third.ignored_columns
    # ERP receipts land on the instalments like any payment: 20万 + 1000 + 1000 of the 50万 contract.
    bot.send_text("rep_e1", f"合同 #{a}")
    assert "已收 ¥202,000" in bot.last_text("rep_e1")


def test_import_needs_the_four_columns(bot: Bot, tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "bad.csv", [["合同编号", "金额"], ["SB000001", "100"]])
    with bot.session() as s, pytest.raises(DomainError, match="找不到列 回款日期、凭证号"):
        import_receipts(s, path=sheet, config=bot.state.config, now=bot.clock())


def test_export_sheets_for_the_erp(bot: Bot, two_contracts: tuple[int, int], tmp_path: Path) -> None:
    a, b = two_contracts
    bot.send_text("fin", f"开票 #{a} 15万 04512345")
    bot.send_text("rep_e1", f"回款 #{a} 15万")
    path = tmp_path / "财务.xlsx"
    with bot.session() as s:
        counts = export_finance(
            s, path=path, start=date(2026, 11, 1), end=date(2026, 11, 30), now=bot.clock()
        )
    assert (counts.contracts, counts.instalments, counts.invoices, counts.payments) == (2, 6, 1, 1)
    book = load_workbook(path)
    assert book.sheetnames == ["合同", "收款计划", "发票", "收款"]
    contracts = list(book["合同"].iter_rows(values_only=True))
    assert contracts[0][:5] == ("合同编号", "客户编码", "客户名称", "项目（商机）", "合同金额")
    row = next(r for r in contracts[1:] if r[0] == f"SB{a:06d}")
    assert row[2:6] == ("华瑞电子", "贴片线", 500000, "2026-11-27") and row[8:] == (150000, 150000, 350000)
    evil = next(r for r in contracts[1:] if r[0] == f"SB{b:06d}")
    cell = next(c for c in book["合同"][contracts.index(evil) + 1] if c.value == "=1+1产线")
    assert cell.data_type == "s"  # an opportunity named like a formula stays text
    plan = list(book["收款计划"].iter_rows(values_only=True))
    assert plan[1][3:] == ("第一期", 30, 150000, "签约时", "2026-11-27", 150000, 150000, "已回款")
    assert plan[2][3:8] == ("第二期", 60, 300000, "发货时", None)
    invoice = list(book["发票"].iter_rows(values_only=True))[1]
    assert invoice[3:6] == ("04512345", 150000, "2026-11-27")
    receipt = list(book["收款"].iter_rows(values_only=True))[1]
    assert receipt[2] == f"SB{a:06d}" and receipt[5:7] == (150000, "2026-11-27") and receipt[8] == "销售助手"
    with bot.session() as s:  # another month: nothing
        empty = export_finance(
            s, path=tmp_path / "x.xlsx", start=date(2026, 10, 1), end=date(2026, 10, 31), now=bot.clock()
        )
    assert (empty.contracts, empty.payments) == (0, 0)


def test_cli(
    bot: Bot,
    two_contracts: tuple[int, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    a, _ = two_contracts
    monkeypatch.setenv("DATABASE_URL", bot.state.settings.database_url)
    monkeypatch.delenv("SALESBOT_CONFIG", raising=False)
    if bot.state.settings.database_url.startswith("sqlite:///:memory:"):
        pytest.skip("the CLI opens its own connection")
    assert (
        main(["finance", "export", str(tmp_path / "f.csv"), "--from", "2026-11-01", "--to", "2026-11-30"])
        == 2
    )
    assert ".xlsx" in capsys.readouterr().err
    assert (
        main(["finance", "export", str(tmp_path / "f.xlsx"), "--from", "2026-11-30", "--to", "2026-11-01"])
        == 2
    )
    assert "早于" in capsys.readouterr().err
    assert (
        main(["finance", "export", str(tmp_path / "f.xlsx"), "--from", "2026-11-01", "--to", "2026-11-30"])
        == 0
    )
    assert "合同 2" in capsys.readouterr().out
    sheet = write_csv(
        tmp_path / "r.csv",
        [["合同编号", "回款金额", "回款日期", "凭证号"], [f"SB{a:06d}", "1000", "2026-11-27", "V1"]],
    )
    assert main(["finance", "import", str(sheet), "--dry-run"]) == 0
    assert "试运行" in capsys.readouterr().out
    assert main(["finance", "import", str(sheet)]) == 0
    assert "导入回款 1 笔" in capsys.readouterr().out
    assert main(["finance", "import", str(tmp_path / "missing.csv")]) == 1
