"""How fast ``synth`` makes the shared school (about a million ledger rows), on SQLite and
PostgreSQL, beside the database copying the same rows itself.

It (re)builds the school every other benchmark uses (``common.school``) and times it. The
baseline: the database itself copies every table synth wrote in bulk into a table with the
same columns and indexes (no foreign keys), by ``INSERT ... SELECT`` in one transaction: no
client, no parsing, so its rows per second are the ceiling for writing those rows.

    .venv/bin/python bench/synth_bench.py [--engine sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import time

import common

from lms.demo.synth.bulk import TABLE_ORDER  # noqa: E402 - common puts the project on the path


def native_copy_seconds(engine: str, url: str) -> tuple[float, int]:
    """Seconds for the database itself to write every bulk table's rows into copies of the
    tables (same columns and indexes), in one transaction, and how many rows that was."""
    from sqlalchemy import create_engine, text

    db = create_engine(url)
    rows = 0
    copies = [f"bench_copy_{t}" for t in TABLE_ORDER]
    with db.begin() as connection:
        for table, copy in zip(TABLE_ORDER, copies, strict=True):
            connection.execute(text(f"DROP TABLE IF EXISTS {copy}"))
            rows += connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
            if engine == "postgresql":
                connection.execute(
                    text(f"CREATE TABLE {copy} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)")
                )
            else:
                connection.execute(text(f"CREATE TABLE {copy} AS SELECT * FROM {table} WHERE 0"))  # noqa: S608
                indexes = connection.execute(
                    text("SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name=:t"),
                    {"t": table},
                ).scalars()
                for sql in indexes:
                    if sql:  # the automatic ones of UNIQUE constraints have no SQL
                        renamed = sql.replace(f" ON {table} ", f" ON {copy} ", 1)
                        renamed = renamed.replace("INDEX ", f"INDEX bench_copy_{table}_", 1)
                        connection.execute(text(renamed))
    started = time.perf_counter()
    with db.begin() as connection:
        for table, copy in zip(TABLE_ORDER, copies, strict=True):
            connection.execute(text(f"INSERT INTO {copy} SELECT * FROM {table}"))  # noqa: S608
    seconds = time.perf_counter() - started
    db.dispose()
    db = create_engine(url)
    with db.begin() as connection:
        loaded = sum(
            connection.execute(text(f"SELECT count(*) FROM {c}")).scalar()  # noqa: S608
            for c in copies
        )
        for copy in copies:
            connection.execute(text(f"DROP TABLE {copy}"))
    db.dispose()
    if loaded != rows:
        raise SystemExit(f"the native load wrote {loaded:,} rows of {rows:,}")
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    figures, details = [], {}
    for engine in common.engines(args.engine):
        print(f"== synth on {engine}", flush=True)
        url, report = common.school(engine, rebuild=True)
        seconds, rows = report["seconds"], sum(report["rows"].values())
        ledger = report["rows"]["ledger_entry"]
        native, native_rows = native_copy_seconds(engine, url)
        details[engine] = {"report": report, "native_seconds": native, "native_rows": native_rows}
        figures += [
            common.Figure(
                "synth",
                engine,
                f"time for {ledger:,} ledger rows ({rows:,} rows in all)",
                round(seconds / 60, 2),
                "min",
                target="minutes, not hours (< 10 min)",
                met=seconds < 600,
            ),
            common.Figure(
                "synth",
                engine,
                "rows written per second",
                round(rows / seconds),
                "rows/s",
                baseline="INSERT ... SELECT in the database",
                baseline_value=round(native_rows / native),
            ),
        ]
    common.write_result(
        "synth",
        "synth (the shared school)",
        {**common.SCHOOL, "cohort_sizes": list(common.SCHOOL["cohort_sizes"])},
        figures,
        details,
    )


if __name__ == "__main__":
    main()
