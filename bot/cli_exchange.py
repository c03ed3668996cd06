"""`salesbot customers import|export`, `salesbot visits|opportunities|payments export` (registered by bot/cli.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chat.settings import Settings
from models.db import open_database


def _config(settings: Settings) -> Any:
    from services.config_load import load_config

    return load_config(settings.salesbot_config)


def cmd_customers_import(args: argparse.Namespace, settings: Settings) -> int:
    from chat.errors import DomainError
    from services.config_load import ConfigError
    from services.customer_import import import_customers

    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 1
    try:
        config = _config(settings)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    _, session_factory = open_database(settings.database_url)
    bar: Any = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit="行", desc="导入客户", file=sys.stderr)
    with session_factory() as session:
        try:
            report = import_customers(
                session,
                path=path,
                config=config,
                now=datetime.now(UTC),
                overwrite=args.overwrite,
                dry_run=args.dry_run,
                on_batch=None if args.dry_run else session.commit,
                progress=bar.update if bar is not None else None,
            )
        except (DomainError, ValueError) as exc:
            session.rollback()
            print(f"导入失败：{getattr(exc, 'message', exc)}", file=sys.stderr)
            return 1
        finally:
            if bar is not None:
                bar.close()
        if args.dry_run:
            session.rollback()
        else:
            session.commit()
    print(report.summary())
    return 0


def _export(kind: str) -> Any:
    def run(args: argparse.Namespace, settings: Settings) -> int:
        from services import export

        path = Path(args.file)
        if path.suffix.lower() != ".xlsx":
            print(f"导出文件须是 .xlsx，例如：salesbot {kind} export {kind}.xlsx", file=sys.stderr)
            return 2
        config = _config(settings)
        _, session_factory = open_database(settings.database_url)
        with session_factory() as session:
            count = export.EXPORTERS[kind](session, path=path, config=config)
        print(f"已导出 {count} 条记录到 {path}")
        return 0

    return run


def cmd_targets_import(args: argparse.Namespace, settings: Settings) -> int:
    from chat.errors import DomainError
    from services.target_import import import_targets

    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 1
    _, session_factory = open_database(settings.database_url)
    with session_factory() as session:
        try:
            report = import_targets(session, path=path, now=datetime.now(UTC))
        except (DomainError, ValueError) as exc:
            session.rollback()
            print(f"导入失败：{getattr(exc, 'message', exc)}", file=sys.stderr)
            return 1
        session.commit()
    print(report.summary())
    return 0


def cmd_targets_export(args: argparse.Namespace, settings: Settings) -> int:
    from services.export import write_sheet
    from services.target_import import export_rows

    path = Path(args.file)
    if path.suffix.lower() != ".xlsx":
        print("导出文件须是 .xlsx，例如：salesbot targets export targets.xlsx", file=sys.stderr)
        return 2
    _, session_factory = open_database(settings.database_url)
    with session_factory() as session:
        headers, rows = export_rows(session, now=datetime.now(UTC))
        count = write_sheet(path, "目标", headers, rows)
    print(f"已导出 {count} 条目标到 {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    if (
        "customers" in sub.choices
    ):  # bot.cli.main() appends this hook again on every call (tests call it twice)
        return
    customers = sub.add_parser("customers", help="customer import/export").add_subparsers(
        dest="action", required=True
    )
    imp = customers.add_parser("import", help="import customers from CSV/XLSX (re-runnable)")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="report what would happen, write nothing")
    imp.add_argument(
        "--overwrite", action="store_true", help="replace existing values instead of filling blanks"
    )
    imp.set_defaults(func=cmd_customers_import)
    exp = customers.add_parser("export", help="export customers to XLSX")
    exp.add_argument("file")
    exp.set_defaults(func=_export("customers"))
    for kind, label in (("visits", "visits"), ("opportunities", "opportunities"), ("payments", "payments")):
        group = sub.add_parser(kind, help=f"{label} export").add_subparsers(dest="action", required=True)
        p = group.add_parser("export", help=f"export {label} to XLSX")
        p.add_argument("file")
        p.set_defaults(func=_export(kind))
    targets = sub.add_parser("targets", help="monthly targets").add_subparsers(dest="action", required=True)
    t_imp = targets.add_parser(
        "import", help="import targets (账号/姓名/区域, 月份, 指标, 目标) from CSV/XLSX"
    )
    t_imp.add_argument("file")
    t_imp.set_defaults(func=cmd_targets_import)
    t_exp = targets.add_parser("export", help="export targets with what is done so far to XLSX")
    t_exp.add_argument("file")
    t_exp.set_defaults(func=cmd_targets_export)
