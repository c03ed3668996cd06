"""The business configuration: product defaults, deep merge, and errors that name the line."""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.config import BUILTIN_FIELDS, BusinessConfig, default_config
from services.config_load import ConfigError, check_config_file, load_config

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "salesbot.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return info.value


def assert_error(err: ConfigError, line: int, *fragments: str) -> None:
    message = str(err)
    assert re.search(rf"salesbot\.yaml:{line}: ", message), message
    first = next(text for ln, text in err.problems if ln == line)
    for fragment in fragments:
        assert fragment in first, message


# --- defaults ----------------------------------------------------------------------------------------------


def test_defaults_are_the_product_specification() -> None:
    cfg = load_config(None)
    assert cfg == BusinessConfig() == default_config()

    assert cfg.stages == ["线索分配", "初步接洽", "方案制定", "报价审批", "合同签署", "实施交付"]
    assert cfg.lost_stage == "输单"
    assert cfg.gates == {
        "方案制定": ["visit"],
        "报价审批": ["quote_request"],
        "合同签署": ["approved_quote"],
        "实施交付": ["signed_contract"],
    }
    assert cfg.gates_for("线索分配") == []
    assert cfg.next_stage("报价审批") == "合同签署"
    assert cfg.next_stage("实施交付") is None

    fields = {f.key: (f.label, f.kind, f.required, f.choices) for f in cfg.customer_fields}
    assert fields == {
        "name": ("名称", "text", "required", None),
        "industry": ("行业", "text", "recommended", None),
        "region": ("区域", "text", "required", None),
        "contact": ("联系人", "text", "required", None),
        "phone": ("电话", "phone", "required", None),
        "address": ("地址", "text", "recommended", None),
        "power_load_grade": ("用电负荷等级", "choice", "recommended", ["一级", "二级", "三级"]),
        "past_models": ("历史合作机型", "text", "optional", None),
    }
    assert [f.label for f in cfg.required_fields()] == ["名称", "区域", "联系人", "电话"]
    assert [f.label for f in cfg.completeness_fields()] == [
        "名称",
        "行业",
        "区域",
        "联系人",
        "电话",
        "地址",
        "用电负荷等级",
    ]
    assert [f.label for f in cfg.custom_fields()] == ["用电负荷等级", "历史合作机型"]

    assert [(s.item, s.weight) for s in cfg.score_card] == [
        ("预算明确", 40),
        ("决策人已接触", 35),
        ("竞品未介入", 25),
    ]
    assert (cfg.priority_thresholds.A, cfg.priority_thresholds.B) == (70, 40)

    assert [(r.max_amount, r.chain) for r in cfg.approval.rules] == [
        (Decimal(50000), ["supervisor"]),
        (None, ["supervisor", "tech_lead", "finance"]),
    ]
    a = cfg.approval
    assert (a.remind_after_hours, a.escalate_after_hours, a.max_reminders, a.holidays) == (24, 48, 3, [])
    assert (cfg.reminders.escalate_after_hours, cfg.reminders.default_time) == (24, time(9, 0))

    s = cfg.segments
    assert (s.star.min_contracts, s.star.window_days, s.star.min_total) == (3, 365, Decimal(200000))
    assert (s.growth.window_days, s.growth.ratio, s.dormant.days) == (180, 1.5, 180)
    assert s.order == ["休眠", "明星", "成长", "稳定"]

    d = cfg.digest
    assert (d.time, d.jitter_minutes, d.catch_up_until, d.timezone) == (
        time(8, 30),
        7,
        time(12, 0),
        None,  # deprecated: the zone is SALESBOT_TIMEZONE (the example file no longer sets it)
    )
    assert d.send_time == time(8, 37)
    assert (cfg.visits.media_window_minutes, cfg.visits.anomaly_distance_km) == (30, 2.0)
    assert cfg.dialog_ttl_minutes == 30


def test_the_model_is_frozen() -> None:
    with pytest.raises(ValidationError):
        default_config().dialog_ttl_minutes = 5  # type: ignore[misc]


def test_field_lookup_by_label_or_key() -> None:
    cfg = default_config()
    assert cfg.field_by_label_or_key("电话").key == "phone"  # type: ignore[union-attr]
    assert cfg.field_by_label_or_key("phone").label == "电话"  # type: ignore[union-attr]
    assert cfg.field_by_label_or_key(" 用电负荷等级 ").kind == "choice"  # type: ignore[union-attr]
    assert cfg.field_by_label_or_key("传真") is None


