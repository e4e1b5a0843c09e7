"""The words of a readiness certificate, in one place, so that no certificate can be mistaken
for the credential itself (issue 18 item 8): the PDF, the verification page and its JSON, and
the Open Badges credential all say the same thing.

A readiness certificate says that a student completed the school's preparation requirements
for an exam; only the awarding body (AAPC, AHIMA) certifies anyone. Each wording therefore
carries a disclaimer saying so, and an attribution of the credential's marks to their owner.

Pure: no database, no configuration, no clock (``of_certificate`` only reads a loaded
certificate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The marks we may print with ®: registered trademarks, each with its owner.
# Source: issue 18 item 8 of the project's tracker ("trademark attribution for CPC®, CPB®,
# CCA®"): CPC and CPB are registered trademarks of AAPC, CCA of AHIMA. No other credential
# code of the catalogue is claimed as registered here: they get no ® and a generic
# attribution ("CIC is a mark of AAPC") until someone confirms otherwise and adds it here.
REGISTERED_MARKS = {"CPC": "AAPC", "CPB": "AAPC", "CCA": "AHIMA"}

REGISTERED = "\N{REGISTERED SIGN}"

# The word for an unnamed holder, where the wording is about the achievement, not a person
# (the Open Badges achievement is the same for every holder).
HOLDER = "its holder"


@dataclass(frozen=True)
class Wording:
    """What every form of a readiness certificate says."""

    title: str  # Exam readiness: AAPC CPC® examination
    statement: str  # has completed <School>'s preparation requirements for the AAPC CPC® ...
    body: str  # <Student> has completed ... (the statement with the student's name)
    credential: str  # Certified Professional Coder (CPC®), awarded by AAPC
    disclaimer: str  # This is not an AAPC certification. It does not certify ...
    attribution: str  # CPC® is a registered trademark of AAPC.


def codes(credential_code: str) -> list[str]:
    """The credential codes a catalogue code stands for: "CPC+CPB" (the dual certification)
    is the CPC and the CPB."""
    return [part.strip() for part in credential_code.split("+") if part.strip()]


def marked(code: str) -> str:
    """A credential code as printed: with ® only when it is a registered mark we know of."""
    return f"{code}{REGISTERED}" if code in REGISTERED_MARKS else code


def _joined(words: list[str], conjunction: str) -> str:
    if len(words) <= 2:
        return f" {conjunction} ".join(words)
    return ", ".join(words[:-1]) + f" {conjunction} " + words[-1]


def possessive(name: str) -> str:
    """ "Riverside Academy's"; a name ending in s takes the apostrophe alone ("Coders'")."""
    name = name.strip()
    if name.endswith("'s") or name.endswith("\N{RIGHT SINGLE QUOTATION MARK}s"):
        return name
    return f"{name}'" if name.lower().endswith("s") else f"{name}'s"


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIOU" else "a"


def exam(issuing_body: str, credential_code: str) -> str:
    """ "AAPC CPC® examination", or "AAPC CPC® and CPB® examinations" for a dual one."""
    parts = [marked(code) for code in codes(credential_code)] or [credential_code]
    noun = "examinations" if len(parts) > 1 else "examination"
    return f"{issuing_body} {_joined(parts, 'and')} {noun}"


def attribution(issuing_body: str, credential_code: str) -> str:
    """Who owns each mark the certificate prints: registered marks with their owner, as the
    issue states them; any other code as "a mark of" its awarding body."""
    by_owner: dict[str, list[str]] = {}
    for code in codes(credential_code) or [credential_code]:
        if code in REGISTERED_MARKS:
            by_owner.setdefault(REGISTERED_MARKS[code], []).append(marked(code))
    sentences = []
    for owner, marks in by_owner.items():
        if len(marks) == 1:
            sentences.append(f"{marks[0]} is a registered trademark of {owner}.")
        else:
            sentences.append(f"{_joined(marks, 'and')} are registered trademarks of {owner}.")
    plain = [code for code in codes(credential_code) if code not in REGISTERED_MARKS]
    if plain:
        verb = "is a mark" if len(plain) == 1 else "are marks"
        sentences.append(f"{_joined(plain, 'and')} {verb} of {issuing_body}.")
    return " ".join(sentences)


def certificate_wording(
    school: str,
    credential_code: str,
    credential_name: str,
    issuing_body: str,
    student: str = HOLDER,
) -> Wording:
    """The words of a readiness certificate of ``credential_code`` issued by ``school`` to
    ``student`` (or, without a name, to "its holder")."""
    marks = [marked(code) for code in codes(credential_code)] or [credential_code]
    statement = (
        f"has completed {possessive(school)} preparation requirements for the "
        f"{exam(issuing_body, credential_code)}."
    )
    subject = student[:1].upper() + student[1:] if student == HOLDER else student
    disclaimer = (
        f"This is not {_article(issuing_body)} {issuing_body} certification. "
        f"It does not certify {student} as a {_joined(marks, 'or')}. "
        f"{school} is not affiliated with or endorsed by {issuing_body}."
    )
    return Wording(
        title=f"Exam readiness: {exam(issuing_body, credential_code)}",
        statement=statement,
        body=f"{subject} {statement}",
        credential=f"{credential_name} ({_joined(marks, '+')}), awarded by {issuing_body}",
        disclaimer=disclaimer,
        attribution=attribution(issuing_body, credential_code),
    )


def of_certificate(certificate: Any, school: str, *, named: bool = True) -> Wording:
    """The words of a loaded certificate (its credential and student loaded), naming its
    student, or "its holder" when not ``named``."""
    credential = certificate.credential
    return certificate_wording(
        school,
        credential.code,
        credential.name,
        credential.issuing_body,
        certificate.student.full_name if named else HOLDER,
    )
