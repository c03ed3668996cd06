"""End to end: `拜访` callbacks → acknowledged → handled → reply delivered to the stand-in WeCom API.

    python bench/e2e_bench.py            # the targets: 100/s for 60 s, saturation with 1, 2, 4 workers
    python bench/e2e_bench.py --rate 100 --rate-duration 10 --burst 600 --workers 1,4   # a quick look

Topology: `salesbot serve --no-worker` (acknowledges) + k `salesbot worker` processes on one PostgreSQL, the
stand-in WeCom API as a real HTTP server in this process (it timestamps every delivery), and a load
generator in this process. PostgreSQL is a private cluster started for the run (pg_stat_statements
preloaded, so statements are counted by the server; transactions from pg_stat_database); without root it
falls back to BENCH_DATABASE_URL and reports no statement count.

Phases, each with fresh processes:
1. offered rate: `--rate` callbacks/s for `--rate-duration` s (open loop) with `--rate-workers` workers:
   p50/p99 callback → delivered reply, backlog over time, transactions and statements per message;
2. saturation with 1, 2, 4 workers: `--burst` callbacks as fast as 16 connections post them: acked/s,
   handled-and-delivered/s (first callback → last delivery), transactions and statements per message;
3. the baseline, same run, same database: k bare psycopg processes (bench/bare_worker.py) doing the same
   effects (inbound row, customer, visit, outbox row, commit, one HTTP send), messages/s.
N reps (`--reps`) so WeCom's 30 messages a minute per member is not what is measured. Peak RSS of every
process is sampled from /proc. Every figure is printed against its target; the exit code says if all met.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
from callback_bench import RssSampler  # noqa: E402
from make_callbacks import bench_org  # noqa: E402

from bot.crypto import CallbackCrypto  # noqa: E402
from demo.fake_wecom import FakeWeCom  # noqa: E402
from tests.harness import AES_KEY, AGENT_ID, CORP_ID, TOKEN, seed_org  # noqa: E402
from tests.procs import (  # noqa: E402
    FakeWeComServer,
    ServeProcess,
    WorkerProcess,
    build_callback,
    free_port,
    running,
    text_xml,
    wait_for,
)

SECRET = "bench-secret-0123456789"
TABLES = "inbound_events, visits, outbox, audit_log, card_tasks, pending_media"


@dataclass
class Phase:
    name: str
    messages: int = 0
    acked: int = 0
    ack_s: float = 0.0
    handled_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    transactions: float = 0.0
    statements: float | None = None
    backlog: list[int] = field(default_factory=list)
    drain_s: float = 0.0
    rss_mb: dict[str, float] = field(default_factory=dict)
    sources: dict[str, tuple[int, int]] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def handled_per_s(self) -> float:
        return self.messages / self.handled_s if self.handled_s else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("inf")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# --- database ---------------------------------------------------------------------------------------


def prepare_database(url: str, reps: int) -> None:
    from benchdb import reset_database
    from make_callbacks import add_customers

    from models.db import make_session_factory

    engine = reset_database(url)
    with make_session_factory(engine)() as session, session.begin():
        seed_org(session, bench_org(reps))
        session.flush()
        add_customers(session, reps)
    engine.dispose()


def clear_effects(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        conn.execute("VACUUM ANALYZE")


class Counters:
    """Transactions (pg_stat_database) and statements (pg_stat_statements, if loaded) of the bench database."""

    def __init__(self, url: str) -> None:
        self.url = url
        with psycopg.connect(url, autocommit=True) as conn:
            self.statements = bool(
                conn.execute("SELECT 1 FROM pg_extension WHERE extname='pg_stat_statements'").fetchone()
            )
            if not self.statements:
                try:
                    conn.execute("CREATE EXTENSION pg_stat_statements")
                    conn.execute("SELECT pg_stat_statements_reset()")
                    self.statements = True
                except psycopg.Error:
                    self.statements = False

    def reset(self) -> tuple[int, int]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            if self.statements:
                conn.execute("SELECT pg_stat_statements_reset()")
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
        return int(row[0]) if row else 0, 0

    def read(self, since: tuple[int, int]) -> tuple[int, int | None]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            xacts = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
            statements = None
            if self.statements:
                # Transaction control (BEGIN/COMMIT/ROLLBACK) is not a statement; the bench's own reads are left out.
                row = conn.execute(
                    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                    "WHERE d.datname = current_database() AND query !~* '^\\s*(begin|commit|rollback)' "
                    "AND query !~* 'pg_stat_(statements|database|clear)'"
                ).fetchone()
                statements = int(row[0]) if row else 0
        total = int(xacts[0]) if xacts else 0
        return total - since[0] - 2, statements  # -2: this read

    def sources(self) -> dict[str, tuple[int, int]]:
        """(calls, rows) of the statements that open the bot's transactions: the acknowledging INSERT,
        the inbound claim and the outbox poll's claim (a claim that finds nothing is still a transaction)."""
        if not self.statements:
            return {}
        patterns = {
            "ack INSERTs": "^WITH ins AS \\(INSERT INTO inbound_events",
            "inbound claims": "^WITH heads AS MATERIALIZED",
            "outbox polls": "^WITH due AS MATERIALIZED",
        }
        out = {}
        with psycopg.connect(self.url, autocommit=True) as conn:
            for label, pattern in patterns.items():
                row = conn.execute(
                    "SELECT coalesce(sum(calls), 0), coalesce(sum(rows), 0) FROM pg_stat_statements s "
                    "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() AND query ~ %s",
                    (pattern,),
                ).fetchone()
                out[label] = (int(row[0]), int(row[1])) if row else (0, 0)
            if os.environ.get("BENCH_DEBUG"):
                for calls, rows, query in conn.execute(
                    "SELECT calls, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) FROM pg_stat_statements s "
                    "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() ORDER BY calls DESC LIMIT 25"
                ):
                    print(f"    {calls:6d} {rows:7d} {query}")
        return out


