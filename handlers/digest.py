"""日报: a manager's digest on demand (not counted against the daily scheduled one)."""

from __future__ import annotations

from chat.inbound import Inbound
from chat.replies import Reply
from chat.router import Ctx, Router
from services import roles
from services.digest import digest_replies

router = Router("digest")


@router.command(
    "日报",
    help="立即查看销售日报（昨日数据）",
    example="日报",
    roles=roles.MANAGERS,
)
def digest_now(msg: Inbound, ctx: Ctx) -> list[Reply]:
    return list(digest_replies(ctx.session, manager=ctx.user, config=ctx.config, now=ctx.now))
