"""The code look-up for open-book practice: search the ICD-10-CM tabular list by code or
words, a code's page with its notes, and the as-you-type check (JSON)."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from lms.auth.access import login_required, roles_required
from lms.auth.models import Role
from lms.courses.bank import code_releases
from lms.courses.codesets import forms as code_forms
from lms.courses.codesets import icd10cm, search
from lms.courses.codesets.releases import LOADABLE
from lms.courses.forms import KeyReviewForm
from lms.courses.rules import code_entry
from lms.db import utcnow
from lms.errors import InvalidInput, NotFound

bp = Blueprint("codes", __name__)

CODE_SETS = ("icd10cm", *code_forms.KINDS)


@bp.get("/codes")
@login_required
def look_up():
    """The search box and, for a query, the codes it finds (at most 50)."""
    query = " ".join(request.args.get("q", "").split())[:200]
    results = search.search(query) if query else None
    return render_template(
        "courses/codes.html",
        query=query,
        results=results,
        release=icd10cm.RELEASE,
        limit=search.MAX_RESULTS,
    )


@bp.get("/codes/check")
@login_required
def check_code():
    """One code checked, as JSON: ``?code=E11.9`` (ICD-10-CM) or ``&set=cpt|hcpcs|pcs`` for a
    form check. Used by the player as a student types."""
    text = request.args.get("code", "")
    code_set = request.args.get("set", "icd10cm")
    if code_set not in CODE_SETS:
        raise InvalidInput(f"The code set is one of {', '.join(CODE_SETS)}.", field="set")
    if not text.strip():
        raise InvalidInput("Give a code to check.", field="code")
    if len(text) > 40:
        raise InvalidInput("A code is at most 8 characters.", field="code")
    if code_set == "icd10cm":
        return jsonify(code_set=code_set, **asdict(icd10cm.check(text)))
    return jsonify(asdict(code_forms.check(code_set, text)))


@bp.get("/codes/check-box")
@login_required
def check_box():
    """The codes typed in one answer box, each checked, and for ICD-10-CM the pairs an
    Excludes1 note forbids: ``?set=icd10cm&codes=E11.9 I10``. Used by the player as a student
    types; grading checks again on the server."""
    code_set = request.args.get("set", "icd10cm")
    if code_set not in code_entry.CODE_SETS:
        raise InvalidInput(
            f"The code set is one of {', '.join(code_entry.CODE_SETS)}.", field="set"
        )
    text = request.args.get("codes", "")[: code_entry.MAX_BOX_TEXT + 1]
    if len(text) > code_entry.MAX_BOX_TEXT:
        raise InvalidInput(f"At most {code_entry.MAX_BOX_TEXT} characters.", field="codes")
    parts = code_entry.split_codes(text)
    if len(parts) > code_entry.MAX_CODES_PER_BOX:
        raise InvalidInput(
            f"At most {code_entry.MAX_CODES_PER_BOX} codes in one box; there are {len(parts)}.",
            field="codes",
        )
    checks = []
    for part in parts:
        read = code_entry.read_code(code_set, part)
        if isinstance(read, str):
            checks.append({"code": part, "ok": False, "message": read})
        elif code_set == "icd10cm":
            check = icd10cm.check(read.code)
            checks.append({"code": check.code, "ok": check.billable, "message": check.message})
        else:
            form = code_forms.check(_FORM_SETS[code_set], read.code)
            message = form.message + (f", modifiers {', '.join(sorted(read.modifiers))}"
                                      if read.modifiers else "")  # fmt: skip
            checks.append({"code": str(read), "ok": form.well_formed, "message": message})
    conflicts = []
    if code_set == "icd10cm":
        conflicts = [
            {"codes": [a, b], "message": f"{a} and {b} are not coded together. {note}"}
            for a, b, note in icd10cm.excludes1_conflicts(parts)
        ]
    return jsonify(code_set=code_set, checks=checks, excludes1=conflicts)


_FORM_SETS = {"cpt": "cpt", "hcpcs": "hcpcs", "icd10pcs": "pcs"}


@bp.get("/codes/review")
@roles_required(Role.ADMIN, Role.INSTRUCTOR)
def key_review():
    """The code-entry questions whose keys the newest loaded release of a code set deleted or
    changed (``flask codes load``), each with "Mark reviewed" for an author."""
    code_set = request.args.get("set", "icd10cm")
    if code_set not in LOADABLE:
        raise InvalidInput(f"The code set is one of {', '.join(LOADABLE)}.", field="set")
    return render_template(
        "courses/code_review.html",
        code_set=code_set,
        code_sets=LOADABLE,
        review=code_releases.review(code_set),
        form=KeyReviewForm(code_set=code_set),
    )


@bp.post("/codes/review/<int:question_id>")
@roles_required(Role.ADMIN, Role.INSTRUCTOR)
def mark_key_reviewed(question_id: int):
    """Record that the question's key was reviewed against the newest release."""
    form = KeyReviewForm()
    if not form.validate_on_submit():
        raise InvalidInput("The form could not be checked. Reload the page and try again.")
    code_set = form.code_set.data
    if code_set not in LOADABLE:
        raise InvalidInput(f"The code set is one of {', '.join(LOADABLE)}.", field="set")
    user = current_user._get_current_object()  # noqa: SLF001 - the logged-in user
    code_releases.mark_reviewed(user, question_id, code_set, utcnow())
    flash(f"Question {question_id} is marked reviewed against the new release.", "success")
    return redirect(url_for("codes.key_review", set=code_set))


@bp.get("/codes/<code>")
@login_required
def code_page(code: str):
    """A code's description, whether it is billable, its place in the tree and its notes."""
    normal = icd10cm.normalise(code)
    if normal is None or not icd10cm.is_code(normal):
        raise NotFound("There is no such ICD-10-CM code.")
    if normal != code:
        return redirect(url_for("codes.code_page", code=normal))
    return render_template(
        "courses/code.html", details=icd10cm.details(normal), release=icd10cm.RELEASE
    )
