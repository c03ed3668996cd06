"""Deterministic data for the digest benchmark, filled on PostgreSQL with server-side SQL.

    python bench/make_digest_data.py [--database-url URL] [--scale 1.0]

Sizes at --scale 1: 1,000 reps in 20 regions (plus 20 supervisors, a director, an admin, a tech lead and a
finance manager), 200,000 customers, 2,000,000 visits over the last 182 days (~1/182 of them yesterday; every
25th rep has none yesterday), 500,000 reminders (due −90 … +30 days: done, late, overdue, cancelled),
100,000 opportunities across the stages (23% lost) with their stage moves, quotes (pending / approved /
rejected) and two approval steps each, contracts for the signed ones and one to three payments each.

Every "random" value is `hashint8extended(row number, seed)` — stable for a given PostgreSQL major version
(hash partitioning relies on it), so two runs produce the same rows. The schema comes from the migration
(models.db.upgrade_schema); secondary indexes are dropped during the fill and rebuilt after it, foreign-key
triggers are skipped (session_replication_role = replica: the generator keeps references valid by
construction), then VACUUM ANALYZE.

The database is reset (its public schema dropped). "Now" is Friday 2026-11-27 08:30 Asia/Shanghai.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import reset_database  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_digest"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 8, 30, tzinfo=SHANGHAI)
NOW_UTC = NOW.astimezone(UTC).replace(tzinfo=None)  # 2026-11-27 00:30 (timestamps are stored as naive UTC)
Y0 = datetime(2026, 11, 25, 16, 0)  # yesterday 00:00 Shanghai, in UTC
REGIONS = [
    "华东", "华南", "华北", "华中", "西南", "西北", "东北", "上海", "北京", "广州",
    "深圳", "杭州", "南京", "苏州", "成都", "重庆", "武汉", "西安", "天津", "青岛",
]  # fmt: skip
STAGES = ["线索分配", "初步接洽", "方案制定", "报价审批", "合同签署", "实施交付"]
LOST = "输单"

REPS, SUPERVISORS = 1_000, 20


def sizes(scale: float) -> dict[str, int]:
    return {
        "customers": int(200_000 * scale),
        "visits": int(2_000_000 * scale),
        "reminders": int(500_000 * scale),
        "opportunities": int(100_000 * scale),
    }


def reset(url: str) -> Engine:
    return reset_database(url)


# Shared SQL fragments: h(x, seed) is a non-negative deterministic hash; rep r lives in region (r-1) % 20 + 1,
# customer c belongs to rep (c-1) % 1000 + 1 (so its region is (c-1) % 20 + 1 — no join needed to derive it).
FUNCTIONS = f"""
CREATE FUNCTION h(x bigint, seed int) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT hashint8extended(x, seed) & 9223372036854775807';
CREATE FUNCTION rep_id(r bigint) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$SELECT 'rep' || lpad(r::text, 4, '0')$$;
CREATE FUNCTION region_name(i bigint) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$SELECT (ARRAY[{", ".join(f"'{r}'" for r in REGIONS)}])[i]$$;
CREATE FUNCTION stage_name(i int) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$SELECT (ARRAY[{", ".join(f"'{s}'" for s in STAGES)}])[i + 1]$$;
"""

USERS = """
INSERT INTO users (userid, display_userid, name, role, region, manager_userid, active, created_at, updated_at)
SELECT rep_id(r), upper(rep_id(r)), '销售' || r, 'rep', region_name((r - 1) % 20 + 1),
       'sup' || lpad(((r - 1) % 20 + 1)::text, 2, '0'), true, :start, :start
FROM generate_series(1, :reps) AS r
UNION ALL
SELECT 'sup' || lpad(s::text, 2, '0'), 'SUP' || lpad(s::text, 2, '0'), region_name(s) || '主管', 'supervisor',
       region_name(s), 'boss', true, :start, :start
FROM generate_series(1, :sups) AS s
UNION ALL
SELECT * FROM (VALUES ('boss', 'Boss', '总经理', 'director', NULL, NULL, true, CAST(:start AS timestamp), CAST(:start AS timestamp)),
                      ('admin', 'Admin', '管理员', 'admin', NULL, NULL, true, CAST(:start AS timestamp), CAST(:start AS timestamp)),
                      ('tech', 'Tech', '技术负责人', 'tech_lead', NULL, 'boss', true, CAST(:start AS timestamp), CAST(:start AS timestamp)),
                      ('fin', 'Fin', '财务经理', 'finance', NULL, 'boss', true, CAST(:start AS timestamp), CAST(:start AS timestamp))) AS v
