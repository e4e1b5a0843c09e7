"""Certificate verification and the certificate PDF, on SQLite and PostgreSQL, beside a bare
Flask endpoint served the same way and a minimal reportlab PDF made the same way.

For each database, gunicorn serves the app (``gunicorn.conf.py``, Redis for the rate limits,
the public limit raised so that it measures the pages, not the limiter) on the shared
synthetic school, and locust, headless, runs ``--users`` clients with no think time
(``bench/load/locustfile.py``): ``Verifier`` asks for verification pages and their JSON of
random certificates (revoked ones among them), ``PdfFetcher`` for their PDFs. Before each
measured run every chosen certificate's answers are asked for once, so the verification cache
holds them (``--cold`` skips that: most answers are then rendered during the run). The bare
endpoint gets the same clients. Then, in this process, the app's certificate PDF is rendered
for ``--pdfs`` certificates beside a minimal one-page reportlab PDF with the same segno QR
code. Figures: requests per second, median and p95 latency, PDFs per second. Results go to
``bench/results/verify.json``. Not part of the tests.

    .venv/bin/python bench/verify_bench.py --engine postgresql --users 20 --seconds 20
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SCHOOL, WORKDIR, Figure, engines, make_app, school, write_result  # noqa: E402
from serving import gunicorn, rate_limit_store, run_locust  # noqa: E402

HALF = ">= 0.5x bare Flask"  # issue 21, item 2


def certificate_codes(url: str, count: int, seed: int) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        codes = connection.scalars(text("SELECT code FROM certificate ORDER BY id")).all()
    engine.dispose()
    return random.Random(seed).sample(list(codes), min(count, len(codes)))


def closed_loop(
    app: str,
    env: dict[str, str],
    user_class: str,
    args: argparse.Namespace,
    name: str,
    warm: list[str] = (),
    **kw,
) -> dict[str, Any]:
    with gunicorn(app, env=env, log_name=f"gunicorn-{name}", **kw) as server:
        warm_up(server.url, warm)
        result = run_locust(
            server.url, args.users, args.users, f"{args.seconds + 1}s", name, env, user_class
        )
    return {"total": result.total, "requests": result.rows}


def warm_up(base: str, paths: list[str]) -> None:
    """Ask for each path once before the measured run, as a day of verifications would have:
    the answers are then in the verification cache (Redis, shared by the workers)."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.request import urlopen

    def fetch(path: str) -> None:
        with urlopen(base + path, timeout=30) as response:  # noqa: S310 - our own server
            response.read()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(fetch, paths))


def pdf_rates(url: str, codes: list[str], count: int) -> tuple[float, float]:
    """PDFs per second: the app's certificate, and a minimal PDF with the same QR code."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen.canvas import Canvas

    from lms.credentials import pdf, service

    app = make_app(url)
    with app.app_context(), app.test_request_context():
        certificates = [service.get_certificate_by_code(code) for code in codes[:count]]
        urls = [f"https://lms.example.org/verify/{c.code}" for c in certificates]
        for certificate in certificates:  # load what the PDF reads, outside the timing
            _ = certificate.student.full_name, certificate.credential.name
            _ = certificate.requirement_set.version
        started = time.perf_counter()
        for certificate, link in zip(certificates, urls, strict=True):
            pdf.certificate_pdf(certificate, "Bench School", link)
        app_rate = len(certificates) / (time.perf_counter() - started)

    def minimal(link: str) -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=landscape(A4), invariant=1)
        canvas.setFont("Helvetica", 24)
        canvas.drawString(100, 400, "Readiness certificate")
        matrix = pdf.qr_matrix(link)
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    canvas.rect(100 + 3 * x, 300 - 3 * y, 3, 3, stroke=0, fill=1)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    started = time.perf_counter()
    for link in urls:
        minimal(link)
    baseline_rate = len(urls) / (time.perf_counter() - started)
    return app_rate, baseline_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"])
    parser.add_argument("--users", type=int, default=20, help="clients, with no think time")
    parser.add_argument("--seconds", type=int, default=20, help="measured seconds per run")
    parser.add_argument("--pdfs", type=int, default=300, help="PDFs rendered in process")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no warm-up: every certificate's first answers are rendered during the run",
    )
    args = parser.parse_args()

    print("== bare Flask endpoint, no think time", flush=True)
    bare = closed_loop("bare_app:app", {}, "BareFetcher", args, "verify-bare",
                       chdir=Path(__file__).resolve().parent / "load")  # fmt: skip
    details: dict[str, Any] = {"bare": bare}
    figures: list[Figure] = []
    base = bare["total"]
    for engine in engines(args.engine):
        url, _ = school(engine)
        codes = certificate_codes(url, 1_000, args.seed)
        codes_file = WORKDIR / "verify-codes.txt"
        codes_file.write_text("\n".join(codes) + "\n")
        env = {
            "LMS_DATABASE_URL": url,
            "LMS_SECRET_KEY": "bench-verify",
            **rate_limit_store(8),
            "LMS_VERIFY_RATE_LIMIT": "10000000 per minute",
            "LMS_SIGNING_KEY_FILE": str(WORKDIR / "bench-signing-key.pem"),
            "VERIFY_CODES": str(codes_file),
        }
        print(f"== {engine}: verification pages", flush=True)
        page_paths = [f"/verify/{c}{suffix}" for c in codes for suffix in ("", ".json")]
        pdf_paths = [f"/verify/{c}/certificate.pdf" for c in codes]
        if args.cold:
            page_paths = pdf_paths = []
        pages = closed_loop("wsgi:app", env, "Verifier", args, f"verify-{engine}", page_paths)
        print(f"== {engine}: certificate PDFs over HTTP", flush=True)
        pdfs = closed_loop("wsgi:app", env, "PdfFetcher", args, f"pdf-{engine}", pdf_paths)
        print(f"== {engine}: certificate PDFs in process", flush=True)
        app_rate, minimal_rate = pdf_rates(url, codes, args.pdfs)
        details[engine] = {"pages": pages, "pdfs": pdfs}
        p, f = pages["total"], pdfs["total"]
        clients = f"{args.users} clients"
        figures += [
            Figure("verify", engine, f"verification requests/s, {clients}", p["rps"], "req/s",
                   "bare Flask", base["rps"], HALF, p["rps"] >= 0.5 * base["rps"]),
            Figure("verify", engine, "verification median latency", p["median_ms"], "ms",
                   "bare Flask", base["median_ms"]),
            Figure("verify", engine, "verification p95 latency", p["p95_ms"], "ms",
                   "bare Flask", base["p95_ms"]),
            Figure("verify", engine, f"certificate PDFs/s over HTTP, {clients}", f["rps"],
                   "PDF/s", "bare Flask", base["rps"], HALF, f["rps"] >= 0.5 * base["rps"]),
            Figure("verify", engine, "certificate PDF p95 latency", f["p95_ms"], "ms",
                   "bare Flask", base["p95_ms"]),
            Figure("verify", engine, "certificate PDFs/s rendered in process", app_rate,
                   "PDF/s", "minimal reportlab + segno PDF", minimal_rate),
            Figure("verify", engine, "failed requests", p["failures"] + f["failures"], ""),
        ]  # fmt: skip
    write_result(
        "verify",
        "Verification and certificate PDFs",
        {
            "users": args.users,
            "seconds": args.seconds,
            "pdfs": args.pdfs,
            "warmed": not args.cold,
            "school": SCHOOL,
        },
        figures,
        details,
    )


if __name__ == "__main__":
    main()