# --- approval routing and the score card -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "chain"),
    [
        (Decimal("0"), ["supervisor"]),
        (Decimal("49999.99"), ["supervisor"]),
        (Decimal("50000"), ["supervisor"]),
        (Decimal("50000.00"), ["supervisor"]),
        (Decimal("50000.01"), ["supervisor", "tech_lead", "finance"]),
        (Decimal("1200000"), ["supervisor", "tech_lead", "finance"]),
    ],
)
def test_chain_for_edges(amount: Decimal, chain: list[str]) -> None:
    assert default_config().chain_for(amount) == chain


def test_chain_for_rejects_negative_amounts() -> None:
    with pytest.raises(ValueError):
        default_config().chain_for(Decimal("-1"))


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], (0, "C")),
        (["竞品未介入"], (25, "C")),
        (["决策人已接触"], (35, "C")),
        (["预算明确"], (40, "B")),
        (["决策人已接触", "竞品未介入"], (60, "B")),
        (["预算明确", "竞品未介入"], (65, "B")),
        (["预算明确", "决策人已接触"], (75, "A")),
        (["预算明确", "决策人已接触", "竞品未介入"], (100, "A")),
        (["预算明确", "预算明确"], (40, "B")),
    ],
)
def test_score_thresholds(items: list[str], expected: tuple[int, str]) -> None:
    assert default_config().score(items) == expected


def test_score_threshold_boundaries(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path, "score_card:\n  - {item: 甲, weight: 70}\n  - {item: 乙, weight: 40}\n")
    )
    assert cfg.score(["甲"]) == (70, "A")
    assert cfg.score(["乙"]) == (40, "B")
    assert cfg.priority_for(69) == "B"
    assert cfg.priority_for(39) == "C"


def test_score_unknown_item_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as info:
        default_config().score(["预算明确", "关系很好"])
    message = str(info.value)
    assert "关系很好" in message
    for item in ("预算明确", "决策人已接触", "竞品未介入"):
        assert item in message


def test_working_days() -> None:
    cfg = BusinessConfig.model_validate(
        {"approval": {"holidays": [date(2025, 10, 1)], "extra_workdays": [date(2025, 9, 28)]}}
    )
    assert cfg.approval.is_working_day(date(2025, 9, 30))  # Tuesday
    assert not cfg.approval.is_working_day(date(2025, 10, 1))  # holiday
    assert not cfg.approval.is_working_day(date(2025, 10, 4))  # Saturday
    assert cfg.approval.is_working_day(date(2025, 9, 28))  # Sunday worked in lieu


# --- loading and merging -----------------------------------------------------------------------------------


def test_overriding_one_value_keeps_the_others(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "digest:\n  jitter_minutes: 11\n"))
    assert cfg.digest.jitter_minutes == 11
    assert cfg.digest.send_time == time(8, 41)
    assert cfg.digest.time == time(8, 30)
    assert cfg.digest.catch_up_until == time(12, 0)
    assert cfg.model_dump(exclude={"digest"}) == default_config().model_dump(exclude={"digest"})


def test_nested_override_and_friendly_values(tmp_path: Path) -> None:
    text = """\
segments:
  star:
    min_total: 30万
approval:
  rules:
    - max_amount: "¥80,000"
      chain: [销售主管]
    - chain: [supervisor, 财务经理, director]
  holidays: [2025-10-01]
reminders:
  default_time: 8:00
"""
    cfg = load_config(write(tmp_path, text))
    assert cfg.segments.star.min_total == Decimal(300000)
    assert cfg.segments.star.min_contracts == 3
    assert cfg.chain_for(Decimal(80000)) == ["supervisor"]
    assert cfg.chain_for(Decimal("80000.01")) == ["supervisor", "finance", "director"]
    assert cfg.approval.holidays == [date(2025, 10, 1)]
    assert cfg.approval.escalate_after_hours == 48
    assert cfg.reminders.default_time == time(8, 0)  # not YAML 1.1's base-60 number 480


