"""HTTP load: simulated students against gunicorn, on SQLite and PostgreSQL, beside a bare
Flask endpoint served the same way in the same run.

For each database the shared synthetic school (``common.school``) is copied to a scratch
database, ``--users`` of its enrolled students get a password hashed at the production cost
(so logging in costs what it costs in production), and gunicorn serves the app with the
project's ``gunicorn.conf.py`` and Redis for the rate limits. locust, headless, then spawns
the students (``bench/load/locustfile.py``: log in, dashboard, lesson and heartbeat, start a
quiz, autosave, submit; 2-6 s of think time between steps) at ``--spawn-rate`` per second.
locust logs every request; the log is cut into the ramp, ``--settle`` seconds after it that
are not measured (the ramp's queue drains), and ``--steady`` seconds with every user working.
The bare endpoint gets the same users at the same pace.

Figures of the steady state: requests per second, median, p95 and p99 latency, failures; the
server's CPU over the run; the ramp's p95 and the log-ins' p95. Target: p95 under 200 ms with
no failures at 500 students. Results go to ``bench/results/load.json``. Not part of the
tests.

    .venv/bin/python bench/load_bench.py --engine sqlite --users 500 --steady 60
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    PG_SERVER,
    SCHOOL,
    SCHOOL_NAME,
    WORKDIR,
    Figure,
    engines,
    percentile,
    school,
    scratch_url,
    write_result,
)
from serving import LOAD_DIR, gunicorn, rate_limit_store, run_locust  # noqa: E402

COPY_NAME = "bench_load"
NAN = float("nan")  # a figure of a phase with no requests in it
PASSWORD = "load-test-password"  # noqa: S105 - scratch accounts of a benchmark


def copy_school(engine: str) -> str:
    """A scratch copy of the shared school that the run may write to."""
    source, _ = school(engine)
    target = scratch_url(engine, COPY_NAME)
    if engine == "sqlite":
        path = Path(target.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        src, dst = sqlite3.connect(source.removeprefix("sqlite:///")), sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        settle_disk()
        return target
    from sqlalchemy import create_engine, text

    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{COPY_NAME}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{COPY_NAME}" TEMPLATE "{SCHOOL_NAME}"'))
        connection.execute(text("CHECKPOINT"))
    server.dispose()
    settle_disk()
    return target


def settle_disk() -> None:
    """Write the copy's gigabyte out now: left to the kernel (and to PostgreSQL's next
    checkpoint) it was written during the measured minutes, and the disk's queue showed in
    the latencies."""
    os.sync()
    time.sleep(2)


def prepare_students(url: str, users: int, seed: int) -> list[str]:
    """``users`` students enrolled in a cohort, chosen at random, with a production hash."""
    from argon2 import PasswordHasher
    from sqlalchemy import create_engine, text

    production_hash = PasswordHasher().hash(PASSWORD)  # argon2-cffi's defaults, as in production
    engine = create_engine(url)
    with engine.begin() as connection:
        rows = connection.execute(
            text(
                "SELECT DISTINCT u.id, u.email FROM user_account u "
                "JOIN enrollment e ON e.student_id = u.id "
                "WHERE u.role = 'student' AND u.active AND e.status = 'active' ORDER BY u.id"
            )
        ).all()
        chosen = random.Random(seed).sample(rows, min(users, len(rows)))
        connection.execute(
            text("UPDATE user_account SET password_hash = :hash WHERE id = :id"),
            [{"hash": production_hash, "id": row.id} for row in chosen],
        )
    engine.dispose()
    return [row.email for row in chosen]


def serve_and_load(
    app: str, env: dict[str, str], user_class: str, args: argparse.Namespace, name: str
) -> dict[str, Any]:
    """Serve ``app``, spawn the users, and cut locust's log of every request into phases."""
    bare = app.startswith("bare_app")
    spawn_rate = args.bare_spawn_rate if bare else args.spawn_rate
    ramp = args.users / spawn_rate
    log = WORKDIR / f"load-log-{name}.json"
    log.unlink(missing_ok=True)
    env = {**env, "LOAD_LOG": str(log)}
    options = {"chdir": LOAD_DIR} if bare else {}
    settle = 5 if bare else args.settle  # the bare endpoint has no log-ins to catch up on
    run_time = f"{round(ramp + settle + args.steady)}s"
    with gunicorn(app, env=env, log_name=f"gunicorn-{name}", **options) as server:
        cpu_before = server.cpu_seconds()
        began = time.perf_counter()
        result = run_locust(
            server.url, args.users, spawn_rate, run_time, name, env, user_class, reset_stats=False
        )
        wall = time.perf_counter() - began
        server_cpu = server.cpu_seconds() - cpu_before
    data = json.loads(log.read_text())
    requests = data["requests"]
    spawned = data["spawned_at"] or (requests[-1][0] if requests else 0)
    steady_from = spawned + settle
    steady_to = steady_from + args.steady
    steady = [r for r in requests if steady_from <= r[0] < steady_to]
    ramping = [r for r in requests if r[0] < spawned]
    by_name: dict[str, list] = {}
    for row in steady:
        by_name.setdefault(row[1], []).append(row)
    return {
        "steady": _phase(steady, args.steady),
        "ramp": _phase(ramping, ramp),
        "logins": _phase([r for r in requests if r[1] == "log in"], None),
        "steady_by_request": {n: _phase(rows, args.steady) for n, rows in sorted(by_name.items())},
        "server_cpu_cores": round(server_cpu / wall, 2),
        "locust_cpu_cores": round(result.locust_cpu / wall, 2),
        "wall_seconds": round(wall, 1),
        "locust_totals": result.total,
        "locust_log": result.output[-2000:],
    }


