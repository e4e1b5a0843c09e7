"""A clone of the project has everything its tests and the app need: nothing reads the team's
folder that sits beside the project on the team's machines (a user's clone has no such
folder)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The team's folder beside the project, by name; this test only looks for paths into it.
TEAM_FOLDER = "shared"
# A path into it (from the project, or to its reference notes), or the project's parent.
OUTSIDE = re.compile(
    "|".join(
        [
            re.escape(f"../{TEAM_FOLDER}"),
            re.escape(f"{TEAM_FOLDER}/reference"),
            r"PROJECT_DIR\.parent",
            r"ROOT\.parent",
        ]
    )
)


def test_no_code_or_test_reads_outside_the_project():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("lms", "tests", "bench", "migrations")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "test_self_contained.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []
    for name in ("Makefile", ".ci/run", "pyproject.toml"):
        assert not OUTSIDE.search((ROOT / name).read_text()), name
