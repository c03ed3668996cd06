"""Benchmark: import 100,000 messy customer rows (target: under 60 s), against a bare read of the same file.

    python bench/import_bench.py                                   # SQLite in a temp dir, 100,000 rows, XLSX
    python bench/import_bench.py --rows 20000 --format csv
    python bench/import_bench.py --database-url postgresql://postgres@127.0.0.1:5432/bench_import --reset

Also on PostgreSQL when DATABASE_URL or --database-url is given (use a scratch database: `--reset` empties its
customers and audit_log tables first; without it a non-empty customers table stops the run). Each run times:
baseline (read_rows over the whole file, nothing else), the first import, and a rerun of the same file
(idempotent: every customer unchanged).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from bench.make_customer_sheet import DEFAULT_OWNERS, make_sheet  # noqa: E402
from models import Customer, User  # noqa: E402
from models.db import make_engine, make_session_factory, upgrade_schema  # noqa: E402
from services.config import default_config  # noqa: E402
from services.customer_import import import_customers  # noqa: E402
from services.tabular import read_rows  # noqa: E402

TARGET_S = 60.0


def baseline(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    _, rows = read_rows(path)
    count = sum(1 for _ in rows)
    return time.perf_counter() - start, count


def seed_owners(session_factory) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    with session_factory() as s, s.begin():
        have = set(s.scalars(select(User.userid)))
        for userid, name, region in DEFAULT_OWNERS:
            if userid not in have:
                s.add(
                    User(
                        userid=userid,
                        display_userid=userid,
                        name=name,
                        role="rep",
                        region=region,
                        created_at=now,
                        updated_at=now,
                    )
                )


def run_import(session_factory, path: Path) -> tuple[float, str]:  # type: ignore[no-untyped-def]
    config = default_config()
    start = time.perf_counter()
    with session_factory() as s:
        report = import_customers(s, path=path, config=config, now=datetime.now(UTC), on_batch=s.commit)
        s.commit()
    return time.perf_counter() - start, report.summary(max_lines=0).splitlines()[0]


def bench_database(label: str, url: str, path: Path, base_s: float, *, reset: bool) -> bool:
    engine = make_engine(url)
    upgrade_schema(engine)
    factory = make_session_factory(engine)
    with factory() as s:
        existing = s.scalar(select(func.count()).select_from(Customer)) or 0
    if existing:
        if not reset:
            print(f"[{label}] customers table not empty ({existing}); pass --reset on a scratch database")
            return False
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE customers, audit_log RESTART IDENTITY CASCADE"))
            else:
                conn.execute(text("DELETE FROM audit_log"))
                conn.execute(text("DELETE FROM customers"))
    seed_owners(factory)
    first_s, first = run_import(factory, path)
    again_s, again = run_import(factory, path)
    with factory() as s:
        total = s.scalar(select(func.count()).select_from(Customer))
    engine.dispose()
    ok = first_s < TARGET_S
    print(f"[{label}] import:  {first_s:6.1f} s  ({first_s / base_s:4.1f}× baseline)  {first}")
    print(f"[{label}] rerun:   {again_s:6.1f} s  ({again_s / base_s:4.1f}× baseline)  {again}")
    print(f"[{label}] customers in DB: {total}; target < {TARGET_S:.0f} s: {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--sheet", help="use this sheet instead of generating one")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL (or other) database to run on as well as SQLite",
    )
    parser.add_argument(
        "--reset", action="store_true", help="empty customers/audit_log of --database-url first"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if args.sheet:
            path = Path(args.sheet)
        else:
            path = tmpdir / f"customers.{args.format}"
            start = time.perf_counter()
            info = make_sheet(path, args.rows, duplicates=args.rows // 100, bad=args.rows // 300)
            print(
                f"sheet: {path.name}, {info.rows} rows ({info.customers} customers, "
                f"{len(info.duplicate_lines)} duplicates, {len(info.bad_lines)} bad), "
                f"made in {time.perf_counter() - start:.1f} s"
            )
        base_s, count = baseline(path)
        print(f"baseline (read_rows only): {base_s:6.1f} s for {count} rows")
        ok = True
        if not args.no_sqlite:
            ok &= bench_database("sqlite", f"sqlite:///{tmpdir / 'bench.db'}", path, base_s, reset=False)
        if args.database_url and not args.database_url.startswith("sqlite"):
            ok &= bench_database("postgresql", args.database_url, path, base_s, reset=args.reset)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