"""

CUSTOMERS = """
INSERT INTO customers (id, name, name_norm, industry, region, contact, phone, phone_norm, address, custom,
                       owner_userid, segment, segment_since, complete, created_at, updated_at)
SELECT c, '客户' || c || '机电', '客户' || c || '机电',
       (ARRAY['制造', '能源', '化工', '医药', '物流'])[h(c, 1) % 5 + 1], region_name((c - 1) % 20 + 1),
       '联系人' || c, '138' || lpad(c::text, 8, '0'), '138' || lpad(c::text, 8, '0'), '工业园' || (c % 500) || '号',
       '{}'::json, rep_id((c - 1) % 1000 + 1),
       seg, CASE WHEN seg IS NULL THEN NULL
                 WHEN seg = '休眠' AND c % 50 = 0 THEN DATE '2026-11-27' - (c / 50 % 2)::int  -- newly dormant
                 ELSE DATE '2026-11-27' - (10 + h(c, 3) % 300)::int END,
       h(c, 4) % 100 < 82,
       :now - make_interval(secs => 86400 * (30 + h(c, 5) % 1000)), :now - make_interval(secs => 86400 * (h(c, 6) % 30))
FROM (SELECT c, CASE WHEN p < 5 THEN '明星' WHEN p < 20 THEN '成长' WHEN p < 45 THEN '稳定'
                     WHEN p < 60 THEN '休眠' END AS seg
      FROM (SELECT c, h(c, 2) % 100 AS p FROM generate_series(1, :customers) AS c) s) t
"""

# Day 0 is yesterday (local); visits fall between 09:00 and 18:00 local (01:00–10:00 UTC).
VISITS = """
INSERT INTO visits (id, customer_id, userid, summary, visited_at, location_anomaly, photo_count)
SELECT g, c, rep_id((c - 1) % 1000 + 1), '面谈 需求沟通',
       :y0 - make_interval(days => CASE WHEN d = 0 AND (c - 1) % 1000 % 25 = 24 THEN 1 ELSE d END::int)
           + make_interval(secs => 3600 + h(g, 13) % 32400),
       false, 0
FROM (SELECT g, h(g, 11) % :customers + 1 AS c, h(g, 12) % 182 AS d FROM generate_series(1, :visits) AS g) s
"""

# Due between 90 days ago and 30 days ahead; past ones: 15% still open (overdue), 5% cancelled, the rest
# done (20% of those late).
REMINDERS = """
INSERT INTO reminders (id, owner_userid, customer_id, title, due_at, status, source, notified_at, notified_late,
                       completed_at, snooze_count, created_at)
SELECT g, rep_id((c - 1) % 1000 + 1), c, '回访客户', due,
       CASE WHEN due >= :now THEN 'open' WHEN p < 15 THEN 'open' WHEN p < 20 THEN 'cancelled' ELSE 'done' END,
       CASE WHEN g % 3 = 0 THEN 'visit' ELSE 'manual' END,
       CASE WHEN due < :now THEN due END, false,
       CASE WHEN due < :now AND p >= 20 THEN
            due + make_interval(secs => CASE WHEN p >= 84 THEN 3600 * (1 + h(g, 24) % 72) ELSE -(h(g, 24) % 86400) END)
       END,
       0, due - interval '3 days'
FROM (SELECT g, h(g, 21) % :customers + 1 AS c, h(g, 23) % 100 AS p,
             :now - interval '90 days' + make_interval(secs => h(g, 22) % (120 * 86400)) AS due
      FROM generate_series(1, :reminders) AS g) s
"""

# Stage index k (0–5) or lost (-1, after reaching stage lk); 1 in 1,000 created yesterday.
OPPORTUNITIES = """
INSERT INTO opportunities (id, customer_id, name, amount, stage, lost_reason, score, priority, score_items,
                           owner_userid, created_at, updated_at, closed_at)
SELECT o, c, '项目' || o, amount, CASE WHEN k < 0 THEN '输单' ELSE stage_name(k) END,
       CASE WHEN k < 0 THEN '价格' END, (h(o, 15) % 100)::int, (ARRAY['A', 'B', 'C'])[h(o, 16) % 3 + 1],
       '[]'::json, rep_id((c - 1) % 1000 + 1), created, created,
       CASE WHEN k < 0 THEN created + (:now - created) * 0.9 END
