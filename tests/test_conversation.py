"""The conversation side of the understanding step, with the engine's results given by the test.

Free-form writes become proposal cards written only on 确认 (once); picks, 修改 and 取消; the dialog's answer is
an answer; typed commands read Chinese punctuation; answers stay in scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from cards.keys import PROPOSAL_CANCEL as CANCEL
from cards.keys import PROPOSAL_CONFIRM as CONFIRM
from cards.keys import PROPOSAL_CONFIRM_ONLY as CONFIRM_WITHOUT_FOLLOWUP
from cards.keys import PROPOSAL_EDIT as EDIT
from cards.keys import CardKey
from models import Customer, Proposal, QuoteStatus, Reminder, Visit
from tests.harness import SHANGHAI, Bot


@dataclass(frozen=True)
class Said:
    """Stands in for the engine's Understanding (same attribute names)."""

    intent: str
    customer_ids: tuple[int, ...] = ()
    contact: str | None = None
    opportunity_ids: tuple[int, ...] = ()
    amount: Decimal | None = None
    when: datetime | None = None
    period: str | None = None
    stage: str | None = None
    person_userid: str | None = None
    quote_id: int | None = None
    region: str | None = None
    text: str = ""
    command_typo: str | None = None
    source: str = "rules"
    confidence: float = 1.0


def teach(bot: Bot, meanings: dict[str, Callable[[], Said]]) -> list[str]:
    """Install an engine that knows `meanings` (anything else is unknown); returns the texts it was asked."""
    asked: list[str] = []

    def engine(
        session: Any, *, user: Any, text: str, now: datetime, tz: Any, config: Any, model: Any = None
    ) -> Said:
        asked.append(text)
        make = meanings.get(text)
        return make() if make else Said("unknown", text=text)

    bot.state.dispatcher.services["understand"] = engine
    return asked


def add_customer(bot: Bot, name: str, owner: str = "rep_e1", region: str = "华东", **kw: Any) -> int:
    now = datetime(2026, 11, 1, tzinfo=SHANGHAI)
    with bot.session() as s, s.begin():
        c = Customer(
            name=name,
            name_norm=name,
            region=region,
            owner_userid=owner,
            custom={},
            complete=True,
            created_at=now,
            updated_at=now,
            **kw,
        )
        s.add(c)
        s.flush()
        return c.id


def count(bot: Bot, model: Any) -> int:
    with bot.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def last_card(bot: Bot, userid: str) -> dict[str, Any]:
    cards = bot.cards(userid)
    assert cards, f"no card for {userid}"
    return cards[-1]


def tap(bot: Bot, userid: str, card: dict[str, Any], action: str) -> None:
    bot.tap(userid, card["task_id"], CardKey(action).pack())


def card_now(bot: Bot, userid: str, task_id: str) -> dict[str, Any]:
    """The card as the user sees it now (updates applied)."""
    return next(c for c in bot.cards(userid) if c.get("task_id") == task_id)


def card_text(card: dict[str, Any]) -> str:
    parts = [card.get("main_title", {}).get("title", ""), card.get("sub_title_text", "")]
    parts += [f"{i['keyname']}:{i['value']}" for i in card.get("horizontal_content_list", [])]
    parts += [b["text"] for b in card.get("button_list", [])]
    return "\n".join(parts)


def test_a_visit_sentence_is_proposed_and_written_once_on_confirm_with_its_followup(bot: Bot) -> None:
    cid = add_customer(bot, "苏州金桥精工机械有限公司", contact="吴工")
    next_wed = datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)
    sentence = "刚从金桥回来，吴工说下周三要看样品"
    teach(
        bot,
        {sentence: lambda: Said("visit", customer_ids=(cid,), when=next_wed, text="吴工说下周三要看样品")},
    )
    bot.send_text("rep_e1", sentence)
    card = last_card(bot, "rep_e1")
    shown = card_text(card)
    assert "记录拜访" in shown and "苏州金桥精工机械有限公司" in shown and "样品" in shown
    assert "12月2日" in shown and "只记拜访" in shown and "确认" in shown and "取消" in shown
    assert count(bot, Visit) == 0 and count(bot, Reminder) == 0  # nothing before 确认

    tap(bot, "rep_e1", card, CONFIRM)
    assert count(bot, Visit) == 1 and count(bot, Reminder) == 1
    with bot.session() as s:
        visit = s.scalars(select(Visit)).one()
        reminder = s.scalars(select(Reminder)).one()
        assert visit.customer_id == cid and "样品" in visit.summary
        assert reminder.due_at.astimezone(SHANGHAI) == next_wed and reminder.customer_id == cid
    assert card_now(bot, "rep_e1", card["task_id"]).get("replace_text") == "已确认"

    tap(bot, "rep_e1", card, CONFIRM)  # a second tap changes nothing
    assert count(bot, Visit) == 1 and count(bot, Reminder) == 1


