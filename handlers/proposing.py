"""Proposals and the engine, shared by the understanding step and by the typed commands' name lookup.

`understand_text` asks the engine (services.understanding, or one given to the dispatcher); `store_proposal`
records a proposed write and returns its card; `guess_customer` / `did_you_mean` let a typed command that
misses a name use what the engine finds (pinyin, initials, a typo asked first).
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Callable
from typing import Any, cast

from cards.proposal import ProposalView, decided_card, proposal_card, proposal_task_id
from chat.outbox import card_send_code
from chat.replies import Card, Reply, Text, UpdateCard
from chat.router import Ctx
from models import CardTask, Customer
from services import cardtasks
from services import proposals as store
from services.answers import visible_customers
from services.asks import Ask

# A confirmed proposal's follow-up (跟进 args), kept in the dialog its command opened instead of writing
# (再记一次？): set only if that dialog ends in the write (handlers/visits.py RepeatData.followup_args, tap_repeat).
FOLLOWUP_KEY = "followup_args"


def _engine(ctx: Ctx) -> Callable[..., Any] | None:
    """The engine the dispatcher was given (tests, a model-backed one), else services.understanding's."""
    given = ctx.services.get("understand")
    if given is not None:
        return cast(Callable[..., Any], given)
    try:
        module = importlib.import_module("services.understanding")
    except ImportError:
        return None
    return cast(Callable[..., Any], module.understand)


def understand_text(ctx: Ctx, text: str) -> Ask:
    """What the engine makes of `text`, as an `Ask` (unknown when no engine is installed).

    The optional model is never asked here (inside the message's transaction): with a model configured the
    dispatcher asked it before the transaction (bot/preunderstand.py) and its answer for this text is used.
    """
    early = ctx.services.get("understood")
    if early is not None and early[0] == text:
        return Ask.of(early[1], source=text)
    engine = _engine(ctx)
    if engine is None:
        return Ask(intent="unknown", text=text, source=text)
    understood = engine(ctx.session, user=ctx.user, text=text, now=ctx.now, tz=ctx.tz, config=ctx.config)
    return Ask.of(understood, source=text)


def guess_customer(ctx: Ctx, keyword: str) -> tuple[Customer, bool] | None:
    """The one visible customer the understanding step finds for a name the exact lookup missed, and whether it
    is sure (pinyin, initials) rather than approximate (a typo). None: no engine, nothing, or several."""
    if _engine(ctx) is None or not keyword.strip():
        return None
    ask = understand_text(ctx, keyword.strip())
    found = visible_customers(ctx.session, user=ctx.user, ids=ask.customer_ids)
    if len(found) != 1:
        return None
    return found[0], not ask.did_you_mean


def action_of(help_text: str) -> str:
    """A command's help as a short action: 记录一次拜访，自动附上… → 记录一次拜访; 查看客户360：资料… → 查看客户360."""
    return re.split(r"[，,（(：:]", help_text, maxsplit=1)[0][:16]


def did_you_mean(ctx: Ctx, *, keyword: str, customer: Customer, command: str, args: str) -> Reply:
    """ "没有找到「金侨」，您是不是要找「苏州金桥精工机械有限公司」？" — 确认 runs `command args` on it."""
    route = ctx.routes.command_route(command) if ctx.routes else None
    info = route.info if route else None
    view = ProposalView(
        action_of(info.help) if info else command,
        (("客户", customer.name), ("命令", f"{command} {args}")),
        question=f"没有找到「{keyword[:20]}」。您是不是要找「{customer.name}」？",
    )
    ask = Ask(intent="unknown", source=f"{command} {keyword}", customer_ids=(customer.id,))
    return store_proposal(ctx, store.Draft(command, args), view, ask)


def reads_only(ctx: Ctx, command: str) -> bool:
    """Whether `command` only shows something (CommandInfo.read_only): its card asks, it does not 保存."""
    route = ctx.routes.command_route(command) if ctx.routes else None
    return bool(route and route.info and route.info.read_only)


def store_proposal(ctx: Ctx, draft: store.Draft, view: ProposalView, ask: Ask) -> Reply:
    if reads_only(ctx, draft.command):
        view = dataclasses.replace(view, reads=True)
    data: dict[str, Any] = view.to_data() | {"ask": ask.to_data()}
    proposal = store.create(
        ctx.session, userid=ctx.userid, draft=draft, view=data, source_text=ask.source, now=ctx.now
    )
    cardtasks.issue(
        ctx.session,
        task_id=proposal_task_id(proposal.id),
        kind=cardtasks.CardKind.PROPOSAL,
        ref_id=proposal.id,
        recipient=ctx.userid,
        now=ctx.now,
    )
    return Card(proposal_card(view, proposal_id=proposal.id))


def cancel_open_proposals(ctx: Ctx) -> list[Reply] | None:
    """Typed 取消 with no dialog open: the sender's pending proposal cards are cancelled, each card greyed to
    已取消 with its send's own response code (the approval cards' path, chat/outbox.card_send_code), and one
    line says so. None: the sender had no pending proposal."""
    cancelled = store.cancel_open(ctx.session, userid=ctx.userid, now=ctx.now)
    if not cancelled:
        return None
    replies: list[Reply] = []
    for proposal in cancelled:
        task = ctx.session.get(CardTask, proposal_task_id(proposal.id))
        row = card_send_code(ctx.session, task=task) if task is not None else None
        if row is not None and row.response_code:
            code, row.response_code = row.response_code, None
            card = decided_card(
                ProposalView.from_data(proposal.view), proposal_id=proposal.id, outcome="已取消"
            )
            replies.append(UpdateCard(card, code))
    return [*replies, Text("已取消，未做更改。")]
