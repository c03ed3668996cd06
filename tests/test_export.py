"""Export to XLSX: Chinese headers, one row per record; what was imported comes back out once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bench.make_customer_sheet import make_sheet
from models import Contract, Customer, Opportunity, Payment, Visit
from models.db import make_session_factory
from services.config import default_config
from services.customer_import import import_customers
from services.export import export_customers, export_opportunities, export_payments, export_visits
from tests.harness import seed_org

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def factory(db: tuple[str, Engine]) -> sessionmaker[Session]:
    factory = make_session_factory(db[1])
    with factory() as s, s.begin():
        seed_org(s)
    return factory


def read(path: Path) -> tuple[list[str], list[list[object]]]:
    sheet = load_workbook(path, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]


def imported(tmp_path: Path, factory: sessionmaker[Session], rows: int = 205) -> int:
    source = tmp_path / "客户.xlsx"
    make_sheet(source, rows)
    with factory() as s:
        report = import_customers(s, path=source, config=default_config(), now=NOW, on_batch=s.commit)
        s.commit()
    return report.created


def test_customers_export_holds_each_imported_customer_once(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    created = imported(tmp_path, factory)
    out = tmp_path / "out" / "客户导出.xlsx"
    with factory() as s:
        assert export_customers(s, path=out, config=default_config()) == created == 200
        db = {c.id: c for c in s.scalars(select(Customer))}
    headers, rows = read(out)
    assert headers == [
        "编号",
        "名称",
        "行业",
        "区域",
        "联系人",
        "电话",
        "地址",
        "用电负荷等级",
        "历史合作机型",
        "负责人账号",
        "负责人",
        "客户分层",
        "信息完整",
        "创建时间",
        "更新时间",
    ]
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)) == 200 and set(ids) == set(db)
    names = [r[1] for r in rows]
    assert len(set(names)) == 200
    row = rows[0]
    c = db[row[0]]  # type: ignore[index]
    assert row[1:7] == [c.name, c.industry, c.region, c.contact, c.phone, c.address]
    assert row[9] == c.owner_userid and row[10] in ("张伟", "李娜", "赵强")
    assert row[11] == "潜在" and row[12] in ("是", "否") and row[13] == "2026-11-27 10:00"


def test_an_exported_customer_sheet_imports_again_unchanged(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    imported(tmp_path, factory, rows=60)
    out = tmp_path / "客户导出.xlsx"
    with factory() as s:
        export_customers(s, path=out, config=default_config())
        report = import_customers(s, path=out, config=default_config(), now=NOW)
    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 0, 55, [])
    assert "负责人（重复列）" in report.ignored_columns


def test_visits_opportunities_and_payments_export(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    imported(tmp_path, factory, rows=10)
    with factory() as s, s.begin():
        customer = s.scalars(select(Customer).order_by(Customer.id)).first()
        assert customer is not None
        s.add(
            Visit(
                customer_id=customer.id,
                userid=customer.owner_userid,
                summary="谈了新机型",
                visited_at=NOW,
                location_label="苏州工业园",
                distance_m=123.4,
                location_anomaly=False,
                photo_count=2,
            )
        )
        opp = Opportunity(
            customer_id=customer.id,
            name="二期扩产",
            amount=Decimal("120000.00"),
            stage="方案报价",
            score=60,
            priority="B",
            score_items=["预算", "决策人"],
            owner_userid=customer.owner_userid,
            created_at=NOW,
            updated_at=NOW,
        )
        s.add(opp)
        s.flush()
        contract = Contract(
            opportunity_id=opp.id,
            customer_id=customer.id,
            amount=Decimal("120000"),
            signed_at=NOW,
            signed_by=customer.owner_userid,
        )
        s.add(contract)
        s.flush()
        s.add(
            Payment(
                contract_id=contract.id,
                customer_id=customer.id,
                amount=Decimal("50000"),
                received_at=NOW,
                recorded_by="fin",
            )
        )
        name = customer.name
    config = default_config()
    with factory() as s:
        assert export_visits(s, path=tmp_path / "v.xlsx", config=config) == 1
        assert export_opportunities(s, path=tmp_path / "o.xlsx", config=config) == 1
        assert export_payments(s, path=tmp_path / "p.xlsx", config=config) == 1
    headers, rows = read(tmp_path / "v.xlsx")
    assert headers[:6] == ["编号", "客户编号", "客户名称", "拜访人", "拜访人账号", "拜访时间"]
    assert rows[0][2:8] == [name, rows[0][3], rows[0][4], "2026-11-27 10:00", "谈了新机型", "苏州工业园"]
    assert rows[0][8:] == [123, "否", 2]
    headers, rows = read(tmp_path / "o.xlsx")
    assert headers[3:9] == ["商机名称", "金额(元)", "阶段", "评分", "优先级", "评分项"]
    assert rows[0][2:9] == [name, "二期扩产", 120000, "方案报价", 60, "B", "预算、决策人"]
    headers, rows = read(tmp_path / "p.xlsx")
    assert headers == [
        "编号",
        "客户编号",
        "客户名称",
        "合同编号",
        "合同金额(元)",
        "回款金额(元)",
        "回款时间",
        "登记人",
    ]
    assert rows[0][2:] == [name, rows[0][3], 120000, 50000, "2026-11-27 10:00", "周会计"]


def test_cli_exports(
    tmp_path: Path,
    db: tuple[str, Engine],
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    imported(tmp_path, factory, rows=15)
    monkeypatch.setenv("DATABASE_URL", db[0])
    monkeypatch.delenv("SALESBOT_CONFIG", raising=False)
    assert main(["customers", "export", str(tmp_path / "c.xlsx")]) == 0
    assert "已导出 10 条记录" in capsys.readouterr().out
    for kind in ("visits", "opportunities", "payments"):
        assert main([kind, "export", str(tmp_path / f"{kind}.xlsx")]) == 0
        assert "已导出 0 条记录" in capsys.readouterr().out
        assert read(tmp_path / f"{kind}.xlsx")[1] == []
    assert main(["customers", "export", str(tmp_path / "c.csv")]) == 2
    assert ".xlsx" in capsys.readouterr().err
