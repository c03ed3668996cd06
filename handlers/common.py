"""Helpers shared by the sales handlers: usage messages and the numbered pick for ambiguous names.

    @router.command("客户", ...)
    def show(msg, ctx):
        customer = customer_or_pick(ctx, keyword, then_command="客户", rest="")
        if not isinstance(customer, Customer):
            return customer  # the numbered list (or the did-you-mean card) is the answer

When a name matches several records, `customer_or_pick` stores a "pick.customer" dialog with the candidate ids
and returns the numbered list as the handler's reply; replying with a number returns `Redispatch` of
`then_command` with `#id` in place of the name (`handle_pick`, routed from handlers/customers.py on state
"pick.*"), which chat/handle.py runs through the one dispatcher (`run_command`). No exception steers this: a
DomainError is only ever a user's mistake.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from cards.keys import PICK_MORE
from cards.paging import more_card, page_of
from chat.errors import DomainError, NotFound
from chat.handle import run_command as run_command_or_raise
from chat.inbound import Inbound
from chat.replies import Card, Reply, Text
from chat.router import Ctx, HandlerResult, Redispatch
from handlers.proposing import did_you_mean, guess_customer
from models import Customer, Opportunity
from services.lookup import Ambiguous, resolve_customer, resolve_opportunity, visible_ids

USAGE: dict[str, tuple[str, str]] = {
    "新客户": ("新客户 名称 [字段=值 ...]", "新客户 华东精密 行业=机械 联系人=王经理 电话=13812345678"),
    "客户": ("客户 关键词", "客户 华东精密"),
    "拜访": ("拜访 客户 纪要", "拜访 华东精密 谈了新产线的报价，下周送样"),
    "商机": ("商机 客户 名称 [金额]", "商机 华东精密 二期产线 30万"),
    "推进": ("推进 商机 [阶段]", "推进 二期产线 方案制定"),
    "输单": ("输单 商机 原因", "输单 二期产线 预算取消"),
    "评分": ("评分 商机 项目...", "评分 二期产线 预算明确 决策人已接触"),
    "合同": ("合同 商机 金额 [分期 比例或金额 [回款条件]]", "合同 二期产线 28万 分期 30/60/10"),
    "回款": ("回款 合同或客户 金额", "回款 #3 10万"),
    "回款计划": ("回款计划 #合同 比例或金额 [回款条件]", "回款计划 #3 50/50 签约时/验收时"),
    "交付": ("交付 #合同 发货|安装|验收 [日期]", "交付 #3 发货"),
    "开票": ("开票 #合同 金额 [发票号]", "开票 #3 8.4万 04512345"),
    "承诺": ("承诺 #合同 日期", "承诺 #3 12月20日"),
    "分配": ("分配 客户 销售", "分配 华东精密 李娜"),
}


def usage_text(command: str, problem: str = "") -> str:
    form, example = USAGE[command]
    lead = f"{problem}\n" if problem else ""
    return f"{lead}用法：{form}\n例：{example}"


def usage_error(command: str, problem: str = "") -> DomainError:
    return DomainError(usage_text(command, problem))


def example(command: str) -> str:
    return USAGE[command][1]


Asking = Reply | list[Reply]  # what `customer_or_pick` returns instead of a record: the handler's answer


class Pick(StrEnum):
    """The numbered-pick dialog's states (routed together as "pick.*")."""

    CUSTOMER = "pick.customer"
    OPPORTUNITY = "pick.opportunity"


@dataclass
class PickData:
    ids: list[int] = field(default_factory=list)
    command: str = ""  # re-run on the chosen record: `{command} {prefix}#{id} {rest}`
    rest: str = ""
    prefix: str = ""
    labels: list[str] = field(default_factory=list)  # the numbered lines, for the pages after the first
    token: str = ""  # names this pick in its 更多 keys: a 更多 under an older list finds it gone


PICK_GONE = "这个列表已失效，请重新查询。"


