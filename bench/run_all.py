"""``make bench``: every benchmark in turn, each in its own process, then the summary table.

Each benchmark writes ``bench/results/<name>.json``; ``report.py`` turns them into the table
in ``docs/PERFORMANCE.md``. A benchmark that fails is reported and the others still run, so
one broken run does not hide the rest; the exit status says whether all of them ran.

    .venv/bin/python bench/run_all.py               # everything, on SQLite and PostgreSQL
    .venv/bin/python bench/run_all.py --only matrix,export --engine sqlite
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (name, script, arguments); each script takes --engine sqlite|postgresql (default: both).
BENCHMARKS = [
    ("synth", "synth_bench.py", []),
    ("pages", "pages_bench.py", []),
    ("readiness", "readiness_bench.py", []),
    ("export", "export_bench.py", []),
    ("verify", "verify_bench.py", []),
    ("load", "load_bench.py", []),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help="comma-separated names: " + ", ".join(n for n, *_ in BENCHMARKS)
    )
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], help="one database only")
    args = parser.parse_args()
    chosen = set(args.only.split(",")) if args.only else {name for name, *_ in BENCHMARKS}
    started = time.perf_counter()
    failed = []
    for name, script, extra in BENCHMARKS:
        if name not in chosen:
            continue
        command = [sys.executable, str(HERE / script), *extra]
        if args.engine:
            command += ["--engine", args.engine]
        print(f"\n######## {name} ({time.perf_counter() - started:.0f} s so far)", flush=True)
        began = time.perf_counter()
        result = subprocess.run(command, check=False)  # noqa: S603 - our own scripts
        print(f"######## {name} took {time.perf_counter() - began:.0f} s", flush=True)
        if result.returncode != 0:
            failed.append(name)
    subprocess.run([sys.executable, str(HERE / "report.py")], check=True)  # noqa: S603
    print(f"\nAll benchmarks took {time.perf_counter() - started:.0f} s.", flush=True)
    if failed:
        print(f"These benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
