#!/usr/bin/env bash
# Run every benchmark in sequence (PostgreSQL on 127.0.0.1, Redis on 127.0.0.1:6379, wrk installed).
# BENCH_DATABASE_URL / BENCH_REDIS_URL override the defaults (the bench database is reset).
set -u
cd "$(dirname "$0")/.."
status=0
echo "== Callback throughput =="; python bench/callback_bench.py "$@" || status=1
echo "== End to end: callback → handled → delivered, 1/2/4 workers =="; python bench/e2e_bench.py || status=1
echo "== Reminder tick ==";       python bench/reminder_tick_bench.py || status=1
if [ -f bench/import_bench.py ]; then echo "== Import =="; python bench/import_bench.py || status=1; fi
echo "== Digest at scale ==";   python bench/digest_bench.py || status=1
echo "== Understanding ==";     python bench/understanding_bench.py || status=1
exit $status