# --- CPU per message ------------------------------------------------------------------------------


def cpu_s(pid: int, *, children: bool = True) -> float:
    """CPU seconds of `pid` (user + system), with its reaped children's when `children`."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = fields[11:15] if children else fields[11:13]
    return sum(int(x) for x in ticks) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s(postmaster: int | None) -> float:
    """The cluster's CPU: the postmaster with the backends it reaped, plus every live backend."""
    if postmaster is None:
        return 0.0
    total = cpu_s(postmaster)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            total += cpu_s(int(stat.parent.name))
    return total


class CpuMeter:
    """CPU seconds spent by each group of processes between `start()` and `stop()`."""

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups  # label -> callable returning the group's CPU seconds so far
        self.since: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def start(self) -> None:
        self.since = {label: read() for label, read in self.groups.items()}

    def stop(self) -> dict[str, float]:
        self.spent = {label: read() - self.since[label] for label, read in self.groups.items()}
        return self.spent


def bench_cpu_s() -> float:
    times = os.times()
    return times.user + times.system  # this process: the stand-in WeCom API (and the samplers)


# --- load -------------------------------------------------------------------------------------------


def build_callbacks(count: int, reps: int, offset: int) -> list[tuple[str, str, bytes]]:
    crypto = CallbackCrypto(token=TOKEN, aes_key=AES_KEY, corp_id=CORP_ID, window_s=300)
    base = int(time.time() * 1000) * 1000 + offset
    items = []
    for i in range(count):
        userid = f"rep{(offset + i) % reps}"
        xml = text_xml(CORP_ID, AGENT_ID, userid, f"拜访 华东精密 面谈 第{i}次，聊了新产线报价", base + i)
        query, body = build_callback(crypto, TOKEN, CORP_ID, AGENT_ID, xml)
        items.append((userid, query, body))
    return items


def run_load(
    url: str,
    items: list[tuple[str, str, bytes]],
    work: Path,
    *,
    rate: float | None,
    connections: int,
    on_ready: Any,
) -> tuple[list[tuple[float, float, str, int]], float]:
    """Post `items` from bench/e2e_load.py, a process of its own (raw sockets, pre-built requests); calls
    `on_ready()` once its connections are open, just before the load starts. Returns (scheduled or posted at,
    answered at, userid, status) per callback, and the generator's own CPU seconds."""
    path, out = work / "items.jsonl", work / "load-out.json"
    with path.open("w", encoding="utf-8") as handle:
        for userid, query, body in items:
            target = f"/wecom/callback?{query}"
            handle.write(json.dumps({"userid": userid, "target": target, "body": body.decode()}) + "\n")
    host, port = url.removeprefix("http://").split(":")
    cmd = [sys.executable, str(ROOT / "bench/e2e_load.py"), host, port, str(path), str(out)]
    cmd += ["--connections", str(connections)] + (["--rate", str(rate)] if rate else [])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError("the load generator did not start")
    on_ready()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    proc.wait(timeout=900)
    answer = json.loads(out.read_text())
    return [(float(a), float(b), str(u), int(s)) for a, b, u, s in answer["results"]], float(answer["cpu_s"])