def _phase(rows: list, seconds: float | None) -> dict[str, float]:
    """Requests per second, latency percentiles and failures of the requests in ``rows``."""
    if not rows:
        return {"requests": 0}
    times = [row[2] for row in rows]
    figures = {
        "requests": len(rows),
        "failures": sum(1 for row in rows if row[3]),
        "median_ms": round(percentile(times, 0.5), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "p99_ms": round(percentile(times, 0.99), 1),
        "max_ms": round(max(times), 1),
    }
    if seconds:
        figures["rps"] = round(len(rows) / seconds, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"])
    parser.add_argument("--users", type=int, default=500)
    # Each log-in checks an argon2id hash (RFC 9106 parameters, argon2-cffi's defaults): about
    # 150 ms of CPU, so two cores log in at most ~13 students a second. 5 a second leaves
    # the rest for the students already working; the bare endpoint has no log-in.
    parser.add_argument("--spawn-rate", type=float, default=5, help="students started a second")
    parser.add_argument("--bare-spawn-rate", type=float, default=50)
    parser.add_argument(
        "--settle", type=int, default=20, help="seconds after the ramp that are not measured"
    )
    parser.add_argument("--steady", type=int, default=45, help="seconds measured at full load")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    figures: list[Figure] = []
    details: dict[str, Any] = {}
    print("== bare Flask endpoint (the framework's ceiling)", flush=True)
    bare = serve_and_load("bare_app:app", {}, "Bare", args, "bare")
    details["bare"] = bare
    print(f"   bare: {json.dumps(bare['steady'])}", flush=True)

    for engine in engines(args.engine):
        print(f"== {engine}: copying the school, preparing {args.users} students", flush=True)
        url = copy_school(engine)
        accounts = WORKDIR / "load-accounts.txt"
        accounts.write_text("\n".join(prepare_students(url, args.users, args.seed)) + "\n")
        env = {
            "LMS_DATABASE_URL": url,
            "LMS_SECRET_KEY": "bench-load",
            **rate_limit_store(7),
            "LOAD_ACCOUNTS": str(accounts),
            "LOAD_PASSWORD": PASSWORD,
        }
        print(f"== {engine}: {args.users} students", flush=True)
        run = serve_and_load("wsgi:app", env, "Student", args, f"app-{engine}")
        details[engine] = run
        total, base, ramp = run["steady"], bare["steady"], run["ramp"]
        met = total["p95_ms"] < 200 and total["failures"] == 0
        users = f"{args.users} students"
        figures += [
            Figure("load", engine, f"requests/s, {users}", total["rps"], "req/s",
                   "bare Flask", base["rps"]),
            Figure("load", engine, f"median latency, {users}", total["median_ms"], "ms",
                   "bare Flask", base["median_ms"]),
            Figure("load", engine, f"p95 latency, {users}", total["p95_ms"], "ms",
                   "bare Flask", base["p95_ms"], "p95 < 200 ms, no failures", met),
            Figure("load", engine, f"p99 latency, {users}", total["p99_ms"], "ms",
                   "bare Flask", base["p99_ms"]),
            Figure("load", engine, f"failed requests, {users}", total["failures"], ""),
            Figure("load", engine, "server CPU over the run (of 2 cores)",
                   run["server_cpu_cores"], "cores", "bare Flask", bare["server_cpu_cores"]),
            Figure("load", engine, "p95 latency while ramping up", ramp.get("p95_ms", NAN), "ms"),
            Figure("load", engine, "log-in p95 (all log-ins)",
                   run["logins"].get("p95_ms", NAN), "ms"),
        ]  # fmt: skip
    write_result(
        "load",
        "HTTP load (locust, gunicorn)",
        {
            "users": args.users,
            "spawn_rate": args.spawn_rate,
            "bare_spawn_rate": args.bare_spawn_rate,
            "settle_seconds": args.settle,
            "steady_seconds": args.steady,
            "think_seconds": "2-6",
            "school": SCHOOL,
        },
        figures,
        details,
    )


if __name__ == "__main__":
    main()
