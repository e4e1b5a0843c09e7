"""Export a million ledger rows on SQLite and PostgreSQL, beside the databases' own dumps.

For each database it builds a fresh schema (the real migrations), loads N synthetic ledger
rows in bulk (executemany on SQLite, COPY on PostgreSQL), then runs ``--rounds`` times (2),
each in a child process whose peak resident memory is read from /proc (``common.run_child``):

- the database's own CSV dump of the same columns: the sqlite3 shell's CSV mode, psql's
  ``\\copy``;
- the app's export (``lms.reports.export_runs.start_export``, the code behind the web, API
  and CLI) in each chosen format, written to a file.

The best round of each is kept, the dump's as the app's (the machine is shared). The app's
rows per second are held to half the dump's, its peak RSS to 150 MB; the figures go to
``bench/results/export.json`` (``common.write_result``). The CSV and JSON Lines of the two
databases, loaded with the same rows, must have the same SHA-256. Not part of the tests.

    .venv/bin/python bench/export_bench.py --rows 1000000 --formats csv,jsonl \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_export

Without ``--postgres`` it makes (drops and creates) ``bench_export`` on the BENCH_PG server
when that answers (``--no-postgres`` skips it). A database given with ``--postgres`` is
emptied (its public schema is dropped): never point it at real data.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    WORKDIR,
    Figure,
    engines,
    fresh_database,
    high_water_kib,
    make_app,
    run_child,
    scratch_url,
    write_result,
)

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

# The formats the app's database path writes, held to the target; the others are measured.
TARGET_FORMATS = ("csv", "jsonl")
PEAK_LIMIT_BYTES = 150_000_000  # "150 MB"


def prepare(url: str, rows: int, students: int = 2000, *, given: bool = False) -> None:
    """A migrated database with students, a course and ``rows`` synthetic ledger entries,
    the same on every database. A database given by URL is emptied (its public schema
    dropped); the benchmark's own (a file, or bench_export on BENCH_PG) is made anew."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from lms.auth.models import Role, User
    from lms.courses import content
    from lms.extensions import db

    if not given:
        fresh_database(url)
    app = make_app(url)
    with app.app_context():
        if given:
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
        content.create_course(
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
        student_ids = list(db.session.scalars(db.select(User.id).order_by(User.id)))
        module_ids = list(db.session.scalars(text("SELECT id FROM module ORDER BY id")))

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
        db.engine.dispose()


def child_export(url: str, fmt: str, output: str) -> None:
    """Run in a child process: one export to a file; prints what it measured as JSON."""
    from lms.db import utcnow
    from lms.extensions import db
    from lms.reports import export_runs

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
            done.update(rows=count, bytes=size, sha256=sha256)

        with open(output, "wb") as handle:
            for chunk in export.body(on_done):
                handle.write(chunk)
        seconds = time.perf_counter() - started
        print(
            json.dumps(
                {**done, "seconds": seconds, "before_kib": before, "peak_kib": high_water_kib()}
            )
        )


def dump(label: str, url: str, output: Path) -> tuple[str, float, int]:
    """The database's own CSV dump of the export's columns: its name, seconds, peak KiB."""
    if label == "postgresql":
        psql_url = url.replace("postgresql+psycopg://", "postgresql://")
        oneline = " ".join(DUMP_SQL.split())
        copy = f"\\copy ({oneline}) TO '{output}' WITH CSV HEADER"
        seconds, peak, _ = run_child(["psql", psql_url, "-q", "-c", copy])
        return "psql \\copy", seconds, peak
    with output.open("wb") as handle:
        seconds, peak, _ = run_child(
            ["sqlite3", "-csv", "-header", url.removeprefix("sqlite:///"), DUMP_SQL + ";"],
            stdout=handle,
        )
    return "sqlite3 -csv", seconds, peak


def export_once(label: str, url: str, fmt: str, rows: int, output: Path) -> dict:
    """One app export in a child process: what it reports, with its peak RSS."""
    _, peak, out = run_child([sys.executable, __file__, "--child", url, fmt, str(output)])
    report = json.loads(out.strip().splitlines()[-1])
    if report["rows"] != rows:
        raise SystemExit(f"{label} {fmt}: {report['rows']} rows exported, not {rows}")
    output.unlink()  # the disk holds one output at a time
    return report | {"peak_kib": max(peak, report["peak_kib"])}


def bench(
    label: str, url: str, rows: int, formats: list[str], rounds: int, workdir: Path, given: bool
):
    """Load, then rounds of the dump and the app's exports: the figures of one database
    (each the best of its rounds, the dump's as much as the app's) and what lies behind."""
    print(f"== {label}: loading {rows:,} rows ...", flush=True)
    started = time.perf_counter()
    prepare(url, rows, given=given)
    details: dict = {"load_seconds": round(time.perf_counter() - started, 1), "exports": {}}
    print(f"   loaded in {details['load_seconds']} s", flush=True)

    dump_file = workdir / f"{label}.dump.csv"
    dumps: list[tuple[float, int]] = []
    runs: dict[str, list[dict]] = {fmt: [] for fmt in formats}
    for _ in range(rounds):
        name, seconds, peak = dump(label, url, dump_file)
        dumps.append((seconds, peak))
        print(f"   {name}: {rows / seconds:,.0f} rows/s", flush=True)
        for fmt in formats:
            report = export_once(label, url, fmt, rows, workdir / f"{label}.{fmt}")
            runs[fmt].append(report)
            print(
                f"   app {fmt}: {rows / report['seconds']:,.0f} rows/s,"
                f" peak {report['peak_kib'] / 1024:.0f} MiB"
                f" ({report['before_kib'] / 1024:.0f} MiB before the first row)",
                flush=True,
            )
    dump_rate = rows / min(seconds for seconds, _ in dumps)
    details["dump"] = {
        "command": name,
        "seconds": [round(seconds, 3) for seconds, _ in dumps],
        "peak_kib": max(peak for _, peak in dumps),
        "bytes": dump_file.stat().st_size,
    }
    dump_file.unlink()

    figures = [Figure("export", label, f"{name} rows/s", round(dump_rate), "rows/s")]
    for fmt, reports in runs.items():
        rate = rows / min(report["seconds"] for report in reports)
        peak_kib = max(report["peak_kib"] for report in reports)
        held = fmt in TARGET_FORMATS
        figures.append(
            Figure(
                "export",
                label,
                f"app export {fmt} rows/s",
                round(rate),
                "rows/s",
                baseline=name,
                baseline_value=round(dump_rate),
                target=">= 50% of the dump" if held else "",
                met=rate >= 0.5 * dump_rate if held else None,
            )
        )
        figures.append(
            Figure(
                "export",
                label,
                f"app export {fmt} peak RSS",
                round(peak_kib / 1024, 1),
                "MiB",
                target="< 150 MB",
                met=peak_kib * 1024 < PEAK_LIMIT_BYTES,
            )
        )
        details["exports"][fmt] = {
            "seconds": [round(report["seconds"], 3) for report in reports],
            "bytes": reports[0]["bytes"],
            "sha256": sorted({report["sha256"] for report in reports}),
            "peak_kib": peak_kib,
            "before_first_row_kib": max(report["before_kib"] for report in reports),
        }
    return figures, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,jsonl", help="any of csv,jsonl,xlsx,xapi")
    parser.add_argument(
        "--postgres",
        help="PostgreSQL URL of a scratch database (emptied!); by default bench_export on the"
        " BENCH_PG server, when it answers",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], help="one database only")
    parser.add_argument(
        "--rounds", type=int, default=2, help="runs of each, the best kept (the machine is shared)"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_export(*args.child)
        return
    if args.engine:
        args.no_sqlite, args.no_postgres = args.engine != "sqlite", args.engine != "postgresql"
    formats = [f for f in args.formats.split(",") if f]
    WORKDIR.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="export-", dir=WORKDIR))
    started = time.perf_counter()
    figures, details = [], {}
    postgres = args.postgres
    if not postgres and not args.no_postgres and "postgresql" in engines():
        postgres = scratch_url("postgresql", "bench_export")
    try:
        if not args.no_sqlite:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            figures_of, details["sqlite"] = bench(
                "sqlite", url, args.rows, formats, args.rounds, workdir, given=False
            )
            figures += figures_of
        if postgres:
            figures_of, details["postgresql"] = bench(
                "postgresql",
                postgres,
                args.rows,
                formats,
                args.rounds,
                workdir,
                given=bool(args.postgres),
            )
            figures += figures_of
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if "sqlite" in details and "postgresql" in details:
        details["same_bytes_on_both_databases"] = {
            fmt: len(details["sqlite"]["exports"][fmt]["sha256"]) == 1
            and details["sqlite"]["exports"][fmt]["sha256"]
            == details["postgresql"]["exports"][fmt]["sha256"]
            for fmt in formats
            if fmt in TARGET_FORMATS
        }
    details["seconds"] = round(time.perf_counter() - started, 1)
    write_result(
        "export",
        f"Completion-ledger export of {args.rows:,} rows beside the database's own dump",
        {
            "rows": args.rows,
            "formats": formats,
            "rounds": args.rounds,
            "postgres": bool(postgres),
        },
        figures,
        details,
    )
    if "same_bytes_on_both_databases" in details:
        print(f"   same bytes on both databases: {details['same_bytes_on_both_databases']}")
    print(f"   ({details['seconds']} s in all)")


if __name__ == "__main__":
    main()
