"""The baseline of bench/e2e_bench.py: the same effects as a handled `拜访`, written bare with psycopg.

Per message: store the inbound row, find the customer, insert the visit and the outbox row, commit, then
deliver with one HTTP call to the stand-in WeCom API. No framework, no queue, no claims, no savepoints.

    python bench/bare_worker.py DSN API_BASE CORP_ID SECRET AGENT_ID JOBS.json   # prints "start end cpu" (epoch s, CPU s)

It connects first, prints "ready", waits for one line on stdin (the go signal), then works through its
share of the messages (a JSON list of [userid, summary, msg_id]).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

import httpx
import psycopg
from psycopg.types.json import Json


def main() -> int:
    dsn, api, corp_id, secret, agent_id, jobs_path = sys.argv[1:7]
    with open(jobs_path, encoding="utf-8") as handle:
        jobs = json.load(handle)
    conn = psycopg.connect(dsn)
    client = httpx.Client(base_url=api.rstrip("/") + "/cgi-bin/", timeout=10)
    token = client.get("gettoken", params={"corpid": corp_id, "corpsecret": secret}).json()["access_token"]
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    cpu_start = time.process_time()
    for userid, summary, msg_id in jobs:
        now = datetime.now(UTC).replace(tzinfo=None)
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO inbound_events (dedup_key, userid, kind, received_at, status, payload, processed_at) "
                "VALUES (%s, %s, 'text', %s, 'done', %s, %s)",
                (f"bare:{msg_id}", userid, now, Json({"content": f"拜访 华东精密 {summary}"}), now),
            )
            cur.execute(
                "SELECT id FROM customers WHERE owner_userid = %s AND name_norm = %s LIMIT 1",
                (userid, "华东精密"),
            )
            row = cur.fetchone()
            customer_id = row[0] if row else None
            cur.execute(
                "INSERT INTO visits (customer_id, userid, summary, visited_at, location_anomaly, photo_count) "
                "VALUES (%s, %s, %s, %s, false, 0) RETURNING id",
                (customer_id, userid, summary, now),
            )
            visit_id = cur.fetchone()[0]  # type: ignore[index]
            message = {
                "touser": userid,
                "msgtype": "text",
                "agentid": int(agent_id),
                "text": {"content": f"已记录拜访 #{visit_id}"},
            }
            cur.execute(
                "INSERT INTO outbox (dedup_key, recipient, kind, payload, status, attempts, next_attempt_at, created_at, sent_at) "
                "VALUES (%s, %s, 'text', %s, 'sent', 1, %s, %s, %s)",
                (f"bare:{msg_id}", userid, Json(message), now, now, now),
            )
        conn.commit()
        client.post("message/send", params={"access_token": token}, json=message)
    print(f"{started} {time.time()} {time.process_time() - cpu_start}", flush=True)
    conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