def deliveries(fake: FakeWeCom) -> list[tuple[float, str]]:
    return [(call.at, str((call.json or {}).get("touser", ""))) for call in fake.calls_to("message/send")]


def latencies(sent: list[tuple[float, float, str, int]], delivered: list[tuple[float, str]]) -> list[float]:
    """One user's k-th delivery answers their k-th callback (the worker keeps each user's order); measured
    from the callback's scheduled time (rate phase) or the moment it was posted (saturation)."""
    by_user_sent: dict[str, list[float]] = {}
    for at, _, userid, status in sorted(sent):
        if status == 200:
            by_user_sent.setdefault(userid, []).append(at)
    by_user_got: dict[str, list[float]] = {}
    for at, userid in sorted(delivered):
        by_user_got.setdefault(userid, []).append(at)
    out = []
    for userid, times in by_user_sent.items():
        for t_sent, t_got in zip(times, by_user_got.get(userid, []), strict=False):
            out.append(t_got - t_sent)
    return out


def backlog(
    sent: list[tuple[float, float, str, int]], delivered: list[tuple[float, str]], *, start: float, end: float
) -> list[int]:
    """Acknowledged but not yet delivered, once a second from the first callback to the last answer."""
    acked = sorted(answered for _, answered, _, status in sent if status == 200)
    got = sorted(at for at, _ in delivered)
    out = []
    t = start + 1.0
    while t <= end + 1.0:
        out.append(bisect.bisect_right(acked, t) - bisect.bisect_right(got, t))
        t += 1.0
    return out


# --- phases -----------------------------------------------------------------------------------------


def run_bot_phase(
    args: argparse.Namespace, work: Path, *, name: str, workers: int, rate: float | None, count: int
) -> Phase:
    clear_effects(args.database_url)
    fake = FakeWeCom(corp_id=CORP_ID, agent_id=AGENT_ID, secret=SECRET, per_member_per_minute=None)
    server = FakeWeComServer(fake).start()
    env = {
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_AGENT_ID": str(AGENT_ID),
        "WECOM_SECRET": SECRET,
        "WECOM_TOKEN": TOKEN,
        "WECOM_AES_KEY": AES_KEY,
        "WECOM_API_BASE": server.url,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SALESBOT_LOG_LEVEL": "WARNING",
    }
    web = ServeProcess(env, args=("--no-scheduler", "--no-worker"), log_dir=work)
    pool = [WorkerProcess(env, args=("--interval", "2"), log_dir=work) for _ in range(workers)]
    phase = Phase(name, messages=count)
    with running(server, web, *pool):
        for proc in (web, *pool):
            proc.spawn()
        for proc in (web, *pool):
            wait_for(proc.healthy, timeout=120, what=proc.log_path.name)
        samplers = {"serve": RssSampler(web.proc.pid)} | {
            f"worker{i}": RssSampler(p.proc.pid) for i, p in enumerate(pool)
        }  # type: ignore[union-attr]
        for sampler in samplers.values():
            sampler.start()
        items = build_callbacks(count, args.reps, offset=hash(name) % 1000 * 10_000)
        time.sleep(1.5)  # start-up's own statistics reach pg_stat_database before the snapshot
        marks: dict[str, Any] = {}
        meter = CpuMeter(
            {
                "serve": lambda: cpu_s(web.proc.pid),  # type: ignore[union-attr]
                "workers": lambda: sum(cpu_s(p.proc.pid) for p in pool),  # type: ignore[union-attr]
                "postgres": lambda: postgres_cpu_s(args.postmaster),
                "wecom stub": bench_cpu_s,
            }
        )

        def load_starts() -> None:
            marks["since"] = args.counters.reset()
            meter.start()

        sent, marks["load_cpu"] = run_load(
            web.url, items, work, rate=rate, connections=args.connections, on_ready=load_starts
        )
        since = marks["since"]
        started = min(at for at, _, _, _ in sent)
        acked_at = max(answered for _, answered, _, _ in sent)
        phase.acked = sum(1 for *_, status in sent if status == 200)
        phase.ack_s = acked_at - started
        wait_for(
            lambda: len(fake.calls_to("message/send")) >= phase.acked,
            timeout=600,
            what=f"{name}: every reply delivered",
        )
        got = deliveries(fake)
        done_at = max(at for at, _ in got)
        phase.handled_s = done_at - started
        phase.drain_s = max(0.0, done_at - acked_at)
        phase.latencies = latencies(sent, got)
        phase.backlog = backlog(sent, got, start=started, end=acked_at)
        phase.cpu_s = meter.stop() | {"load generator": marks.get("load_cpu", 0.0)}
        for (
            proc
        ) in pool:  # SIGTERM: the workers write their last 'sent' marks, the backends exit and flush stats
            proc.stop()
        web.stop()
        phase.rss_mb = {label: s.stop() for label, s in samplers.items()}
        time.sleep(1.0)
        xacts, statements = args.counters.read(since)
        phase.sources = args.counters.sources()
        phase.transactions = xacts / max(phase.acked, 1)
        phase.statements = None if statements is None else statements / max(phase.acked, 1)
    return phase


