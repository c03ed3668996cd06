"""From an `Ask` that would change data to the command line a 确认 will run, and the words the card shows.

Read-only: it resolves the records the engine found (again within the sender's scope), picks the one record a
write needs or says that a pick or a detail is missing. The write itself is the command's own handler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards.proposal import ProposalView
from models import Contract, Customer, Opportunity, Quote, User
from services import lead_sentence, receipts
from services.asks import Ask
from services.config import BusinessConfig
from services.lookup import Ambiguous
from services.parsing import format_amount, format_when
from services.proposals import Draft
from services.scope import Scope


@dataclass(frozen=True)
class Proposed:
    draft: Draft
    view: ProposalView


@dataclass(frozen=True)
class NeedPick:
    kind: str  # customer | opportunity | contract
    choices: list[tuple[int, str]]


@dataclass(frozen=True)
class NeedMore:
    message: str


Outcome = Proposed | NeedPick | NeedMore

_NO_CUSTOMER = "没看出是哪个客户（或不在您负责的范围内）。请带上客户名称再说一次，例如：{example}"
_NO_OPPORTUNITY = "没看出是哪个商机（或不在您负责的范围内）。请带上商机或客户名称再说一次，例如：{example}"


def _stamp(when: datetime, tz: ZoneInfo) -> str:
    """A time as the command parser reads it back exactly (wall time in the configured zone)."""
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')).normalize():f}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _customers(session: Session, user: User, ids: tuple[int, ...]) -> list[Customer]:
    if not ids:
        return []
    found = session.scalars(
        select(Customer).where(Customer.id.in_(ids), Scope.of(user).customers()).order_by(Customer.id)
    )
    return list(found)


def _opportunities(session: Session, user: User, ask: Ask, customers: list[Customer]) -> list[Opportunity]:
    """The opportunities named, else the open ones of the one customer named; always within scope."""
    query = select(Opportunity).where(Scope.of(user).opportunities()).order_by(Opportunity.id)
    if ask.opportunity_ids:
        return list(session.scalars(query.where(Opportunity.id.in_(ask.opportunity_ids))))
    if len(customers) == 1:
        return list(
            session.scalars(
                query.where(Opportunity.customer_id == customers[0].id, Opportunity.closed_at.is_(None))
            )
        )
    return []


def _customer_pick(customers: list[Customer]) -> NeedPick:
    return NeedPick("customer", [(c.id, c.name) for c in customers])


def _opportunity_pick(session: Session, opps: list[Opportunity]) -> NeedPick:
    names = dict(
        session.execute(
            select(Customer.id, Customer.name).where(Customer.id.in_({o.customer_id for o in opps}))
        ).all()
    )
    return NeedPick(
        "opportunity", [(o.id, f"{o.name}（{names.get(o.customer_id, '')}，{o.stage}）") for o in opps]
    )


def _the_customer(session: Session, user: User, ask: Ask, example: str) -> Customer | NeedPick | NeedMore:
    customers = _customers(session, user, ask.customer_ids)
    if not customers and len(ask.opportunity_ids) == 1:
        opps = _opportunities(session, user, ask, [])
        customers = _customers(session, user, tuple(o.customer_id for o in opps))
    if len(customers) == 1:
        return customers[0]
    if len(customers) > 1:
        return _customer_pick(customers)
    return NeedMore(_NO_CUSTOMER.format(example=example))


def _the_opportunity(
    session: Session, user: User, ask: Ask, example: str
) -> tuple[Opportunity, Customer] | NeedPick | NeedMore:
    customers = _customers(session, user, ask.customer_ids)
    if len(customers) > 1 and not ask.opportunity_ids:
        return _customer_pick(customers)
    opps = _opportunities(session, user, ask, customers)
    if len(opps) == 1:
        customer = session.get_one(Customer, opps[0].customer_id)
        return opps[0], customer
    if len(opps) > 1:
        return _opportunity_pick(session, opps)
    if len(customers) == 1:
        return NeedMore(
            f"「{customers[0].name}」没有进行中的商机。新建商机：商机 {customers[0].name} 名称 金额"
        )
    return NeedMore(_NO_OPPORTUNITY.format(example=example))


def _last_clause(note: str) -> str:
    """The next step is usually said last (…，吴工说下周三要看样品): the follow-up's title."""
    clauses = [c.strip() for c in re.split(r"[，,。；;！!？?\s]+", note) if c.strip()]
    return clauses[-1] if clauses else note


