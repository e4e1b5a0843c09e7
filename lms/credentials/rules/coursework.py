"""Requirements met by coursework: a module passed, a course completed, a score on an
assessment, hours of study."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lms.credentials.rules.facts import AttemptFact, ModuleFact, ModuleFacts, StudentFacts
from lms.credentials.rules.nodes import (
    LEAF_DONE,
    LEAF_NOT_STARTED,
    LEAF_STARTED,
    Compiled,
    Leaf,
    LeafVerdict,
    Needs,
    NodeVerdict,
    Outcome,
    Reading,
    Standing,
    State,
    format_score,
    is_code,
    is_number,
    is_whole,
    kind,
    named,
)


def _valid_score(value: Any) -> bool:
    return is_number(value) and 0 <= value <= 100


@kind
@dataclass(frozen=True)
class ModuleCompleted(Leaf):
    """Complete a module, optionally with at least ``min_score`` percent on its quiz."""

    module: str
    min_score: float | None = None

    TYPE = "module_completed"

    @classmethod
    def read(cls, data: Mapping[str, Any], at: Reading) -> ModuleCompleted | None:
        """``{"type": "module_completed", "module": "T-1", "min_score": 70}`` (score optional)."""
        module, min_score = data.get("module"), data.get("min_score")
        if not is_code(module):
            at.problem("module_completed needs a module code")
            return None
        if min_score is not None and not _valid_score(min_score):
            at.problem("min_score must be a number from 0 to 100")
            return None
        return cls(module=module.strip(), min_score=min_score)

    def to_data(self) -> dict[str, Any]:
        """The JSON form."""
        data: dict[str, Any] = {"type": self.TYPE, "module": self.module}
        if self.min_score is not None:
            data["min_score"] = self.min_score
        return data

    def needs(self) -> Needs:
        """The module."""
        return Needs(modules=(self.module,))

    @property
    def key(self) -> str:
        """The module code."""
        return self.module

    def verdict(self, facts: StudentFacts) -> LeafVerdict:
        """Done when a completion reaches the minimum; started once the quiz was tried."""
        return self._verdict_on(facts.modules.get(self.module))

    def _verdict_on(self, fact: ModuleFact | None) -> LeafVerdict:
        if fact is None:
            return LEAF_NOT_STARTED
        completed, threshold = fact.completed_score, self.min_score
        if completed is not None and (threshold is None or completed >= threshold):
            return LEAF_DONE
        if completed is None and fact.best_attempt_score is None:
            return LEAF_NOT_STARTED
        return LEAF_STARTED

    def standing(self, facts: StudentFacts) -> Standing:
        """The verdict with the best score and the date it was passed (when met)."""
        fact = facts.modules.get(self.module)
        met, progress, state = self._verdict_on(fact)
        if fact is None:
            return Standing(met, progress, state)
        completed, completed_on, attempted = fact
        scores = [s for s in (attempted, completed) if s is not None]
        return Standing(
            met,
            progress,
            state,
            score=max(scores) if scores else None,
            achieved_on=completed_on if met else None,
        )

    def explain(self, facts: StudentFacts, titles: Mapping[str, str]) -> Outcome:
        """``Pass Word parts (T-1) with 70% or more: your best is 64%``."""
        fact = facts.modules.get(self.module)
        met, progress, state, best_score, achieved_on, _ = self.standing(facts)
        name = named(self.module, titles)
        if fact is None:
            completed = attempted = completed_on = None
        else:
            completed, completed_on, attempted = fact
        if met:
            when = f" on {completed_on.isoformat()}" if completed_on else ""
            explanation = f"{name}: done with {format_score(completed)}{when}"
        else:
            threshold = self.min_score
            task = f"Pass {name}" + (
                f" with {format_score(threshold)} or more" if threshold else ""
            )
            if completed is None and attempted is None:
                explanation = f"{task}: not attempted yet"
            else:
                best = max(s for s in (attempted, completed) if s is not None)
                explanation = f"{task}: your best is {format_score(best)}"
        return Outcome(
            self,
            met,
            progress,
            explanation,
            state=state,
            score=best_score,
            achieved_on=achieved_on,
        )

    def heading(self, titles: Mapping[str, str]) -> tuple[str, str]:
        """The code, and the module's title with the minimum score."""
        suffix = f" (at least {self.min_score:g}%)" if self.min_score is not None else ""
        return self.module, titles.get(self.module, self.module) + suffix

    def name(self, titles: Mapping[str, str]) -> str:
        """``Word parts (T-1)``."""
        return named(self.module, titles)

    @classmethod
    def compile_all_of(cls, leaves: Sequence[ModuleCompleted], general: Compiled) -> Compiled:
        """An ``all_of`` of modules only (a course, say: most of a real tree), judged in one
        loop: the same verdict as ``verdict`` and ``AllOf.combine`` give, without a call per
        module. A student with overrides takes the general path."""
        modules = [(leaf.module, leaf.min_score) for leaf in leaves]
        total = len(modules)
        done_, started_, not_started = State.DONE, State.IN_PROGRESS, State.NOT_STARTED

        def judge_modules(facts: StudentFacts, states: list[State]) -> NodeVerdict:
            if facts.overrides:
                return general(facts, states)
            known = facts.modules
            # a ModuleFact or ModuleFacts' own tuple: (completed score, completed on, best try)
            get = known._rows.get if type(known) is ModuleFacts else known.get
            done = 0
            started = False
            for code, threshold in modules:
                fact = get(code)
                if fact is None:
                    states.append(not_started)
                    continue
                completed = fact[0]
                if completed is not None and (threshold is None or completed >= threshold):
                    done += 1
                    states.append(done_)
                elif completed is None and fact[2] is None:
                    states.append(not_started)
                else:
                    started = True
                    states.append(started_)
            if done == total:
                return True, 1.0, total, done_
            return False, done / total, total, started_ if started or done else not_started

        return judge_modules


