"""The instructor's cohort matrix and the student's dashboard on the shared synthetic school.

For each database it logs in through the real login form (the Flask test client, CSRF and
all) as the instructor of the school's first cohorts and opens the cohort page
(``/cohorts/<id>``, its first page as an instructor first sees it) of the cohorts of 10, 100
and 1,000 students, then logs in as a student of each and opens ``/dashboard``; the student
of the 1,000 cohort also opens the first module of the school's first course
(``/modules/<id>``) and its quiz player (``/attempts/<id>``: the bench starts, or resumes, one
attempt of that student's at the quiz). For each page:

- the SQL statements it sends (the same number whatever the cohort's size, or the page has an
  N+1);
- the median time of a whole request over repeated requests (routing, session, queries, ORM,
  readiness, template);
- the size of the HTML;
- the baseline: the same SELECTs replayed raw on a DBAPI cursor (``common.replay_seconds``),
  what the database and its driver alone need for that work.

Not part of the test suite. ``--quick`` takes fewer samples.

    .venv/bin/python bench/pages_bench.py [--engine sqlite|postgresql] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from urllib.parse import urlsplit

import common

# issue 21: the cohort page's median at every cohort size
MATRIX_TARGET_MS = {"sqlite": 50.0, "postgresql": 80.0}
STUDENT_PAGE_TARGET_MS = 15.0  # the dashboard, the module page and the quiz player (SQLite)
RESUME_LINK = re.compile(r'href="(/attempts/[0-9]+)">Resume your attempt')
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def prepare(url: str):
    """The app on the school, its schema at the newest migration (a school built before a
    migration that adds indexes gets them), with fresh planner statistics on PostgreSQL."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from lms.extensions import db

    app = common.make_app(url)
    with app.app_context():
        upgrade()
        if url.startswith("postgresql"):
            # A live server's autovacuum keeps statistics; a school just bulk-loaded on a
            # scratch server (this one may run with autovacuum off) has none, and the planner
            # guesses. SQLite gets no ANALYZE: the app never runs one, so it must do without.
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    return app


def login(client, email: str, password: str) -> None:
    """Log in through the login form, as a person would."""
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_FIELD.search(page).group(1)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    if response.status_code != 302:
        raise SystemExit(f"could not log in as {email} (status {response.status_code})")


def active_students(app, cohort_id: int) -> int:
    """How many students of the cohort are active (synth withdraws a few)."""
    from sqlalchemy import func, select

    from lms.enrollment.models import Enrollment, EnrollmentStatus
    from lms.extensions import db

    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(
                Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        )


def a_student_of(app, cohort_id: int) -> str:
    """The email of an active student of the cohort who holds no certificate (as most do), so
    that the dashboards compared differ by their cohort's size, not by what they show."""
    from sqlalchemy import select

    from lms.auth.models import User
    from lms.credentials.models import Certificate
    from lms.enrollment.models import Enrollment, EnrollmentStatus
    from lms.extensions import db

    with app.app_context():
        return db.session.scalar(
            select(User.email)
            .join(Enrollment, Enrollment.student_id == User.id)
            .where(
                Enrollment.cohort_id == cohort_id,
                Enrollment.status == EnrollmentStatus.ACTIVE,
                ~select(Certificate.id).where(Certificate.student_id == User.id).exists(),
            )
            .order_by(User.id)
            .limit(1)
        )


def first_module(app) -> int:
    """The first module of the school's first course: no earlier module gates it, and it has
    a quiz."""
    from sqlalchemy import select

    from lms.courses.models import Module, Quiz
    from lms.extensions import db

    with app.app_context():
        return db.session.scalar(
            select(Module.id)
            .join(Quiz, Quiz.module_id == Module.id)
            .order_by(Module.course_id, Module.position)
            .limit(1)
        )


