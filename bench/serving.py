"""Serving the app the way production does, for the HTTP benchmarks: gunicorn with the
project's own ``gunicorn.conf.py``, and a bare Flask application served by the same gunicorn
as the framework's ceiling; locust in headless mode as the load; the CPU each side used.
"""

from __future__ import annotations

import csv
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import ROOT, WORKDIR

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
LOAD_DIR = HERE / "load"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The Redis server the served app keeps its rate limits in, as production does.
REDIS_SERVER = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")


def rate_limit_store(database: int) -> dict[str, str]:
    """The environment that points the served app's rate limits at an emptied Redis database;
    empty (limits in each worker's memory) when no Redis answers."""
    import redis

    url = f"{REDIS_SERVER}/{database}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.RedisError:
        print(f"   (no Redis at {REDIS_SERVER}: rate limits in memory)", flush=True)
        return {"LMS_RATELIMIT_PER_PROCESS": "true"}
    return {"LMS_REDIS_URL": url}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn: its address and master process."""

    url: str
    process: subprocess.Popen

    def cpu_seconds(self) -> float:
        """CPU used so far by the master and every worker (live ones, and reaped ones)."""
        return process_tree_cpu(self.process.pid)


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid``, its live children and its reaped children."""
    total = 0.0
    for member in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # utime, stime, cutime, cstime are fields 14-17 of stat (11-14 after the name)
        total += sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    return total


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from each process's parent in /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rpartition(")")[2].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        if parent == pid:
            children.append(int(stat.parent.name))
    return children


@contextmanager
def gunicorn(
    app: str,
    env: dict[str, str] | None = None,
    workers: int | None = None,
    chdir: Path = ROOT,
    log_name: str = "gunicorn",
) -> Iterator[Server]:
    """gunicorn serving ``app`` (``module:variable``) with ``gunicorn.conf.py``, on a free
    port, until the block ends; access logs off (they would cost the run more than the app)."""
    port = free_port()
    environment = {
        "LMS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        **os.environ,
        **(env or {}),
        "LMS_BIND": f"127.0.0.1:{port}",
    }
    if workers:
        environment["LMS_WORKERS"] = str(workers)
    WORKDIR.mkdir(parents=True, exist_ok=True)
    log = (WORKDIR / f"{log_name}.log").open("w")
    command = [
        str(BIN / "gunicorn"),
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--access-logfile",
        "/dev/null",
        "--chdir",
        str(chdir),
        app,
    ]
    process = subprocess.Popen(  # noqa: S603 - a fixed command
        command, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, WORKDIR / f"{log_name}.log")
        yield Server(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


@dataclass
class LocustResult:
    """What one headless locust run measured, per request name and over all of them."""

    rows: dict[str, dict[str, float]]  # name -> count, failures, rps, median, p95, p99 ...
    seconds: float
    locust_cpu: float
    output: str

    @property
    def total(self) -> dict[str, float]:
        return self.rows["Aggregated"]


def run_locust(
    host: str,
    users: int,
    spawn_rate: float,
    run_time: str,
    name: str,
    env: dict[str, str] | None = None,
    user_class: str | None = None,
    reset_stats: bool = True,
) -> LocustResult:
    """locust, headless, with ``bench/load/locustfile.py``; figures from its CSV files.

    ``reset_stats`` drops what was measured while users were still being spawned, so the
    figures describe the steady state at ``users`` users."""
    prefix = WORKDIR / f"locust-{name}"
    command = [
        str(BIN / "locust"),
        "-f",
        str(LOAD_DIR / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--host",
        host,
        "-u",
        str(users),
        "-r",
        str(spawn_rate),
        "-t",
        run_time,
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
    ]
    if reset_stats:
        command.append("--reset-stats")
    if user_class:
        command.append(user_class)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(  # noqa: S603 - a fixed command
        command,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if completed.returncode not in (0, 1):  # 1: some requests failed, which is a figure
        raise SystemExit(f"locust failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            key = f"{row['Type']} {row['Name']}" if row["Type"] else "Aggregated"
            rows[key] = _figures(row)
    return LocustResult(rows, seconds, locust_cpu, completed.stderr[-5000:])


def _figures(row: dict[str, Any]) -> dict[str, float]:
    def number(key: str) -> float:
        value = row.get(key) or "0"
        return float(value) if value != "N/A" else float("nan")

    return {
        "requests": number("Request Count"),
        "failures": number("Failure Count"),
        "rps": number("Requests/s"),
        "median_ms": number("50%"),
        "p95_ms": number("95%"),
        "p99_ms": number("99%"),
        "max_ms": number("Max Response Time"),
    }
