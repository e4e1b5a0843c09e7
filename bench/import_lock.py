"""How long the largest allowed question import holds SQLite's write lock.

An import runs as a POST, which on SQLite takes the write lock at its first statement
(``BEGIN IMMEDIATE``) and keeps it to the commit; every other writer waits (up to its busy
timeout, 5 s, then fails). This script imports a GIFT file of ``--questions`` questions of
about ``--bytes`` bytes in all, as the import's confirm request does, on a fresh migrated
SQLite file, while a second connection tries to write every few milliseconds; it prints how
long the lock was held and the longest a writer waited. Run it from the root of the tree to
measure (the tree's ``lms`` must come first on the path):

    PYTHONPATH=. .venv/bin/python bench/import_lock.py
    PYTHONPATH=. .venv/bin/python bench/import_lock.py --questions 40000 --bytes 2000000

Figures, not a test: it never passes or fails.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path


def gift_file(questions: int, size: int) -> bytes:
    """A GIFT file of ``questions`` single-answer questions, padded to about ``size`` bytes."""
    base = [
        f"::Q{n}:: Question {n}: which code reports this service? {{\n=9921{n % 10}\n"
        f"~9920{n % 10}\n~G{n:04d}\n~J{n:04d}\n####Rationale {n}.\n}}\n"
        for n in range(questions)
    ]
    pad = max(0, (size - sum(len(b) + 2 for b in base)) // questions)
    text = "\n".join(b.replace("####", "####" + "x" * pad + " ") for b in base)
    return text.encode()


def probe(path: str, stop: threading.Event, waits: list[float]) -> None:
    """Write (an empty IMMEDIATE transaction) every 5 ms; keep how long each had to wait."""
    connection = sqlite3.connect(path, timeout=60, isolation_level=None)
    while not stop.is_set():
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("COMMIT")
        waits.append(time.perf_counter() - started)
        time.sleep(0.005)
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--bytes", type=int, default=2 * 1024 * 1024 - 4096)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import text

    from lms import create_app
    from lms.courses.bank import transfer
    from lms.extensions import db

    data = gift_file(args.questions, args.bytes)
    folder = Path(tempfile.mkdtemp(prefix="lms-import-lock-"))
    path = folder / "lms.sqlite3"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "bench",
            "AUDIT_KEY": "bench-audit-key",
            "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
            "RATELIMIT_ENABLED": False,
            "IMPORT_MAX_BYTES": len(data) + 1,
            "IMPORT_MAX_QUESTIONS": args.questions,
        }
    )
    with app.app_context():
        upgrade()
    stop, waits = threading.Event(), []
    writer = threading.Thread(target=probe, args=(str(path), stop, waits))
    writer.start()
    time.sleep(0.2)
    with app.test_request_context("/banks/import/confirm", method="POST"):
        started = time.perf_counter()
        db.session.execute(text("SELECT 1"))  # the request's first statement: BEGIN IMMEDIATE
        transfer.import_questions(None, "Bench", data, "gift", datetime.now(UTC))
        db.session.commit()
        held = time.perf_counter() - started
    time.sleep(0.2)
    stop.set()
    writer.join()
    print(
        f"{args.questions} questions, {len(data):,} bytes: write lock held {held:.2f} s; "
        f"the longest another writer waited: {max(waits):.2f} s ({len(waits)} writes)"
    )


if __name__ == "__main__":
    main()
