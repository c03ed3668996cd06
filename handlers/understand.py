"""The understanding step: a message that is not an exact command becomes a proposal, an answer or a hint.

    text ─ exact command? ─ yes → its route (bot/dispatcher)          open dialog? → its step (never here)
              └ no → understand() → write   → proposal card (确认 / 修改 / 取消), or a numbered pick
                                   → question → a read-only answer (services/answers)
                                   → small talk / unknown → one friendly line / a hint from what it said

确认 runs the proposal's command line through that command's own handler (chat.handle.run_command), so a
free-form write obeys exactly the rules of the typed command; nothing is written before it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from cards.keys import CUSTOMERS_MORE, PROPOSAL_CANCEL, PROPOSAL_CONFIRM, PROPOSAL_CONFIRM_ONLY, PROPOSAL_EDIT
from cards.paging import read_more_key
from cards.proposal import ProposalView, decided_card
from chat.commandline import tidy_args
from chat.errors import DomainError
from chat.inbound import Inbound
from chat.replies import Reply, Text, UpdateCard
from chat.router import Ctx, HandlerResult, Redispatch, Router
from handlers.answering import answer, help_for, my_customers_page, small_talk, suggestion
from handlers.common import run_command, run_command_or_raise
from handlers.proposing import FOLLOWUP_KEY, action_of, did_you_mean, store_proposal, understand_text
from models import ProposalStatus
from services import cardtasks, lead_sentence
from services import proposals as store
from services.answers import visible_customers
from services.asks import Ask
from services.drafts import NeedMore, NeedPick, Proposed, draft_for

router = Router("understand")


class Proposing(StrEnum):
    """A write understood from free text: which customer or opportunity it means (a numbered pick), or the
    修改 reply to its card."""

    PICK = "propose.pick"  # chat/handle.py is_numbered_pick knows this one
    EDIT = "propose.edit"


@dataclass
class ProposePickData:
    ask: dict[str, Any] = field(default_factory=dict)  # Ask.to_data()
    kind: str = ""  # "customer" | "opportunity"
    ids: list[int] = field(default_factory=list)


@dataclass
class ProposeEditData:
    ask: dict[str, Any] = field(default_factory=dict)  # Ask.to_data() of the proposal being changed
    proposal_id: int = 0


GONE = "这张确认卡片已失效，没有做任何更改。"
ALREADY_DECIDED = "这张卡片已处理过。"
EXPIRED = "这张卡片已过期，请重新发送。"
EDIT_PROMPT = (
    "请直接发送修改后的内容：整句重说，或只说要改的部分（如「30万」「周四下午3点」「客户 宏达」）。"
    "发送「取消」放弃。"
)


def _typo_ask(ctx: Ctx, ask: Ask) -> Ask | None:
    """`拜放 宏达 …`: the command word mistyped. The engine may say so (command_typo); else a one-character slip
    of a command word of the same length."""
    word = ask.command_typo
    first, _, rest = ask.source.partition(" ")
    names = _typo_targets(ctx)
    if word is None and rest.strip():
        word = _one_off(names, first)
    if word is None or word not in names:
        return None
    return ask.but(command_typo=word, text=rest.strip() if first != word else ask.text)


def _typo_targets(ctx: Ctx) -> list[str]:
    allowed = ctx.routes.commands_for(ctx.user.role) if ctx.routes else []
    return [i.name for i in allowed if i.name not in ("帮助", "取消")]


def _one_off(names: list[str], word: str) -> str | None:
    """The one command word `word` is a one-character slip of (same length, 2+ characters), else None."""
    if len(word) < 2 or word in names:
        return None
    close = [
        n for n in names if len(n) == len(word) and sum(a != b for a, b in zip(n, word, strict=True)) == 1
    ]
    return close[0] if len(close) == 1 else None


def _bare_typo(ctx: Ctx, text: str) -> str | None:
    """`待半`: a message that is only a mistyped command word gets that command suggested (nothing is run)."""
    word = _one_off(_typo_targets(ctx), text.strip())
    route = ctx.routes.command_route(word) if ctx.routes and word else None
    if route is None or route.info is None:
        return None
    return f"没看懂「{text.strip()}」。您是要「{word}」吗？{route.info.help}，例：{route.info.example}"


def _typo_proposal(ctx: Ctx, ask: Ask) -> Reply:
    word = ask.command_typo or ""
    route = ctx.routes.command_route(word) if ctx.routes else None
    assert route is not None and route.info is not None  # _typo_ask chose it among the commands
    info = route.info
    args = ask.text.strip()
    action = action_of(info.help)
    line = f"{word} {args}".strip()
    question = f"您是要「{line}」吗？" if info.read_only else f"是要{action}吗？点「确认」照此执行。"
    view = ProposalView(action, (("命令", line),), question=question)
    return store_proposal(ctx, store.Draft(word, args), view, ask)


def propose(msg: Inbound, ctx: Ctx, ask: Ask) -> Reply:
    """A write: the proposal card, a numbered pick, or what is still missing. Writes nothing."""
    outcome = draft_for(ctx.session, user=ctx.user, ask=ask, config=ctx.config, now=ctx.now, tz=ctx.tz)
    if isinstance(outcome, NeedMore):
        return Text(outcome.message)
    if isinstance(outcome, NeedPick):
        ctx.start_dialog(
            Proposing.PICK,
            ProposePickData(ask=ask.to_data(), kind=outcome.kind, ids=[c[0] for c in outcome.choices]),
        )
        what = {"customer": "客户", "contract": "合同"}.get(outcome.kind, "商机")
        lines = [f"找到{len(outcome.choices)}个{what}，是哪一个？请回复编号："]
        lines += [f"{i}. {label}" for i, (_, label) in enumerate(outcome.choices[:8], 1)]
        lines.append("（发送「取消」放弃）")
        return Text("\n".join(lines))
    assert isinstance(outcome, Proposed)
    if ask.did_you_mean:  # the name matched only approximately: the card asks about the customer first
        names = "、".join(c.name for c in visible_customers(ctx.session, user=ctx.user, ids=ask.customer_ids))
        mention = f"没有找到「{(ask.mention or '')[:20]}」。" if ask.mention else ""
        question = f"{mention}您是不是要找「{names}」？点「确认」照此记录。"
        outcome = dataclasses.replace(outcome, view=dataclasses.replace(outcome.view, question=question))
    refusal = _would_refuse(msg, ctx, outcome.draft)
    if refusal is not None:  # say it now (a quote already pending, a gate), not after 确认
        what = "，".join(f"{k}：{v}" for k, v in outcome.view.fields if v)
        return Text(f"{outcome.view.title}（{what}）暂时记录不了，没有保存：\n{refusal}")
    return store_proposal(ctx, outcome.draft, outcome.view, ask)


# Commands tried once, undone, before their card is shown: pure database work whose refusal the user should
# hear at once. (拜访 attaches pending photos and 新客户 opens a dialog: those are only run on 确认.)
_TRIED_FIRST = frozenset(
    {"跟进", "商机", "推进", "评分", "报价", "合同", "回款", "输单", "分配", "同意", "驳回"}
)


def _would_refuse(msg: Inbound, ctx: Ctx, draft: store.Draft) -> str | None:
    """The command's own refusal if it were confirmed now, found by running it in a savepoint that is always
    rolled back (one set of rules: no second copy of the gates). None: it would go through."""
    if draft.command not in _TRIED_FIRST:
        return None
    trial = dataclasses.replace(ctx, after_commit=[])
    savepoint = ctx.session.begin_nested()
    try:
        run_command_or_raise(msg, trial, command=draft.command, args=draft.args)
    except DomainError as exc:
        return exc.message
    finally:
        savepoint.rollback()
    return None


def respond(msg: Inbound, ctx: Ctx, ask: Ask) -> HandlerResult:
    """Turn what was understood into the reply: proposal, answer, small talk, help or a hint."""
    if ask.intent == "smalltalk":
        return Text(small_talk(ask.source))
    if ask.intent == "help":
        return Text(help_for(ctx, ask))
    if ask.intent.startswith("query."):
        if ask.did_you_mean and ask.customer_ids and ask.intent in ("query.customer", "query.contact"):
            return _ask_first(ctx, ask)
        return answer(ctx, ask)
    if not ask.writes and lead_sentence.parse(ask.source, config=ctx.config) is not None:
        ask = ask.but(
            intent="lead"
        )  # a company, a contact and a phone from outside: a lead (services/leads.py)
    if ask.writes:
        return propose(msg, ctx, ask)
    typo = _typo_ask(ctx, ask)
    if typo is not None:
        return _typo_proposal(ctx, typo)
    glued = _glued_command(ctx, ask.source)
    if glued is not None:
        return run_command(msg, ctx, command=glued[0], args=glued[1])
    return Text(_bare_typo(ctx, ask.source) or suggestion(ctx, ask))


def _ask_first(ctx: Ctx, ask: Ask) -> HandlerResult:
    """A question naming a customer only approximately (a typo, a homophone) is not answered about a guess:
    "您是不是要找「…」？", and 确认 shows that customer."""
    found = visible_customers(ctx.session, user=ctx.user, ids=ask.customer_ids)
    if len(found) != 1:
        return answer(ctx, ask.but(customer_ids=(), did_you_mean=False))
    keyword = ask.mention or ask.source
    return did_you_mean(ctx, keyword=keyword, customer=found[0], command="客户", args=f"#{found[0].id}")


def _glued_command(ctx: Ctx, text: str) -> tuple[str, str] | None:
    """`客户华东`: a command word glued to its argument, as it was read before the understanding step existed —
    used only when the engine made nothing of the message."""
    words = sorted(
        {w for w in (ctx.routes.command_words() if ctx.routes else []) if len(w) >= 2}, key=len, reverse=True
    )
    for word in words:
        if text.startswith(word) and text[len(word) :].strip():
            return word, tidy_args(word, text[len(word) :].strip())
    return None


@router.fallback()
def understand_message(msg: Inbound, ctx: Ctx) -> HandlerResult:
    text = ctx.args.strip()
    if not text:
        return Text("发送「帮助」查看可用命令。")
    return respond(msg, ctx, understand_text(ctx, text))


@router.text(state=Proposing.PICK, label="选择")
def pick_reply(msg: Inbound, ctx: Ctx) -> HandlerResult:
    """The reply to "which customer/opportunity?": the proposal for the chosen one (still nothing written)."""
    data = ctx.dialog_data(ProposePickData)
    ids = [int(i) for i in data.ids]
    text = ctx.args.strip()
    if not text.isdigit() or not 1 <= int(text) <= len(ids):
        return Text(f"请回复 1-{len(ids)} 之间的编号；发送「取消」放弃。")
    ctx.clear_dialog()
    chosen = ids[int(text) - 1]
    ask = Ask.from_data(dict(data.ask))
    if data.kind == "customer":
        ask = ask.but(customer_ids=(chosen,), opportunity_ids=())
    elif data.kind == "contract":
        ask = ask.but(contract_id=chosen)
    else:
        ask = ask.but(opportunity_ids=(chosen,))
    return propose(msg, ctx, ask)


def _merge(old: Ask, new: Ask, reply: str) -> Ask:
    """A 修改 reply: a whole new write replaces the proposal; otherwise the parts it names replace the old ones
    (an amount, a time, a customer...), and a reply naming none of them is the new note."""
    if new.writes and (new.customer_ids or new.opportunity_ids or new.quote_id):
        return new
    changes: dict[str, Any] = {}
    for name in ("customer_ids", "opportunity_ids", "amount", "when", "stage", "person_userid", "quote_id"):
        value = getattr(new, name)
        if value:
            changes[name] = value
    if "customer_ids" in changes and "opportunity_ids" not in changes:
        changes["opportunity_ids"] = ()
    if not changes:
        changes["text"] = reply
    return old.but(**changes)


# 改成… / 时间改成… / 跟进时间改为… / 提醒改到…: words that only say "change it to" before the new value.
_CHANGE_TO = re.compile(
    r"^(?:把)?(?:跟进|提醒|拜访)?(?:的)?(?:时间)?(?:改成|改为|改到|换成|调到|挪到|定在|改)?\s*"
)
_TRAILING = re.compile(r"[\s，,。.！!；;]+$")


def _time_only(reply: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The new time when a 修改 reply is nothing but a time (`周四下午3点`, `改成后天下午两点`,
    `跟进时间改成下周二上午十点`): that changes the time and keeps the title / note."""
    from services.understanding.extract import find_times  # the engine's reader; imported on first use

    rest = _TRAILING.sub("", _CHANGE_TO.sub("", reply.strip(), count=1))
    times = find_times(rest, now=now, tz=tz) if rest else []
    if len(times) == 1 and times[0].span[0] == 0 and not rest[times[0].span[1] :].strip():
        return times[0].when
    return None


