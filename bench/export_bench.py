"""Export one million ledger rows on SQLite and PostgreSQL; compare with the databases' own dumps.

For each database it builds a fresh schema (the real migrations), loads N synthetic ledger
rows in bulk (executemany on SQLite, COPY on PostgreSQL), then runs, each in a child process
whose peak resident memory is read with ``os.wait4``:

- the app's export (``lms.records.export_runs.start_export``, the same code as the web, API
  and CLI) in each chosen format, written to a file;
- the database's own dump of the same columns: the sqlite3 shell in CSV mode, psql's ``\\copy``.

It prints rows per second and peak RSS for each. Not part of the test suite.

    .venv/bin/python bench/export_bench.py --rows 1000000 --formats csv,jsonl \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench

The PostgreSQL database is emptied (its public schema is dropped): never point it at real data.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DUMP_SQL = """
SELECT e.id, e.recorded_at, s.id, s.email, s.full_name, e.kind, c.code, m.code, m.title,
       cr.code, e.score, e.source, e.source_ref, a.email, e.note
FROM ledger_entry e
JOIN user_account s ON s.id = e.student_id
LEFT JOIN module m ON m.id = e.module_id
LEFT JOIN course c ON c.id = m.course_id
LEFT JOIN credential cr ON cr.id = e.credential_id
LEFT JOIN user_account a ON a.id = e.actor_id
ORDER BY e.id
""".strip()


def make_app(url: str):
    from lms import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 8 * 1024,
        }
    )


def prepare(url: str, rows: int, students: int = 2000) -> None:
    """A migrated database with students, a course and ``rows`` synthetic ledger entries."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from lms.auth.models import Role, User
    from lms.courses import service as courses
    from lms.extensions import db

    app = make_app(url)
    with app.app_context():
        if url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        now = datetime(2026, 1, 1, tzinfo=UTC)
        db.session.add_all(
            User(
                email=f"student{n}@example.org",
                full_name=f"Student {n}",
                role=Role.STUDENT,
                active=True,
                created_at=now,
            )
            for n in range(students)
        )
        courses.create_course(
            {
                "code": "BENCH",
                "title": "Benchmark course",
                "topic_area": "terminology",
                "modules": [
                    {"code": f"BENCH-{m}", "title": f"Module {m}", "lesson": "x", "questions": []}
                    for m in range(1, 11)
                ],
            }
        )
        db.session.commit()
        student_ids = list(db.session.scalars(db.select(User.id)))
        module_ids = list(db.session.scalars(text("SELECT id FROM module")))

        def row(n: int):
            at = now + timedelta(seconds=n)
            return (
                student_ids[n % len(student_ids)],
                "module_completed",
                module_ids[n % len(module_ids)],
                70 + n % 31,
                "bench",
                f"synthetic:{n}",
                at,
                "synthetic row for the benchmark",
            )

        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            if url.startswith("postgresql"):
                with cursor.copy(
                    "COPY ledger_entry (student_id, kind, module_id, score, source, source_ref,"
                    " recorded_at, note) FROM STDIN"
                ) as copy:
                    for n in range(rows):
                        copy.write_row(row(n))
            else:
                cursor.execute("BEGIN")
                chunk = 50_000
                for start in range(0, rows, chunk):
                    cursor.executemany(
                        "INSERT INTO ledger_entry (student_id, kind, module_id, score, source,"
                        " source_ref, recorded_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (*r[:6], r[6].replace(tzinfo=None).isoformat(sep=" "), r[7])
                            for r in map(row, range(start, min(rows, start + chunk)))
                        ],
                    )
            connection.commit()
        finally:
            connection.close()
        if url.startswith("postgresql"):
            db.session.execute(text("ANALYZE"))
            db.session.commit()


def child_export(url: str, fmt: str, output: str) -> None:
    """Run in a child process: one export to a file; prints its row count and time."""
    from lms.db import utcnow
    from lms.extensions import db
    from lms.records import export_runs

    app = make_app(url)
    with app.app_context():
        before = high_water_kib()
        started = time.perf_counter()
        export = export_runs.start_export(
            None, "completions", fmt, {}, channel="cli", now=utcnow(), base_url="http://bench"
        )
        db.session.commit()
        done = {}

        def on_done(count: int, size: int, sha256: str) -> None:
            done.update(rows=count, bytes=size)

        with open(output, "wb") as handle:
            for chunk in export.body(on_done):
                handle.write(chunk)
        print(
            json.dumps(
                {
                    **done,
                    "seconds": time.perf_counter() - started,
                    "before_kib": before,
                    "peak_kib": high_water_kib(),
                }
            )
        )


