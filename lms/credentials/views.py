"""Public certificate verification (HTML, JSON, PDF, OB 3.0 VC-JWT, keys), a student's real
exam results, and the admins' catalogue. (A cohort's certificates page and a student's
evidence pages need the cohort, so they live in ``lms.enrollment``.)"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms import SelectChoice

from lms import csp, links, signing, templating
from lms.auth.access import public, roles_required
from lms.auth.models import Role
from lms.credentials import badges, outcomes, pdf, rules, verify_cache
from lms.credentials import catalogue as credential_catalogue
from lms.credentials.certificates import status_list as status_lists
from lms.credentials.certificates.codes import normalise_code
from lms.credentials.certificates.standing import (
    certificate_exists,
    get_certificate_by_code,
    public_standing,
)
from lms.credentials.forms import CheckCertificateForm, ExamOutcomeForm, RequirementsForm
from lms.credentials.models import CertificateStatus
from lms.db import utcnow
from lms.errors import InvalidInput, error_response
from lms.forms import show_problems

bp = Blueprint("credentials", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)


def _actor():
    return current_user._get_current_object()


def _base_url() -> str:
    return links.public_base_url()


# --- public verification ---------------------------------------------------------------


@bp.get("/verify")
@public
def check():
    """A form where anyone types a certificate's code; a known code goes to its page."""
    form = CheckCertificateForm(request.args)
    status = 200
    if request.args and form.validate():
        canonical = normalise_code(form.code.data)
        if canonical is not None and certificate_exists(canonical):
            return redirect(url_for("credentials.verify", code=canonical))
        form.code.errors = [
            "No certificate has this code. Check it against the printed certificate: it has "
            "eight groups of four letters and digits."
        ]
        status = 404
    elif request.args:
        status = 400
    return render_template("credentials/check.html", form=form), status


@bp.get("/verify/<code>")
@public
def verify(code: str):
    """Anyone can check a certificate by its code: status, name, credential, dates (in UTC,
    the same for every reader, logged in or not). The page every visitor gets is kept per
    certificate state (``verify_cache``); a logged-in reader's (its header names them) is not."""
    now = utcnow()
    if not verify_cache.anonymous_page():
        return _verify_page(get_certificate_by_code(code), now)
    state = verify_cache.certificate_state(code, now)
    response = verify_cache.answer(
        state,
        "html",
        "text/html; charset=utf-8",
        lambda: _verify_page(get_certificate_by_code(code), now).encode(),
        now,
    )
    response.vary.add("Cookie")  # a logged-in reader gets another page
    return response


def _verify_page(certificate, now) -> str:
    templating.show_times_in_utc()
    standing = public_standing(certificate, now)
    school = current_app.config["SCHOOL_NAME"]
    return render_template(
        "credentials/verify.html",
        certificate=certificate,
        standing=standing,
        school=school,
        words=standing.wording(school),
    )


@bp.get("/verify/<code>.json")
@public
def verify_json(code: str):
    """The same check for machines: valid / revoked / expired / superseded, and what the
    certificate is not (its ``disclaimer``), and nothing more."""
    now = utcnow()

    def render() -> bytes:
        certificate = get_certificate_by_code(code)
        school = current_app.config["SCHOOL_NAME"]
        standing = public_standing(certificate, now)
        return jsonify(standing.to_data(certificate.code, school)).get_data()

    state = verify_cache.certificate_state(code, now)
    return csp.open_to_any_origin(
        verify_cache.answer(state, "json", "application/json", render, now)
    )


@bp.get("/verify/<code>/certificate.pdf")
@public
def certificate_pdf(code: str):
    """The printable certificate, with a QR code to its verification page."""
    now = utcnow()
    state = verify_cache.certificate_state(code, now)

    def render() -> bytes:
        certificate = get_certificate_by_code(code)
        verify_url = _base_url() + url_for("credentials.verify", code=certificate.code)
        return pdf.certificate_pdf(
            certificate, current_app.config["SCHOOL_NAME"], verify_url, certificate.status_at(now)
        )

    disposition = f'inline; filename="certificate-{state.code}.pdf"'
    return verify_cache.answer(
        state, "pdf", "application/pdf", render, now, {"Content-Disposition": disposition}
    )


@bp.get("/verify/<code>/credential.jwt")
@public
def credential_jwt(code: str):
    """The certificate as an Open Badges 3.0 AchievementCredential, signed as a VC-JWT; none
    for a revoked certificate (410): a copy made before says so through its status list."""
    certificate = get_certificate_by_code(code)
    if certificate.status is CertificateStatus.REVOKED:
        gone = error_response(
            410,
            "This certificate was revoked: no credential is issued for it any more. Its "
            "verification page says why.",
        )
        return csp.open_to_any_origin(make_response(gone))
    issuer = badges.IssuerProfile(_base_url(), current_app.config["SCHOOL_NAME"])
    token = badges.sign_credential(
        badges.achievement_credential(certificate, issuer), signing.store()
    )
    return csp.open_to_any_origin(
        Response(
            token,
            mimetype="application/jwt",
            headers={"Content-Disposition": f'attachment; filename="{certificate.code}.jwt"'},
        )
    )