def test_custom_fields_and_requirement_changes(tmp_path: Path) -> None:
    text = """\
customer_fields:
  - key: name
  - key: industry
    required: optional
  - key: region
  - key: contact
  - key: phone
    required: 推荐
  - key: address
  - label: 年产能
    required: 必填
"""
    cfg = load_config(write(tmp_path, text))
    assert cfg.field_by_label_or_key("行业").required == "optional"  # type: ignore[union-attr]
    assert cfg.field_by_label_or_key("phone").required == "recommended"  # type: ignore[union-attr]
    assert cfg.field_by_label_or_key("phone").kind == "phone"  # type: ignore[union-attr]
    assert cfg.field_by_label_or_key("年产能").key == "年产能"  # type: ignore[union-attr]
    assert [f.label for f in cfg.required_fields()] == ["名称", "区域", "联系人", "年产能"]


def test_renaming_stages_drops_the_default_gates_of_missing_stages(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path, "stages: [接洽, 方案制定, 报价审批, 签约]\ngates:\n  签约: [approved_quote]\n")
    )
    assert cfg.gates == {"方案制定": ["visit"], "报价审批": ["quote_request"], "签约": ["approved_quote"]}


def test_empty_file_and_empty_sections_give_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "# nothing yet\n")) == default_config()
    assert load_config(write(tmp_path, "digest:\napproval:\n  holidays:\n")) == default_config()


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "salesbot.yaml"
    path.write_bytes("\ufeffdialog_ttl_minutes: 20\n".encode())
    assert load_config(path).dialog_ttl_minutes == 20


def test_example_file_loads_and_equals_the_defaults() -> None:
    example = REPO / "salesbot.example.yaml"
    assert load_config(example) == default_config()
    summary = check_config_file(example, zone="Asia/Shanghai")
    assert summary.startswith("配置有效")
    assert "6 个阶段" in summary and "8 个客户字段" in summary


def test_example_file_shows_every_section() -> None:
    text = (REPO / "salesbot.example.yaml").read_text(encoding="utf-8")
    for key in BusinessConfig.model_fields:
        assert re.search(rf"^{key}:", text, re.M), key
    for label in ("用电负荷等级", "历史合作机型"):
        assert label in text


# --- errors name the line ----------------------------------------------------------------------------------


