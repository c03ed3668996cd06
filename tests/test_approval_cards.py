"""The approval card builders are pure: check their output against WeCom's rules."""

from __future__ import annotations

from cards.approval import (
    ApprovalCardInfo,
    approval_card,
    decided_card,
    score_text,
    task_id_for,
)
from cards.keys import QUOTE_APPROVE, QUOTE_REJECT, CardKey, valid_task_id

INFO = ApprovalCardInfo(
    quote_id=12,
    customer="华东精密机械有限公司",
    opportunity="数控改造",
    amount="¥80,000",
    requester="张伟",
    note="含安装调试，质保两年，付款方式为三三四，交付周期四十五天以内",
    score="75分 / A",
    step=2,
    steps=3,
    role_label="技术负责人",
)


def test_card_shape() -> None:
    card = approval_card(INFO, task_id=task_id_for(12, 2))
    assert card["card_type"] == "button_interaction"
    assert card["task_id"].startswith("q12s2-") and valid_task_id(card["task_id"])
    assert "2/3" in card["main_title"]["desc"]
    items = {i["keyname"]: i["value"] for i in card["horizontal_content_list"]}
    assert len(card["horizontal_content_list"]) <= 6
    assert (
        items["客户"] == "华东精密机械有限公司" and items["金额"] == "¥80,000" and items["申请人"] == "张伟"
    )
    assert items["评分"] == "75分 / A" and len(items["说明"]) <= 26 and items["说明"].endswith("…")
    buttons = card["button_list"]
    assert [b["text"] for b in buttons] == ["同意", "驳回"]
    assert [CardKey.unpack(b["key"]) for b in buttons] == [CardKey(QUOTE_APPROVE), CardKey(QUOTE_REJECT)]
    assert "replace_text" not in card


def test_decided_variant_is_greyed() -> None:
    card = decided_card(INFO, task_id="q12s2", outcome="已同意")
    assert card["replace_text"] == "已同意"
    assert "已同意" in card["main_title"]["title"]
    assert card["task_id"] == "q12s2"


def test_task_ids_for_copies_are_valid_and_distinct() -> None:
    ids = {task_id_for(1, 1), task_id_for(1, 1, "r1"), task_id_for(1, 1, "d3"), task_id_for(1, 2)}
    assert len(ids) == 4 and all(valid_task_id(t) for t in ids)


def test_score_text_says_unscored_instead_of_zero_c() -> None:
    assert score_text(0, "C", []) == "未评分"
    assert score_text(0, "C", None) == "未评分"
    assert score_text(75, "A", ["预算明确"]) == "75分 / A"
    assert score_text(40, "B", []) == "40分 / B"
