"""The readiness engine: a requirement tree and a student's facts in, a result tree out.

Pure: no Flask, no database, no clock. Every unmet requirement is reported, not just the
first, with a sentence a student understands.

- ``facts``: what is known of a student (``StudentFacts``), the evidence kinds.
- ``nodes``: what a node of a tree is; each kind of requirement is one class, registered by
  its JSON ``type``: ``coursework`` (modules, courses, scores, hours), ``eligibility``
  (evidence, experience) and ``groups`` (all_of, any_of, n_of). A new kind is a new class.
- ``engine``: reading a tree, ``evaluate`` (every sentence) and ``Judge`` (verdicts only, for
  many students), which reach the same verdicts.
"""

from lms.credentials.rules import builder
from lms.credentials.rules.coursework import (
    AssessmentScore,
    ContactHours,
    CourseCompleted,
    ModuleCompleted,
)
from lms.credentials.rules.eligibility import EvidenceVerified, ExperienceMonths
from lms.credentials.rules.engine import (
    MAX_DEPTH,
    Judge,
    Verdict,
    evaluate,
    leaf_heading,
    leaf_key,
    leaves,
    module_codes,
    parse_requirements,
    requirement_to_data,
    standing,
)
from lms.credentials.rules.facts import (
    EVIDENCE_LABELS,
    AttemptFact,
    CourseFact,
    EvidenceKind,
    ModuleFact,
    ModuleFacts,
    StudentFacts,
    experience_months,
    months_between,
)
from lms.credentials.rules.groups import AllOf, AnyOf, NOf
from lms.credentials.rules.nodes import (
    KINDS,
    Group,
    Leaf,
    Needs,
    Outcome,
    Requirement,
    RequirementError,
    Standing,
    State,
)

__all__ = [
    "builder",
    "EVIDENCE_LABELS",
    "KINDS",
    "MAX_DEPTH",
    "AllOf",
    "AnyOf",
    "AssessmentScore",
    "AttemptFact",
    "ContactHours",
    "CourseCompleted",
    "CourseFact",
    "EvidenceKind",
    "EvidenceVerified",
    "ExperienceMonths",
    "Group",
    "Judge",
    "Leaf",
    "ModuleCompleted",
    "ModuleFact",
    "ModuleFacts",
    "NOf",
    "Needs",
    "Outcome",
    "Requirement",
    "RequirementError",
    "Standing",
    "State",
    "StudentFacts",
    "Verdict",
    "evaluate",
    "experience_months",
    "leaf_heading",
    "leaf_key",
    "leaves",
    "module_codes",
    "months_between",
    "parse_requirements",
    "requirement_to_data",
    "standing",
]
