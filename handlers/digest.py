"""日报: a manager's digest on demand (not counted against the daily scheduled one)."""

from __future__ import annotations

from chat.inbound import Inbound
from chat.replies import Reply, Text
from chat.router import Ctx, Router
from services import roles
from services.digest import digest_replies

router = Router("digest")


@router.command(
    "日报",
    help="立即查看销售日报（昨日数据）；日报 今天：今天到目前为止",
    example="日报",
    roles=roles.MANAGERS,
    read_only=True,
)
def digest_now(msg: Inbound, ctx: Ctx) -> list[Reply]:
    word = ctx.args.strip()
    if word and word not in ("今天", "今日", "昨天", "昨日"):
        return [Text("用法：日报 [今天]\n例：日报（昨日数据）、日报 今天（今天到目前为止）")]
    live = word in ("今天", "今日")
    return list(
        digest_replies(ctx.session, manager=ctx.user, config=ctx.config, now=ctx.now, tz=ctx.tz, live=live)
    )
