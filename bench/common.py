"""What every benchmark shares: scratch databases filled by ``synth``, timing, the SQL a piece
of code sends (to replay it raw as the database's own floor), peak memory of a child process,
the machine's description and the results file each benchmark writes.

Benchmarks print figures; they never pass or fail. Each compares what it measures with a
baseline measured in the same run (the database's own speed, a bare Flask endpoint ...), since
the absolute numbers of a shared 2-core machine move from run to run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# A scratch PostgreSQL server; each benchmark makes databases of its own on it, named bench_*.
PG_SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WORKDIR = Path(os.environ.get("BENCH_WORKDIR") or tempfile.gettempdir()) / "lms-bench"


# --- applications and databases ----------------------------------------------------------


def make_app(url: str, **config: Any):
    """The real application on ``url``, with cheap password hashes (synth's accounts share
    one hash, so this only matters for accounts a benchmark creates itself)."""
    from lms import create_app

    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "AUDIT_KEY": "bench-audit-key",
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8 * 1024,
        "RATELIMIT_ENABLED": False,
    }
    settings.update(config)
    return create_app(settings)


def engines(only: str | None = None) -> list[str]:
    """The database engines to run on: ``sqlite`` and, when its server answers, ``postgresql``."""
    chosen = [only] if only else ["sqlite", "postgresql"]
    if "postgresql" in chosen and not postgres_available():
        print("   (PostgreSQL is not reachable at BENCH_PG; running on SQLite only)", flush=True)
        chosen.remove("postgresql")
    return chosen


def postgres_available() -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_SERVER)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means: not available
        return False


def scratch_url(engine: str, name: str) -> str:
    """A URL for a scratch database called ``name`` (a file, or a database on the server)."""
    if engine == "sqlite":
        WORKDIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{WORKDIR / (name + '.sqlite3')}"
    base, _, _ = PG_SERVER.rpartition("/")
    return f"{base}/{name}"


def fresh_database(url: str) -> None:
    """Create an empty database at ``url``, dropping whatever was there, and migrate it."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from lms.extensions import db

    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        name = url.rpartition("/")[2]
        server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def synthesise(url: str, **parameters: Any) -> dict[str, Any]:
    """A fresh, migrated database at ``url`` filled by ``synth`` with ``parameters`` (those of
    ``lms.demo.synth.SynthParameters``); returns what synth reports it made."""
    from lms.demo import synth
    from lms.extensions import db

    fresh_database(url)
    app = make_app(url)
    with app.app_context():
        started = time.perf_counter()
        report = synth.synthesise(synth.SynthParameters(**parameters))
        db.session.commit()
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return {**report.as_dict(), "seconds": round(seconds, 2)}