def _future(ask: Ask, now: datetime) -> datetime | None:
    return ask.when if ask.when is not None and ask.when > now else None


def _visit(session: Session, user: User, ask: Ask, now: datetime, tz: ZoneInfo) -> Outcome:
    found = _the_customer(session, user, ask, "刚从华东精密回来，王经理说下周要样品")
    if not isinstance(found, Customer):
        return found
    note = _one_line(ask.text or ask.source)
    followup = None
    shown = ""
    when = _future(ask, now)
    if when is not None:
        title = f"跟进：{_last_clause(note)[:30]}"
        followup = f"#{found.id} {_stamp(when, tz)} {title}"
        shown = f"{format_when(when, now=now, tz=tz)} {title}"
    view = ProposalView(
        "记录拜访",
        (("客户", found.name), ("拜访时间", format_when(now, now=now, tz=tz))),
        note=note,
        followup=shown,
    )
    return Proposed(Draft("拜访", f"#{found.id} {note}", followup), view)


def _followup(session: Session, user: User, ask: Ask, now: datetime, tz: ZoneInfo) -> Outcome:
    found = _the_customer(session, user, ask, "提醒我周五给华东精密王经理打电话")
    if not isinstance(found, Customer):
        return found
    title = _one_line(ask.text) or "跟进"
    if ask.when is None:
        return NeedMore(f"什么时候提醒您「{title}」？请带上时间再说一次，例如：明天上午10点提醒我{title}")
    if ask.when <= now:
        return NeedMore(
            f"{format_when(ask.when, now=now, tz=tz)} 已经过去了，跟进提醒要设在将来的时间。请换个时间再说一次。"
        )
    view = ProposalView(
        "设置跟进提醒",
        (("客户", found.name), ("提醒时间", format_when(ask.when, now=now, tz=tz)), ("事项", title)),
    )
    return Proposed(Draft("跟进", f"#{found.id} {_stamp(ask.when, tz)} {title}"), view)


def _new_opportunity(session: Session, user: User, ask: Ask, now: datetime) -> Outcome:
    found = _the_customer(session, user, ask, "华东精密有个新项目，二期产线，大概30万")
    if not isinstance(found, Customer):
        return found
    name = _one_line(ask.text)
    if not name:
        return NeedMore(f"新商机叫什么名字？例如：{found.name}有个新项目，二期产线，大概30万")
    fields = [("客户", found.name), ("商机名称", name)]
    args = f"#{found.id} {name}"
    if ask.amount is not None:
        fields.append(("预计金额", format_amount(ask.amount)))
        args += f" {_money(ask.amount)}"
    return Proposed(Draft("商机", args), ProposalView("新建商机", tuple(fields)))


