"""`salesbot org import` as an administrator runs it: Chinese headers, rejects with reasons, re-import in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.cli import main
from models import User

ORG = """账号,姓名,角色,区域,上级
Boss,王总,总经理,,
sup_east,陈主管,销售主管,华东,boss
rep_e1,张伟,销售,华东,陈主管
bad1,坏角色,销售员,华东,sup_east
bad2,无上级,销售,华东,nobody
rep_e1,重复,销售,华东,sup_east
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'org.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_org_import_reports_in_chinese_by_line_and_reimports_in_place(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "org.csv").write_text(ORG, encoding="utf-8")
    assert main(["org", "import", "org.csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "新建 3 人，更新 0 人，未变 0 人，拒绝 3 行"
    assert out[1].startswith("  第 5 行 bad1：未知角色「销售员」（可用：销售、销售主管")
    assert out[2] == "  第 6 行 bad2：找不到上级「nobody」（填上级的账号或姓名）"
    assert out[3] == "  第 7 行 rep_e1：账号重复（第 4 行已有）"
    with Session(create_engine(env)) as s:
        rep = s.scalars(select(User).where(User.userid == "rep_e1")).one()
        assert (rep.name, rep.manager_userid) == ("张伟", "sup_east")  # manager given by name
        assert s.scalars(select(User).where(User.userid == "boss")).one().display_userid == "Boss"

    assert main(["org", "import", "org.csv"]) == 0
    assert capsys.readouterr().out.startswith("新建 0 人，更新 0 人，未变 3 人，拒绝 3 行")


def test_org_import_bad_file_is_one_chinese_line(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["org", "import", "nope.csv"]) == 1
    assert capsys.readouterr().err.strip() == "组织架构导入失败：找不到文件 nope.csv"
    (tmp_path / "h.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["org", "import", "h.csv"]) == 1
    assert "缺少列：name、role、userid" in capsys.readouterr().err


def test_people_under_a_rejected_manager_are_rejected_too(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 陈主管's own row is bad (unknown role); 张伟 names him by userid, 李娜 by name, and 小刘 sits under 张伟.
    # 王总 exists already from an earlier import: a bad row for him now does not orphan anybody.
    (tmp_path / "first.csv").write_text("账号,姓名,角色,区域,上级\nboss,王总,总经理,,\n", encoding="utf-8")
    assert main(["org", "import", "first.csv"]) == 0
    capsys.readouterr()
    (tmp_path / "org.csv").write_text(
        "账号,姓名,角色,区域,上级\n"
        "rep_e1,张伟,销售,华东,sup_east\n"
        "sup_east,陈主管,主管,华东,boss\n"
        "rep_e2,李娜,销售,华东,陈主管\n"
        "rep_e3,小刘,销售,华东,rep_e1\n"
        "boss,王总,老板,,\n"
        "sup_south,黄主管,销售主管,华南,boss\n",
        encoding="utf-8",
    )
    assert main(["org", "import", "org.csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "新建 1 人，更新 0 人，未变 0 人，拒绝 5 行"
    assert (
        out[1]
        == "  第 2 行 rep_e1：上级「sup_east」（第 3 行）未导入，本行也未导入；请先改正第 3 行，再重新导入"
    )
    assert out[2].startswith("  第 3 行 sup_east：未知角色「主管」")
    assert (
        out[3]
        == "  第 4 行 rep_e2：上级「陈主管」（第 3 行）未导入，本行也未导入；请先改正第 3 行，再重新导入"
    )
    assert (
        out[4]
        == "  第 5 行 rep_e3：上级「rep_e1」（第 2 行）未导入，本行也未导入；请先改正第 2 行，再重新导入"
    )
    assert out[5].startswith("  第 6 行 boss：未知角色「老板」")
    with Session(create_engine(env)) as s:
        users = {u.userid: u.manager_userid for u in s.scalars(select(User))}
    assert users == {"boss": None, "sup_south": "boss"}
    for manager in users.values():
        assert manager is None or manager in users  # nobody points at a user who does not exist