FROM (SELECT o, h(o, 1) % :customers + 1 AS c, round((10000 + h(o, 2) % 2000000) / 100.0) * 100 AS amount,
             CASE WHEN p < 15 THEN 0 WHEN p < 30 THEN 1 WHEN p < 45 THEN 2 WHEN p < 57 THEN 3
                  WHEN p < 67 THEN 4 WHEN p < 77 THEN 5 ELSE -1 END AS k,
             CASE WHEN o % 1000 = 7 THEN :y0 + make_interval(secs => 3600 + h(o, 4) % 32400)
                  ELSE :now - make_interval(secs => 86400 * 2 + h(o, 4) % (365 * 86400)) END AS created
      FROM (SELECT o, h(o, 3) % 100 AS p FROM generate_series(1, :opportunities) AS o) s) t
"""

# One move per stage reached (the first from NULL), the lost ones also to 输单; 1 in 40 made its last move
# yesterday. `n` = the stage reached (lost: h(o, 5) % 4).
STAGE_MOVES = """
INSERT INTO stage_moves (opportunity_id, from_stage, to_stage, moved_by, moved_at)
SELECT o.id,
       CASE WHEN i = 0 THEN NULL ELSE stage_name(i - 1) END,
       CASE WHEN i > n THEN '输单' ELSE stage_name(i) END,
       o.owner_userid,
       CASE WHEN i = last AND i > 0 AND o.id % 40 = 0 THEN greatest(o.created_at, :y0 + make_interval(secs => 3600 + h(o.id, 6) % 32400))
            ELSE o.created_at + (:now - interval '1 day' - o.created_at) * i / (last + 1) END
FROM (SELECT o.*, CASE WHEN o.stage = '输单' THEN (h(o.id, 5) % 4)::int
                       ELSE array_position(ARRAY[{stages}], o.stage) - 1 END AS n
      FROM opportunities o) o
CROSS JOIN LATERAL (SELECT CASE WHEN o.stage = '输单' THEN o.n + 1 ELSE o.n END AS last) l
CROSS JOIN LATERAL generate_series(0, l.last) AS i
""".replace("{stages}", ", ".join(f"'{s}'" for s in STAGES))

# Quotes for opportunities at 报价审批 (pending, asked within the last 10 days), beyond it (approved) and a third
# of the lost ones (rejected); 1 in 30 decided yesterday.
QUOTES = """
INSERT INTO quotes (id, opportunity_id, amount, requester_userid, status, current_step, step_count, created_at, decided_at)
SELECT o.id, o.id, o.amount, o.owner_userid, q.status,
       CASE WHEN q.status = 'pending' THEN 1 + (h(o.id, 7) % 2)::int WHEN q.status = 'approved' THEN 2 ELSE 1 END, 2,
       q.created,
       CASE WHEN q.status = 'pending' THEN NULL
            WHEN o.id % 30 = 0 THEN greatest(q.created, :y0 + make_interval(secs => 3600 + h(o.id, 8) % 32400))
            ELSE q.created + make_interval(secs => 3600 + h(o.id, 8) % (4 * 86400)) END
FROM opportunities o
CROSS JOIN LATERAL (
    SELECT CASE WHEN o.stage = '报价审批' THEN 'pending' WHEN o.stage = '输单' THEN 'rejected' ELSE 'approved' END AS status,
           CASE WHEN o.stage = '报价审批' THEN :now - make_interval(secs => h(o.id, 9) % (10 * 86400))
                ELSE o.created_at + (:now - o.created_at) * 0.5 END AS created
) q
WHERE o.stage IN ('报价审批', '合同签署', '实施交付') OR (o.stage = '输单' AND o.id % 3 = 0)
"""

# Step 1 by the region's supervisor, step 2 by the tech lead.
APPROVAL_STEPS = """
INSERT INTO approval_steps (quote_id, seq, role, approver_userid, status, acted_by, acted_at, activated_at, reminders_sent)
SELECT q.id, s.seq, s.role, s.approver,
       st.status, CASE WHEN st.status IN ('approved', 'rejected') THEN s.approver END,
       CASE WHEN st.status IN ('approved', 'rejected') THEN coalesce(q.decided_at, q.created_at + interval '5 hours')
                                                              - CASE WHEN s.seq = 1 AND q.step_count = 2 AND q.status = 'approved' THEN interval '2 hours' ELSE interval '0' END END,
       CASE WHEN st.status = 'waiting' THEN NULL
            WHEN s.seq = 1 THEN q.created_at
            ELSE coalesce(q.decided_at - interval '2 hours', q.created_at + interval '5 hours') END,
       0