def test_only_the_visit_cancel_and_another_persons_tap(bot: Bot) -> None:
    cid = add_customer(bot, "南通宏达纺织有限公司")
    when = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    teach(
        bot, {"去了宏达": lambda: Said("visit", customer_ids=(cid,), when=when, text="去了宏达，下周一再去")}
    )
    bot.send_text("rep_e1", "去了宏达")
    first = last_card(bot, "rep_e1")
    tap(bot, "rep_e2", first, CONFIRM)  # not theirs
    assert "不是发给您的" in bot.last_text("rep_e2") and count(bot, Visit) == 0
    tap(bot, "rep_e1", first, CONFIRM_WITHOUT_FOLLOWUP)
    assert count(bot, Visit) == 1 and count(bot, Reminder) == 0

    bot.send_text("rep_e1", "去了宏达")
    second = last_card(bot, "rep_e1")
    tap(bot, "rep_e1", second, CANCEL)
    tap(bot, "rep_e1", second, CONFIRM)  # after 取消, 确认 does nothing
    assert count(bot, Visit) == 1
    with bot.session() as s:
        assert sorted(p.status for p in s.scalars(select(Proposal))) == ["cancelled", "confirmed"]


def test_edit_takes_the_corrected_part_and_proposes_again(bot: Bot) -> None:
    cid = add_customer(bot, "嘉兴永盛化工有限公司")
    friday = datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI)
    thursday = datetime(2026, 12, 3, 15, 0, tzinfo=SHANGHAI)
    teach(
        bot,
        {
            "周五提醒我给永盛打电话": lambda: Said(
                "followup", customer_ids=(cid,), when=friday, text="给永盛打电话"
            ),
            "改到下周四下午3点": lambda: Said("unknown", when=thursday, text=""),
        },
    )
    bot.send_text("rep_e1", "周五提醒我给永盛打电话")
    card = last_card(bot, "rep_e1")
    assert "12月4日" in card_text(card) and "给永盛打电话" in card_text(card)
    tap(bot, "rep_e1", card, EDIT)
    assert "修改后的内容" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "改到下周四下午3点")
    again = last_card(bot, "rep_e1")
    assert (
        again["task_id"] != card["task_id"]
        and "12月3日" in card_text(again)
        and "嘉兴永盛化工有限公司" in card_text(again)
    )
    assert count(bot, Reminder) == 0
    tap(bot, "rep_e1", again, CONFIRM)
    with bot.session() as s:
        reminder = s.scalars(select(Reminder)).one()
        assert reminder.due_at.astimezone(SHANGHAI) == thursday and reminder.title == "给永盛打电话"


def test_confirm_rechecks_scope_at_that_moment(bot: Bot) -> None:
    cid = add_customer(bot, "扬州恒通物流设备有限公司")
    teach(bot, {"恒通拜访完了": lambda: Said("visit", customer_ids=(cid,), text="孙经理说明年再谈")})
    bot.send_text("rep_e1", "恒通拜访完了")
    card = last_card(bot, "rep_e1")
    with bot.session() as s, s.begin():
        s.get_one(Customer, cid).owner_userid = "rep_e2"  # handed over before the tap
    tap(bot, "rep_e1", card, CONFIRM)
    assert count(bot, Visit) == 0 and "没有找到客户" in bot.last_text("rep_e1")
    with bot.session() as s:
        assert s.scalars(select(Proposal)).one().status == "failed"


def test_several_customers_are_a_numbered_pick_then_a_card(bot: Bot) -> None:
    a = add_customer(bot, "华东精密一厂")
    b = add_customer(bot, "华东精密二厂")
    teach(bot, {"华东那边去过了": lambda: Said("visit", customer_ids=(a, b), text="华东那边去过了")})
    bot.send_text("rep_e1", "华东那边去过了")
    listing = bot.last_text("rep_e1")
    assert "1. 华东精密一厂" in listing and "2. 华东精密二厂" in listing
    bot.send_text("rep_e1", "2")
    card = last_card(bot, "rep_e1")
    assert "华东精密二厂" in card_text(card) and count(bot, Visit) == 0


