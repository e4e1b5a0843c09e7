"""Readiness of 10,000 students for three credentials, recomputed in bulk on the shared school.

For each database it takes the school's first 10,000 active students and judges every one of
them against the CPC, the CPB and the CCA (30,000 verdicts) with the real service,
``credentials.judge_readiness_in_batches`` (the facts in a fixed number of queries per batch
of 2,000 students, the verdicts by ``rules.Judge``), and reports:

- the total time and the verdicts per second (median of the runs);
- the baseline: the SQL those runs send, replayed raw on a DBAPI cursor
  (``common.replay_seconds``), what the database and its driver alone need to hand over the
  facts;
- for comparison, ``evaluate_readiness`` (every explanation, the whole result tree) on the
  first 2,000 of those students for the CPC.

Not part of the test suite. ``--quick`` runs once instead of three times.

    .venv/bin/python bench/readiness_bench.py [--engine sqlite|postgresql] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import common
from pages_bench import prepare

STUDENTS = 10_000
CREDENTIALS = ("CPC", "CPB", "CCA")
BATCH = 2_000
EXPLAINED = 2_000  # students evaluate_readiness explains, for comparison


def first_students(app, count: int) -> list[int]:
    """The ids of the school's first ``count`` active students."""
    from sqlalchemy import select

    from lms.enrollment.models import Enrollment, EnrollmentStatus
    from lms.extensions import db

    with app.app_context():
        return list(
            db.session.scalars(
                select(Enrollment.student_id)
                .where(Enrollment.status == EnrollmentStatus.ACTIVE)
                .distinct()
                .order_by(Enrollment.student_id)
                .limit(count)
            )
        )


def judge_all(app, ids: list[int]) -> dict[str, int]:
    """Judge every student for every credential; {credential code: students ready}."""
    from lms.credentials import service as credentials
    from lms.db import utcnow
    from lms.extensions import db

    now = utcnow()
    ready = {}
    with app.app_context():
        for code in CREDENTIALS:
            credential = credentials.get_credential_by_code(code)
            ready[code] = sum(
                verdict.met
                for judgement in credentials.judge_readiness_in_batches(
                    credential, ids, now, batch_size=BATCH
                )
                for verdict in judgement.verdicts.values()
            )
        db.session.rollback()
    return ready


def explain_some(app, ids: list[int]) -> int:
    """``evaluate_readiness`` with every explanation, for the CPC; students ready."""
    from lms.credentials import service as credentials
    from lms.db import utcnow
    from lms.extensions import db

    with app.app_context():
        credential = credentials.get_credential_by_code("CPC")
        readiness = credentials.evaluate_readiness(credential, ids, utcnow())
        db.session.rollback()
        return sum(outcome.met for outcome in readiness.outcomes.values())


def run_engine(engine: str, quick: bool) -> tuple[list[common.Figure], dict]:
    from lms.extensions import db

    url, _ = common.school(engine)
    app = prepare(url)
    ids = first_students(app, STUDENTS)
    runs = 1 if quick else 3
    judge_all(app, ids[:BATCH])  # warm: imports, statement caches
    seconds, ready = [], {}
    for _ in range(runs):
        started = time.perf_counter()
        ready = judge_all(app, ids)
        seconds.append(time.perf_counter() - started)
    with app.app_context():
        sql_engine = db.engine
    with common.recording_sql(sql_engine) as recorded:
        judge_all(app, ids)
    floor = statistics.median(common.replay_seconds(sql_engine, recorded) for _ in range(runs))
    explained = []
    for _ in range(runs):
        started = time.perf_counter()
        explained_ready = explain_some(app, ids[:EXPLAINED])
        explained.append(time.perf_counter() - started)

    total = statistics.median(seconds)
    verdicts = len(ids) * len(CREDENTIALS)
    explained_s = statistics.median(explained)
    figures = [
        common.Figure(
            "readiness",
            engine,
            f"{len(ids):,} students x {len(CREDENTIALS)} credentials, verdicts",
            round(total * 1000, 1),
            "ms",
            baseline="raw SQL",
            baseline_value=round(floor * 1000, 1),
        ),
        common.Figure("readiness", engine, "verdicts per second", round(verdicts / total), "per s"),
        common.Figure(
            "readiness",
            engine,
            f"evaluate_readiness (explained), {EXPLAINED:,} students, CPC",
            round(explained_s * 1000, 1),
            "ms",
        ),
        common.Figure(
            "readiness",
            engine,
            "explained evaluations per second",
            round(min(EXPLAINED, len(ids)) / explained_s),
            "per s",
        ),
    ]
    details = {
        "students": len(ids),
        "batch": BATCH,
        "runs_s": [round(s, 3) for s in seconds],
        "queries": recorded.count,
        "ready": ready,
        "explained_ready_cpc": explained_ready,
    }
    print(f"   {engine}: {details}", flush=True)
    return figures, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"])
    parser.add_argument("--quick", action="store_true", help="one run instead of three")
    args = parser.parse_args()
    figures, details = [], {}
    load_before = os.getloadavg()
    for engine in common.engines(args.engine):
        engine_figures, details[engine] = run_engine(engine, args.quick)
        figures += engine_figures
    common.write_result(
        "readiness",
        "Readiness in bulk",
        {
            "school": common.SCHOOL,
            "students": STUDENTS,
            "credentials": CREDENTIALS,
            "batch": BATCH,
            "quick": args.quick,
            # a shared machine: what else ran shows in the load averages (1, 5, 15 minutes)
            "load_average": {"before": load_before, "after": os.getloadavg()},
        },
        figures,
        details,
    )


if __name__ == "__main__":
    main()
