"""A private PostgreSQL cluster for a benchmark: its own port on 127.0.0.1, pg_stat_statements preloaded, so
statements are counted by the server and no other database's load is in its figures. Needs root (the
server runs as the `postgres` user) and the PostgreSQL binaries; `available()` says whether it can run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from glob import glob
from pathlib import Path

PG_BIN = sorted(glob("/usr/lib/postgresql/*/bin"))


def available() -> bool:
    return bool(PG_BIN) and os.geteuid() == 0 and shutil.which("su") is not None


def _as_postgres(*args: str) -> None:
    command = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(args)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


class PrivatePostgres:
    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="salesbot-bench-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.bin = PG_BIN[-1]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/bench"

    def start(self) -> PrivatePostgres:
        _as_postgres(f"{self.bin}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        options = (
            f"'-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=100 "
            "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all'"
        )
        _as_postgres(
            f"{self.bin}/pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        _as_postgres(
            f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "bench"
        )
        return self

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def remove(self) -> None:
        subprocess.run(
            ["su", "postgres", "-s", "/bin/sh", "-c", f"{self.bin}/pg_ctl -D {self.data} -m immediate stop"],
            capture_output=True,
        )
        shutil.rmtree(self.dir, ignore_errors=True)