def _on_opportunity(session: Session, user: User, ask: Ask, config: BusinessConfig, now: datetime) -> Outcome:
    examples = {
        "advance": "二期产线推进到方案制定",
        "score": "二期产线预算明确了，决策人也见过了",
        "quote": "二期产线报个价 28万 含安装",
        "contract": "二期产线签了，28万",
        "lost": "二期产线丢了，预算取消",
    }
    found = _the_opportunity(session, user, ask, examples[ask.intent])
    if not isinstance(found, tuple):
        return found
    opp, customer = found
    base = (("商机", f"#{opp.id} {opp.name}"), ("客户", customer.name))
    text = _one_line(ask.text)
    if ask.intent == "advance":
        target = ask.stage if ask.stage in config.stages else None
        view = ProposalView("推进商机", (*base, ("阶段", f"{opp.stage} → {target or '下一阶段'}")))
        return Proposed(Draft("推进", f"#{opp.id} {target}".strip()), view)
    if ask.intent == "score":
        known = [s.item for s in config.score_card]
        items = [i for i in ask.items if i in known] or [i for i in known if i in (ask.text + ask.source)]
        if not items:
            return NeedMore(f"没看出哪些评分项成立。可选：{'、'.join(known)}。例如：评分 #{opp.id} 预算明确")
        view = ProposalView("商机评分", (*base, ("成立的评分项", "、".join(items))))
        return Proposed(Draft("评分", f"#{opp.id} {' '.join(items)}"), view)
    if ask.intent == "lost":
        reason = text or _one_line(ask.source)
        return Proposed(
            Draft("输单", f"#{opp.id} {reason}"), ProposalView("记为输单", base, note=f"原因：{reason}")
        )
    if ask.amount is None:
        what = "报价" if ask.intent == "quote" else "合同"
        return NeedMore(f"{what}金额是多少？例如：{examples[ask.intent]}")
    money = (("金额", format_amount(ask.amount)),)
    if ask.intent == "quote":
        note = f" {text}" if text else ""
        view = ProposalView("申请报价审批", (*base, *money), note=f"说明：{text}" if text else "")
        return Proposed(Draft("报价", f"#{opp.id} {_money(ask.amount)}{note}"), view)
    return Proposed(
        Draft("合同", f"#{opp.id} {_money(ask.amount)}"), ProposalView("登记合同", (*base, *money))
    )


def _payment(session: Session, user: User, ask: Ask, now: datetime) -> Outcome:
    """回款 against the payment plan: the contract of the opportunity named (else the customer's one open
    contract), and the instalment it lands on (services/receipts.target_for_contract), named on the card."""
    example = "华东精密的首付款到了，10万"
    contract: Contract | None = None
    if ask.contract_id is not None:  # chosen from the numbered list below
        contract = session.scalar(
            select(Contract)
            .join(Customer, Customer.id == Contract.customer_id)
            .where(Contract.id == ask.contract_id, Scope.of(user).customers())
        )
    if contract is None and len(ask.opportunity_ids) == 1:
        contract = session.scalar(
            select(Contract)
            .join(Customer, Customer.id == Contract.customer_id)
            .where(Contract.opportunity_id == ask.opportunity_ids[0], Scope.of(user).customers())
        )
    if contract is None:
        found = _the_customer(session, user, ask, example)
        if not isinstance(found, Customer):
            return found
        if ask.amount is None:
            return NeedMore(f"回款金额是多少？例如：{found.name}的首付款到了，10万")
        try:
            contract = receipts.contract_for_customer(session, customer=found)
        except Ambiguous as several:  # several owe money: the one instalment of that amount, else which one?
            contract = receipts.contract_matching_amount(session, customer=found, amount=ask.amount)
            if contract is None:
                return NeedPick("contract", several.choices)
        if contract is None:
            view = ProposalView("登记回款", (("客户", found.name), ("金额", format_amount(ask.amount))))
            return Proposed(Draft("回款", f"客户#{found.id} {_money(ask.amount)}"), view)
    if ask.amount is None:
        return NeedMore(f"回款金额是多少？例如：{example}")
    target = receipts.target_for_contract(
        session, contract=contract, amount=ask.amount, hint=ask.source or ask.text
    )
    fields: list[tuple[str, str]] = [
        ("客户", target.customer.name),
        ("合同", f"#{contract.id} {target.opportunity}".strip()),
        ("金额", format_amount(ask.amount)),
    ]
    if target.lands_on is not None:
        inst = target.lands_on
        fields.append(
            (
                "记入",
                f"{inst.label}（应收 {format_amount(Decimal(inst.instalment.amount))}，未收 {format_amount(inst.remaining)}）",
            )
        )
    view = ProposalView("登记回款", tuple(fields), warnings=tuple(target.notes))
    return Proposed(Draft("回款", f"#{contract.id} {_money(ask.amount)}"), view)


