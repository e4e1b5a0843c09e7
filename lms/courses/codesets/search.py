"""Searching the ICD-10-CM tabular list by code or by words, for the open-book look-up.

The word index is built once per process, on the first search: every category and
subcategory (not the 7th-character extensions, which repeat their parent's words), its
description and inclusion terms split into words, each word pointing at the codes using it."""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from lms.courses.codesets import icd10cm

MAX_RESULTS = 50
_WORD = re.compile(r"[a-z0-9]+")
_CODE_START = re.compile(r"[A-Z][0-9][0-9A-Z]?(?:\.?[0-9A-Z]{0,4})?")


@dataclass(frozen=True)
class Hit:
    code: str
    description: str
    billable: bool


@dataclass(frozen=True)
class Results:
    hits: tuple[Hit, ...]
    total: int  # before the cap
    by_code: bool  # the query was read as a code (or its start), not words


@dataclass(frozen=True)
class _Index:
    codes: tuple[str, ...]  # categories and subcategories, in tabular order
    words: tuple[str, ...]  # every word, sorted
    postings: tuple[frozenset[int], ...]  # for each word, the positions of codes using it


@functools.cache
def index() -> _Index:
    """The word index (built on the first call, then kept)."""
    cm = icd10cm.tabular()
    codes = tuple(
        code
        for code in cm.get_all_codes()
        if (cm.is_category(code) or cm.is_subcategory(code, include_extended_subcategories=False))
    )
    using: dict[str, set[int]] = {}
    for position, code in enumerate(codes):
        text = " ".join([cm.get_description(code), *cm.get_inclusion_term(code)])
        for word in set(_WORD.findall(text.lower())):
            using.setdefault(word, set()).add(position)
    words = tuple(sorted(using))
    return _Index(codes, words, tuple(frozenset(using[word]) for word in words))


def search(query: str) -> Results:
    """Codes for a query: a code or its start ("E11", "e11.6") lists that code and the codes
    under it; anything else is words, each matching the start of a word in a code's
    description or inclusion terms ("diab keto"). At most ``MAX_RESULTS``."""
    text = " ".join(query.split())[:200]
    squeezed = text.replace(" ", "").upper()
    if _CODE_START.fullmatch(squeezed):
        return _by_code(squeezed)
    return _by_words(text)


def _by_code(start: str) -> Results:
    code = icd10cm.normalise(start)
    cm = icd10cm.tabular()
    if code is not None and icd10cm.is_code(code):
        found = [code, *cm.get_children(code)]
    else:
        bare = start.replace(".", "")
        found = [c for c in index().codes if c.replace(".", "").startswith(bare)]
    return Results(_hits(found[:MAX_RESULTS]), len(found), by_code=True)


def _by_words(text: str) -> Results:
    terms = _WORD.findall(text.lower())[:10]
    if not terms:
        return Results((), 0, by_code=False)
    built = index()
    matching: set[int] | None = None
    for term in terms:
        start = bisect.bisect_left(built.words, term)
        positions: set[int] = set()
        for i in range(start, len(built.words)):
            if not built.words[i].startswith(term):
                break
            positions |= built.postings[i]
        matching = positions if matching is None else matching & positions
        if not matching:
            return Results((), 0, by_code=False)
    ordered = sorted(matching or ())
    found = [built.codes[position] for position in ordered]
    return Results(_hits(found[:MAX_RESULTS]), len(found), by_code=False)


def _hits(codes: list[str]) -> tuple[Hit, ...]:
    cm = icd10cm.tabular()
    return tuple(Hit(code, cm.get_description(code), cm.is_leaf(code)) for code in codes)
