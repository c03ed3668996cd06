"""Next-step buttons: a tap either runs the command at once (推进) or asks for the one missing piece
(拜访 纪要, 跟进 时间和事项, 新商机 名称, 评分 项目) and runs it with the reply. The button only names the
record; the command checks scope and role as if it had been typed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cards.keys import NEXT_STEP
from cards.next_step import next_step_card, step_key
from chat.inbound import Inbound
from chat.replies import Card, Reply, Text
from chat.router import Ctx, HandlerResult, Router
from handlers.common import run_command
from models import Customer, Opportunity
from services.config import BusinessConfig
from services.lookup import resolve_customer

router = Router("nextsteps")


class NextStep(StrEnum):
    """A next-step button asked for the one missing piece; the reply runs the command with it."""

    ASKING = "next.step"


@dataclass
class NextStepData:
    command: str = ""
    prefix: str = ""  # `#id` of the record the button named


# code → (command, what to ask for; None: run at once)
STEPS: dict[str, tuple[str, str | None]] = {
    "visit": ("拜访", "请回复这次拜访的纪要，例：谈了新产线的报价，下周送样"),
    "followup": ("跟进", "请回复跟进时间和事项，例：3天后 送样品"),
    "opp": ("商机", "请回复商机名称和金额，例：二期产线 30万"),
    "advance": ("推进", None),
    "score": ("评分", None),
    "quote": ("报价", "请回复报价金额和说明，例：28万 含安装调试"),
}


CUSTOMER_STEPS = {"visit": "拜访", "followup": "跟进", "opp": "新商机"}


def customer_next_steps(
    customer: Customer, *, steps: tuple[str, ...] = ("visit", "followup", "opp"), to: str | None = None
) -> Reply:
    """After the customer 360, a lead taken (拜访 · 跟进: its opportunity exists already) or a customer handed
    over (`to` the new owner): 拜访 · 跟进 · 新商机. The tap runs the command in the tapper's own scope."""
    return Card(
        next_step_card(
            title="下一步",
            desc=customer.name,
            buttons=[(CUSTOMER_STEPS[code], step_key(code, customer.id)) for code in steps],
        ),
        to=to,
    )


def opportunity_next_steps(opp: Opportunity, *, quote_pending: bool = False) -> Reply:
    """After a new opportunity (or 我的目标's best candidate): 推进 · 评分 — only steps that can be done: while
    a quote waits for approval the opportunity cannot move on, so no 推进 then."""
    buttons = [("评分", step_key("score", opp.id))]
    if not quote_pending:
        buttons.insert(0, ("推进", step_key("advance", opp.id)))
    return Card(next_step_card(title="下一步", desc=f"商机 #{opp.id} {opp.name}", buttons=buttons))


def after_advance(opp: Opportunity, *, config: BusinessConfig) -> Reply | None:
    """After 推进: the step that moves it on — 报价 when the next stage is entered only by a quote request
    (its gate), else 推进 again — with 跟进; nothing once the last stage is reached."""
    nxt = config.next_stage(opp.stage)
    if nxt is None:
        return None
    move = (
        ("报价", step_key("quote", opp.id))
        if "quote_request" in config.gates_for(nxt)
        else ("推进", step_key("advance", opp.id))
    )
    return Card(
        next_step_card(
            title="下一步",
            desc=f"商机 #{opp.id} {opp.name} → {nxt}",
            buttons=[move, ("跟进", step_key("followup", opp.customer_id))],
        )
    )


def _score_prompt(ctx: Ctx) -> str:
    items = " ".join(item.item for item in ctx.config.score_card)
    return f"请回复成立的评分项（空格分开），可选：{items}"


@router.card(NEXT_STEP)
def tap_next(msg: Inbound, ctx: Ctx) -> HandlerResult:
    key = ctx.card_key
    code, _, ref = (key.arg if key else "").partition("-")
    if code not in STEPS or not ref.isdigit():
        return Text("这个按钮已失效。发送「帮助」查看可用的命令。")
    command, prompt = STEPS[code]
    if code in ("visit", "followup", "opp"):
        resolve_customer(ctx.session, user=ctx.user, keyword=f"#{ref}")  # out of scope: answered as missing
    if code == "score":
        prompt = _score_prompt(ctx)
    elif prompt is None:
        return run_command(msg, ctx, command=command, args=f"#{ref}")
    ctx.start_dialog(NextStep.ASKING, NextStepData(command=command, prefix=f"#{ref}"))
    return Text(f"{prompt}\n发送「取消」放弃。")


@router.text(state=NextStep.ASKING, label="补充内容")
def answer(msg: Inbound, ctx: Ctx) -> HandlerResult:
    data = ctx.dialog_data(NextStepData)
    text = ctx.args.strip()
    if not text:
        return Text("请回复内容，或发送「取消」放弃。")
    ctx.clear_dialog()
    return run_command(msg, ctx, command=data.command, args=f"{data.prefix} {text}")
