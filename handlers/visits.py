"""拜访 and the media kept for it: location messages, automatic LOCATION events and photos."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cards.keys import VISIT_EXPLAIN, VISIT_REPEAT
from cards.next_step import new_task_id
from cards.visit import SITE_NOTE, VisitView, flag_text, repeat_card, task_id_for, visit_card
from chat.inbound import Inbound
from chat.replies import Card, Reply, Text
from chat.router import Ctx, HandlerResult, Redispatch, Router
from handlers.common import customer_or_pick, example, run_command, usage_error
from models import Customer, Visit
from services import cardtasks, roles
from services import visits as visit_service
from services.lookup import resolve_customer
from services.parsing import split_args

router = Router("visits")
# A worker's batch of 拜访: the senders' pending media, recent visits and leads awaiting a first visit are
# read once for the whole batch (chat/preloaded.py).
router.preload("拜访")(visit_service.preload)


class VisitAsk(StrEnum):
    """再记一次？ (the same visit text again within 10 minutes) and the one sentence explaining a flagged visit."""

    REPEAT = "visit.repeat"
    EXPLAIN = "visit.explain"


@dataclass
class RepeatData:
    customer_id: int = 0
    summary: str = ""
    followup_args: str = (
        ""  # handlers/proposing.FOLLOWUP_KEY: a confirmed proposal's follow-up, waiting with it
    )


@dataclass
class ExplainData:
    visit_id: int = 0


@router.command(
    "拜访", help="记录一次拜访，自动附上30分钟内发送的位置和照片", example=example("拜访"), roles=roles.SALES
)
def visit(msg: Inbound, ctx: Ctx) -> HandlerResult:
    words = split_args(ctx.args)
    if len(words) < 2:
        problem = "请写上客户和拜访纪要。" if not words else "请写上拜访纪要。"
        raise usage_error("拜访", problem)
    keyword, summary = words[0], " ".join(words[1:])
    customer = customer_or_pick(ctx, keyword, then_command="拜访", rest=summary)
    if not isinstance(customer, Customer):
        return customer  # which one: the numbered pick (or the did-you-mean card)
    if visit_service.same_visit_just_now(
        ctx.session, user=ctx.user, customer=customer, summary=summary, now=ctx.now
    ):
        ctx.start_dialog(VisitAsk.REPEAT, RepeatData(customer_id=customer.id, summary=summary))
        return [Card(repeat_card(customer_name=customer.name, summary=summary, task_id=new_task_id("vr")))]
    return _record(ctx, customer, summary)


def _record(ctx: Ctx, customer: Customer, summary: str) -> list[Reply]:
    result = visit_service.record_visit(
        ctx.session,
        config=ctx.config,
        user=ctx.user,
        customer=customer,
        summary=summary,
        now=ctx.now,
    )
    v = result.visit
    view = VisitView(
        visit_id=v.id,
        customer_name=customer.name,
        summary=v.summary,
        location_label=result.location_label,
        photos=result.photos_pending,
        flag=flag_text(v.distance_m) if v.location_anomaly else None,
    )
    task_id = task_id_for(v.id)
    card = visit_card(view, task_id=task_id)
    cardtasks.issue(
        ctx.session,
        task_id=task_id,
        kind=cardtasks.CardKind.VISIT,
        ref_id=v.id,
        recipient=ctx.userid,
        now=ctx.now,
    )
    photos = ctx.services.get("photos")
    if result.photos_pending and photos is not None:
        ctx.after_commit.append(photos.notify)  # download them now, on the photo thread, after this commits
    return [Card(card)]


@router.card(VISIT_REPEAT)
def tap_repeat(msg: Inbound, ctx: Ctx) -> HandlerResult:
    """再记一次: record the visit the sender was asked about (kept in their dialog, never in the button)."""
    asked = ctx.dialog is not None and ctx.dialog.state == VisitAsk.REPEAT
    data = ctx.dialog_data(RepeatData) if asked else RepeatData()
    customer = ctx.session.get(Customer, data.customer_id) if data.customer_id else None
    if customer is None:
        return Text("这个问题已失效。需要记录时请重新发送「拜访 客户 纪要」。")
    ctx.clear_dialog()
    resolve_customer(ctx.session, user=ctx.user, keyword=f"#{customer.id}")  # still in the sender's scope
    replies: list[Reply] = list(_record(ctx, customer, data.summary))
    if (
        data.followup_args
    ):  # the follow-up of a confirmed proposal waited with the visit (handlers/understand.py)
        done = run_command(msg, ctx, command="跟进", args=data.followup_args)
        if isinstance(done, list):
            replies += done
        elif done is not None and not isinstance(done, Redispatch):
            replies.append(done)
    return replies


@router.text(state=VisitAsk.REPEAT, label="重复拜访的确认")
def repeat_answer(msg: Inbound, ctx: Ctx) -> HandlerResult:
    """A reply while asked 再记一次？: 再记一次/是 records it; anything else drops it (a new command has already
    left the dialog in chat/handle.py and runs as typed)."""
    text = ctx.args.strip()
    if text in ("再记一次", "是", "记", "记一次"):
        return tap_repeat(msg, ctx)
    followup = ctx.dialog_data(RepeatData).followup_args
    ctx.clear_dialog()
    return Text("好的，这次拜访" + ("和它的跟进都" if followup else "") + "不重复记录。")


@router.card(VISIT_EXPLAIN)
def tap_explain(msg: Inbound, ctx: Ctx) -> HandlerResult:
    """在客户新厂区 (one tap) / 其他地点，补充说明 (asks for one sentence) on the rep's own flagged visit."""
    key = ctx.card_key
    task = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=cardtasks.CardKind.VISIT,
        action=VISIT_EXPLAIN,
        now=ctx.now,
        unknown_text="这张卡片已失效。",
    )
    if isinstance(task, list):
        return task
    visit = ctx.session.get(Visit, task.ref_id)
    if visit is None or key is None or key.arg not in ("site", "other"):
        return Text("这张卡片已失效。")
    if key.arg == "other":
        ctx.start_dialog(VisitAsk.EXPLAIN, ExplainData(visit_id=visit.id))
        return Text("请回复一句说明（例如：在客户的新仓库），主管会在这条拜访旁看到。发送「取消」放弃。")
    visit_service.explain_flag(ctx.session, visit=visit, user=ctx.user, note=SITE_NOTE, now=ctx.now)
    return Text(f"已记录说明：{SITE_NOTE}。主管看到「{flag_text(visit.distance_m)}」时会同时看到这条说明。")