def open_player(client, module_id: int) -> str:
    """Start (or resume) the student's attempt at the module's quiz, as the module page's
    button does; the player's path."""
    page = client.get(f"/modules/{module_id}").get_data(as_text=True)
    resume = RESUME_LINK.search(page)  # an earlier run's attempt, still open
    if resume:
        return resume.group(1)
    token = CSRF_FIELD.search(page).group(1)
    response = client.post(f"/modules/{module_id}/attempts", data={"csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"could not start the quiz of module {module_id} ({response.status_code})")
    return urlsplit(response.headers["Location"]).path


def measure_page(app, client, path: str, samples: int, budget_s: float) -> dict:
    """Median seconds of ``samples`` GETs of ``path`` (fewer if they exceed ``budget_s``),
    its SQL count, HTML size and the raw replay of its SELECTs (median of three)."""
    from lms.extensions import db

    response = client.get(path)  # warm: templates compiled, caches filled
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    times: list[float] = []
    began = time.perf_counter()
    while len(times) < samples and (len(times) < 3 or time.perf_counter() - began < budget_s):
        started = time.perf_counter()
        response = client.get(path)
        response.get_data()
        times.append(time.perf_counter() - started)
    with app.app_context():
        engine = db.engine
    with common.recording_sql(engine) as recorded:
        body = client.get(path).get_data()
    floors = [common.replay_seconds(engine, recorded) for _ in range(3)]
    return {
        "path": path,
        "samples": len(times),
        "median_ms": common.median_ms(times),
        "p90_ms": round(common.percentile(times, 0.9) * 1000, 2),
        "queries": recorded.count,
        "bytes": len(body),
        "floor_ms": round(statistics.median(floors) * 1000, 2),
    }


def run_engine(engine: str, quick: bool) -> tuple[list[common.Figure], list[common.Figure], dict]:
    from lms.demo.synth import SYNTH_PASSWORD

    url, report = common.school(engine)
    app = prepare(url)
    # synth's first cohorts have the fixed sizes (enrolments, a few since withdrawn)
    found = {c["students"]: c["id"] for c in report["cohorts"]}
    # each cohort's own instructor opens it (synth spreads the cohorts over instructors)
    teacher = {c["id"]: c["instructor"] for c in report["cohorts"]}
    sizes = sorted(s for s in common.SCHOOL["cohort_sizes"] if s in found)
    samples = 5 if quick else 25
    matrix, dashboard = {}, {}
    for size in sizes:
        cohort_id = found[size]
        client = app.test_client()
        login(client, teacher[cohort_id], SYNTH_PASSWORD)
        matrix[size] = measure_page(app, client, f"/cohorts/{cohort_id}", samples, 20.0)
        matrix[size]["active_students"] = active_students(app, cohort_id)
        print(f"   {engine} matrix {size:>5} students: {matrix[size]}", flush=True)
    for size in sizes:
        student = app.test_client()
        login(student, a_student_of(app, found[size]), SYNTH_PASSWORD)
        dashboard[size] = measure_page(app, student, "/dashboard", samples, 10.0)
        print(f"   {engine} dashboard (cohort of {size}): {dashboard[size]}", flush=True)
    reader = 1_000 if 1_000 in sizes else max(sizes)
    student = app.test_client()
    login(student, a_student_of(app, found[reader]), SYNTH_PASSWORD)
    module_id = first_module(app)
    studied = {
        "module page": measure_page(app, student, f"/modules/{module_id}", samples, 10.0),
        "quiz player": measure_page(app, student, open_player(student, module_id), samples, 10.0),
    }
    for name, measured in studied.items():
        print(f"   {engine} {name} (cohort of {reader}): {measured}", flush=True)

    largest = max(sizes)
    counts = {size: matrix[size]["queries"] for size in sizes}
    equal = len(set(counts.values())) == 1
    matrix_figures = [
        common.Figure(
            "matrix",
            engine,
            f"cohort page, {size:,} students: median",
            matrix[size]["median_ms"],
            "ms",
            baseline="raw SQL",
            baseline_value=matrix[size]["floor_ms"],
            target=f"<= {MATRIX_TARGET_MS[engine]:.0f} ms",
            met=matrix[size]["median_ms"] <= MATRIX_TARGET_MS[engine],
        )
        for size in sizes
    ]
    matrix_figures += [
        common.Figure(
            "matrix",
            engine,
            "SQL queries per page (" + " / ".join(f"{counts[s]}" for s in sizes) + ")",
            counts[largest],
            "queries",
            target="equal at " + ", ".join(f"{s:,}" for s in sizes) + " students",
            met=equal,
        ),
        common.Figure(
            "matrix",
            engine,
            f"cohort page, {largest:,} students: HTML",
            round(matrix[largest]["bytes"] / 1024, 1),
            "KiB",
        ),
    ]
    dash_counts = {size: dashboard[size]["queries"] for size in sizes}
    dashboard_figures = [
        common.Figure(
            "dashboard",
            engine,
            f"student dashboard (cohort of {largest:,}): median",
            dashboard[largest]["median_ms"],
            "ms",
            baseline="raw SQL",
            baseline_value=dashboard[largest]["floor_ms"],
        ),
        common.Figure(
            "dashboard",
            engine,
            "SQL queries per page (" + " / ".join(f"{dash_counts[s]}" for s in sizes) + ")",
            dash_counts[largest],
            "queries",
            target="equal in cohorts of " + ", ".join(f"{s:,}" for s in sizes),
            met=len(set(dash_counts.values())) == 1,
        ),
    ]
    timed = {"student dashboard": dashboard[reader], **studied}
    dashboard_figures += [
        common.Figure(
            "dashboard",
            engine,
            f"{name} (cohort of {reader:,}): median, {measured['queries']} queries",
            measured["median_ms"],
            "ms",
            baseline="raw SQL",
            baseline_value=measured["floor_ms"],
            target=f"< {STUDENT_PAGE_TARGET_MS:.0f} ms" if engine == "sqlite" else "",
            met=measured["median_ms"] < STUDENT_PAGE_TARGET_MS if engine == "sqlite" else None,
        )
        for name, measured in timed.items()
    ]
    details = {"matrix": matrix, "dashboard": {**dashboard, **studied}}
    return matrix_figures, dashboard_figures, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    matrix_figures, dashboard_figures, details = [], [], {}
    load_before = os.getloadavg()
    for engine in common.engines(args.engine):
        m, d, detail = run_engine(engine, args.quick)
        matrix_figures += m
        dashboard_figures += d
        details[engine] = detail
    # a shared machine: what else ran shows in the load averages (1, 5, 15 minutes)
    load = {"before": load_before, "after": os.getloadavg()}
    parameters = {"school": common.SCHOOL, "quick": args.quick, "load_average": load}
    common.write_result(
        "matrix",
        "Cohort matrix page",
        parameters,
        matrix_figures,
        {e: d["matrix"] for e, d in details.items()},
    )
    common.write_result(
        "dashboard",
        "Student dashboard, module page and quiz player",
        parameters,
        dashboard_figures,
        {e: d["dashboard"] for e, d in details.items()},
    )


if __name__ == "__main__":
    main()