def high_water_kib(pid: int | str = "self") -> int:
    """The process's peak resident memory (VmHWM, reset by exec, unlike ru_maxrss)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def run_child(command: list[str], stdout=None) -> tuple[float, int, str]:
    """Run a command; its wall time, its peak RSS in KiB (polled), and its output."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as captured:
        process = subprocess.Popen(  # noqa: S603 - our own fixed commands
            command, stdout=stdout or captured, stderr=subprocess.PIPE
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, high_water_kib(process.pid))
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        error = process.stderr.read().decode()
        if process.returncode != 0:
            raise SystemExit(f"{command[:3]} failed: {error}")
        captured.seek(0)
        out = captured.read().decode()
    return elapsed, peak, out


def bench(label: str, url: str, rows: int, formats: list[str], workdir: Path) -> list[tuple]:
    results = []
    print(f"== {label}: loading {rows:,} rows ...", flush=True)
    started = time.perf_counter()
    prepare(url, rows)
    print(f"   loaded in {time.perf_counter() - started:.1f} s", flush=True)
    for fmt in formats:
        output = workdir / f"{label}.{fmt}"
        elapsed, rss, out = run_child([sys.executable, __file__, "--child", url, fmt, str(output)])
        report = json.loads(out.strip().splitlines()[-1])
        assert report["rows"] == rows, report
        rss = max(rss, report["peak_kib"])
        elapsed = report["seconds"]  # the export itself, without starting Python
        results.append((label, f"app export {fmt}", rows, elapsed, rss, output.stat().st_size))
        print(
            f"   {fmt}: peak {report['peak_kib'] / 1024:.0f} MiB, of which "
            f"{report['before_kib'] / 1024:.0f} MiB before the first row",
            flush=True,
        )
        print(f"   {fmt}: {rows / elapsed:,.0f} rows/s", flush=True)
    dump = workdir / f"{label}.dump.csv"
    if url.startswith("postgresql"):
        psql_url = url.replace("postgresql+psycopg://", "postgresql://")
        oneline = " ".join(DUMP_SQL.split())
        command = ["psql", psql_url, "-q", "-c", f"\\copy ({oneline}) TO '{dump}' WITH CSV HEADER"]
        elapsed, rss, _ = run_child(command)
        results.append((label, "psql \\copy (csv)", rows, elapsed, rss, dump.stat().st_size))
    else:
        path = url.removeprefix("sqlite:///")
        with dump.open("wb") as handle:
            elapsed, rss, _ = run_child(
                ["sqlite3", "-csv", "-header", path, DUMP_SQL + ";"], stdout=handle
            )
        results.append((label, "sqlite3 -csv", rows, elapsed, rss, dump.stat().st_size))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,jsonl", help="any of csv,jsonl,xlsx,xapi")
    parser.add_argument("--postgres", help="PostgreSQL URL of a scratch database (emptied!)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_export(*args.child)
        return
    formats = [f for f in args.formats.split(",") if f]
    workdir = Path(tempfile.mkdtemp(prefix="lms-bench-"))
    results = []
    try:
        if not args.no_sqlite:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            results += bench("sqlite", url, args.rows, formats, workdir)
        if args.postgres:
            results += bench("postgresql", args.postgres, args.rows, formats, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out = io.StringIO()
    out.write(
        f"\n{'database':<11} {'what':<20} {'rows':>10} {'seconds':>8} {'rows/s':>10}"
        f" {'peak RSS MiB':>12} {'MiB out':>8}\n"
    )
    for label, what, rows, seconds, rss_kib, size in results:
        out.write(
            f"{label:<11} {what:<20} {rows:>10,} {seconds:>8.1f} {rows / seconds:>10,.0f}"
            f" {rss_kib / 1024:>12.1f} {size / 2**20:>8.1f}\n"
        )
    print(out.getvalue())
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(peak RSS of this script, which loaded the rows: {own:.0f} MiB)")


if __name__ == "__main__":
    main()
