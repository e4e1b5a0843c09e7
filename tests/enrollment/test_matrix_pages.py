"""The cohort matrix a page at a time: the rows of each page, filters and sorts over the whole
cohort, counts over everyone, links that keep the choices, and clear refusals of bad pages."""

from __future__ import annotations

import html
import re

import pytest

from lms.auth.models import Role
from lms.db import utcnow
from lms.enrollment import paging
from lms.enrollment.progress import readmodel
from lms.extensions import db
from tests import factories
from tests.conftest import login
from tests.enrollment.test_matrix import names_in

# Seven students, three a page; how many of the three TERM modules each has passed.
PASSED = {
    "Ada Abbott": 3,
    "Ben Brook": 0,
    "Cy Cole": 1,
    "Di Dunn": 3,
    "Ed Eames": 0,
    "Flo Ford": 2,
    "Gus Gray": 3,
}


@pytest.fixture
def cohort(app, school):
    credential, instructor = school
    students = [factories.user(Role.STUDENT, name=name) for name in PASSED]
    cohort = factories.cohort(instructor, credential, students)
    for student, passed in zip(students, PASSED.values(), strict=True):
        for number in range(1, passed + 1):
            factories.pass_module(student, f"TERM-{number}")
    # The facts were recorded at factories.NOW, weeks before the clock the page reads: the
    # nightly refresh re-judges the verdicts that moved with the date since (who went quiet).
    readmodel.refresh_expired(utcnow())
    db.session.commit()
    app.config["MATRIX_PAGE_SIZE"] = 3
    return cohort, instructor


def page_of(client, cohort, query: str = "") -> tuple[int, str]:
    response = client.get(f"/cohorts/{cohort.id}{query}")
    return response.status_code, response.get_data(as_text=True)


def page_links(page: str) -> dict[str, str]:
    """{link text: href} of the matrix's page links."""
    nav = re.search(r'<nav aria-label="Pages of the matrix">(.*?)</nav>', page, re.S).group(1)
    return {
        text: html.unescape(href)
        for href, text in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    }


def test_each_page_holds_its_rows_and_the_counts_cover_everyone(client, cohort):
    cohort, instructor = cohort
    login(client, instructor.email)
    seen = []
    for number, expected in [
        (1, ["Ada Abbott", "Ben Brook", "Cy Cole"]),
        (2, ["Di Dunn", "Ed Eames", "Flo Ford"]),
        (3, ["Gus Gray"]),
    ]:
        status, page = page_of(client, cohort, f"?page={number}")
        assert status == 200
        assert names_in(page) == expected
        assert "<strong>3 of 7</strong> students ready" in page
        seen += names_in(page)
    assert seen == sorted(PASSED)
    _, page = page_of(client, cohort, "?page=2")
    assert "Students 4–6 of 7 · page 2 of 3" in page
    assert '<span aria-current="page">2</span>' in page
    links = page_links(page)
    assert links["Previous"].endswith("page=1") and links["Next"].endswith("page=3")
    # the first page has no "Previous", the last no "Next"
    assert "Previous" not in page_links(page_of(client, cohort)[1])
    assert "Next" not in page_links(page_of(client, cohort, "?page=3")[1])


def test_filters_and_sorts_apply_to_the_whole_cohort_before_paging(client, cohort):
    cohort, instructor = cohort
    login(client, instructor.email)
    # Ready students (all three modules): Ada, Di, Gus, across what would be pages 1 to 3.
    _, page = page_of(client, cohort, "?show=ready")
    assert names_in(page) == ["Ada Abbott", "Di Dunn", "Gus Gray"]
    assert "Students 1–3 of 3 (ready)" in page and 'aria-label="Pages of the matrix"' not in page
    # Lowest progress first over everyone: Ben and Ed (0), then Cy (1 of 3) on page 1 ...
    _, first = page_of(client, cohort, "?sort=progress")
    _, second = page_of(client, cohort, "?sort=progress&page=2")
    _, third = page_of(client, cohort, "?sort=progress&page=3")
    assert names_in(first) == ["Ben Brook", "Ed Eames", "Cy Cole"]
    assert names_in(second) == ["Flo Ford", "Ada Abbott", "Di Dunn"]
    assert names_in(third) == ["Gus Gray"]
    # ... and highest first puts a student whose name sorts last on the first page.
    _, page = page_of(client, cohort, "?sort=-progress")
    assert names_in(page) == ["Ada Abbott", "Di Dunn", "Gus Gray"]
    # Four students are not ready: page 2 of that filter holds the fourth.
    _, page = page_of(client, cohort, "?show=not_started&sort=name")
    assert names_in(page) == ["Ben Brook", "Ed Eames"]
    status, page = page_of(client, cohort, "?show=at_risk&sort=-progress&page=2")
    assert status == 200 and "Students 4–4 of 4 (at risk)" in page
    assert names_in(page) == ["Ed Eames"]