@kind
@dataclass(frozen=True)
class CourseCompleted(Leaf):
    """Complete every module of a course."""

    course: str

    TYPE = "course_completed"

    @classmethod
    def read(cls, data: Mapping[str, Any], at: Reading) -> CourseCompleted | None:
        """``{"type": "course_completed", "course": "MTERM"}``."""
        course = data.get("course")
        if not is_code(course):
            at.problem("course_completed needs a course code")
            return None
        return cls(course=course.strip())

    def to_data(self) -> dict[str, Any]:
        """The JSON form."""
        return {"type": self.TYPE, "course": self.course}

    def needs(self) -> Needs:
        """The course."""
        return Needs(courses=(self.course,))

    @property
    def key(self) -> str:
        """``course:<code>``."""
        return f"course:{self.course}"

    def verdict(self, facts: StudentFacts) -> LeafVerdict:
        """Done when every module of the course is; progress is the share done."""
        fact = facts.courses.get(self.course)
        total = fact.modules_total if fact else 0
        done = fact.modules_done if fact else 0
        if total > 0 and done >= total:
            return LEAF_DONE
        progress = min(1.0, max(0.0, done / total)) if total else 0.0
        return False, progress, State.IN_PROGRESS if done else State.NOT_STARTED

    def explain(self, facts: StudentFacts, titles: Mapping[str, str]) -> Outcome:
        """``Complete every module of Medical Terminology (MTERM): 2 of 3 modules done``."""
        name = named(self.course, titles)
        fact = facts.courses.get(self.course)
        met, progress, state = self.verdict(facts)
        if met:
            when = f" on {fact.completed_on.isoformat()}" if fact and fact.completed_on else ""
            return Outcome(
                self,
                True,
                progress,
                f"{name}: every module done{when}",
                state=state,
                achieved_on=fact.completed_on if fact else None,
            )
        total = fact.modules_total if fact else 0
        done = fact.modules_done if fact else 0
        status = f"{done} of {total} modules done" if total else "the course has no modules yet"
        return Outcome(
            self, False, progress, f"Complete every module of {name}: {status}", state=state
        )

    def heading(self, titles: Mapping[str, str]) -> tuple[str, str]:
        """The code, and ``Every module of <title>``."""
        return self.course, f"Every module of {titles.get(self.course, self.course)}"