def test_out_of_scope_ids_are_never_proposed(bot: Bot) -> None:
    theirs = add_customer(bot, "东莞粤丰塑胶有限公司", owner="rep_s1", region="华南")
    teach(bot, {"粤丰那边去过了": lambda: Said("visit", customer_ids=(theirs,), text="去过了")})
    bot.send_text("rep_e1", "粤丰那边去过了")
    assert "粤丰" not in bot.last_text("rep_e1") and not bot.cards("rep_e1")


def test_a_dialog_answer_starting_with_a_command_word_is_the_answer(bot: Bot) -> None:
    teach(bot, {})
    bot.send_text("rep_e1", "新客户 苏州精工")
    assert "联系人" in bot.last_text("rep_e1")
    bot.send_text(
        "rep_e1", "客户说找王经理"
    )  # starts with the word 客户 (not the command 客户 …): the answer
    assert "客户" in bot.last_text("rep_e1") and "【" not in bot.last_text("rep_e1")
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) in (0, 1)
    bot.send_text("rep_e1", "待办")  # a bare command word leaves the dialog, and says so
    texts = bot.texts("rep_e1")
    assert any("已退出" in t for t in texts[-2:]) and "待办" in texts[-1]


def test_commands_read_chinese_punctuation(bot: Bot) -> None:
    teach(bot, {})
    cid = add_customer(bot, "南通宏达纺织有限公司")
    add_customer(bot, "苏州金桥精工机械有限公司")
    bot.send_text("rep_e1", "拜访 宏达，陆经理关心交期。")
    bot.send_text("rep_e1", "拜访：金桥精工，吴工确认了图纸，下周送样")
    with bot.session() as s:
        notes = [v.summary for v in s.scalars(select(Visit).order_by(Visit.id))]
    assert notes == ["陆经理关心交期。", "吴工确认了图纸，下周送样"]
    bot.send_text("rep_e1", "跟进 明天 金桥 送样")
    assert "已设置跟进" in bot.last_text("rep_e1")
    with bot.session() as s:
        reminder = s.scalars(select(Reminder)).one()
        assert reminder.title == "送样" and reminder.customer_id != cid
        # 明天 from a Friday: the next working day (issue 14: relative follow-ups land on working days)
        assert reminder.due_at.astimezone(SHANGHAI).date() == (bot.clock.local() + timedelta(days=3)).date()
    bot.send_text("sup_east", "分配 宏达 给 李娜")
    assert "分配给李娜" in bot.texts("sup_east")[-1]


def test_a_mistyped_command_word_is_carried_out_after_one_tap(bot: Bot) -> None:
    teach(bot, {})
    add_customer(bot, "南通宏达纺织有限公司")
    bot.send_text("rep_e1", "拜放 宏达 陆经理关心交期")
    card = last_card(bot, "rep_e1")
    assert "是要记录一次拜访" in card_text(card) and count(bot, Visit) == 0
    tap(bot, "rep_e1", card, CONFIRM)
    assert count(bot, Visit) == 1


def test_text_approval_uses_the_card_authorisation_and_updates_it(bot: Bot) -> None:
    from tests.approvals_factory import seed_opportunity

    teach(bot, {})
    opp = seed_opportunity(bot)
    bot.send_text("rep_e1", f"报价 #{opp} 7万 含安装")
    quote_no = bot.last_text("rep_e1").split("#", 1)[1].split("：", 1)[0]
    bot.send_text("rep_e2", f"同意 #{quote_no}")  # not an approver of it: answered as if it did not exist
    assert bot.last_text("rep_e2").startswith(f"没有等您审批的报价 #{quote_no}")
    bot.send_text("sup_south", f"同意 #{quote_no}")  # not their approval
    assert bot.last_text("sup_south").startswith(f"没有等您审批的报价 #{quote_no}")
    bot.send_text("sup_east", f"驳回 #{quote_no}，价格低于成本线")
    assert "已驳回报价" in bot.last_text("sup_east")
    assert any("价格低于成本线" in c.get("sub_title_text", "") for c in bot.cards("rep_e1"))  # with 重新报价
    approval = next(c for c in bot.cards("sup_east") if "button_list" in c)
    assert card_now(bot, "sup_east", approval["task_id"]).get("replace_text"), "the approver's card is greyed"
    bot.send_text("sup_east", f"同意 #{quote_no}")
    assert bot.last_text("sup_east").startswith(f"没有等您审批的报价 #{quote_no}")


