"""What an import would create and what it leaves out: shown by ``--dry-run``, by the upload
page's preview, and after the import."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lms.courses.rules import authoring as authoring_rules


@dataclass(frozen=True)
class Skipped:
    """A part of a cartridge or package that is not imported: its identifier, title and why."""

    identifier: str
    title: str
    reason: str

    def __str__(self) -> str:
        return f"{self.identifier} ({self.title or 'untitled'}): {self.reason}"


@dataclass
class ImportReport:
    """The course data an import would hand to ``create_course``, and what it leaves out."""

    source: str  # "package" or "cartridge 1.3" ...
    data: dict
    skipped: list[Skipped] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)  # filename -> bytes
    # How parts were brought in where the formats differ (several assessments made one quiz).
    notes: list[str] = field(default_factory=list)

    def drafts(self) -> list[str]:
        """The modules whose lesson cannot be published as it stands (an image without alt
        text, say): they are imported as drafts for an author to finish, each with why."""
        found = []
        for module in self.data["modules"]:
            problems = authoring_rules.lesson_problems(module.get("lesson") or "", publishing=True)
            if problems:
                found.append(f"{module['code']}: {problems[0].message}")
        return found

    @property
    def code(self) -> str:
        return self.data["code"]

    def module_lines(self) -> list[str]:
        """One line per module: its code, title, whether it has a lesson, its questions."""
        lines = []
        for module in self.data["modules"]:
            questions = len(module.get("questions", []))
            drawn = " (drawn from the bank)" if module.get("blueprint") else ""
            lesson = "lesson" if module.get("lesson") else "no lesson"
            lines.append(
                f"{module['code']}: {module['title']} — {lesson}, {questions} quiz question(s)"
                + drawn
            )
        return lines

    def lines(self) -> list[str]:
        """The report as text, for the command line."""
        data = self.data
        out = [f"Course {data['code']}: {data['title']} (from a {self.source})"]
        out += [f"  module {line}" for line in self.module_lines()]
        out.append(f"  {len(data.get('bank', []))} more question(s) in the course's bank")
        if self.media:
            out.append(f"  {len(self.media)} media file(s): " + ", ".join(sorted(self.media)))
        out += [f"Note: {note}" for note in self.notes]
        drafts = self.drafts()
        if drafts:
            out.append(f"Imported as drafts, not yet seen by students ({len(drafts)}):")
            out += [f"  - {line}" for line in drafts]
        if self.skipped:
            out.append(f"Not imported ({len(self.skipped)}):")
            out += [f"  - {item}" for item in self.skipped]
        else:
            out.append("Everything in the file is imported.")
        return out


def count_questions(data: Mapping) -> int:
    return len(data.get("bank", [])) + sum(len(m.get("questions", [])) for m in data["modules"])