@router.text(state=VisitAsk.EXPLAIN, label="拜访地点说明")
def explain_text(msg: Inbound, ctx: Ctx) -> Reply:
    visit = ctx.session.get(Visit, ctx.dialog_data(ExplainData).visit_id)
    if visit is None:
        ctx.clear_dialog()
        return Text("这条拜访记录不存在了。")
    visit_service.explain_flag(
        ctx.session, visit=visit, user=ctx.user, note=f"其他地点：{ctx.args}", now=ctx.now
    )
    ctx.clear_dialog()
    return Text(f"已记录说明：其他地点：{ctx.args.strip()}。主管会在这条拜访旁看到。")


def _window(ctx: Ctx) -> int:
    return ctx.config.visits.media_window_minutes


@router.event("location")
def location(msg: Inbound, ctx: Ctx) -> Reply:
    kept = visit_service.keep_location(
        ctx.session,
        userid=ctx.userid,
        lat=msg.latitude,
        lng=msg.longitude,
        label=msg.label,
        now=ctx.now,
        automatic=False,
    )
    if not kept:
        return Text("这个位置无法识别，请重新发送位置。")
    return Text(f"已收到位置，{_window(ctx)}分钟内发送「拜访 客户 纪要」会一起记录。")


@router.event("location_event")
def location_event(msg: Inbound, ctx: Ctx) -> None:
    """Automatic location reports: kept quietly, never answered."""
    visit_service.keep_location(
        ctx.session,
        userid=ctx.userid,
        lat=msg.latitude,
        lng=msg.longitude,
        label=None,
        now=ctx.now,
        automatic=True,
    )
    return None


@router.event("image")
def image(msg: Inbound, ctx: Ctx) -> Reply:
    if not visit_service.keep_image(ctx.session, userid=ctx.userid, media_id=msg.media_id, now=ctx.now):
        return Text("没有收到这张照片，请重新发送。")
    return Text(f"已收到照片，{_window(ctx)}分钟内发送「拜访 客户 纪要」会一起记录。")