@router.text(state=Proposing.EDIT, label="修改", takes_commands=True)  # 「客户 宏达」 is an answer
def edit_reply(msg: Inbound, ctx: Ctx) -> HandlerResult:
    data = ctx.dialog_data(ProposeEditData)
    ctx.clear_dialog()
    old = Ask.from_data(dict(data.ask))
    reply = ctx.args.strip()
    when = _time_only(reply, ctx.now, ctx.tz) if not old.command_typo else None
    if when is not None:
        return propose(msg, ctx, old.but(when=when))
    new = understand_text(ctx, reply)
    if old.command_typo and not new.writes:  # a mistyped command: the reply is its corrected arguments
        return _typo_proposal(ctx, old.but(text=reply))
    return propose(msg, ctx, _merge(old, new, reply))


def _card_update(msg: Inbound, view: ProposalView, proposal_id: int, outcome: str, fallback: str) -> Reply:
    card = decided_card(view, proposal_id=proposal_id, outcome=outcome)
    if not msg.response_code:
        return Text(fallback)
    return UpdateCard(card, msg.response_code, fallback_text=fallback)


def _as_list(result: HandlerResult) -> list[Reply]:
    """A command's replies (run_command never passes a Redispatch on: it raises instead)."""
    if result is None or isinstance(result, Redispatch):
        return []
    if isinstance(result, Redispatch):  # only a numbered pick answers so, never a command run from a card
        raise TypeError("unexpected Redispatch")
    return list(result) if isinstance(result, list) else [result]


