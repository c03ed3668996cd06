"""`salesbot finance export FILE --from --to` and `salesbot finance import FILE` (registered by bot/cli.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from chat.settings import Settings
from models.db import open_database


def _day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"{flag} 的日期看不懂：「{value}」。请写成 2026-12-01 这样的格式。") from None


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from services.finance_export import export_finance

    path = Path(args.file)
    if path.suffix.lower() != ".xlsx":
        print(
            "导出文件须是 .xlsx，例如：salesbot finance export 财务-12月.xlsx --from 2026-12-01 --to 2026-12-31",
            file=sys.stderr,
        )
        return 2
    start, end = _day(args.date_from, "--from"), _day(args.date_to, "--to")
    if end < start:
        print(f"--to（{end}）早于 --from（{start}）。", file=sys.stderr)
        return 2
    _, session_factory = open_database(settings.database_url)
    with session_factory() as session:
        counts = export_finance(session, path=path, start=start, end=end, now=datetime.now(UTC))
    print(counts.summary(path, start, end))
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from chat.errors import DomainError
    from services.config_load import ConfigError, load_config
    from services.finance_import import import_receipts

    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 1
    try:
        config = load_config(settings.salesbot_config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    _, session_factory = open_database(settings.database_url)
    with session_factory() as session:
        try:
            report = import_receipts(
                session, path=path, config=config, now=datetime.now(UTC), dry_run=args.dry_run
            )
        except (DomainError, ValueError) as exc:
            session.rollback()
            print(f"导入失败：{getattr(exc, 'message', exc)}", file=sys.stderr)
            return 1
        if args.dry_run:
            session.rollback()
        else:
            session.commit()
    print(report.summary())
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    finance = sub.add_parser("finance", help="finance system: export for 用友 U8 / 金蝶, import ERP receipts")
    actions = finance.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="contracts, instalments, invoices and payments as XLSX")
    export.add_argument("file")
    export.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD (inclusive)")
    export.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD (inclusive)")
    export.set_defaults(func=cmd_export)
    receipts = actions.add_parser("import", help="ERP receipts: 合同编号, 回款金额, 回款日期, 凭证号")
    receipts.add_argument("file")
    receipts.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    receipts.set_defaults(func=cmd_import)
