"""The `salesbot` command. Every subcommand brings the schema up to date by itself."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import cli_exchange, cli_finance, cli_leads
from chat.settings import MissingSecrets, Settings
from models.db import open_database


def parse_now(value: str | None, *, tz: ZoneInfo) -> datetime:
    """ISO-8601; without an offset it means wall time in `tz` (the configured zone)."""
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SystemExit(
            f"--now 的时间看不懂：「{value}」。请写成 2026-11-28T08:45 这样的格式（不写时区即为 {tz.key} 时间）。"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=getattr(logging, settings.salesbot_log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # httpx logs full URLs, which carry the token
    logging.getLogger("alembic").setLevel(
        logging.WARNING
    )  # every command upgrades the schema; keep that quiet


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from bot.app import create_app

    if settings.is_sqlite and args.workers > 1:
        print(
            "SQLite 模式只能单进程运行；要运行多个进程，请改用 PostgreSQL（设置 DATABASE_URL）。",
            file=sys.stderr,
        )
        return 2
    if settings.is_sqlite and args.no_worker:
        print(SQLITE_NEEDS_ONE_PROCESS.format(what="serve --no-worker"), file=sys.stderr)
        return 2
    try:
        app = create_app(
            settings, run_worker=not args.no_worker, run_scheduler=not args.no_scheduler, fast_accept=True
        )
    except MissingSecrets as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if settings.is_sqlite:
        from bot.singleton import acquire_sqlite_lock

        if not acquire_sqlite_lock(settings.database_url):
            print(
                "另一个 salesbot 进程已经在使用这个 SQLite 数据库，SQLite 模式只能单进程运行。"
                "请先停止那个进程，或改用 PostgreSQL（设置 DATABASE_URL）。",
                file=sys.stderr,
            )
            return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


SQLITE_NEEDS_ONE_PROCESS = (
    "SQLite 模式只能单进程运行，「salesbot {what}」需要 PostgreSQL（设置 DATABASE_URL）。"
    "单进程请直接运行 salesbot serve（自带处理和发送）。"
)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Handling and delivery without HTTP; run any number of them beside `serve --no-worker`."""
    import signal

    from bot.app import build_state
    from bot.wakeup import PgListener

    if settings.is_sqlite:
        print(SQLITE_NEEDS_ONE_PROCESS.format(what="worker"), file=sys.stderr)
        return 2
    if args.batch < 1 or args.interval <= 0 or not 0 <= args.linger <= 5:
        print(
            "--batch 必须是正整数，--interval 必须大于 0，--linger 在 0 到 5 秒之间。"
            "例：salesbot worker --batch 32 --interval 1 --linger 0.1",
            file=sys.stderr,
        )
        return 2
    from models.db import make_engine

    try:
        # No ping per pool checkout: it is a transaction of its own, one more for every round. A round that
        # meets a dead connection fails and rolls back (its messages stay received), SQLAlchemy invalidates
        # the pool on the disconnect error, and the next round reconnects.
        state = build_state(settings, engine=make_engine(settings.database_url, pool_pre_ping=False))
    except MissingSecrets as exc:
        print(str(exc), file=sys.stderr)
        return 2
    worker = state.worker
    worker.busy = None  # nothing to step aside for: no request path in this process
    worker.batch, worker.interval = args.batch, args.interval
    worker.linger = args.linger
    worker.heartbeat = Path(args.heartbeat) if args.heartbeat else None
    dsn = state.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    listener = PgListener(dsn, worker.notify_inbound).start()
    state.photos.start()  # visit photos are downloaded by the process that handled the 拜访
    signal.signal(signal.SIGTERM, lambda *_: worker.stop_soon())
    signal.signal(signal.SIGINT, lambda *_: worker.stop_soon())
    logging.getLogger("salesbot.worker").info("worker started (batch %s)", worker.batch)
    try:
        worker.run_forever()
    finally:
        listener.stop()
        state.photos.stop()
        state.engine.dispose()
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from demo.run import run_demo

    return run_demo(port=args.port, host=args.host, data_dir=Path(args.data_dir), reset=args.reset)


def cmd_org_import(args: argparse.Namespace, settings: Settings) -> int:
    from chat.outbox import enqueue_all
    from services import approval_reroute, approval_rules
    from services.config_load import ConfigError, load_config
    from services.org import import_org

    try:
        config = load_config(settings.salesbot_config)
    except ConfigError as exc:
        print(f"组织架构导入失败：{exc}", file=sys.stderr)
        return 1
    _, session_factory = open_database(settings.database_url)
    now = datetime.now(UTC)
    with session_factory() as session, session.begin():
        try:
            report = import_org(session, path=Path(args.file), now=now, keep_missing=args.keep_missing)
        except FileNotFoundError:
            print(f"组织架构导入失败：找不到文件 {args.file}", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"组织架构导入失败：{exc}", file=sys.stderr)
            return 1
        # The same transaction: whoever lost a role loses its pending approvals and delegations.
        ended = approval_rules.end_delegations_of_inactive(session, now=now)
        notes, moved, problems = approval_reroute.reroute_open_steps(session, config=config, now=now)
        enqueue_all(
            session, replies=notes, default_recipient="", key_prefix=f"org-import:{now.isoformat()}", now=now
        )
        if ended:
            report.notes.append(f"已结束 {ended} 项涉及停用人员的审批委托")
        if moved:
            report.notes.append(f"已将 {moved} 个待审批步骤转交给现任审批人")
        report.notes += [f"需要处理：{p}" for p in problems]
    print(report.summary())
    return 0