def _reassign(session: Session, user: User, ask: Ask, now: datetime) -> Outcome:
    found = _the_customer(session, user, ask, "把华东精密分给李娜")
    if not isinstance(found, Customer):
        return found
    person = session.scalar(
        select(User).where(User.userid == (ask.person_userid or "").lower(), User.active.is_(True))
    )
    if person is None:
        return NeedMore(f"把「{found.name}」交给谁？请写销售的姓名，例如：把{found.name}分给李娜")
    view = ProposalView("分配客户", (("客户", found.name), ("交给", person.name)))
    return Proposed(Draft("分配", f"#{found.id} {person.userid}"), view)


def _lead(ask: Ask, config: BusinessConfig) -> Outcome | None:
    """A lead told in a sentence (services/lead_sentence.py); 确认 runs `线索` (services/leads.py)."""
    lead = lead_sentence.parse(ask.source, config=config)
    if lead is None:
        return None
    fields = (
        ("公司", lead.company),
        ("联系人", lead.contact or "—"),
        ("电话", lead.phone or "—"),
        ("来源", lead.source),
    )
    view = ProposalView("登记线索", fields, note=f"备注：{lead.note}" if lead.note else "")
    return Proposed(Draft("线索", lead_sentence.command_args(lead)), view)


def _new_customer(ask: Ask, config: BusinessConfig) -> Outcome:
    as_lead = _lead(ask, config)  # a new company with a contact and a phone, from outside: a lead to assign
    if as_lead is not None:
        return as_lead
    name = _one_line(ask.text)
    if not name:
        return NeedMore("新客户叫什么名字？例如：新客户 华东精密")
    return Proposed(Draft("新客户", name), ProposalView("新建客户", (("名称", name),)))


def _decision(session: Session, user: User, ask: Ask) -> Outcome:
    if ask.quote_id is None:
        return NeedMore("是哪一个报价？请写上编号，例如：同意 #12，或 驳回 #12 价格偏低")
    quote = session.get(Quote, ask.quote_id)
    label = f"#{ask.quote_id}"
    if quote is not None:
        opp = session.get(Opportunity, quote.opportunity_id)
        label = f"#{quote.id} {opp.name if opp else ''} {format_amount(quote.amount)}".strip()
    if ask.intent == "approve":
        return Proposed(Draft("同意", f"#{ask.quote_id}"), ProposalView("同意报价", (("报价", label),)))
    reason = _one_line(ask.text)
    if not reason:
        return NeedMore(f"请写上驳回理由，例如：驳回 #{ask.quote_id} 价格低于成本线")
    return Proposed(
        Draft("驳回", f"#{ask.quote_id} {reason}"),
        ProposalView("驳回报价", (("报价", label),), note=f"理由：{reason}"),
    )


def draft_for(
    session: Session, *, user: User, ask: Ask, config: BusinessConfig, now: datetime, tz: ZoneInfo
) -> Outcome:
    """What a 确认 would run for this write, or the pick / the detail still needed. Never writes."""
    if ask.intent == "visit":
        return _visit(session, user, ask, now, tz)
    if ask.intent == "followup":
        return _followup(session, user, ask, now, tz)
    if ask.intent == "new_opportunity":
        return _new_opportunity(session, user, ask, now)
    if ask.intent in ("advance", "score", "quote", "contract", "lost"):
        return _on_opportunity(session, user, ask, config, now)
    if ask.intent == "payment":
        return _payment(session, user, ask, now)
    if ask.intent == "reassign":
        return _reassign(session, user, ask, now)
    if ask.intent == "new_customer":
        return _new_customer(ask, config)
    if ask.intent == "lead":
        return _lead(ask, config) or NeedMore(
            "请写上公司、联系人和电话，例如：今天展会加了个客户，宁波华东精密的王总，电话13812345678，想要报价"
        )
    if ask.intent in ("approve", "reject"):
        return _decision(session, user, ask)
    return NeedMore("这条消息看起来要记录什么，但没看懂要记哪一项。发送「帮助」查看可用命令。")
