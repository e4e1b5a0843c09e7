"""Pages of a long list (the cohort matrix): which page a request asks for, which rows it
holds, and which page links to offer.

Pure: numbers in, numbers out; the view turns a refusal into a message and a status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def parse_page(text: str | None) -> int | None:
    """The page number a query string asks for: 1 when it names none, ``None`` when it is
    not a whole number from 1 (``0``, ``-2``, ``1.5``, ``abc``, a huge number ...)."""
    if text is None or text == "":
        return 1
    text = text.strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        return None
    number = int(text)
    return number if number >= 1 else None


@dataclass(frozen=True)
class Window:
    """One page of ``count`` rows, ``per_page`` a page."""

    page: int
    pages: int  # at least 1: an empty list still has its (empty) first page
    per_page: int
    count: int

    @property
    def exists(self) -> bool:
        return 1 <= self.page <= self.pages

    @property
    def start(self) -> int:
        """Index of the page's first row (rows ``start`` to ``stop`` - 1)."""
        return (self.page - 1) * self.per_page if self.exists else 0

    @property
    def stop(self) -> int:
        return min(self.count, self.start + self.per_page) if self.exists else 0

    @property
    def first_shown(self) -> int:
        """1-based number of the first row shown; 0 when none is."""
        return self.start + 1 if self.stop > self.start else 0

    @property
    def has_previous(self) -> bool:
        return self.exists and self.page > 1

    @property
    def has_next(self) -> bool:
        return self.exists and self.page < self.pages


def window(count: int, page: int, per_page: int) -> Window:
    """The rows of ``page`` in a list of ``count`` rows."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    pages = max(1, -(-count // per_page))
    return Window(page=page, pages=pages, per_page=per_page, count=count)


def page_links(current: int, pages: int, around: int = 2) -> list[int | None]:
    """The page numbers to link to: the first, the last and ``around`` either side of the
    current one, with ``None`` where numbers are left out."""
    wanted = {1, pages, *range(current - around, current + around + 1)}
    shown = sorted(n for n in wanted if 1 <= n <= pages)
    links: list[int | None] = []
    for number in shown:
        if links and number - links[-1] > 1:
            links.append(None)
        links.append(number)
    return links
