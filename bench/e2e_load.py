"""The load generator of bench/e2e_bench.py, in a process of its own: pre-built HTTP requests on raw
keep-alive sockets (no HTTP client library), so the generator costs little CPU and does not share a GIL
with the stand-in WeCom API that timestamps the deliveries.

    python bench/e2e_load.py HOST PORT ITEMS.jsonl OUT.json [--rate R] [--connections C]

ITEMS.jsonl: one {"userid", "target", "body"} per line (bench/e2e_bench.py builds them: signed, encrypted
callbacks). It opens its connections, prints "ready", waits for a line on stdin, then posts every item:

- `--rate R`: open loop, item i is due at start + i/R whatever the answers so far (a free connection is
  taken from the pool, or a new one opened); its time is the *scheduled* time, so a stall of the server
  shows as latency instead of hiding it (no coordinated omission);
- otherwise as fast as `--connections` lanes go, each posting its next item when the last was answered.

OUT.json: {"results": [[scheduled or posted at (epoch s), answered at, userid, status], ...] (status 0: a
connection error), "cpu_s": this process's CPU seconds}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time


def request_bytes(host: str, port: int, target: str, body: str) -> bytes:
    data = body.encode()
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/xml\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def post(self, request: bytes) -> int:
        self.writer.write(request)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length:
            await self.reader.readexactly(length)
        return status


async def run(args: argparse.Namespace) -> list[list[object]]:
    items = []
    with open(args.items, encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            items.append((item["userid"], request_bytes(args.host, args.port, item["target"], item["body"])))

    async def connect() -> Connection:
        return Connection(*await asyncio.open_connection(args.host, args.port))

    pool: list[Connection] = [await connect() for _ in range(args.connections)]
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    results: list[list[object]] = []

    async def one(at: float, userid: str, request: bytes, conn: Connection | None) -> Connection | None:
        try:
            conn = conn or await connect()
            status = await conn.post(request)
        except (OSError, ConnectionError, ValueError, IndexError, asyncio.IncompleteReadError):
            results.append([at, time.time(), userid, 0])
            return None
        results.append([at, time.time(), userid, status])
        return conn

    if args.rate:
        start = time.time()
        tasks = []

        async def scheduled(at: float, userid: str, request: bytes) -> None:
            conn = pool.pop() if pool else None
            kept = await one(at, userid, request, conn)
            if kept is not None:
                pool.append(kept)

        for i, (userid, request) in enumerate(items):
            at = start + i / args.rate
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(scheduled(at, userid, request)))
        await asyncio.gather(*tasks)
    else:
        queue = list(reversed(items))

        async def lane(conn: Connection | None) -> None:
            while queue:
                userid, request = queue.pop()
                conn = await one(time.time(), userid, request, conn)

        await asyncio.gather(*(lane(conn) for conn in pool))
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("items")
    parser.add_argument("out")
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    results = asyncio.run(run(args))
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump({"results": results, "cpu_s": time.process_time()}, handle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
