"""The command words the router knows, and what each means as an intent."""

from __future__ import annotations

from services.understanding.types import Intent

# Command words (and the aliases the router knows) → what they mean; the router still runs exact commands.
COMMANDS: dict[str, Intent] = {
    "拜访": Intent.VISIT,
    "跟进": Intent.FOLLOWUP,
    "新客户": Intent.NEW_CUSTOMER,
    "客户": Intent.QUERY_CUSTOMER,
    "商机": Intent.NEW_OPPORTUNITY,
    "推进": Intent.ADVANCE,
    "评分": Intent.SCORE,
    "报价": Intent.QUOTE,
    "合同": Intent.CONTRACT,
    "回款": Intent.PAYMENT,
    "输单": Intent.LOST,
    "分配": Intent.REASSIGN,
    "待办": Intent.QUERY_MY_TODO,
    "todo": Intent.QUERY_MY_TODO,
    "帮助": Intent.HELP,
    "菜单": Intent.HELP,
    "help": Intent.HELP,
    "同意": Intent.APPROVE,
    "驳回": Intent.REJECT,
    "日报": Intent.QUERY_TEAM_TODAY,
    "线索": Intent.LEAD,
}
# Commands with no free-form meaning of their own: recognised, so a typo is not taken for another command.
OTHER_COMMANDS = ("撤回", "委托", "完成", "取消")
