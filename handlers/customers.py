"""新客户 (with the missing-field dialog), 客户 (360 view), 分配 (handover), and the numbered pick reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cards import customer as customer_cards
from cards.customer import customer_text
from cards.keys import PICK_MORE
from cards.paging import read_more_key
from chat.errors import DomainError
from chat.inbound import Inbound
from chat.replies import Card, Reply, Text, UpdateCard
from chat.router import Ctx, HandlerResult, Router
from handlers.common import (
    PICK_GONE,
    Pick,
    PickData,
    customer_or_pick,
    example,
    handle_pick,
    pick_page,
    usage_error,
)
from handlers.nextsteps import customer_next_steps
from models import Customer, User
from services import cardtasks, roles
from services import customers as customer_service
from services import reassign as reassign_service
from services.customer_fields import clean_value
from services.parsing import split_args

router = Router("customers")


class NewCustomer(StrEnum):
    """The 新客户 dialog: asking for the next missing required field, or whether to go on when the phone
    belongs to another customer (仍然新建)."""

    ASKING = "customer.new"
    PHONE_TAKEN = "customer.phone_dup"


PHONE_DUP = cardtasks.CardKind.CUSTOMER_DUP
GONE_CARD = "这张卡片已失效，没有做任何更改。如需新建，请重新发送「新客户 名称 ...」。"


@dataclass
class PhoneTakenData:
    name: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    phone_of: int = 0  # the customer that has the phone already
    task_id: str = ""

    def draft(self) -> customer_service.Draft:
        return customer_service.Draft.from_data({"name": self.name, "values": self.values})


@dataclass
class NewCustomerData:
    name: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    asking: str = ""  # the field key asked for

    def draft(self) -> customer_service.Draft:
        return customer_service.Draft.from_data({"name": self.name, "values": self.values})


def _ask(ctx: Ctx, draft: customer_service.Draft, problem: str = "") -> Text | None:
    """Store the draft and ask for the next missing required field; None when nothing is missing."""
    missing = customer_service.missing_fields(draft, config=ctx.config)
    if not missing:
        return None
    spec = missing[0]
    ctx.start_dialog(
        NewCustomer.ASKING, NewCustomerData(name=draft.name, values=dict(draft.values), asking=spec.key)
    )
    hint = f"（可选：{'、'.join(spec.choices)}）" if spec.choices else ""
    lead = f"{problem}\n" if problem else ""
    left = f"还需 {len(missing)} 项。" if len(missing) > 1 else ""
    return Text(f"{lead}新客户「{draft.name}」：请发送「{spec.label}」{hint}。{left}发送「取消」放弃。")


def _create(ctx: Ctx, draft: customer_service.Draft) -> Reply:
    customer = customer_service.create_customer(
        ctx.session, config=ctx.config, user=ctx.user, draft=draft, now=ctx.now
    )
    ctx.clear_dialog()
    filled = "信息完整" if customer.complete else "可稍后补充推荐字段"
    return Text(
        f"已创建客户「{customer.name}」（#{customer.id}），负责人：{ctx.user.name}，{filled}。\n"
        f"下一步：拜访 {customer.name} 纪要  或  商机 {customer.name} 名称 金额"
    )


@router.command(
    "新客户",
    help="新建客户，缺少的必填项会逐项询问",
    example=example("新客户"),
    roles=roles.SALES,
)
def new_customer(msg: Inbound, ctx: Ctx) -> Reply:
    if not ctx.args.strip():
        raise usage_error("新客户", "请写上客户名称。")
    draft = customer_service.parse_new_customer(ctx.args, config=ctx.config)
    customer_service.apply_defaults(draft, owner=ctx.user)
    existing = customer_service.find_duplicate(
        ctx.session, user=ctx.user, name=draft.name, phone_norm=draft.values.get("phone")
    )
    if existing is not None:
        return _duplicate(ctx, draft, existing)
    asked = _ask(ctx, draft)
    return asked if asked is not None else _create(ctx, draft)


def _duplicate(ctx: Ctx, draft: customer_service.Draft, existing: Customer) -> Reply:
    """Same name: the customer exists. Same phone, other name: ask, with a way on (仍然新建), keeping the draft."""
    if customer_service.same_name(existing, draft.name):
        ctx.clear_dialog()
        return Text(customer_service.duplicate_message(existing))
    task_id = customer_cards.phone_task_id()
    cardtasks.issue(
        ctx.session, task_id=task_id, kind=PHONE_DUP, ref_id=existing.id, recipient=ctx.userid, now=ctx.now
    )
    ctx.start_dialog(
        NewCustomer.PHONE_TAKEN,
        PhoneTakenData(name=draft.name, values=dict(draft.values), phone_of=existing.id, task_id=task_id),
    )
    return Card(
        customer_cards.phone_taken_card(
            task_id=task_id, new_name=draft.name, existing_name=existing.name, existing_id=existing.id
        )
    )


def _confirm_phone_dup(ctx: Ctx, *, create: bool, task_id: str | None, response_code: str | None) -> Reply:
    dialog = ctx.dialog
    if dialog is None and task_id:
        dialog = ctx.dialogs.get(userid=ctx.userid, now=ctx.now)
    if (
        dialog is None
        or dialog.state != NewCustomer.PHONE_TAKEN
        or (task_id and dialog.data.get("task_id") != task_id)
    ):
        return Text(GONE_CARD)
    names = {f for f in PhoneTakenData.__dataclass_fields__}
    data = PhoneTakenData(**{k: v for k, v in dict(dialog.data).items() if k in names})
    ctx.clear_dialog()
    draft = data.draft()
    if not create:
        reply = Text(f"已取消新建客户「{draft.name}」。")
        outcome = "已取消"
    else:
        customer = customer_service.create_customer(
            ctx.session,
            config=ctx.config,
            user=ctx.user,
            draft=draft,
            now=ctx.now,
            allow_phone_of=data.phone_of or None,
        )
        reply = Text(
            f"已创建客户「{customer.name}」（#{customer.id}），负责人：{ctx.user.name}。\n"
            f"下一步：拜访 {customer.name} 纪要  或  商机 {customer.name} 名称 金额"
        )
        outcome = "已新建"
    if task_id and response_code:
        existing = ctx.session.get(Customer, data.phone_of)
        card = customer_cards.phone_taken_card(
            task_id=task_id,
            new_name=draft.name,
            existing_name=existing.name if existing else "",
            existing_id=data.phone_of,
            replace_text=outcome,
        )
        return UpdateCard(card, response_code, fallback_text=reply.content)
    return reply


@router.text(state=NewCustomer.PHONE_TAKEN, label="新建客户")
def phone_taken_reply(msg: Inbound, ctx: Ctx) -> Reply:
    return _confirm_phone_dup(ctx, create=ctx.args.strip() == "仍然新建", task_id=None, response_code=None)


@router.card(customer_cards.CREATE_ANYWAY)
def tap_create_anyway(msg: Inbound, ctx: Ctx) -> HandlerResult:
    return _phone_dup_tap(msg, ctx, create=True)


@router.card(customer_cards.CREATE_CANCEL)
def tap_create_cancel(msg: Inbound, ctx: Ctx) -> HandlerResult:
    return _phone_dup_tap(msg, ctx, create=False)


def _phone_dup_tap(msg: Inbound, ctx: Ctx, *, create: bool) -> HandlerResult:
    found = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=PHONE_DUP,
        action=ctx.card_key.action if ctx.card_key else "",
        now=ctx.now,
        unknown_text=GONE_CARD,
    )
    if isinstance(found, list):
        return found
    return _confirm_phone_dup(ctx, create=create, task_id=found.task_id, response_code=msg.response_code)


@router.text(state=NewCustomer.ASKING, label="新建客户")
def new_customer_step(msg: Inbound, ctx: Ctx) -> Reply:
    data = ctx.dialog_data(NewCustomerData)
    draft = data.draft()
    spec = next((f for f in ctx.config.customer_fields if f.key == data.asking), None)
    if spec is None:
        ctx.clear_dialog()
        return Text("这个新建客户的对话已失效，请重新发送「新客户 名称 ...」。")
    try:
        draft.values[spec.key] = clean_value(spec, ctx.args)
    except DomainError as exc:
        return Text(f"{exc.message}\n请重新发送「{spec.label}」，或发送「取消」放弃。")
    asked = _ask(ctx, draft)
    if asked is not None:
        return asked
    existing = customer_service.find_duplicate(
        ctx.session, user=ctx.user, name=draft.name, phone_norm=draft.values.get("phone")
    )
    if existing is not None:
        return _duplicate(ctx, draft, existing)
    return _create(ctx, draft)


@router.text(state="pick.*", label="选择")  # every handlers.common.Pick state
def pick(msg: Inbound, ctx: Ctx) -> HandlerResult:
    return handle_pick(msg, ctx)


@router.card(PICK_MORE)
def pick_more(msg: Inbound, ctx: Ctx) -> list[Reply]:
    """更多 under a numbered pick: its next page, while that pick is still the open one."""
    number, token = read_more_key(ctx.card_key.arg if ctx.card_key else "")
    dialog = ctx.dialog
    if not number or dialog is None or dialog.state not in (Pick.CUSTOMER, Pick.OPPORTUNITY):
        return [Text(PICK_GONE)]
    data = ctx.dialog_data(PickData)
    if not token or data.token != token:
        return [Text(PICK_GONE)]
    return pick_page(ctx, dialog.state, data, number)


@router.command(
    "客户",
    help="查看客户360：资料、负责人、商机、最近拜访、下次跟进",
    example=example("客户"),
    read_only=True,
)
def show_customer(msg: Inbound, ctx: Ctx) -> HandlerResult:
    keyword = ctx.args.strip()
    if not keyword:
        raise usage_error("客户", "请写上客户名称中的几个字或客户编号。")
    customer = customer_or_pick(ctx, keyword, then_command="客户")
    if not isinstance(customer, Customer):
        return customer  # which one: the numbered pick (or the did-you-mean card)
    view = customer_text(
        customer_service.customer_360(
            ctx.session, config=ctx.config, user=ctx.user, customer=customer, now=ctx.now
        )
    )
    return [Text(view), customer_next_steps(customer)]


@router.command(
    "分配", help="把客户及其进行中的商机和待办交给另一位销售", example=example("分配"), roles=roles.MANAGERS
)
def reassign(msg: Inbound, ctx: Ctx) -> HandlerResult:
    words = split_args(ctx.args)
    if len(words) >= 3 and words[-2] == "给":  # 分配 恒通 给 张华
        words = [*words[:-2], words[-1]]
    if len(words) < 2:
        raise usage_error("分配", "请写上客户和接手的销售。")
    customer_kw, assignee_kw = " ".join(words[:-1]), words[-1]
    customer = customer_or_pick(ctx, customer_kw, then_command="分配", rest=assignee_kw)
    if not isinstance(customer, Customer):
        return customer  # which one: the numbered pick (or the did-you-mean card)
    new_owner = reassign_service.resolve_assignee(ctx.session, actor=ctx.user, keyword=assignee_kw)
    handover = reassign_service.reassign_customer(
        ctx.session, actor=ctx.user, customer=customer, new_owner=new_owner, now=ctx.now
    )
    old = ctx.session.query(User).filter_by(userid=handover.old_owner).one_or_none()
    old_name = old.name if old else (handover.old_owner or "公海")
    replies: list[Reply] = [
        Text(
            f"已把客户「{customer.name}」从{old_name}分配给{new_owner.name}"
            f"（商机 {len(handover.opportunities)} 个，待办 {len(handover.reminders)} 条一并转交）。"
        ),
        Text(
            handover.summary_for_new_owner(actor_name=ctx.user.name, old_name=old_name), to=new_owner.userid
        ),
        customer_next_steps(customer, to=new_owner.userid),  # the handover's next step, one tap away
    ]
    if old is not None and old.userid not in (ctx.userid, new_owner.userid):
        replies.append(
            Text(
                f"{ctx.user.name}已把客户「{customer.name}」转交给{new_owner.name}负责，相关商机和待办一并转交。",
                to=old.userid,
            )
        )
    return replies
