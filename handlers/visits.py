"""拜访 and the media kept for it: location messages, automatic LOCATION events and photos."""

from __future__ import annotations

from cards.visit import VisitView, task_id_for, visit_card
from chat.inbound import Inbound
from chat.replies import Card, Reply, Text
from chat.router import Ctx, Router
from handlers.common import customer_or_pick, example, picks, usage_error
from services import cardtasks, roles
from services import visits as visit_service
from services.parsing import split_args

router = Router("visits")

@router.command("拜访", help="记录一次拜访，自动附上30分钟内发送的位置和照片", example=example("拜访"), roles=roles.SALES)
@picks
def visit(msg: Inbound, ctx: Ctx) -> list[Reply]:
    words = split_args(ctx.args)
    if len(words) < 2:
        problem = "请写上客户和拜访纪要。" if not words else "请写上拜访纪要。"
        raise usage_error("拜访", problem)
    keyword, summary = words[0], " ".join(words[1:])
    customer = customer_or_pick(ctx, keyword, then_command="拜访", rest=summary)
    result = visit_service.record_visit(
        ctx.session,
        config=ctx.config,
        user=ctx.user,
        customer=customer,
        summary=summary,
        now=ctx.now,
    )
    view = VisitView(
        visit_id=result.visit.id,
        customer_name=customer.name,
        summary=result.visit.summary,
        location_label=result.location_label,
        photos=result.photos_pending,
    )
    card = visit_card(view)
    cardtasks.issue(
        ctx.session,
        task_id=task_id_for(result.visit.id),
        kind=cardtasks.CardKind.VISIT,
        ref_id=result.visit.id,
        recipient=ctx.userid,
        now=ctx.now,
    )
    photos = ctx.services.get("photos")
    if result.photos_pending and photos is not None:
        ctx.after_commit.append(photos.notify)  # download them now, on the photo thread, after this commits
    return [Card(card)]


def _window(ctx: Ctx) -> int:
    return ctx.config.visits.media_window_minutes


@router.event("location")
def location(msg: Inbound, ctx: Ctx) -> Reply:
    kept = visit_service.keep_location(
        ctx.session, userid=ctx.userid, lat=msg.latitude, lng=msg.longitude, label=msg.label, now=ctx.now, automatic=False
    )
    if not kept:
        return Text("这个位置无法识别，请重新发送位置。")
    return Text(f"已收到位置，{_window(ctx)}分钟内发送「拜访 客户 纪要」会一起记录。")


@router.event("location_event")
def location_event(msg: Inbound, ctx: Ctx) -> None:
    """Automatic location reports: kept quietly, never answered."""
    visit_service.keep_location(
        ctx.session, userid=ctx.userid, lat=msg.latitude, lng=msg.longitude, label=None, now=ctx.now, automatic=True
    )
    return None


@router.event("image")
def image(msg: Inbound, ctx: Ctx) -> Reply:
    if not visit_service.keep_image(ctx.session, userid=ctx.userid, media_id=msg.media_id, now=ctx.now):
        return Text("没有收到这张照片，请重新发送。")
    return Text(f"已收到照片，{_window(ctx)}分钟内发送「拜访 客户 纪要」会一起记录。")