def cmd_jobs_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_state
    from schedulers import run_job
    from schedulers.jobs import names

    if args.name not in names():
        known = "、".join(sorted(names()))
        print(
            f"没有名为「{args.name}」的任务。可用的任务：{known}。例：salesbot jobs run reminders",
            file=sys.stderr,
        )
        return 2
    try:
        state = build_state(settings)
    except MissingSecrets as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(run_job(args.name, state, parse_now(args.now, tz=settings.tz)))
    return 0


def cmd_config_check(args: argparse.Namespace, settings: Settings) -> int:
    from services.config_load import ConfigError, check_config_file

    try:
        print(check_config_file(Path(args.file), zone=settings.salesbot_timezone))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:
    from services.outbox_admin import list_dead, redrive

    _, session_factory = open_database(settings.database_url)
    with session_factory() as session, session.begin():
        if args.action == "list":
            lines = list_dead(session, tz=settings.tz)
            if not lines:
                print("没有发送失败或已放弃的消息。")
                return 0
            print(
                f"共 {len(lines)} 条消息没有送达（「已放弃」的可以重发：salesbot outbox redrive [编号 ...]，不写编号即全部重发）："
            )
            for line in lines:
                print(line)
        else:
            count = redrive(session, ids=args.ids or None, now=datetime.now(UTC))
            if count:
                print(f"已重新排队 {count} 条消息，稍后会自动发送。")
            else:
                print("没有可重发的消息：只有「已放弃」的消息可以重发，先用 salesbot outbox list 查看编号。")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salesbot", description="销售助手 SalesBot")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the callback server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-scheduler", action="store_true")
    serve.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="only acknowledge callbacks; `salesbot worker` processes handle them",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser(
        "worker", help="handle accepted messages and deliver replies (PostgreSQL; no HTTP)"
    )
    worker.add_argument(
        "--batch", type=int, default=32, help="messages claimed per transaction (several users)"
    )
    worker.add_argument("--interval", type=float, default=2.0, help="seconds between outbox polls")
    worker.add_argument(
        "--linger",
        type=float,
        default=0.1,
        help="seconds to wait after a wake-up from idle, so a trickle of callbacks becomes one batch",
    )
    worker.add_argument(
        "--heartbeat", default="", help="a file touched on every poll (for a container healthcheck)"
    )
    worker.set_defaults(func=cmd_worker)

    demo = sub.add_parser("demo", help="try the product in a browser, no WeCom account needed")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--data-dir", default="./data/demo")
    demo.add_argument("--reset", action="store_true", help="start again from the seeded company")
    demo.set_defaults(func=cmd_demo)

    org = sub.add_parser("org", help="org chart").add_subparsers(dest="action", required=True)
    org_import = org.add_parser("import", help="import userid,name,role,region,manager from CSV/XLSX")
    org_import.add_argument("file")
    org_import.add_argument(
        "--keep-missing",
        action="store_true",
        help="the file lists only some people: do not deactivate those it omits",
    )
    org_import.set_defaults(func=cmd_org_import)

    jobs = sub.add_parser("jobs", help="scheduled jobs").add_subparsers(dest="action", required=True)
    from schedulers.jobs import JOBS

    listed = "; ".join(f"{job.name}: {job.help}" for job in JOBS)
    jobs_run = jobs.add_parser("run", help=f"run one job now ({listed})")
    jobs_run.add_argument("name", metavar="NAME", help=" | ".join(job.name for job in JOBS))
    jobs_run.add_argument("--now", help="ISO-8601; without an offset, Asia/Shanghai")
    jobs_run.set_defaults(func=cmd_jobs_run)

    config = sub.add_parser("config", help="business configuration").add_subparsers(
        dest="action", required=True
    )
    check = config.add_parser("check", help="validate a configuration file")
    check.add_argument("file")
    check.set_defaults(func=cmd_config_check)

    outbox = sub.add_parser("outbox", help="dead letters").add_subparsers(dest="action", required=True)
    outbox_list = outbox.add_parser("list", help="list dead and failed messages")
    outbox_list.set_defaults(func=cmd_outbox)
    outbox_redrive = outbox.add_parser("redrive", help="re-queue dead messages")
    outbox_redrive.add_argument("ids", nargs="*", type=int)
    outbox_redrive.set_defaults(func=cmd_outbox)

    for extra in EXTRA_COMMANDS:
        extra(sub)
    return parser


# Subcommands defined with the capability they serve, included explicitly (customer import/export).
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    cli_exchange.register,
    cli_leads.register,
    cli_finance.register,
]  # type: ignore[type-arg]


def _reason(err: Any) -> str:
    """The validator's own words (a field validator's ValueError), after a colon; nothing for pydantic's."""
    if err.get("type") != "value_error":
        return ""
    return "：" + str(err["msg"]).removeprefix("Value error, ")


def _settings() -> Settings:
    """Settings from the environment; a malformed value stops the command with one line naming the variable."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "；".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}={err.get('input')!r} 无效{_reason(err)}"
            for err in exc.errors()
        )
        raise SystemExit(f"环境变量有误：{problems}（见 .env.example）") from None


def main(argv: list[str] | None = None) -> int:
    from services.config_load import ConfigError

    args = build_parser().parse_args(argv)
    settings = _settings()
    _setup_logging(settings)
    try:
        return int(args.func(args, settings) or 0)
    except ConfigError as exc:  # SALESBOT_CONFIG is loaded by serve and jobs: name the line, no traceback
        print(f"配置文件有误，已停止：\n{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