def test_unknown_key(tmp_path: Path) -> None:
    err = error_of(tmp_path, "stages: [a, b]\ndigest:\n  time: '08:20'\n  jiter_minutes: 7\n")
    assert_error(
        err, 4, "digest.jiter_minutes", "未知的配置项「jiter_minutes」", "是不是「jitter_minutes」？"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    err = error_of(tmp_path, "# comment\n\nreminder:\n  default_time: '09:00'\n")
    assert_error(err, 3, "未知的配置项「reminder」", "reminders")


def test_unknown_role(tmp_path: Path) -> None:
    text = """\
# approval routing
approval:
  rules:
    - max_amount: 50000
      chain: [supervisor]
    - chain:
        - boss
        - finance
"""
    err = error_of(tmp_path, text)
    assert_error(
        err,
        7,
        "approval.rules[1].chain[0]",
        "未知角色「boss」",
        "supervisor 销售主管、tech_lead 技术负责人、finance 财务经理、director 总经理",
    )
    assert str(err) == (
        f"{tmp_path / 'salesbot.yaml'}:7: approval.rules[1].chain[0]: 未知角色「boss」"
        "（可选：supervisor 销售主管、tech_lead 技术负责人、finance 财务经理、director 总经理）"
    )


def test_unknown_stage_in_a_gate(tmp_path: Path) -> None:
    err = error_of(tmp_path, "gates:\n  方案制定: [visit]\n  签约: [signed_contract]\n")
    assert_error(err, 3, "gates.签约", "未知阶段「签约」", "线索分配")


def test_unknown_gate(tmp_path: Path) -> None:
    err = error_of(tmp_path, "gates:\n  方案制定:\n    - visits\n")
    assert_error(err, 3, "gates.方案制定[0]", "未知的关卡「visits」", "quote_request")


def test_bad_type(tmp_path: Path) -> None:
    err = error_of(tmp_path, "visits:\n  media_window_minutes: 30\n  anomaly_distance_km: far\n")
    assert_error(err, 3, "visits.anomaly_distance_km", "应填数字", "「far」")
    err = error_of(tmp_path, "dialog_ttl_minutes: half an hour\n")
    assert_error(err, 1, "dialog_ttl_minutes", "应填整数", "「half an hour」")
    err = error_of(tmp_path, "stages: 线索分配\n")
    assert_error(err, 1, "stages", "应填列表")
    err = error_of(tmp_path, "\nreminders:\n  default_time: '25:00'\n")
    assert_error(err, 3, "reminders.default_time", "例如 08:30")


def test_duplicate_label(tmp_path: Path) -> None:
    text = """\
customer_fields:
  - key: name
  - key: industry
  - key: region
  - key: contact
  - key: phone
  - key: address
  - key: mobile
    label: 电话
    kind: phone
"""
    err = error_of(tmp_path, text)
    assert_error(err, 9, "customer_fields[6].label", "字段名称「电话」重复了", "customer_fields[4]")


def test_removing_a_built_in_field(tmp_path: Path) -> None:
    text = """\
dialog_ttl_minutes: 30
customer_fields:
  - key: name
  - key: industry
  - key: region
  - key: contact
  - key: address
"""
    err = error_of(tmp_path, text)
    assert_error(err, 2, "customer_fields", "内置字段「phone」", "不能删除")


def test_changing_a_built_in_label(tmp_path: Path) -> None:
    text = "customer_fields:\n" + "".join(f"  - key: {key}\n" for key in BUILTIN_FIELDS)
    text = text.replace("  - key: region\n", "  - key: region\n    label: 片区\n")
    err = error_of(tmp_path, text)
    assert_error(err, 5, "customer_fields[2].label", "「区域」", "不能修改")


def test_choice_field_needs_choices(tmp_path: Path) -> None:
    text = "customer_fields:\n" + "".join(f"  - key: {key}\n" for key in BUILTIN_FIELDS)
    text += "  - label: 等级\n    kind: choice\n"
    err = error_of(tmp_path, text)
    assert_error(err, 8, "customer_fields[6].choices", "需要填写 choices")


@pytest.mark.parametrize(
    ("text", "line", "at"),
    [
        ("digest:\n  jitter_minutes: 0\n", 2, "08:30"),
        ("digest:\n  time: '08:30'\n  jitter_minutes: 30\n", 3, "09:00"),
        # Only `time` is in the file: the line of `time` is the one to fix.
        ("\ndigest:\n  time: '08:53'\n", 3, "09:00"),
    ],
)
def test_jitter_on_the_hour_or_half_hour(tmp_path: Path, text: str, line: int, at: str) -> None:
    err = error_of(tmp_path, text)
    assert_error(err, line, "digest.jitter_minutes", at, "整点或半点")


def test_yaml_syntax_error(tmp_path: Path) -> None:
    err = error_of(tmp_path, "digest:\n  time: '08:30'\n jitter_minutes: 7\n")
    assert err.line == 3
    assert "YAML 格式错误" in str(err) and ":3: " in str(err)
    assert "缩进没有对齐" in str(err)


def test_tab_indentation(tmp_path: Path) -> None:
    err = error_of(tmp_path, "digest:\n\ttime: '08:30'\n")
    assert err.line == 2
    assert "制表符" in str(err) and "空格" in str(err)


def test_key_given_twice(tmp_path: Path) -> None:
    err = error_of(tmp_path, "digest:\n  jitter_minutes: 7\n  jitter_minutes: 9\n")
    assert_error(err, 3, "digest.jitter_minutes", "写了两次", "第 2 行")


def test_approval_rules_must_be_ordered_and_end_open(tmp_path: Path) -> None:
    err = error_of(
        tmp_path,
        "approval:\n  rules:\n    - {max_amount: 50000, chain: [supervisor]}\n"
        "    - {max_amount: 20000, chain: [finance]}\n    - chain: [director]\n",
    )
    assert_error(err, 4, "approval.rules[1].max_amount", "从小到大")
    err = error_of(tmp_path, "approval:\n  rules:\n    - max_amount: 50000\n      chain: [supervisor]\n")
    assert_error(err, 3, "approval.rules[0].max_amount", "最后一条规则")


def test_priority_a_must_be_reachable(tmp_path: Path) -> None:
    err = error_of(tmp_path, "dialog_ttl_minutes: 30\npriority_thresholds:\n  A: 101\n")
    assert_error(err, 2, "score_card", "加起来是 100", "101")
    err = error_of(tmp_path, "score_card:\n  - item: 预算明确\n    weight: 60\n")
    assert_error(err, 1, "score_card", "加起来是 60")


def test_escalation_after_reminder(tmp_path: Path) -> None:
    err = error_of(tmp_path, "approval:\n  remind_after_hours: 24\n  escalate_after_hours: 24\n")
    assert_error(err, 3, "approval.escalate_after_hours", "必须大于 remind_after_hours")
    # Only the reminder is in the file: its line is the one reported.
    err = error_of(tmp_path, "approval:\n  remind_after_hours: 60\n")
    assert_error(err, 2, "approval.escalate_after_hours", "必须大于 remind_after_hours（60）")


def test_several_problems_are_all_reported_in_line_order(tmp_path: Path) -> None:
    err = error_of(tmp_path, "visits:\n  media_window_minutes: -1\ndialog_ttl_minutes: x\n")
    assert [line for line, _ in err.problems] == [2, 3]


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    assert_error(error_of(tmp_path, "- digest\n"), 1, "键: 值")
    with pytest.raises(ConfigError, match="找不到这个文件"):
        load_config(tmp_path / "nope.yaml")


def test_check_config_file(tmp_path: Path) -> None:
    summary = check_config_file(
        write(tmp_path, "approval:\n  holidays: [2025-10-01, 2025-10-02]\n"), zone="Asia/Shanghai"
    )
    assert summary.startswith("配置有效")
    assert "2 个节假日" in summary
    with pytest.raises(ConfigError):
        check_config_file(write(tmp_path, "digest: [\n"), zone="Asia/Shanghai")


# --- every problem is plain Chinese ------------------------------------------------------------------------

_CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    ("text", "line", "fragments"),
    [
        ("stagez: [a, b]\n", 1, ("未知的配置项「stagez」，是不是「stages」？",)),
        (
            "approval:\n  rules:\n    - max_amount: 5万\n    - {}\n",
            4,
            ("approval.rules[1].chain", "缺少必填项"),
        ),
        (
            "customer_fields:\n  - key: name\n    kind: 数字\n",
            3,
            ("kind", "不能填「数字」", "text、phone、choice"),
        ),
        ("customer_fields:\n  - key: name\n    label: [名称]\n", 3, ("label", "应填文字")),
        ("approval:\n  holidays: 国庆\n", 2, ("approval.holidays", "应填列表")),
        ("approval:\n  holidays: [十月一日]\n", 2, ("approval.holidays[0]", "应填日期", "2025-10-01")),
        ("digest:\n  jitter_minutes: 90\n", 2, ("digest.jitter_minutes", "不能大于 59", "「90」")),
        ("approval:\n  max_reminders: -1\n", 2, ("不能小于 0",)),
        ("digest:\n  timezone: Mars/Base\n", 2, ("未知的时区「Mars/Base」",)),
        ("approval: [a]\n", 1, ("应填一个分节",)),
        ("stages:\n  - 线索分配\n  - 线索分配\n", 3, ("阶段「线索分配」出现了两次",)),
        ("stages: [线索 分配]\n", 1, ("不能有空格",)),
        ('a: "open\n', 2, ("YAML 格式错误", "引号")),
        ("stages: [a, b\ndigest: x\n", 2, ("YAML 格式错误", "方括号")),
        ("digest: time: 08:30\n", 1, ("YAML 格式错误", "冒号")),
    ],
)
def test_problems_are_in_chinese(tmp_path: Path, text: str, line: int, fragments: tuple[str, ...]) -> None:
    err = error_of(tmp_path, text)
    assert_error(err, line, *fragments)
    for _, problem in err.problems:
        # Chinese words, and no leftover English sentence from pydantic or PyYAML.
        assert _CJK.search(problem), problem
        assert not re.search(r"\b(expected|got|unknown|must|field|input|while|found)\b", problem), problem


def test_unreadable_file_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "salesbot.yaml"
    path.write_bytes("digest:\n  time: 08:30\n".encode("gbk") + "# 注释\n".encode("gbk"))
    err = error_of_path(path)
    assert err.line == 3 and "UTF-8" in str(err) and "另存为" in str(err)
    err = error_of_path(tmp_path)
    assert "文件夹" in str(err)


def error_of_path(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value
