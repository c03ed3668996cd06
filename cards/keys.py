"""Button keys. A key only *selects an action* from an allowlist; it never authorises anything.

Authorisation comes from the server's record of the card's task_id and the decrypted sender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Every action a button may select: the card builders put these in keys, the routes (`@router.card(...)`) match
# them. A key outside this list is not routed at all.
QUOTE_APPROVE = "quote.approve"
QUOTE_REJECT = "quote.reject"
REMINDER_DONE = "rem.done"
REMINDER_SNOOZE = "rem.snooze"
VISIT_FOLLOWUP = "visit.followup"
# A proposal card (a write understood from free text): 确认, 确认 without the offered follow-up, 修改, 取消.
PROPOSAL_CONFIRM = "prop.ok"
PROPOSAL_CONFIRM_ONLY = "prop.only"
PROPOSAL_EDIT = "prop.edit"
PROPOSAL_CANCEL = "prop.no"
# Issue 14: the next step as a button, reminders moved/cancelled, past dates confirmed, folded pushes.
QUOTE_REQUOTE = "quote.requote"  # 重新报价 on a rejection
REMINDER_CANCEL = "rem.cancel"  # 删除 on a reminder card
REMINDER_YEAR_YES = "rem.year_yes"  # 是 (明年) on a past date
REMINDER_YEAR_CHANGE = "rem.year_change"  # 改日期
ESCALATION_CUSTOMER = "esc.customer"  # 查看客户 on a team escalation
ESCALATION_ASSISTED = "esc.ack"  # 已协助
NEXT_STEP = "next.step"  # 拜访 · 跟进 · 新商机 · 推进 · 评分 (arg "<code>-<id>", handlers/nextsteps.py)
TODO_OPEN = "todo.open"  # 查看待办 on a folded push
TODO_MORE = "todo.more"  # 更多 (arg: the page; every 更多 key is built by cards/paging.py)
PICK_MORE = "pick.more"  # 更多 under a numbered pick (arg: "<page>.<pick token>")
POOL_MORE = "pool.more"  # 更多 under 公海 (arg: "<page>[.<packed keyword>]")
CUSTOMERS_MORE = "customers.more"  # 更多 under the 我的客户 answer (arg: the page)
CUSTOMER_CREATE_ANYWAY = "customer.create_anyway"  # 仍然新建: a new customer whose phone another one has
CUSTOMER_CREATE_CANCEL = "customer.create_cancel"
VISIT_EXPLAIN = "visit.explain"  # 在客户新厂区 / 其他地点，补充说明 on a flagged visit (arg: site|other)
VISIT_REPEAT = "visit.repeat"  # 再记一次: the same visit text again within 10 minutes
LEAD_ACCEPT = "lead.accept"
LEAD_TRANSFER = "lead.transfer"
LEAD_INVALID = "lead.invalid"
LEAD_TRANSFER_OK = "lead.transfer_ok"
LEAD_TRANSFER_NO = "lead.transfer_no"
POOL_FOLLOWUP = "pool.followup"
POOL_EXTEND = "pool.extend"
POOL_RETURN = "pool.return"
POOL_EXTEND_OK = "pool.extend_ok"
POOL_EXTEND_NO = "pool.extend_no"
# The due-day collections card: 已回款 ¥x, 客户承诺日期, 需要开票.
COLLECTION_PAID = "coll.paid"
COLLECTION_PROMISE = "coll.promise"
COLLECTION_INVOICE = "coll.invoice"
ACTIONS = frozenset(
    {
        QUOTE_APPROVE,
        QUOTE_REJECT,
        REMINDER_DONE,
        REMINDER_SNOOZE,
        VISIT_FOLLOWUP,
        PROPOSAL_CONFIRM,
        PROPOSAL_CONFIRM_ONLY,
        PROPOSAL_EDIT,
        PROPOSAL_CANCEL,
        QUOTE_REQUOTE,
        REMINDER_CANCEL,
        REMINDER_YEAR_YES,
        REMINDER_YEAR_CHANGE,
        ESCALATION_CUSTOMER,
        ESCALATION_ASSISTED,
        NEXT_STEP,
        TODO_OPEN,
        TODO_MORE,
        PICK_MORE,
        POOL_MORE,
        CUSTOMERS_MORE,
        CUSTOMER_CREATE_ANYWAY,
        CUSTOMER_CREATE_CANCEL,
        VISIT_EXPLAIN,
        VISIT_REPEAT,
        LEAD_ACCEPT,
        LEAD_TRANSFER,
        LEAD_INVALID,
        LEAD_TRANSFER_OK,
        LEAD_TRANSFER_NO,
        POOL_FOLLOWUP,
        POOL_EXTEND,
        POOL_RETURN,
        POOL_EXTEND_OK,
        POOL_EXTEND_NO,
        COLLECTION_PAID,
        COLLECTION_PROMISE,
        COLLECTION_INVOICE,
    }
)

_PART = re.compile(r"^[0-9A-Za-z_.\-]{1,64}$")


@dataclass(frozen=True)
class CardKey:
    action: str
    arg: str = ""

    def pack(self) -> str:
        return f"v1:{self.action}:{self.arg}" if self.arg else f"v1:{self.action}"

    @staticmethod
    def unpack(raw: str | None) -> CardKey | None:
        """None for anything that is not a well-formed key of ours."""
        if not raw or not raw.startswith("v1:"):
            return None
        parts = raw[3:].split(":")
        if len(parts) > 2 or not all(_PART.match(p) for p in parts):
            return None
        return CardKey(parts[0], parts[1] if len(parts) == 2 else "")


_TASK_ID = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")


def valid_task_id(task_id: str) -> bool:
    """WeCom's rule: [0-9A-Za-z_-@], at most 128 bytes, unique per app."""
    return bool(_TASK_ID.match(task_id))