def _tap(msg: Inbound, ctx: Ctx) -> HandlerResult:
    key = ctx.card_key
    assert key is not None
    task = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=cardtasks.CardKind.PROPOSAL,
        action=key.action,
        now=ctx.now,
        unknown_text=GONE,
    )
    if isinstance(task, list):
        return task
    proposal = store.load(ctx.session, proposal_id=task.ref_id)
    if proposal is None or proposal.userid != ctx.userid:
        return Text(GONE)
    view = ProposalView.from_data(proposal.view)
    status = {PROPOSAL_CANCEL: ProposalStatus.CANCELLED, PROPOSAL_EDIT: ProposalStatus.EDITED}.get(
        key.action, ProposalStatus.CONFIRMED
    )
    if not store.decide(ctx.session, proposal=proposal, userid=ctx.userid, status=status, now=ctx.now):
        if store.is_expired(proposal, now=ctx.now):  # too old, or superseded by the same thing said again
            greyed = _card_update(
                msg, view, proposal.id, store.DECIDED_LABELS[ProposalStatus.EXPIRED], EXPIRED
            )
            return [greyed, Text(EXPIRED)] if isinstance(greyed, UpdateCard) else greyed
        return Text(ALREADY_DECIDED)  # a second tap: the card shows its outcome already; one short line
    if status == ProposalStatus.CANCELLED:
        return _card_update(msg, view, proposal.id, "已取消", "已取消，没有保存任何内容。")
    if status == ProposalStatus.EDITED:
        ask = dict(proposal.view.get("ask") or {})
        ctx.start_dialog(Proposing.EDIT, ProposeEditData(ask=ask, proposal_id=proposal.id))
        return [_card_update(msg, view, proposal.id, "修改中", EDIT_PROMPT), Text(EDIT_PROMPT)]
    replies: list[Reply] = []
    try:
        replies += _as_list(run_command_or_raise(msg, ctx, command=proposal.command, args=proposal.args))
    except DomainError as exc:
        store.settle(ctx.session, proposal=proposal, status=ProposalStatus.FAILED)
        return [_card_update(msg, view, proposal.id, "未能保存", exc.message), Text(exc.message)]
    if proposal.followup_args and key.action != PROPOSAL_CONFIRM_ONLY and _asked_first(ctx):
        # The command asked before writing (再记一次？ for a visit just recorded): the follow-up waits with it,
        # in that dialog, and is set only if the visit is (handlers/visits.py tap_repeat).
        _attach_followup(ctx, proposal.followup_args)
    elif proposal.followup_args and key.action != PROPOSAL_CONFIRM_ONLY:
        try:
            replies += _as_list(run_command_or_raise(msg, ctx, command="跟进", args=proposal.followup_args))
        except DomainError as exc:
            replies.append(Text(f"拜访已记录；跟进提醒没有设置：{exc.message}"))
    done = "已确认" if key.action == PROPOSAL_CONFIRM else "已确认（未设跟进）"
    return [_card_update(msg, view, proposal.id, done, "已确认。"), *replies]