FROM quotes q
JOIN customers c ON c.id = (SELECT customer_id FROM opportunities WHERE id = q.opportunity_id)
CROSS JOIN LATERAL (VALUES (1, 'supervisor', 'sup' || lpad(((c.id - 1) % 20 + 1)::text, 2, '0')),
                           (2, 'tech_lead', 'tech')) AS s(seq, role, approver)
CROSS JOIN LATERAL (
    SELECT CASE WHEN q.status = 'approved' THEN 'approved'
                WHEN q.status = 'rejected' THEN CASE WHEN s.seq = 1 THEN 'rejected' ELSE 'cancelled' END
                WHEN s.seq < q.current_step THEN 'approved'
                WHEN s.seq = q.current_step THEN 'pending'
                ELSE 'waiting' END AS status
) st
"""

CONTRACTS = """
INSERT INTO contracts (id, opportunity_id, customer_id, amount, signed_at, signed_by)
SELECT o.id, o.id, o.customer_id, o.amount,
       o.created_at + (:now - interval '1 hour' - o.created_at) * (0.55 + (h(o.id, 10) % 45) / 100.0), o.owner_userid
FROM opportunities o WHERE o.stage IN ('合同签署', '实施交付')
"""

PAYMENTS = """
INSERT INTO payments (contract_id, customer_id, amount, received_at, recorded_by)
SELECT k.id, k.customer_id, round(k.amount / n, 2), k.signed_at + make_interval(days => 7 + 30 * j), 'fin'
FROM contracts k
CROSS JOIN LATERAL (SELECT (1 + h(k.id, 11) % 3)::int AS n) p
CROSS JOIN LATERAL generate_series(0, p.n - 1) AS j
WHERE k.signed_at + make_interval(days => 7 + 30 * j) < :now
"""

STEPS: list[tuple[str, str]] = [
    ("users", USERS),
    ("customers", CUSTOMERS),
    ("visits", VISITS),
    ("reminders", REMINDERS),
    ("opportunities", OPPORTUNITIES),
    ("stage_moves", STAGE_MOVES),
    ("quotes", QUOTES),
    ("approval_steps", APPROVAL_STEPS),
    ("contracts", CONTRACTS),
    ("payments", PAYMENTS),
]
TABLES = [name for name, _ in STEPS]


def _secondary_indexes(conn: Connection) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the indexes not backing a primary key or unique constraint."""
    return [
        (name, sql)
        for name, sql in conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
            )
        ).all()
    ]


def fill(engine: Engine, *, scale: float = 1.0, log: bool = True) -> dict[str, tuple[int, float]]:
    """Fill every table; returns {table: (rows, seconds)} (plus "indexes" and "vacuum analyze")."""
    params = {**sizes(scale), "reps": REPS, "sups": SUPERVISORS, "now": NOW_UTC, "y0": Y0,
              "start": datetime(2025, 1, 1)}  # fmt: skip
    timings: dict[str, tuple[int, float]] = {}
    with engine.begin() as conn:
        conn.execute(
            text("SET LOCAL session_replication_role = replica")
        )  # no FK triggers: valid by construction
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        conn.exec_driver_sql(FUNCTIONS)
        indexes = _secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        for table, sql in STEPS:
            started = time.perf_counter()
            rows = conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql}).rowcount
            timings[table] = (rows, time.perf_counter() - started)
            if log:
                print(f"  {table:<15} {rows:>10,} rows  {timings[table][1]:6.1f} s", flush=True)
        for table in TABLES:  # ids were given explicitly in some tables: move the sequences past them
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
                )
            )
        started = time.perf_counter()
        for _, sql in indexes:
            conn.execute(text(sql))
        timings["indexes"] = (len(indexes), time.perf_counter() - started)
        conn.exec_driver_sql("DROP FUNCTION h, rep_id, region_name, stage_name")
    if log:
        print(f"  {'indexes':<15} {len(indexes):>10} built {timings['indexes'][1]:6.1f} s", flush=True)
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    timings["vacuum analyze"] = (0, time.perf_counter() - started)
    if log:
        print(f"  {'vacuum analyze':<15} {'':>10}       {timings['vacuum analyze'][1]:6.1f} s", flush=True)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the row counts (0.01 for a quick try)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    engine = reset(args.database_url)
    fill(engine, scale=args.scale)
    print(f"filled in {time.perf_counter() - started:.1f} s")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
