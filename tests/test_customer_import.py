"""Customer import from the reps' Excel/CSV sheets: headers, normalisation, matching, reruns, rejects, dry run."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.make_customer_sheet import make_sheet, write_sheet
from chat.errors import DomainError
from models import AuditEntry, Customer, User
from models.db import make_session_factory
from services.config import default_config
from services.customer_headers import match_headers
from services.customer_import import import_customers
from services.lookup import find_customers
from services.sheet_import import ImportReport, rejects_path_for
from services.tabular import read_rows
from tests.harness import seed_org

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
HEAD = ["客户名称", "联系人", "联系电话", "行业", "区域", "负责人", "地址"]


@pytest.fixture
def factory(db: tuple[str, Engine]) -> sessionmaker[Session]:
    factory = make_session_factory(db[1])
    with factory() as s, s.begin():
        seed_org(s)
    return factory


Run = Callable[..., ImportReport]


@pytest.fixture
def run(factory: sessionmaker[Session]) -> Run:
    def run(path: Path, *, dry_run: bool = False, **kw: object) -> ImportReport:
        with factory() as s:
            report = import_customers(
                s,
                path=path,
                config=default_config(),
                now=NOW,
                dry_run=dry_run,
                on_batch=None if dry_run else s.commit,
                **kw,  # type: ignore[arg-type]
            )
            if dry_run:
                s.rollback()
            else:
                s.commit()
        return report

    return run


def sheet(tmp_path: Path, rows: list[list[str]], headers: list[str] = HEAD, name: str = "客户.csv") -> Path:
    path = tmp_path / name
    write_sheet(path, rows, headers)
    return path


def customers(factory: sessionmaker[Session]) -> list[Customer]:
    with factory() as s:
        return list(s.scalars(select(Customer).order_by(Customer.id)))


# --- headers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("客户名称", "name"),
        ("名称", "name"),
        ("公司名称", "name"),
        ("Customer", "name"),
        (" name ", "name"),
        ("客户名称*", "name"),
        ("联系人", "contact"),
        ("Contact", "contact"),
        ("联系电话", "phone"),
        ("电话", "phone"),
        ("手机", "phone"),
        ("Mobile", "phone"),
        ("PHONE", "phone"),
        ("行业", "industry"),
        ("industry", "industry"),
        ("区域", "region"),
        ("地区", "region"),
        ("Region", "region"),
        ("负责人", "owner"),
        ("销售", "owner"),
        ("Owner", "owner"),
        ("sales", "owner"),
        ("地址", "address"),
        ("Address", "address"),
        ("用电负荷等级", "power_load_grade"),
        ("power_load_grade", "power_load_grade"),
        ("历史合作机型", "past_models"),
        ("ＦＵＬＬ　ｗｉｄｔｈ", None),
        ("备注", None),
    ],
)
def test_header_synonyms(header: str, key: str | None) -> None:
    columns, ignored = match_headers([header], default_config())
    assert columns == [key]
    assert ignored == ([] if key else [header])


def test_unknown_columns_are_reported_and_the_reason_column_is_not() -> None:
    columns, ignored = match_headers(["名称", "备注", "电话", "手机", "原因"], default_config())
    assert columns == ["name", None, "phone", None, None]
    assert ignored == ["备注", "手机（重复列）"]


def test_a_sheet_without_a_name_column_is_refused(tmp_path: Path, run: Run) -> None:
    with pytest.raises(DomainError, match="找不到客户名称列"):
        run(sheet(tmp_path, [["王经理"]], ["联系人"]))


# --- normalisation, owners, rejects --------------------------------------------------------------------


def test_values_are_normalised_and_owner_and_region_resolved(
    tmp_path: Path, run: Run, factory: sessionmaker[Session]
) -> None:
    path = sheet(
        tmp_path,
        [
            [
                "  华东　精密 机械有限公司 ",
                "王　经理",
                "+86 138 0000 0007",
                "机械",
                "",
                "REP_E1",
                "苏州 工业园区",
            ],
            ["深圳华强电子", "李工", "１３９-００００-０００８", "", "华南", "赵强", ""],
        ],
    )
    report = run(path)
    assert (report.created, report.rejected) == (2, [])
    first, second = customers(factory)
    assert (first.name, first.contact, first.phone, first.phone_norm) == (
        "华东 精密 机械有限公司",
        "王 经理",
        "13800000007",
        "13800000007",
    )
    assert (first.owner_userid, first.region, first.address) == ("rep_e1", "华东", "苏州 工业园区")
    assert first.name_norm == "华东精密机械"
    assert (second.owner_userid, second.region, second.phone) == ("rep_s1", "华南", "13900000008")
    assert first.complete is False  # 用电负荷等级 (recommended) is missing
    with factory() as s:
        audit = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(a.actor, a.entity, a.entity_id, a.action) for a in audit] == [
        ("import", "customer", first.id, "create"),
        ("import", "customer", second.id, "create"),
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["", "王经理", "13800000007", "", "华东", "rep_e1", ""], "缺少客户名称"),
        (["甲公司", "王经理", "12345", "", "华东", "rep_e1", ""], "电话无效：12345"),
        (["甲公司", "王经理", "13800000007", "", "华东", "nobody", ""], "负责人不存在：nobody"),
        (["甲公司", "王经理", "13800000007", "", "华东", "", ""], "缺少负责人（写账号或姓名）"),
        (["甲公司", "", "13800000007", "", "华东", "rep_e1", ""], "缺少必填项：联系人"),
        (["甲公司", "", "", "", "", "boss", ""], "缺少必填项：区域、联系人、电话"),
    ],
)
def test_rows_that_cannot_be_imported_are_skipped_with_the_reason(
    tmp_path: Path, run: Run, factory: sessionmaker[Session], row: list[str], reason: str
) -> None:
    report = run(sheet(tmp_path, [row]))
    assert [(r.line, r.reason) for r in report.rejected] == [(2, reason)]
    assert report.created == 0 and customers(factory) == []
    assert f"第 2 行：{reason}" in report.summary()


def test_an_invalid_choice_is_rejected_with_the_choices(tmp_path: Path, run: Run) -> None:
    report = run(
        sheet(
            tmp_path,
            [["甲公司", "王经理", "13800000007", "华东", "rep_e1", "五级"]],
            ["名称", "联系人", "电话", "区域", "负责人", "用电负荷等级"],
        )
    )
    assert report.rejected[0].reason.startswith("「用电负荷等级」只能是：一级、二级、三级")


def test_an_owner_name_shared_by_two_people_needs_the_userid(
    tmp_path: Path, run: Run, factory: sessionmaker[Session]
) -> None:
    with factory() as s, s.begin():
        s.add(
            User(
                userid="rep_e3",
                display_userid="rep_e3",
                name="张伟",
                role="rep",
                region="华东",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    report = run(sheet(tmp_path, [["甲公司", "王经理", "13800000007", "", "", "张伟", ""]]))
    assert "请写账号" in report.rejected[0].reason


# --- matching ------------------------------------------------------------------------------------------

BASE = ["华东精密机械有限公司", "王经理", "13800000007", "", "华东", "rep_e1", ""]


@pytest.mark.parametrize(
    ("row", "matches"),
    [
        (
            ["华东 精密机械（有限公司）", "王经理", "13800000007", "", "", "rep_e1", ""],
            True,
        ),  # spaces, brackets
        (["华东精密机械股份有限公司", "王经理", "", "", "", "", ""], True),  # another legal-form suffix
        (["ＨＤ华东精密", "王经理", "+86 138-0000-0007", "", "", "", ""], True),  # other name, same phone
        (["华东精密机械", "王经理", "0086 13800000007", "", "", "rep_e2", ""], True),
        (
            ["华东精密机械集团有限公司", "王经理", "13900000009", "", "", "rep_e1", ""],
            False,
        ),  # a group ≠ its subsidiary
        (["华东精密", "王经理", "13900000009", "", "", "rep_e1", ""], False),
    ],
)
def test_matching_by_normalised_name_or_phone(
    tmp_path: Path, run: Run, factory: sessionmaker[Session], row: list[str], matches: bool
) -> None:
    run(sheet(tmp_path, [BASE], name="a.csv"))
    report = run(sheet(tmp_path, [row], name="b.csv"))
    assert (report.created, report.updated + report.unchanged) == ((0, 1) if matches else (1, 0))
    assert len(customers(factory)) == (1 if matches else 2)
    assert customers(factory)[0].owner_userid == "rep_e1"  # the owner is kept (blanks only are filled)


def test_update_fills_blanks_and_overwrite_replaces(
    tmp_path: Path, run: Run, factory: sessionmaker[Session]
) -> None:
    run(sheet(tmp_path, [BASE], name="a.csv"))
    changed = ["华东精密机械", "刘总", "13800000007", "机械", "华南", "rep_s1", "苏州"]
    report = run(sheet(tmp_path, [changed], name="b.csv"))
    assert (report.updated, report.unchanged) == (1, 0)
    (c,) = customers(factory)
    assert (c.name, c.contact, c.industry, c.region, c.owner_userid, c.address) == (
        "华东精密机械有限公司",
        "王经理",
        "机械",
        "华东",
        "rep_e1",
        "苏州",
    )
    report = run(sheet(tmp_path, [changed], name="b.csv"), overwrite=True)
    assert report.updated == 1
    (c,) = customers(factory)
    assert (c.name, c.contact, c.region, c.owner_userid) == ("华东精密机械", "刘总", "华南", "rep_s1")
    assert run(sheet(tmp_path, [changed], name="b.csv"), overwrite=True).unchanged == 1
    with factory() as s:
        updates = list(
            s.scalars(select(AuditEntry).where(AuditEntry.action == "update").order_by(AuditEntry.id))
        )
    assert len(updates) == 2
    assert updates[0].changes == {"industry": [None, "机械"], "address": [None, "苏州"]}
    assert updates[1].changes["owner_userid"] == ["rep_e1", "rep_s1"]


def test_two_rows_of_one_file_for_the_same_customer_become_one(
    tmp_path: Path, run: Run, factory: sessionmaker[Session]
) -> None:
    report = run(
        sheet(
            tmp_path,
            [
                ["华东精密机械有限公司", "王经理", "13800000007", "", "", "rep_e1", ""],
                ["华东 精密机械", "刘总", "138 0000 0007", "机械", "", "rep_e1", "苏州"],
                ["别名公司", "", "+8613800000007", "", "", "", "苏州工业园"],
            ],
        ),
        overwrite=True,
    )
    assert (report.created, report.merged) == (1, 2)
    (c,) = customers(factory)
    # The first row wins; later rows only fill its blanks (so that reruns change nothing).
    assert (c.name, c.contact, c.industry, c.address) == ("华东精密机械有限公司", "王经理", "机械", "苏州")


# --- reruns, interruption, dry run ---------------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(
    tmp_path: Path, run: Run, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "客户.xlsx"
    make_sheet(path, 60)
    first = run(path, batch_size=7)
    with factory() as s:
        audit_count = s.scalar(select(func.count()).select_from(AuditEntry))
    for overwrite in (False, True):
        again = run(path, batch_size=7, overwrite=overwrite)
        assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
        assert (again.merged, len(again.rejected)) == (first.merged, len(first.rejected))
    assert len(customers(factory)) == first.created == 55
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_count


def test_an_interrupted_import_can_be_run_again(
    tmp_path: Path, run: Run, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "客户.csv"
    make_sheet(path, 50)
    batches = 0

    def commit_then_crash(session: Session) -> Callable[[], None]:
        def on_batch() -> None:
            nonlocal batches
            session.commit()
            batches += 1
            if batches == 2:
                raise KeyboardInterrupt

        return on_batch

    with factory() as s, pytest.raises(KeyboardInterrupt):
        import_customers(
            s, path=path, config=default_config(), now=NOW, batch_size=10, on_batch=commit_then_crash(s)
        )
    kept = len(customers(factory))
    assert 0 < kept < 45
    report = run(path, batch_size=10)
    assert report.created == 45 - kept and report.unchanged == kept
    assert len(customers(factory)) == 45


def test_dry_run_writes_nothing_but_reports_the_same_numbers(
    tmp_path: Path, run: Run, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "客户.csv"
    make_sheet(path, 40)
    dry = run(path, dry_run=True, batch_size=8)
    assert customers(factory) == []
    assert not rejects_path_for(path).exists()
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert dry.summary().startswith("（试运行，未写入任何数据）")
    real = run(path, batch_size=8)
    assert (dry.created, dry.updated, dry.unchanged, dry.merged) == (
        real.created,
        real.updated,
        real.unchanged,
        real.merged,
    )
    assert [r.reason for r in dry.rejected] == [r.reason for r in real.rejected]


# --- rejects file --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rejects_file_can_be_fixed_and_imported_as_it_is(
    tmp_path: Path, run: Run, factory: sessionmaker[Session], suffix: str
) -> None:
    path = tmp_path / f"张伟的客户{suffix}"
    info = make_sheet(path, 30, duplicates=1, bad=3)
    report = run(path)
    assert report.created == 26 and len(report.rejected) == 3
    rejects = rejects_path_for(path)
    assert report.rejects_path == rejects and rejects.name == f"张伟的客户.rejects{suffix}"
    assert str(rejects) in report.summary()
    headers, rows = read_rows(rejects)
    rows = list(rows)
    assert headers[-2:] == ["原行号", "原因"] and headers[:-2] == read_rows(path)[0]
    assert sorted(r[-1] for r in rows) == sorted(
        ["缺少客户名称", "电话无效：123451", "负责人不存在：nobody2"]
    )
    # 原行号 points back at the row in the clerk's sheet.
    assert {int(r[-2]) for r in rows} == set(info.bad_lines) == {r.line for r in report.rejected}
    original = {i: r for i, r in enumerate(read_rows(path)[1], start=2)}
    for r in rows:
        assert r[:-2] == original[int(r[-2])]
    # The operator fixes two of the rows in the rejects file (原行号/原因 stay) and imports that file.
    for r in rows:
        if not r[0]:
            r[0] = "补上名称有限公司"
        if r[2].startswith("12345"):
            r[2] = "13911112222"
    write_sheet(rejects, rows, headers)
    fixed = run(rejects)
    assert (fixed.created, len(fixed.rejected)) == (2, 1)
    assert fixed.ignored_columns == [c for c in fixed.ignored_columns if c == "备注"]  # 原行号/原因 silently
    # The rows still bad go beside the original name (no .rejects.rejects), and the file the clerk was
    # editing is not overwritten: a timestamped name (Asia/Shanghai time of the import).
    again = fixed.rejects_path
    assert again is not None and again.name == f"张伟的客户.rejects-20261127-1000{suffix}"
    assert not list(tmp_path.glob("*.rejects.rejects*"))
    assert str(again) in fixed.summary() and "没有被覆盖" in fixed.summary()
    assert len(list(read_rows(rejects)[1])) == 3  # the clerk's file is as they saved it
    headers2, rows2 = read_rows(again)
    rows2 = list(rows2)
    assert headers2 == headers and len(rows2) == 1
    nobody = next(r for r in rows if r[5].startswith("nobody"))
    assert rows2[0][-2] == nobody[-2] and rows2[0][-1].startswith("负责人不存在")  # the FIRST sheet's line
    # Fix the last one in the newest rejects file and import that one too.
    rows2[0][5] = "rep_e2"
    write_sheet(again, rows2, headers2)
    last = run(again)
    assert (last.created, last.rejected, last.rejects_path) == (1, [], None)
    assert len(customers(factory)) == 29
    # Importing the original again: the formerly bad rows are still bad, nothing is duplicated, and neither
    # existing rejects file is replaced.
    rerun = run(path)
    assert rerun.created == 0
    assert (
        rerun.rejects_path is not None
        and rerun.rejects_path.name == f"张伟的客户.rejects-20261127-1000-2{suffix}"
    )
    assert len(list(read_rows(rejects)[1])) == 3 and len(list(read_rows(again)[1])) == 1


def test_no_rejects_file_when_every_row_imports(tmp_path: Path, run: Run) -> None:
    path = sheet(tmp_path, [BASE])
    assert run(path).rejects_path is None and not rejects_path_for(path).exists()
    # An earlier rejects file is the clerk's: left alone, and the summary says so.
    earlier = rejects_path_for(path)
    earlier.write_text("old", encoding="utf-8")
    report = run(path)
    assert report.rejects_path is None and earlier.read_text(encoding="utf-8") == "old"
    assert str(earlier) in report.summary() and "仍保留" in report.summary()


# --- the "Done when" ---------------------------------------------------------------------------


def test_done_when_a_messy_1205_row_sheet(tmp_path: Path, run: Run, factory: sessionmaker[Session]) -> None:
    path = tmp_path / "老客户表.xlsx"
    info = make_sheet(path, 1205, duplicates=2, bad=3)
    report = run(path)
    assert (report.created, report.merged, len(report.rejected)) == (1200, 2, 3)
    assert {r.line: r.kind for r in report.rejected} == info.bad_lines
    assert report.skipped_by_reason == {"缺少客户名称": 1, "电话无效": 1, "负责人不存在": 1}
    summary = report.summary()
    for r in report.rejected:
        assert f"第 {r.line} 行：{r.reason}" in summary
    assert "未识别的列（已忽略）：备注" in summary

    again = run(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1200)
    assert len(customers(factory)) == 1200

    # Each imported customer answers its owner (客户 looks customers up through find_customers),
    # not another region's rep.
    with factory() as s:
        users = {u.userid: u for u in s.scalars(select(User))}
        sample = list(s.scalars(select(Customer).order_by(Customer.id).limit(30)))
        assert {c.owner_userid for c in sample} == {"rep_e1", "rep_e2", "rep_s1"}
        for c in sample:
            owner = users[c.owner_userid]
            assert [x.id for x in find_customers(s, user=owner, keyword=c.name)] == [c.id]
            other = users["rep_s1" if owner.region == "华东" else "rep_e1"]
            assert find_customers(s, user=other, keyword=c.name) == []
            supervisor = users["sup_east" if owner.region == "华东" else "sup_south"]
            assert [x.id for x in find_customers(s, user=supervisor, keyword=c.name)] == [c.id]
            assert c.region == owner.region


def test_cli_import_dry_run_and_summary(
    tmp_path: Path,
    db: tuple[str, Engine],
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", db[0])
    monkeypatch.delenv("SALESBOT_CONFIG", raising=False)
    path = tmp_path / "客户.csv"
    make_sheet(path, 25)
    assert main(["customers", "import", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "（试运行，未写入任何数据）共 25 行：新建 20" in out
    assert customers(factory) == []
    assert main(["customers", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "新建 20" in out and f"跳过的行已写入 {rejects_path_for(path)}" in out
    assert len(customers(factory)) == 20
    # Again: the first rejects file is not overwritten, and the output says where the new one is.
    assert main(["customers", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "客户.rejects-" in out and "客户.rejects.csv 没有被覆盖" in out
    with path.with_suffix(".txt").open("w", encoding="utf-8") as fh:
        csv.writer(fh).writerow(["联系人"])
    assert main(["customers", "import", str(path.with_suffix(".txt"))]) == 1
    assert "找不到客户名称列" in capsys.readouterr().err
