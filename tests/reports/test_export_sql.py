"""The ledger's CSV and JSON Lines written by the database (``lms.reports.export_sql``).

The Python path (ORM rows, ``exports.csv_cells``, the csv module, json.dumps) is the
reference: the database's bytes must be the same, for awkward text, every filter and every
batch size, on SQLite and on PostgreSQL (the suite runs on both). The fixed expected lines
below are the same for both databases, so the two write the same file."""

import csv
import io
import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, text, update

from lms.auth.models import Role, User
from lms.courses.models import Module
from lms.db import utcnow
from lms.extensions import db
from lms.ledger.models import LedgerEntry, LedgerKind
from lms.reports import export_runs, export_sql, exports
from lms.reports.exports import COMPLETION_COLUMNS, FORMULA_TRIGGERS, LEADING_BLANKS
from lms.reports.filters import RecordFilter, parse_filters
from tests import factories
from tests.conftest import ON_POSTGRES

AWKWARD = [
    "=cmd|' /C calc'!A0",
    "+1 555 0100",
    "-40",
    "@SUM(1+1)",
    "\tTabbed",
    "\rCarriage return first",
    "\nLine feed first",
    "Smith, John",
    'Say "hi"',
    '"quoted"',
    "two\nlines",
    "crlf\r\ninside",
    "",
    " leading and trailing ",
    "Zoë Ñandú 漢字 😀",
    "back\\slash \\n not a newline",
    "control \x01 \x1f \x7f characters",
    "line\u2028separator",
    "'already quoted",
    "a-b=c+d@e",
    "x,=y",
    ',"=',
    "=",
    ",",
    '"',
    "\r\n",
]
SCORES = [None, 100, 0, 85.5, 66.67, 0.1, 0.01, -5, 999.99, 70.1, 12.34]


def reference(fmt: str, rf: RecordFilter | None = None, upto: int | None = None):
    """The export as the Python path writes it, and its row count."""
    records = exports.Measured(exports.completion_records(rf, upto))
    chunks = exports.render(fmt, records, COMPLETION_COLUMNS, sheet="x", base_url="http://x")
    return b"".join(chunks), records.count


def from_database(fmt: str, rf: RecordFilter | None = None, upto: int | None = None):
    """The export as the database writes it, and its row count."""
    ledger = export_sql.LedgerText(fmt, rf or RecordFilter(), upto)
    return b"".join(ledger), ledger.count


def add_entry(student: User, **values) -> int:
    """One ledger row, inserted as it is (no ORM events, so any text goes in)."""
    row = {
        "student_id": student.id,
        "kind": LedgerKind.MODULE_COMPLETED,
        "source": "test",
        "recorded_at": factories.NOW,
    } | values
    entry_id = db.session.execute(insert(LedgerEntry).returning(LedgerEntry.id), row).scalar()
    db.session.commit()
    return entry_id


def add_student(email: str, name: str) -> User:
    student = User(
        email=email, full_name=name, role=Role.STUDENT, active=True, created_at=factories.NOW
    )
    db.session.add(student)
    db.session.commit()
    return student


@pytest.fixture
def awkward(app):
    """Ledger rows with every kind of awkward text, score and time, in many columns."""
    factories.course("TERM", modules=2)
    credential = factories.credential("CPC", modules=["TERM-1"])
    db.session.execute(
        update(Module).where(Module.code == "TERM-2").values(title='Coding, "advanced"')
    )
    modules = {m.code: m.id for m in db.session.scalars(select(Module))}
    admin = factories.user(Role.ADMIN, email="=admin@example.org")
    students = [add_student(f"s{n}@example.org", name) for n, name in enumerate(AWKWARD)]
    students.append(add_student("-dash@example.org", "Plain Name"))
    for n, value in enumerate(AWKWARD):
        add_entry(
            students[n],
            module_id=modules["TERM-1" if n % 2 else "TERM-2"],
            score=SCORES[n % len(SCORES)],
            note=value,
            source_ref=AWKWARD[-1 - n] or None,
            actor_id=admin.id if n % 3 == 0 else None,
            recorded_at=factories.NOW + timedelta(seconds=n, microseconds=[0, 123456, 5][n % 3]),
        )
    add_entry(students[-1], kind=LedgerKind.CERTIFICATE_ISSUED, credential_id=credential.id)
    add_entry(students[-1], kind=LedgerKind.EVIDENCE_SUBMITTED, source="+evidence", note=None)
    plain = add_student("plain@example.org", "Pat Plain")  # rows with nothing to guard
    for score in SCORES:
        add_entry(plain, module_id=modules["TERM-1"], score=score, note="", source_ref="")
    return {"students": students, "admin": admin, "credential": credential}


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