@kind
@dataclass(frozen=True)
class AssessmentScore(Leaf):
    """Score at least ``min_score`` percent on a module's assessment (a quiz or a practice
    exam), optionally within the last ``within_days`` days."""

    module: str
    min_score: float
    within_days: int | None = None

    TYPE = "assessment_score"

    @classmethod
    def read(cls, data: Mapping[str, Any], at: Reading) -> AssessmentScore | None:
        """``{"type": "assessment_score", "module": "P-1", "min_score": 70, "within_days":
        90}`` (the window optional, 1 to 3650 days); every problem is noted."""
        module, min_score = data.get("module"), data.get("min_score")
        within = data.get("within_days")
        ok = True
        if not is_code(module):
            at.problem("assessment_score needs a module code")
            ok = False
        if not _valid_score(min_score):
            at.problem("min_score must be a number from 0 to 100")
            ok = False
        if within is not None and not is_whole(within, 1, 3650):
            at.problem("within_days must be a whole number of days from 1 to 3650")
            ok = False
        if not ok:
            return None
        return cls(module=module.strip(), min_score=min_score, within_days=within)

    def to_data(self) -> dict[str, Any]:
        """The JSON form."""
        data: dict[str, Any] = {
            "type": self.TYPE,
            "module": self.module,
            "min_score": self.min_score,
        }
        if self.within_days is not None:
            data["within_days"] = self.within_days
        return data

    def needs(self) -> Needs:
        """The module, and its every scored attempt."""
        return Needs(modules=(self.module,), assessed=(self.module,))

    @property
    def key(self) -> str:
        """``score:<module>``."""
        return f"score:{self.module}"

    def _best_counted(
        self, facts: StudentFacts
    ) -> tuple[tuple[AttemptFact, ...], AttemptFact | None]:
        """Every attempt at the module's assessment, and the best one inside the window."""
        attempts = facts.attempts.get(self.module, ())
        window = self.within_days
        if window is not None and facts.as_of is not None:
            counted = [a for a in attempts if (facts.as_of - a.on).days < window]
        else:
            counted = list(attempts)
        return attempts, max(counted, key=lambda a: (a.score, a.on), default=None)

    def verdict(self, facts: StudentFacts) -> LeafVerdict:
        """Done when the best attempt in the window reaches the score."""
        attempts, best = self._best_counted(facts)
        if best is not None and best.score >= self.min_score:
            return LEAF_DONE
        return LEAF_STARTED if attempts else LEAF_NOT_STARTED

    def explain(self, facts: StudentFacts, titles: Mapping[str, str]) -> Outcome:
        """``Score 70% or more on CPC practice exam (PRAC-1) within the last 90 days: your
        best in that time is 64%``."""
        name = named(self.module, titles)
        window = self.within_days
        attempts, best = self._best_counted(facts)
        met, progress, state = self.verdict(facts)
        period = f" within the last {window} days" if window else ""
        task = f"Score {format_score(self.min_score)} or more on {name}{period}"
        if met:
            return Outcome(
                self,
                True,
                progress,
                f"{name}: {format_score(best.score)} on {best.on.isoformat()}",
                state=state,
                score=best.score,
                achieved_on=best.on,
            )
        if not attempts:
            return Outcome(self, False, progress, f"{task}: not attempted yet", state=state)
        if best is None:
            older = max(a.score for a in attempts)
            explanation = f"{task}: your best, {format_score(older)}, is older than that"
            return Outcome(self, False, progress, explanation, state=state)
        where = " in that time" if window else ""
        return Outcome(
            self,
            False,
            progress,
            f"{task}: your best{where} is {format_score(best.score)}",
            state=state,
            score=best.score,
        )

    def heading(self, titles: Mapping[str, str]) -> tuple[str, str]:
        """The code, and ``<title>: 70% or more within 90 days``."""
        window = f" within {self.within_days} days" if self.within_days else ""
        title = titles.get(self.module, self.module)
        return self.module, f"{title}: {self.min_score:g}% or more{window}"


@kind
@dataclass(frozen=True)
class ContactHours(Leaf):
    """Have at least ``hours`` of measured time on task (in the course with code ``course``,
    or in every course when it is ``None``)."""

    hours: float
    course: str | None = None

    TYPE = "contact_hours"

    @classmethod
    def read(cls, data: Mapping[str, Any], at: Reading) -> ContactHours | None:
        """``{"type": "contact_hours", "hours": 80, "course": "CODING"}`` (course optional)."""
        hours, course = data.get("hours"), data.get("course")
        if not is_number(hours) or hours <= 0:
            at.problem("contact_hours needs hours greater than 0")
            return None
        if course is not None and not is_code(course):
            at.problem("contact_hours course must be a course code")
            return None
        return cls(hours=hours, course=course.strip() if course else None)

    def to_data(self) -> dict[str, Any]:
        """The JSON form."""
        data: dict[str, Any] = {"type": self.TYPE, "hours": self.hours}
        if self.course:
            data["course"] = self.course
        return data

    def needs(self) -> Needs:
        """Contact hours (of the course, if it names one)."""
        return Needs(hours=True, hour_courses=(self.course,) if self.course else ())

    @property
    def key(self) -> str:
        """``hours:<course>``, or ``hours:*`` for every course."""
        return f"hours:{self.course or '*'}"

    def _have(self, facts: StudentFacts) -> float:
        return float(facts.contact_hours.get(self.course, 0.0))

    def verdict(self, facts: StudentFacts) -> LeafVerdict:
        """Done at the hours asked; progress is the share studied."""
        have = self._have(facts)
        if have >= self.hours:
            return LEAF_DONE
        progress = max(0.0, min(1.0, have / self.hours))
        return False, progress, State.IN_PROGRESS if have > 0 else State.NOT_STARTED

    def explain(self, facts: StudentFacts, titles: Mapping[str, str]) -> Outcome:
        """``Study 80 contact hours: 20.0 so far``."""
        met, progress, state = self.verdict(facts)
        where = f" in {self.course}" if self.course else ""
        need = f"{self.hours:g}"
        if met:
            return Outcome(self, True, progress, f"{need} contact hours{where}: done", state=state)
        explanation = f"Study {need} contact hours{where}: {self._have(facts):.1f} so far"
        return Outcome(self, False, progress, explanation, state=state)

    def heading(self, titles: Mapping[str, str]) -> tuple[str, str]:
        """``Hours``, and ``80 contact hours in <course title>``."""
        where = f" in {titles.get(self.course, self.course)}" if self.course else ""
        return "Hours", f"{self.hours:g} contact hours{where}"