def run_baseline(args: argparse.Namespace, work: Path, *, processes: int, count: int) -> Phase:
    clear_effects(args.database_url)
    fake = FakeWeCom(corp_id=CORP_ID, agent_id=AGENT_ID, secret=SECRET, per_member_per_minute=None)
    server = FakeWeComServer(fake).start()
    phase = Phase(f"bare psycopg × {processes}", messages=count)
    procs = []
    with running(server):
        for p in range(processes):
            jobs = [
                [f"rep{i % args.reps}", f"面谈 第{i}次，聊了新产线报价", f"{p}-{i}"]
                for i in range(p, count, processes)
            ]
            path = work / f"bare-{p}.json"
            path.write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(ROOT / "bench/bare_worker.py"),
                        args.database_url,
                        server.url,
                        CORP_ID,
                        SECRET,
                        str(AGENT_ID),
                        str(path),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                )
            )
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        since = args.counters.reset()
        pg_before = postgres_cpu_s(args.postmaster)
        stub_before = bench_cpu_s()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        spans = []
        bare_cpu = 0.0
        for proc in procs:
            out, _ = proc.communicate(timeout=600)
            start, end, cpu = (float(x) for x in out.split())
            spans.append((start, end))
            bare_cpu += cpu
        phase.cpu_s = {
            "bare": bare_cpu,
            "postgres": postgres_cpu_s(args.postmaster) - pg_before,
            "wecom stub": bench_cpu_s() - stub_before,
        }
        phase.handled_s = max(e for _, e in spans) - min(s for s, _ in spans)
        phase.acked = count
        time.sleep(1.0)
        xacts, statements = args.counters.read(since)
        phase.transactions = xacts / count
        phase.statements = None if statements is None else statements / count
        assert len(fake.calls_to("message/send")) == count
    return phase


# --- report -----------------------------------------------------------------------------------------


def line(phase: Phase) -> str:
    stm = "n/a" if phase.statements is None else f"{phase.statements:.1f}"
    rss = " ".join(f"{k}={v:.0f}MB" for k, v in phase.rss_mb.items())
    lat = f"p50={phase.pct(50) * 1000:.0f}ms p99={phase.pct(99) * 1000:.0f}ms" if phase.latencies else ""
    acked = f"acked/s={phase.acked / phase.ack_s:.0f} " if phase.ack_s else ""
    return (
        f"{phase.name:28s} n={phase.acked:5d} {acked}handled+delivered/s={phase.handled_per_s:6.1f} {lat} "
        f"txn/msg={phase.transactions:.2f} stmt/msg={stm} {rss}\n{'':28s} {cpu_line(phase)}"
        + (f"\n{'':28s} {sources_line(phase)}" if phase.sources else "")
    )


def sources_line(phase: Phase) -> str:
    n = max(phase.acked, 1)
    parts = [
        f"{label} {calls / n:.2f}/msg ({rows / calls if calls else 0:.1f} rows each)"
        for label, (calls, rows) in phase.sources.items()
    ]
    return "transactions opened by: " + ", ".join(parts)