def test_page_links_keep_the_filter_and_the_sort(client, cohort):
    cohort, instructor = cohort
    login(client, instructor.email)
    _, page = page_of(client, cohort, "?show=at_risk&sort=-progress")
    links = page_links(page)
    assert set(links) == {"2", "Next"}
    for href in links.values():
        assert "show=at_risk" in href and "sort=-progress" in href and "page=2" in href
    status, target = page_of(client, cohort, links["2"].removeprefix(f"/cohorts/{cohort.id}"))
    assert status == 200 and names_in(target) == ["Ed Eames"]


# (A NUL character is refused for every page before it is read: tests/security/
# test_malformed_input.py.)
@pytest.mark.parametrize("junk", ["abc", "0", "-1", "1.5", "2e1", "99999999999999", "²"])
def test_a_page_that_is_not_a_number_is_refused_with_400(client, cohort, junk):
    cohort, instructor = cohort
    login(client, instructor.email)
    status, page = page_of(client, cohort, f"?page={junk}")
    assert status == 400
    assert "is not a page number: pages are numbered 1, 2, 3" in page
    assert names_in(page) == []
    assert "<strong>3 of 7</strong> students ready" in page  # the rest of the page still works
    assert page_links(page)["1"].endswith("page=1")


def test_a_page_past_the_last_is_404_with_a_way_back(client, cohort):
    cohort, instructor = cohort
    login(client, instructor.email)
    status, page = page_of(client, cohort, "?page=4")
    assert status == 404
    assert "There is no page 4: the students shown here fill 3 pages." in page
    assert names_in(page) == []
    notice = re.search(r'<p class="flash flash-warning" role="alert">(.*?)</p>', page, re.S)
    notice = notice.group(1)
    last = re.search(r'<a href="([^"]+)">Go to the last page</a>', notice).group(1)
    assert html.unescape(last).endswith("page=3")
    # a filter with fewer students has fewer pages
    status, page = page_of(client, cohort, "?show=ready&page=2")
    assert status == 404 and "fill 1 page." in page
    # an empty filter still has its (empty) first page
    status, page = page_of(client, cohort, "?show=booked_not_ready")
    assert status == 200 and "No student matches this filter." in page


def test_the_default_page_holds_fifty_students(app, client, school):
    credential, instructor = school
    cohort = factories.cohort(instructor, credential)
    factories.many_students(cohort, 51, prefix="big")
    login(client, instructor.email)
    status, page = page_of(client, cohort)
    assert status == 200 and len(names_in(page)) == 50
    assert "Students 1–50 of 51 · page 1 of 2" in page
    _, page = page_of(client, cohort, "?page=2")
    assert names_in(page) == ["Student big 0050"]


@pytest.mark.parametrize(
    ("text", "page"),
    [(None, 1), ("", 1), ("1", 1), (" 7 ", 7), ("007", 7), ("0", None), ("-3", None)]
    + [("x", None), ("1.0", None), ("１", None), ("1234567890", None)],
)
def test_parse_page(text, page):
    assert paging.parse_page(text) == page


def test_windows_and_links():
    window = paging.window(count=7, page=3, per_page=3)
    assert (window.pages, window.start, window.stop, window.first_shown) == (3, 6, 7, 7)
    assert window.has_previous and not window.has_next
    empty = paging.window(count=0, page=1, per_page=50)
    assert (empty.pages, empty.exists, empty.first_shown) == (1, True, 0)
    assert not paging.window(count=7, page=4, per_page=3).exists
    with pytest.raises(ValueError):
        paging.window(count=7, page=1, per_page=0)
    assert paging.page_links(1, 1) == [1]
    assert paging.page_links(1, 20) == [1, 2, 3, None, 20]
    assert paging.page_links(10, 20) == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert paging.page_links(4, 20) == [1, 2, 3, 4, 5, 6, None, 20]
