"""Declarative base with a naming convention, and the column types every domain shares."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ARRAY, Boolean, Date, DateTime, Enum, Integer, MetaData, String, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model; constraint names follow ``NAMING_CONVENTION``."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time in UTC; services take ``now`` as a parameter and views pass this."""
    return datetime.now(UTC)


def enum_column(enum_class: type[StrEnum], name: str) -> Enum:
    """A portable enum column stored as its string value.

    Python validates the values; there is no CHECK constraint, so adding a member (a new
    ledger kind, say) needs no migration."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=40,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class IdList(TypeDecorator[list[int]]):
    """A list of integer ids bound as one value, or stored in one column: an ``INTEGER[]`` on
    PostgreSQL, JSON text on SQLite (read back by ``json_each``, or as a list)."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Integer))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        ids = [int(v) for v in value]
        return ids if dialect.name == "postgresql" else json.dumps(ids)

    def process_result_value(self, value: Any, dialect: Dialect) -> list[int] | None:
        # a column of this type (an attempt's choice order) reads back as a list of ints
        if value is None:
            return None
        return list(value) if dialect.name == "postgresql" else json.loads(value)


class among(ColumnElement[bool]):  # noqa: N801 - reads as an operator, like in_
    """``column IN (ids)`` with the ids as one bound value, for the long id lists of a cohort:
    ``column = ANY(:ids)`` on PostgreSQL, ``column IN (SELECT value FROM json_each(:ids))`` on
    SQLite. ``in_`` renders a parameter per id on every execution (1,000 for a cohort), which
    SQLAlchemy and psycopg then spend longer handling than the database spends on the query."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison: no "= 1" around it where booleans are ints
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], ids: Iterable[int]) -> None:
        self.column = column
        self.ids = bindparam(None, list(ids), type_=IdList(), unique=True)


@compiles(among)
def _among_sqlite(element: among, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    # the compiled column and a bound parameter's placeholder, never a value
    return f"{column} IN (SELECT value FROM json_each({ids}))"  # noqa: S608  # nosec B608


@compiles(among, "postgresql")
def _among_postgresql(element: among, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} = ANY({ids})"


class utc_date(FunctionElement[date]):  # noqa: N801 - reads as the SQL function it stands for
    """The UTC calendar date of a timestamp column, computed by the database: a plain date is
    cheaper for the driver to hand over than a timestamp with its zone (25,000 of them for a
    cohort's first completions)."""

    inherit_cache = True
    type = Date()
    name = "utc_date"


@compiles(utc_date)
def _utc_date_sqlite(element: utc_date, compiler: Any, **kw: Any) -> str:
    # SQLite keeps UTCDateTime as naive UTC text: its date() is the UTC date
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


class utc_text(FunctionElement[str]):  # noqa: N801 - reads as the SQL function it stands for
    """A timestamp column as UTC text (``YYYY-MM-DD HH:MM:SS[.ffffff]``) on either database:
    such texts order as their times do, so a caller can pick the newest of many and parse only
    that one."""

    inherit_cache = True
    type = String()
    name = "utc_text"


@compiles(utc_text)
def _utc_text_sqlite(element: utc_text, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(utc_text, "postgresql")
def _utc_text_postgresql(element: utc_text, compiler: Any, **kw: Any) -> str:
    # Text in the ISO DateStyle, which psycopg's own timestamp loading needs too (to_char
    # costs twice as much); it drops trailing zeros of the fraction ("...:42.5"), and the
    # texts still order as their times do (the fraction's digits are decimal places).
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS TEXT)"