def ask_to_pick(
    ctx: Ctx,
    kind: str,
    choices: list[tuple[int, str]],
    then_command: str,
    rest_args: str = "",
    *,
    prefix: str = "",
) -> list[Reply]:
    """Store a pick dialog and return the first page of the numbered list (更多 shows the next ones, numbered
    on). The reply `N` re-runs `then_command {prefix}#id rest`."""
    state = Pick.CUSTOMER if kind == "customer" else Pick.OPPORTUNITY
    data = PickData(
        ids=[c[0] for c in choices],
        command=then_command,
        rest=rest_args,
        prefix=prefix,
        labels=[label for _, label in choices],
        token=secrets.token_hex(4),
    )
    ctx.start_dialog(state, data)
    return pick_page(ctx, state, data, 1)


def pick_page(ctx: Ctx, state: str, data: PickData, number: int) -> list[Reply]:
    """Page `number` of a numbered pick, showing only the records the sender may see now."""
    customers = state == Pick.CUSTOMER
    what = "客户" if customers else "商机"
    labels = data.labels if len(data.labels) == len(data.ids) else [f"#{i}" for i in data.ids]
    numbered = list(enumerate(zip(data.ids, labels, strict=True), 1))
    page = page_of(numbered, number)
    visible = visible_ids(
        ctx.session, user=ctx.user, customers=customers, ids=[i for _, (i, _) in page.items]
    )
    lines = [f"找到{len(data.ids)}个{what}，请回复编号选择：" if number == 1 else f"（第{number}页）"]
    lines += [f"{n}. {label}" for n, (record, label) in page.items if record in visible]
    lines.append("（发送「取消」放弃）")
    replies: list[Reply] = [Text("\n".join(lines))]
    if more := more_card(page, action=PICK_MORE, what=what, token=data.token, unit="个"):
        replies.append(Card(more))
    return replies


def customer_or_pick(
    ctx: Ctx, keyword: str, *, then_command: str, rest: str = "", prefix: str = ""
) -> Customer | Asking:
    """The one customer `keyword` names, or the reply that asks which: several → a numbered pick (the handler
    returns it; the answer re-dispatches `then_command`). A name found only by the understanding step (pinyin
    `hongda`, initials `jqjg`) is taken as it is; one found only approximately (a typo, `金侨`) is asked on a
    card first ("您是不是要找…", 确认 runs the same command on it). None found: NotFound (the user's mistake)."""
    try:
        return resolve_customer(ctx.session, user=ctx.user, keyword=keyword)
    except Ambiguous as exc:
        return ask_to_pick(ctx, "customer", exc.choices, then_command, rest, prefix=prefix)
    except NotFound:
        guess = guess_customer(ctx, keyword)
        if guess is None:
            raise
        customer, sure = guess
        if sure:
            return customer
        args = f"{prefix}#{customer.id} {rest}".strip()
        return did_you_mean(ctx, keyword=keyword, customer=customer, command=then_command, args=args)


def opportunity_or_pick(
    ctx: Ctx, keyword: str, *, then_command: str, rest: str = "", open_only: bool = False
) -> Opportunity | Asking:
    """The one opportunity `keyword` names, or the numbered pick to return (as `customer_or_pick`)."""
    try:
        return resolve_opportunity(ctx.session, user=ctx.user, keyword=keyword, open_only=open_only)
    except Ambiguous as exc:
        return ask_to_pick(ctx, "opportunity", exc.choices, then_command, rest)


_NUMBER = re.compile(r"^\d{1,3}$")


def handle_pick(msg: Inbound, ctx: Ctx) -> HandlerResult:
    """The reply to a numbered list: re-run the stored command on the chosen record."""
    pick = ctx.dialog_data(PickData)
    ids = [int(i) for i in pick.ids]
    text = ctx.args.strip()
    if not _NUMBER.match(text) or not 1 <= int(text) <= len(ids):
        return Text(f"请回复 1-{len(ids)} 之间的编号；发送「取消」放弃。")
    ctx.clear_dialog()
    chosen = ids[int(text) - 1]
    command, args = pick.command, f"{pick.prefix}#{chosen} {pick.rest}".strip()
    # The pick is used up even when the command then refuses (e.g. a gate): the command runs in its own
    # savepoint (chat/handle.py), which rolls back its effects, not the cleared dialog.
    return Redispatch(command, args)


def run_command(msg: Inbound, ctx: Ctx, *, command: str, args: str) -> HandlerResult:
    """Run a command's own handler as the sender; a refusal is answered (its effects undone), not raised."""
    try:
        return run_command_or_raise(msg, ctx, command=command, args=args)
    except DomainError as exc:
        return Text(exc.message)