@pytest.mark.parametrize("batch", [1, 4, 2000])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_database_writes_what_the_python_path_writes(awkward, monkeypatch, fmt, batch):
    monkeypatch.setattr(export_sql, "BATCH", batch)
    expected, expected_count = reference(fmt)
    data, count = from_database(fmt)
    assert data == expected
    assert count == expected_count == len(AWKWARD) + 2 + len(SCORES)
    if fmt == "csv":  # the data did have cells in quotes and cells neutralised
        assert b'"Smith, John"' in data and b",'=cmd|" in data


@pytest.mark.parametrize(
    "raw",
    [
        {"credential": "CPC"},
        {"course": "TERM"},
        {"kind": "certificate_issued,evidence_submitted"},
        {"from": "2026-11-02", "to": "2026-11-02"},
        {"to": "2026-11-01"},
        {"student": "s7@example.org"},
        {"student": "s7@example.org", "kind": "module_completed"},
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_filters_keep_the_same_rows_on_both_paths(awkward, raw, fmt):
    rf = parse_filters(None, raw)
    expected, expected_count = reference(fmt, rf)
    data, count = from_database(fmt, rf)
    assert data == expected
    assert count == expected_count


def test_a_cohort_filter_and_the_upper_bound_keep_the_same_rows(awkward):
    members = awkward["students"][3:6]
    cohort = factories.cohort(factories.user(Role.INSTRUCTOR), awkward["credential"], members)
    upto = db.session.scalar(select(func.max(LedgerEntry.id)))
    add_entry(members[1], note="added after the export started")
    rf = parse_filters(None, {"cohort": cohort.id})
    data, count = from_database("csv", rf, upto)
    assert (data, count) == reference("csv", rf, upto)
    kept = select(func.count()).where(
        LedgerEntry.student_id.in_([m.id for m in members]), LedgerEntry.id <= upto
    )
    assert count == db.session.scalar(kept) >= 3
    assert b"added after" not in data


def test_every_formula_trigger_is_neutralised_quoted_or_not(app, monkeypatch):
    monkeypatch.setattr(export_sql, "BATCH", 3)
    names = [f"{c}rest" for c in FORMULA_TRIGGERS] + [f"{c}a, b" for c in FORMULA_TRIGGERS]
    blanked = [" =1+1", "\u00a0+1", "\n=cmd", " \u3000@x, y", "  padded", " "]
    names += blanked + ["in=side", "in-side, quoted", "trailing="]
    for n, name in enumerate(names):
        add_entry(add_student(f"f{n}@example.org", name), score=-5 if n == 0 else 50)
    rows = rows_of(from_database("csv")[0])
    column = COMPLETION_COLUMNS.index("student_name")
    formulas = set(names[: 2 * len(FORMULA_TRIGGERS)]) | set(blanked[:4])
    assert [row[column] for row in rows[1:]] == [
        "'" + name if name in formulas else name for name in names
    ]
    scores = [row[COMPLETION_COLUMNS.index("score")] for row in rows[1:]]
    assert scores[:2] == ["'-5.00", "50.00"]


def test_fixed_lines_the_same_on_every_database(app):
    """Expected bytes written out by hand: SQLite and PostgreSQL must both give them."""
    factories.course("TERM", modules=1)
    student = add_student("sam@example.org", 'Rivera, Sam "The Coder"')
    module_id = db.session.scalar(select(Module.id).where(Module.code == "TERM-1"))
    first = add_entry(
        student,
        module_id=module_id,
        score=85.5,
        source_ref="",
        note="=passed\nwith notes",
        recorded_at=factories.NOW + timedelta(microseconds=120),
    )
    second = add_entry(student, kind=LedgerKind.EVIDENCE_SUBMITTED, note="", score=None)
    third = add_entry(student, module_id=module_id, score=100, note="Zoë \\ \x01 \u2028")
    csv_data, _ = from_database("csv")
    assert csv_data.decode() == (
        ",".join(COMPLETION_COLUMNS) + "\r\n"
        f"{first},2026-11-02T15:30:00.000120+00:00,{student.id},sam@example.org,"
        f'"Rivera, Sam ""The Coder""",module_completed,TERM,TERM-1,Module 1 of TERM,,,85.50,'
        'test,,,"\'=passed\nwith notes"\r\n'
        f"{second},2026-11-02T15:30:00+00:00,{student.id},sam@example.org,"
        '"Rivera, Sam ""The Coder""",evidence_submitted,,,,,,,test,,,\r\n'
        f"{third},2026-11-02T15:30:00+00:00,{student.id},sam@example.org,"
        '"Rivera, Sam ""The Coder""",module_completed,TERM,TERM-1,Module 1 of TERM,,,100.00,'
        "test,,,Zoë \\ \x01 \u2028\r\n"
    )
    jsonl, _ = from_database("jsonl")
    lines = jsonl.decode().split("\n")
    assert lines[0] == (
        f'{{"entry_id":{first},"recorded_at":"2026-11-02T15:30:00.000120+00:00",'
        f'"student_id":{student.id},"student_email":"sam@example.org",'
        '"student_name":"Rivera, Sam \\"The Coder\\"","kind":"module_completed",'
        '"course_code":"TERM","module_code":"TERM-1","module_title":"Module 1 of TERM",'
        '"credential_code":null,"cohort_id":null,"score":85.5,"source":"test",'
        '"source_ref":"",'
        '"actor_email":null,"note":"=passed\\nwith notes"}'
    )
    assert json.loads(lines[1])["score"] is None
    assert lines[2].endswith(
        '"score":100.0,"source":"test","source_ref":null,'
        '"actor_email":null,"note":"Zoë \\\\ \\u0001 \u2028"}'
    )
    assert lines[3:] == [""]


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite keeps times as text")
def test_sqlite_times_stored_without_a_fraction(app):
    student = add_student("t@example.org", "Tess")
    db.session.execute(  # as bench/export_bench.py loads its rows
        text(
            "INSERT INTO ledger_entry (student_id, kind, source, recorded_at)"
            " VALUES (:student, 'module_completed', 'test', '2026-11-02 15:30:07')"
        ),
        {"student": student.id},
    )
    db.session.commit()
    data, _ = from_database("csv")
    assert b",2026-11-02T15:30:07+00:00," in data
    assert data == reference("csv")[0]
    assert from_database("jsonl")[0] == reference("jsonl")[0]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_json_lines_skip_the_orm(awkward, monkeypatch, fmt):
    def no_orm(*args, **kwargs):
        raise AssertionError("the ORM path was taken")

    monkeypatch.setattr(exports, "completion_records", no_orm)
    export = export_runs.start_export(
        None, "completions", fmt, {}, channel="cli", now=utcnow(), base_url="http://x"
    )
    db.session.commit()
    done = []
    data = b"".join(export.body(lambda *args: done.append(args)))
    assert done and done[0][0] == len(AWKWARD) + 2 + len(SCORES)
    assert done[0][1] == len(data)
    with pytest.raises(AssertionError, match="ORM path"):
        b"".join(
            export_runs.start_export(
                None, "completions", "xlsx", {}, channel="cli", now=utcnow(), base_url="x"
            ).body(lambda *args: None)
        )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_download_stopped_early_leaves_the_session_usable(app, monkeypatch, fmt):
    """Enough rows that PostgreSQL is still sending when the client goes: the COPY is
    cancelled then, which aborts the transaction unless it is rolled back to a savepoint."""
    student = add_student("many@example.org", "Many Rows")
    db.session.execute(
        insert(LedgerEntry),
        [
            {
                "student_id": student.id,
                "kind": LedgerKind.MODULE_COMPLETED,
                "source": "test",
                "note": "x" * 100,
                "recorded_at": factories.NOW,
            }
            for _ in range(20_000)
        ],
    )
    db.session.commit()
    monkeypatch.setattr(export_sql, "BATCH", 2)
    export = export_runs.start_export(
        None, "completions", fmt, {}, channel="web", now=utcnow(), base_url="http://x"
    )
    db.session.commit()
    finished = []
    body = export.body(lambda *args: finished.append(args))
    next(body)
    next(body)
    body.close()  # the client went away in the middle
    assert finished == []
    run = export_runs.get_export(export.run_id)  # the transaction still works
    assert export_runs.manifest(run)["complete"] is False
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 20_000


# --- the checks on the lines, without a database ---------------------------------------------


@pytest.mark.parametrize(
    ("line", "formula"),
    [
        (b"1,=a", True),
        (b'1,"=a, b"', True),
        (b"1,x,-5.00", True),
        (b"1,\tx", True),
        (b'1,"\rx"', True),
        (b"1,a,\r\n2,b", False),  # a CR after a separator ends the line after an empty cell
        (b"1,a-b,c=d", False),
        (b'1,"""=x"', False),  # the cell starts with a double quote
        (b"-1,x", False),  # the first cell is the entry number
        (b"1, =a", True),  # blanks a spreadsheet skips before a formula
        (b"1,\xc2\xa0+a", True),  # a no-break space
        (b'1,"\n=a"', True),
        (b'1," \xe3\x80\x80@a, b"', True),
        (b"1,  padded,x", False),
    ],
)
def test_formula_cells_are_found_in_a_batch(line, formula):
    assert bool(export_sql.FORMULA_CELL.search(line)) is formula


def test_plain_lines_are_those_the_csv_module_writes_as_they_are():
    cells = ["1", "2026-11-02T15:30:00+00:00"] + ["x"] * (len(COMPLETION_COLUMNS) - 2)
    line = (",".join(cells) + "\r\n").encode()
    assert export_sql.plain_csv(line * 3, 3)
    assert export_sql.guarded_line(cells) == line
    for awkward_cell in ["a,b", 'a"b', "a\rb", "a\nb", "=a"]:
        changed = [*cells[:-1], awkward_cell]
        assert not export_sql.plain_csv((",".join(changed) + "\r\n").encode(), 1)
        assert export_sql.guarded_line(changed) != (",".join(changed) + "\r\n").encode()
    assert not export_sql.plain_csv(line * 3, 2)


# Cells made of what a formula check must tell apart: triggers, blanks, quotes, commas, and
# letters that share a first UTF-8 byte with a blank (é: 0xC3;  : 0xC2; 漢: 0xE6).
CELL_TEXT = st.text(
    alphabet=st.sampled_from([*FORMULA_TRIGGERS, *LEADING_BLANKS, '"', ",", "a", "7", "é", "漢"]),
    max_size=6,
)


@given(cells=st.lists(CELL_TEXT, min_size=1, max_size=5))
def test_the_quick_formula_check_finds_what_the_full_expression_finds(cells):
    """The one-byte look-up that runs first never hides a cell the full expression finds, in
    plain lines or in quoted ones."""
    for line in (",".join(cells), ",".join(f'"{cell}"' for cell in cells)):
        data = ("1," + line + "\r\n").encode()
        assert export_sql.formula_cell(data) == bool(export_sql.FORMULA_CELL.search(data))