def _asked_first(ctx: Ctx) -> bool:
    """Whether the command just run opened a dialog (a question) instead of writing."""
    now_open = ctx.dialogs.get(userid=ctx.userid, now=ctx.now)
    return now_open is not None and now_open != ctx.dialog


def _attach_followup(ctx: Ctx, followup_args: str) -> None:
    waiting = ctx.dialogs.get(userid=ctx.userid, now=ctx.now)
    assert waiting is not None
    ctx.dialogs.set(
        userid=ctx.userid,
        state=waiting.state,
        data={**waiting.data, FOLLOWUP_KEY: followup_args},
        now=ctx.now,
        ttl_minutes=ctx.config.dialog_ttl_minutes,
    )


@router.card(PROPOSAL_CONFIRM)
def tap_confirm(msg: Inbound, ctx: Ctx) -> HandlerResult:
    return _tap(msg, ctx)


@router.card(PROPOSAL_CONFIRM_ONLY)
def tap_confirm_only(msg: Inbound, ctx: Ctx) -> HandlerResult:
    return _tap(msg, ctx)


@router.card(PROPOSAL_EDIT)
def tap_edit(msg: Inbound, ctx: Ctx) -> HandlerResult:
    return _tap(msg, ctx)


@router.card(PROPOSAL_CANCEL)
def tap_cancel(msg: Inbound, ctx: Ctx) -> HandlerResult:
    return _tap(msg, ctx)


__all__ = ["Proposing", "propose", "respond"]


@router.card(CUSTOMERS_MORE)
def tap_my_customers_more(msg: Inbound, ctx: Ctx) -> list[Reply]:
    number, _ = read_more_key(ctx.card_key.arg if ctx.card_key else "")
    return my_customers_page(ctx, number or 2)
