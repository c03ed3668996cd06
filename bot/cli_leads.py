"""`salesbot leads import FILE [--source 展会] [--dry-run]` (registered by bot/cli.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from chat.settings import Settings
from models.db import open_database


def cmd_leads_import(args: argparse.Namespace, settings: Settings) -> int:
    from chat.errors import DomainError
    from chat.outbox import enqueue
    from services.config_load import ConfigError, load_config
    from services.lead_import import import_leads
    from services.leadpool_cards import lead_card_for

    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 1
    try:
        config = load_config(settings.salesbot_config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.source and args.source not in config.leads.sources:
        known = "、".join(config.leads.sources)
        print(
            f"未知的来源「{args.source}」（配置里的来源：{known}）。例：salesbot leads import 展会.xlsx --source 展会",
            file=sys.stderr,
        )
        return 2
    now = datetime.now(UTC)
    _, session_factory = open_database(settings.database_url)
    with session_factory() as session:
        try:
            report = import_leads(
                session, path=path, config=config, now=now, source=args.source, dry_run=args.dry_run
            )
        except (DomainError, ValueError) as exc:
            session.rollback()
            print(f"导入失败：{getattr(exc, 'message', exc)}", file=sys.stderr)
            return 1
        summary = report.summary()  # names the assignees: read while the session is open
        if args.dry_run:
            session.rollback()
        else:
            for created in report.leads:  # each assignee's card, committed with the leads
                lead = created.lead
                if lead.assignee_userid:
                    enqueue(
                        session,
                        reply=lead_card_for(session, lead=lead, now=now),
                        recipient=lead.assignee_userid,
                        dedup_key=f"lead-card:{lead.id}:{lead.assign_count}",
                        now=now,
                    )
            session.commit()
    print(summary)
    if report.leads and not args.dry_run:
        print("线索卡片已排队，服务运行时会发给各位销售。")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    if "leads" in sub.choices:
        return
    leads = sub.add_parser("leads", help="leads (线索)").add_subparsers(dest="action", required=True)
    imp = leads.add_parser("import", help="import leads from CSV/XLSX (re-runnable), assigned by the rules")
    imp.add_argument("file")
    imp.add_argument("--source", help="the source for rows without one (default 展会)")
    imp.add_argument("--dry-run", action="store_true", help="report what would happen, write nothing")
    imp.set_defaults(func=cmd_leads_import)
