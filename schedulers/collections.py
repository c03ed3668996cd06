"""`jobs run collections`: the collections ladder (services/ladder.py) for every open instalment, daily.

Each notice is claimed with a unique JobOccurrence row (job "collections", a natural occurrence such as
`due:<instalment>:<due date>` or `overdue:<instalment>:<due date>:<today>`) in the same transaction as its
outbox rows, so reruns, restarts and replicas never send one twice. The whole run is one transaction (a
savepoint per instalment) ending with one `pushes.push_all`, so a person's notices of one run are one message.
It runs in the digest's send window
(between digest.send_time and digest.catch_up_until, local time), so nobody is woken at night.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards import collections as cards
from chat.replies import Card, Reply, Text
from models import Contract, Customer, Instalment, Opportunity, User
from schedulers.base import JobEnv, claim_occurrence
from services import approval_routing, cardtasks, plans, pushes, receipts, roles
from services.config import BusinessConfig
from services.ladder import Rung, Step, state_of, steps_for
from services.parsing import format_amount

log = logging.getLogger("salesbot.jobs.collections")


def notice(*, to: str, reply: Reply, key: str, line: str, urgent: bool = True) -> pushes.Event:
    """Every notice of the ladder is an event of kind `collection`, pushed with the run's other notices at the
    end of the run (services/pushes.py): one message per person and run (several notices: one list), within
    their daily push budget; what does not fit is listed in their next 待办. Due and overdue instalments rank
    with overdue follow-ups; the heads-up before the due date with progress news."""
    priority = pushes.Priority.FOLLOWUP if urgent else pushes.Priority.PROGRESS
    return pushes.Event(to=to, kind="collection", priority=priority, reply=reply, line=line, key=key)


def candidates(session: Session, *, today: date) -> list[int]:
    """Instalments with a due date on contracts that still owe money, nearest to today first: each notice
    takes a slot of the owner's push budget, so today's due-day cards go before older overdue reminders."""
    rows = session.execute(
        select(Instalment.id, Instalment.contract_id, Instalment.due_on).where(Instalment.due_on.is_not(None))
    ).all()
    contract_ids = {c for _, c, _ in rows}
    paid, _ = plans.totals_by_contract(session, contract_ids)
    amounts = dict(
        session.execute(select(Contract.id, Contract.amount).where(Contract.id.in_(contract_ids))).all()
    )
    owing = [
        (i, due)
        for i, c, due in rows
        if due is not None and Decimal(amounts.get(c, 0)) > paid.get(c, Decimal(0))
    ]
    return [i for i, due in sorted(owing, key=lambda r: (abs((r[1] - today).days), r[0]))]


def process(
    session: Session, *, config: BusinessConfig, instalment_id: int, now: datetime
) -> list[pushes.Event]:
    """Claim the notices one instalment is owed as of `now` and return them (the caller pushes the run's
    events together)."""
    inst = session.get(Instalment, instalment_id)
    if inst is None or inst.due_on is None:
        return []
    contract = session.get_one(Contract, inst.contract_id)
    state = next(s for s in plans.contract_states(session, contract=contract) if s.instalment.id == inst.id)
    steps = steps_for(
        instalment_id=inst.id,
        due_on=inst.due_on,
        promised_on=inst.promised_on,
        settled=state.settled,
        needs_invoice=state.needs_invoice,
        today=plans.local_day(now),
        config=config,
    )
    events: list[pushes.Event] = []
    due_sent_now = False
    for step in steps:
        if not claim_occurrence(session, job="collections", occurrence=step.occurrence, now=now):
            continue
        if step.rung == Rung.DUE:
            due_sent_now = True
        elif step.rung == Rung.OVERDUE and due_sent_now:
            continue  # the due-day card went out in this same run: one message is enough today
        events += _notify(session, step=step, contract=contract, state=state, now=now)
    return events


def _notify(
    session: Session,
    *,
    step: Step,
    contract: Contract,
    state: plans.InstalmentState,
    now: datetime,
) -> list[pushes.Event]:
    inst = state.instalment
    assert inst.due_on is not None
    customer = session.get_one(Customer, contract.customer_id)
    opp = session.get(Opportunity, contract.opportunity_id) if contract.opportunity_id else None
    what = f"{customer.name}{f'「{opp.name}」' if opp else ''} 合同 #{contract.id} {state.label}"
    owner_id = plans.owner_of(session, contract=contract)
    owner = session.scalar(select(User).where(User.userid == owner_id))
    owner_name = owner.name if owner else owner_id
    finance = list(
        session.scalars(
            select(User.userid)
            .where(User.role == roles.Role.FINANCE, User.active.is_(True))
            .order_by(User.userid)
        )
    )
    left = format_amount(state.remaining)
    key = f"coll:{step.occurrence}"
    n: list[pushes.Event] = []
    if step.rung == Rung.BEFORE:
        text = (
            f"【回款提醒】{what}（未收 {left}）将于 {inst.due_on:%m月%d日} 到期。\n"
            f"收到后发送：回款 #{contract.id} 金额；客户另约了日期：承诺 #{contract.id} 日期"
        )
        n.append(
            notice(
                to=owner_id,
                reply=Text(text),
                key=key,
                line=f"回款即将到期：{what} {inst.due_on:%m-%d}到期",
                urgent=False,
            )
        )
    elif step.rung == Rung.INVOICE:
        text = (
            f"【待开票】{what} {format_amount(Decimal(inst.amount))} 将于 {inst.due_on:%m月%d日} 到期，尚未开票。\n"
            f"开票后发送：开票 #{contract.id} 金额 发票号"
        )
        for userid in finance:
            n.append(
                notice(
                    to=userid,
                    reply=Text(text),
                    key=f"{key}:{userid}",
                    line=f"待开票：{what} {inst.due_on:%m-%d}到期",
                    urgent=False,
                )
            )
    elif step.rung == Rung.DUE:
        view = receipts.due_view(session, instalment=inst, contract=contract)
        if view is not None:
            for i, userid in enumerate(dict.fromkeys([owner_id, *finance])):
                task_id = cards.due_task_id(inst.id, inst.due_on, i)
                if not cardtasks.issue(
                    session,
                    task_id=task_id,
                    kind=cardtasks.CardKind.COLLECTION,
                    ref_id=inst.id,
                    recipient=userid,
                    now=now,
                ):
                    continue
                n.append(
                    notice(
                        to=userid,
                        reply=Card(
                            cards.due_card(replace(view, title=f"回款{state_of(step)}"), task_id=task_id)
                        ),
                        key=f"{key}:{userid}",
                        line=f"回款{state_of(step)}：{what}",
                    )
                )
    elif step.rung == Rung.OVERDUE:
        text = (
            f"【回款逾期】{what} 已逾期 {step.overdue_days} 个工作日，未收 {left}（{inst.due_on:%m月%d日}到期）。\n"
            f"收到后发送：回款 #{contract.id} 金额；客户承诺了日期：承诺 #{contract.id} 日期"
        )
        n.append(
            notice(
                to=owner_id,
                reply=Text(text),
                key=key,
                line=f"回款逾期{step.overdue_days}个工作日：{what}",
            )
        )
    else:
        if step.rung == Rung.SUPERVISOR:
            boss = approval_routing.supervisor_of(session, user=owner) if owner else None
            targets = [boss.userid] if boss else []
        else:
            targets = list(
                session.scalars(
                    select(User.userid).where(User.role == roles.Role.DIRECTOR, User.active.is_(True))
                )
            )
        text = (
            f"【回款逾期 {step.overdue_days} 个工作日】{what}，未收 {left}（{inst.due_on:%m月%d日}到期），负责人 {owner_name}。\n"
            f"请了解情况，必要时协助催收。查看：合同 #{contract.id}"
        )
        for userid in targets:
            if userid != owner_id:
                n.append(
                    notice(
                        to=userid,
                        reply=Text(text),
                        key=f"{key}:{userid}",
                        line=f"回款逾期{step.overdue_days}个工作日：{what}（{owner_name}）",
                    )
                )
    return n


def run(env: JobEnv, now: datetime) -> str:
    cfg = env.config.digest
    local = now.astimezone(env.settings.tz)
    if not (cfg.send_time <= local.time() < cfg.catch_up_until):
        return f"collections: outside {cfg.send_time:%H:%M}–{cfg.catch_up_until:%H:%M} ({local:%H:%M}), nothing sent"
    with env.session_factory() as session:
        ids = candidates(session, today=local.date())
    failed = 0
    with env.session_factory() as session, session.begin():
        events: list[pushes.Event] = []
        for instalment_id in ids:
            try:
                with session.begin_nested():
                    events += process(session, config=env.config, instalment_id=instalment_id, now=now)
            except (
                Exception
            ):  # one broken row must not stop the others; its claims rolled back, so it retries
                log.exception("collections for instalment %s failed", instalment_id)
                failed += 1
        # One push for the whole run: a person's notices of this run become one message (services/pushes.py).
        deliveries = pushes.push_all(session, events, now=now, tz=env.settings.tz, config=env.config.pushes)
    sent = sum(d.messages for d in deliveries.values())
    return (
        f"collections: checked {len(ids)} open instalments, {len(events)} notices, {sent} messages, "
        f"failed {failed}"
    )
