"""Pre-build N encrypted `拜访 …` callbacks (`帮助` while the visits capability is not installed) with unique
MsgIds, stamped now, for bench/wrk_callback.lua. Optionally seeds an org of reps into DATABASE_URL first.

    python bench/make_callbacks.py --count 30000 --out /tmp/callbacks.tsv [--seed-org 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.crypto import CallbackCrypto  # noqa: E402
from tests.harness import AES_KEY, AGENT_ID, CORP_ID, TOKEN, seed_org  # noqa: E402
from tests.procs import build_callback, text_xml  # noqa: E402


def bench_org(reps: int) -> list[tuple[str, str, str, str, str]]:
    rows = [("boss", "王总", "director", "", ""), ("admin", "刘文员", "admin", "", "")]
    rows += [(f"sup{r}", f"主管{r}", "supervisor", f"区域{r}", "boss") for r in range(10)]
    rows += [(f"rep{i}", f"销售{i}", "rep", f"区域{i % 10}", f"sup{i % 10}") for i in range(reps)]
    return rows


def command_word() -> str:
    from handlers import build_routes

    return "拜访" if "拜访" in build_routes().command_words() else "帮助"


def seed(database_url: str, reps: int) -> None:
    from models.db import make_engine, make_session_factory, upgrade_schema

    engine = make_engine(database_url)
    upgrade_schema(engine)
    with make_session_factory(engine)() as session, session.begin():
        seed_org(session, bench_org(reps))
        session.flush()
        add_customers(session, reps)
    engine.dispose()


def add_customers(session: Any, reps: int) -> None:
    """Each rep owns a 华东精密 (names repeat across owners; scope keeps them apart), so `拜访` records a visit."""
    from datetime import UTC, datetime

    from models import Customer

    now = datetime.now(UTC)
    for i in range(reps):
        session.add(
            Customer(
                name="华东精密",
                name_norm="华东精密",
                region=f"区域{i % 10}",
                owner_userid=f"rep{i}",
                contact="王工",
                phone=f"1380000{i:04d}",
                phone_norm=f"1380000{i:04d}",
                custom={},
                created_at=now,
                updated_at=now,
            )
        )


def build(count: int, out: Path, reps: int) -> str:
    word = command_word()
    content = f"{word} 华东精密 面谈 聊了新产线报价，下周回访" if word == "拜访" else word
    crypto = CallbackCrypto(token=TOKEN, aes_key=AES_KEY, corp_id=CORP_ID, window_s=300)
    base = int(time.time() * 1000) * 1000
    with out.open("w", encoding="utf-8") as handle:
        for i in range(count):
            xml = text_xml(CORP_ID, AGENT_ID, f"rep{i % reps}", content, base + i)
            query, body = build_callback(crypto, TOKEN, CORP_ID, AGENT_ID, xml)
            handle.write(f"/wecom/callback?{query}\t{body.decode()}\n")
    return word


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=30000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/callbacks.tsv"))
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--seed-org", action="store_true", help="seed the bench org into DATABASE_URL")
    args = parser.parse_args()
    if args.seed_org:
        seed(os.environ["DATABASE_URL"], args.reps)
    word = build(args.count, args.out, args.reps)
    print(f"wrote {args.count} `{word}` callbacks to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