@pytest.mark.parametrize("text", ["在吗", "好的谢谢", "收到"])
def test_small_talk_gets_one_friendly_line(bot: Bot, text: str) -> None:
    teach(bot, {text: lambda: Said("smalltalk")})
    bot.send_text("rep_e1", text)
    reply = bot.last_text("rep_e1")
    assert "\n" not in reply and "没看懂" not in reply


def test_an_unknown_message_gets_a_hint_from_its_own_customer_never_another(bot: Bot) -> None:
    mine = add_customer(bot, "南通宏达纺织有限公司")
    add_customer(bot, "东莞粤丰塑胶有限公司", owner="rep_s1", region="华南")
    teach(bot, {"宏达那个事咋整": lambda: Said("unknown", customer_ids=(mine,))})
    bot.send_text("rep_e1", "宏达那个事咋整")
    hint = bot.last_text("rep_e1")
    assert "南通宏达纺织" in hint and "华东精密" not in hint and "粤丰" not in hint
    bot.send_text("rep_e1", "嗯嗯啊啊")
    assert "华东精密" not in bot.last_text("rep_e1") and "粤丰" not in bot.last_text("rep_e1")


def test_answers_stay_in_scope(bot: Bot) -> None:
    mine = add_customer(
        bot, "苏州金桥精工机械有限公司", contact="吴工", phone="13912340001", address="星湖街88号"
    )
    theirs = add_customer(
        bot, "东莞粤丰塑胶有限公司", owner="rep_s1", region="华南", contact="黄生", phone="13912340006"
    )
    teach(
        bot,
        {
            "吴工电话多少": lambda: Said("query.contact", contact="吴工"),
            "粤丰的电话多少": lambda: Said("query.contact", customer_ids=(theirs,)),
            "金桥地址": lambda: Said("query.customer", customer_ids=(mine,)),
            "我的客户有哪些": lambda: Said("query.my_customers"),
        },
    )
    bot.send_text("rep_e1", "吴工电话多少")
    assert "13912340001" in bot.last_text("rep_e1")
    buttons = [b["text"] for b in last_card(bot, "rep_e1").get("button_list", [])]
    assert "拜访" in buttons and "跟进" in buttons  # the next step, as buttons on that customer
    bot.send_text("rep_e1", "粤丰的电话多少")
    reply = bot.last_text("rep_e1")
    assert "13912340006" not in reply and "黄生" not in reply and "东莞粤丰" not in reply
    bot.send_text("rep_e1", "金桥地址")
    assert "星湖街88号" in bot.last_text("rep_e1") and len(bot.last_text("rep_e1").splitlines()) <= 8
    bot.send_text("rep_e1", "我的客户有哪些")
    assert "苏州金桥精工机械" in bot.last_text("rep_e1") and "粤丰" not in bot.last_text("rep_e1")


def test_a_reject_reason_starting_with_a_command_word_is_the_reason(bot: Bot) -> None:
    from cards.keys import QUOTE_REJECT
    from models import Quote
    from tests.approvals_factory import seed_opportunity

    teach(bot, {})
    opp = seed_opportunity(bot)
    bot.send_text("rep_e1", f"报价 #{opp} 7万 含安装")
    approval = next(c for c in bot.cards("sup_east") if "button_list" in c)
    bot.tap("sup_east", approval["task_id"], CardKey(QUOTE_REJECT).pack())
    assert "理由" in bot.last_text("sup_east")
    # starts with the word 报价, as a sentence (an exact command `报价 商机 金额` would leave the dialog)
    bot.send_text("sup_east", "报价偏高，客户资质也不明")
    with bot.session() as s:
        quote = s.scalars(select(Quote)).one()
        assert quote.status == QuoteStatus.REJECTED and quote.reject_reason == "报价偏高，客户资质也不明"
    assert card_now(bot, "sup_east", approval["task_id"]).get("replace_text")


def test_a_write_the_command_would_refuse_is_answered_at_once_and_nothing_is_kept(bot: Bot) -> None:
    from models import Quote
    from tests.approvals_factory import seed_opportunity

    opp = seed_opportunity(bot)
    teach(bot, {"那个单子再报个价 6万": lambda: Said("quote", opportunity_ids=(opp,), amount=Decimal(60000))})
    bot.send_text("rep_e1", f"报价 #{opp} 7万 含安装")  # one quote already in approval
    bot.send_text("rep_e1", "那个单子再报个价 6万")
    reply = bot.last_text("rep_e1")
    assert "暂时记录不了" in reply and "撤回" in reply and "¥60,000" in reply
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(Quote)) == 1  # the trial run was rolled back
        assert s.scalar(select(func.count()).select_from(Proposal)) == 0