# The school every benchmark shares: cohorts of 10, 100 and 1,000 students for the matrix,
# about a million ledger rows for the export, 10,000 students and more for readiness. Built
# once per database by synth_bench.py (which times it); the others reuse it, or build it.
SCHOOL = {
    "students": 37_000,
    "cohorts": 1_000,
    "modules": 57,  # 57 modules + a score, contact hours and a diploma = 60 CPC requirements
    "seed": 2026,
    "cohort_sizes": (10, 100, 1_000, 10_000),
}
SCHOOL_NAME = os.environ.get("BENCH_SCHOOL", "bench_school")
if os.environ.get("BENCH_SCHOOL_STUDENTS"):  # a smaller school, to try a benchmark out quickly
    SCHOOL["students"] = int(os.environ["BENCH_SCHOOL_STUDENTS"])
    SCHOOL["cohorts"] = min(SCHOOL["cohorts"], SCHOOL["students"] // 10)


def school(engine: str, rebuild: bool = False) -> tuple[str, dict[str, Any]]:
    """The shared synthetic school on ``engine``: its URL and what synth reported making.

    A sidecar file records the parameters it was built with; a missing or different one (or
    ``rebuild``) builds it afresh."""
    url = scratch_url(engine, SCHOOL_NAME)
    sidecar = WORKDIR / f"{SCHOOL_NAME}.{engine}.json"
    wanted = json.loads(json.dumps(SCHOOL))
    if not rebuild and sidecar.exists():
        known = json.loads(sidecar.read_text())
        if known.get("parameters") == wanted and _reachable(url):
            return url, known["report"]
    print(
        f"   building the shared school on {engine} ({SCHOOL['students']:,} students) ...",
        flush=True,
    )
    report = synthesise(url, **{**SCHOOL, "cohort_sizes": tuple(SCHOOL["cohort_sizes"])})
    WORKDIR.mkdir(parents=True, exist_ok=True)
    sidecar.write_text(json.dumps({"parameters": wanted, "report": report}, indent=2))
    return url, report


def _reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    if url.startswith("sqlite") and not Path(url.removeprefix("sqlite:///")).exists():
        return False
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("select count(*) from user_account"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means: build it again
        return False


# --- timing ------------------------------------------------------------------------------


def repeat(fn: Callable[[], Any], times: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``times`` calls of ``fn``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def percentile(samples: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the samples lie (nearest rank)."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


# --- the SQL a piece of code sends, and the database's floor for it -------------------------


@dataclass
class RecordedSQL:
    """Statements sent to the database while recording, with their parameters."""

    statements: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def recording_sql(engine) -> Iterator[RecordedSQL]:
    """Record every statement ``engine`` executes inside the block (SELECTs and writes)."""
    from sqlalchemy import event

    recorded = RecordedSQL()

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            recorded.statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield recorded
    finally:
        event.remove(engine, "before_cursor_execute", before)


def replay_seconds(engine, recorded: RecordedSQL) -> float:
    """Time to run the recorded SELECTs on a raw DBAPI cursor and fetch every row: what the
    database and its driver alone need for the same work (no ORM, no Python objects, no
    template). Writes are skipped, so the floor never changes the data."""
    selects = [(s, p) for s, p in recorded.statements if s.lstrip().upper().startswith("SELECT")]
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        started = time.perf_counter()
        for statement, parameters in selects:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        seconds = time.perf_counter() - started
        connection.rollback()
        return seconds
    finally:
        connection.close()


# --- child processes and their memory ----------------------------------------------------


def high_water_kib(pid: int | str = "self") -> int:
    """A process's peak resident memory (VmHWM, which exec resets, unlike ru_maxrss)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def run_child(command: list[str], stdout=None, env=None) -> tuple[float, int, str]:
    """Run a command to its end: wall seconds, peak RSS in KiB (polled), and its output."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as captured:
        process = subprocess.Popen(  # noqa: S603 - the benchmarks' own fixed commands
            command, stdout=stdout or captured, stderr=subprocess.PIPE, env=env
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, high_water_kib(process.pid))
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        error = process.stderr.read().decode()
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command[:3])} failed: {error}")
        captured.seek(0)
        out = captured.read().decode()
    return elapsed, peak, out


# --- the machine and the results ---------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import sqlite3

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except FileNotFoundError:
        pass
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 2**20, 1)
    except FileNotFoundError:
        pass
    postgres = None
    if postgres_available():
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_SERVER)
        with engine.connect() as connection:
            postgres = connection.execute(text("show server_version")).scalar()
        engine.dispose()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres,
    }


@dataclass(frozen=True)
class Figure:
    """One line of the summary table: a measure, its baseline and the target it is held to.

    ``ratio`` is value / baseline_value. ``met`` is None when the figure has no target."""

    benchmark: str
    database: str
    measure: str
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if not self.baseline_value:
            return None
        return round(self.value / self.baseline_value, 3)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}

    def line(self) -> str:
        ratio = f"  ({self.ratio:.2f}x {self.baseline})" if self.ratio is not None else ""
        target = ""
        if self.target:
            target = f"  target {self.target}: {'met' if self.met else 'MISSED'}"
        value = f"{self.value:>10,.1f} {self.unit}"
        return f"   {self.database:<10} {self.measure:<44} {value}{ratio}{target}"


def write_result(
    name: str,
    title: str,
    parameters: dict[str, Any],
    figures: list[Figure],
    details: dict[str, Any] | None = None,
) -> Path:
    """Write ``bench/results/<name>.json`` and print the figures."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    data = {
        "name": name,
        "title": title,
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": parameters,
        "figures": [figure.as_dict() for figure in figures],
        "details": details or {},
    }
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(f"== {title}")
    for figure in figures:
        print(figure.line())
    print(f"   (written to {path.relative_to(ROOT)})", flush=True)
    return path
