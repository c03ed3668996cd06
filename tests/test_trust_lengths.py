"""Issue 16 #10: every text column's limit is checked first by chat, import and configuration.

On PostgreSQL an over-long value aborted the transaction: the user heard 系统暂时出了点问题 and an import lost
its whole batch. Now the user gets the limit in Chinese, a bad import row goes to the rejects file and the rest
of the batch is saved (the tests run on PostgreSQL when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Customer, Opportunity
from services.config import default_config
from services.config_load import ConfigError, load_config
from services.customer_import import import_customers
from tests.approvals_factory import seed_opportunity
from tests.harness import Bot

LONG_NAME = "远" * 130


def _count(bot: Bot, model: type) -> int:
    with bot.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_case10_chat_answers_the_limit_for_an_overlong_name_or_contact(bot: Bot) -> None:
    bot.send_text("rep_e1", f"新客户 {LONG_NAME} 联系人=王经理 电话=13812345678 地址=上海")
    reply = bot.last_text("rep_e1")
    assert "「名称」最多 128 个字（收到 130 个字）" in reply and "例" in reply and "系统" not in reply
    bot.send_text("rep_e1", f"新客户 远大设备 联系人={'王' * 70} 电话=13812345678 地址=上海")
    assert "「联系人」最多 64 个字" in bot.last_text("rep_e1")
    assert _count(bot, Customer) == 0
    seed_opportunity(bot)
    before = _count(bot, Opportunity)
    bot.send_text("rep_e1", f"商机 华东精密 {'扩' * 130} 30万")
    assert "「商机名称」最多 128 个字" in bot.last_text("rep_e1")
    assert _count(bot, Opportunity) == before


def test_case10_an_overlong_import_row_is_rejected_and_the_rest_of_the_batch_saved(
    bot: Bot, tmp_path: Path
) -> None:
    rows = ["客户名称,联系人,联系电话,行业,区域,负责人,地址"]
    rows += [f"客户{i},王经理,1381234567{i},机械,华东,rep_e1,上海" for i in range(4)]
    rows.insert(3, f"{LONG_NAME},王经理,13912345678,机械,华东,rep_e1,上海")
    path = tmp_path / "客户.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with bot.session() as s:
        report = import_customers(s, path=path, config=default_config(), now=bot.clock(), on_batch=s.commit)
        s.commit()
    assert report.created == 4 and [r.line for r in report.rejected] == [4]
    assert "最多 128 个字" in report.rejected[0].reason
    assert report.rejects_path is not None and report.rejects_path.exists()
    assert _count(bot, Customer) == 4


def test_case10_configuration_refuses_a_stage_or_choice_longer_than_its_column(tmp_path: Path) -> None:
    path = tmp_path / "salesbot.yaml"
    path.write_text("stages: [线索分配, 初步接洽, " + "方" * 20 + "]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="最多 16 个字"):
        load_config(path)
    path.write_text(
        "customer_fields:\n  - key: name\n  - key: region\n    kind: choice\n    choices: [华东, "
        + "区" * 70
        + "]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="最多 64 个字"):
        load_config(path)