@bp.get("/credentials/status/<int:number>")
@public
def status_list(number: int):
    """A revocation status list (W3C Bitstring Status List) as a signed VC-JWT: the bit of
    every revoked certificate of its range is set."""
    issuer = badges.IssuerProfile(_base_url(), current_app.config["SCHOOL_NAME"])
    document = status_lists.list_credential(_base_url(), issuer.profile(), number, utcnow())
    response = Response(
        badges.sign_credential(document, signing.store()), mimetype="application/vc+jwt"
    )
    response.headers["Cache-Control"] = "public, max-age=300"
    return csp.open_to_any_origin(response)


@bp.route("/exam-results", methods=["GET", "POST"])
@roles_required(Role.STUDENT)
def exam_results():
    """A student records how the real exam went."""
    student = _actor()
    form = ExamOutcomeForm()
    form.subject_id.label.text = "Exam"
    form.subject_id.choices = [
        SelectChoice(c.id, f"{c.code}: {c.name}") for c in credential_catalogue.list_credentials()
    ]
    status = 200
    if form.validate_on_submit():
        credential = credential_catalogue.get_credential(form.subject_id.data)
        try:
            outcomes.record_exam_outcome(
                student,
                student,
                credential,
                exam_date=form.exam_date.data,
                passed=form.result.data == "passed",
                score=None if form.score.data is None else float(form.score.data),
                now=utcnow(),
            )
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            flash(
                "Your result is recorded. Thank you: it helps the school and the next class.",
                "success",
            )
            return redirect(url_for("credentials.exam_results"))
    elif form.is_submitted():
        status = 400
    return render_template(
        "credentials/exam_results.html", form=form, results=outcomes.outcomes_of([student.id])
    ), status


# --- admins: the catalogue and requirement versions -----------------------------------------


@bp.get("/admin/credentials")
@roles_required(Role.ADMIN)
def catalogue():
    """Every credential with its facts, sources and how far they can be trusted."""
    return render_template(
        "credentials/catalogue.html", credentials=credential_catalogue.list_credentials()
    )


@bp.route("/admin/credentials/<int:credential_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def credential_page(credential_id: int):
    """A credential's facts and its requirements: a draft built with the builder's fields or
    written as JSON, saved as a new version; each version with what changed from the last."""
    credential = credential_catalogue.get_credential(credential_id)
    versions = credential_catalogue.requirement_versions(credential)
    choices = credential_catalogue.builder_choices()
    form = RequirementsForm()
    form.module.choices = [SelectChoice("", "Choose")] + [SelectChoice(*m) for m in choices.modules]
    form.course.choices = [SelectChoice("", "Choose (for hours: every course)")] + [
        SelectChoice(*c) for c in choices.courses
    ]
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                saved = _requirements_step(credential, form)
            except InvalidInput as error:
                status = show_problems(form, error, default_field="tree")
            else:
                if saved is not None:
                    message = f"Saved as version {saved} of the {credential.code} requirements."
                    flash(message, "success")
                    return redirect(
                        url_for("credentials.credential_page", credential_id=credential_id)
                    )
                status = 200  # the draft changed; nothing is saved yet
    elif versions:
        form.tree.data = credential_catalogue.draft_text(versions[0].tree)
    draft = _shown_draft(form.tree.data or "")
    parents = rules.builder.group_paths(draft)
    rows = rules.builder.outline(draft, choices.titles)
    names = {row.path: row.text for row in rows}
    form.parent.choices = [
        SelectChoice(path, "The top group" if path == "" else f"{names[path]} (item {path})")
        for path in parents
    ] or [SelectChoice("", "The top (a new group of all of)")]
    return render_template(
        "credentials/credential.html",
        credential=credential,
        versions=versions,
        changes=credential_catalogue.version_changes(versions, choices.titles),
        form=form,
        outline=rows,
        draft_json=credential_catalogue.draft_text(draft),  # escaped into each Remove form
        info_path=credential.information_path,
        evidence_kinds=[kind.value for kind in rules.EvidenceKind],
    ), status


def _requirements_step(credential, form: RequirementsForm) -> int | None:
    """Do what the pressed button says: save the draft (its version number), or add or remove
    a requirement in the draft, which goes back into the form (None)."""
    text = form.tree.data or ""
    if "remove" in request.form:
        form.tree.data = credential_catalogue.remove_from_draft(text, request.form["remove"])
        return None
    if request.form.get("action") == "add":
        form.tree.data = credential_catalogue.add_to_draft(
            text,
            form.parent.data or "",
            form.kind.data,
            module=form.module.data or "",
            course=form.course.data or "",
            min_score=float(form.min_score.data) if form.min_score.data is not None else None,
            within_days=form.within_days.data,
            evidence=form.evidence.data or "",
            months=form.months.data,
            hours=float(form.hours.data) if form.hours.data is not None else None,
            n=form.n.data,
            label=form.label.data or "",
        )
        return None
    draft = credential_catalogue.read_draft(text)
    if draft is None:
        raise InvalidInput("Write the requirements, or add them with the builder.", field="tree")
    return credential_catalogue.save_requirements(credential, draft, _actor(), utcnow()).version


def _shown_draft(text: str):
    """The draft the outline shows: none when the JSON cannot be read (its error is shown)."""
    try:
        return credential_catalogue.read_draft(text)
    except InvalidInput:
        return None