def cpu_line(phase: Phase) -> str:
    """Where the machine's CPU went, per message: with 2 cores, 2000 / total ms is the rate ceiling."""
    n = max(phase.acked, 1)
    parts = [f"{label} {seconds * 1000 / n:.1f}" for label, seconds in phase.cpu_s.items()]
    total = sum(phase.cpu_s.values()) * 1000 / n
    return f"CPU ms/msg: {' + '.join(parts)} = {total:.1f} (2 cores: ceiling ≈ {2000 / total if total else 0:.0f}/s)"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--reps", type=int, default=1000, help="distinct senders (each callback is one rep's)"
    )
    parser.add_argument("--rate", type=float, default=100.0, help="offered callbacks per second, phase 1")
    parser.add_argument("--rate-duration", type=float, default=60.0, help="seconds of offered load, phase 1")
    parser.add_argument("--rate-workers", type=int, default=2, help="worker processes in phase 1")
    parser.add_argument("--burst", type=int, default=1500, help="callbacks per saturation phase")
    parser.add_argument("--workers", default="1,2,4", help="worker processes of each saturation phase")
    parser.add_argument("--connections", type=int, default=16, help="saturation: concurrent senders")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args()
    worker_counts = [int(x) for x in args.workers.split(",") if x]
    load_at_start = os.getloadavg()
    print(
        f"e2e bench: {args.rate:.0f}/s for {args.rate_duration:.0f} s with {args.rate_workers} workers, then "
        f"{args.burst} callbacks at saturation with {args.workers} workers and the bare psycopg baseline; "
        f"{os.cpu_count()} CPUs, load average at start {' '.join(f'{x:.2f}' for x in load_at_start)}",
        flush=True,
    )

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    private = None
    args.postmaster = None
    if not args.database_url:
        import private_pg

        if not private_pg.available():
            print(
                "needs root and PostgreSQL binaries for a private cluster, or --database-url (a scratch database)"
            )
            return 2
        private = private_pg.PrivatePostgres(free_port()).start()
        args.database_url = private.url
        args.postmaster = private.postmaster_pid()
    results: list[tuple[str, bool]] = []
    try:
        prepare_database(args.database_url, args.reps)
        args.counters = Counters(args.database_url)
        with tempfile.TemporaryDirectory(prefix="e2e-bench-") as tmp:
            work = Path(tmp)
            count = int(args.rate * args.rate_duration)
            rated = run_bot_phase(
                args,
                work,
                name=f"rate {args.rate:.0f}/s × {args.rate_workers}w",
                workers=args.rate_workers,
                rate=args.rate,
                count=count,
            )
            print(line(rated), flush=True)
            saturation: dict[int, tuple[Phase, Phase]] = {}
            for k in worker_counts:
                bot = run_bot_phase(
                    args, work, name=f"saturation × {k}w", workers=k, rate=None, count=args.burst
                )
                print(line(bot), flush=True)
                bare = run_baseline(args, work, processes=k, count=args.burst)
                print(line(bare), flush=True)
                saturation[k] = (bot, bare)
    finally:
        if private is not None:
            private.remove()

    load_at_end = os.getloadavg()
    print(
        f"\nLoad average at start {' '.join(f'{x:.2f}' for x in load_at_start)}, at end "
        f"{' '.join(f'{x:.2f}' for x in load_at_end)} (a 2-core machine: above ~2 other work shares the cores "
        "and the figures say more about the machine than about the code; compare ratios within this run)"
    )
    print("Targets:")
    p99 = rated.pct(99)
    results.append(
        (f"rate {args.rate:.0f}/s: p99 callback→delivered {p99 * 1000:.0f} ms (target < 1000 ms)", p99 < 1.0)
    )
    growth = rated.backlog[-1] if rated.backlog else 0
    results.append(
        (
            f"rate {args.rate:.0f}/s: {rated.acked} of {count} acknowledged; backlog at end of load {growth}, max "
            f"{max(rated.backlog or [0])}, drained {rated.drain_s:.1f} s after (target: every callback acknowledged, "
            "no growing backlog = drained within 2 s)",
            rated.acked == count and rated.drain_s < 2.0,
        )
    )
    for label, phase in [
        ("rate", rated),
        *[(f"saturation × {k}w", bot) for k, (bot, _) in saturation.items()],
    ]:
        results.append(
            (
                f"{label}: {phase.transactions:.2f} transactions per 拜访 (target ≤ 2.0)",
                phase.transactions <= 2.0,
            )
        )
        if phase.statements is not None:
            results.append(
                (f"{label}: {phase.statements:.1f} statements per 拜访 (target ≤ 12)", phase.statements <= 12)
            )
    base1 = saturation[worker_counts[0]][0].handled_per_s if worker_counts else 0.0
    for k, (bot, bare) in saturation.items():
        ratio = bot.handled_per_s / bare.handled_per_s if bare.handled_per_s else 0.0
        results.append(
            (
                f"× {k}: {bot.handled_per_s:.0f} vs bare {bare.handled_per_s:.0f} handled+delivered/s = {ratio:.3f} × baseline "
                f"(target ≥ 0.5); scaling vs × {worker_counts[0]}: {bot.handled_per_s / base1 if base1 else 0:.2f}",
                ratio >= 0.5,
            )
        )
    peak = max(
        (v, f"{p.name}/{k}")
        for p in [rated, *(b for b, _ in saturation.values())]
        for k, v in p.rss_mb.items()
    )
    results.append((f"peak RSS {peak[0]:.0f} MB ({peak[1]}) (target < 200 MB each process)", peak[0] < 200))
    for label, ok in results:
        print(f"  [{'PASS' if ok else 'FAIL'}] {label}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
