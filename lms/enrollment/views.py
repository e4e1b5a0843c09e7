"""The student dashboard, self-enrolment, invitations and the instructor's cohort pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms import SelectChoice

from lms import links
from lms.auth.access import public, roles_required
from lms.auth.models import Role
from lms.courses import reads as courses
from lms.credentials import outcomes
from lms.credentials import service as credentials
from lms.db import utcnow
from lms.enrollment import (
    invitations,
    overrides,
    paging,
    progress,
    roster,
    rules,
    schedule,
    service,
)
from lms.enrollment.forms import (
    ActionForm,
    CohortForm,
    DueDateForm,
    EnrollForm,
    EvidenceDecisionForm,
    ExamBookingForm,
    InstructorForm,
    InvitationForm,
    JoinForm,
    MoveForm,
    OverrideForm,
    RosterConfirmForm,
    RosterUploadForm,
    WithdrawForm,
)
from lms.errors import DomainError, InvalidInput
from lms.extensions import db
from lms.forms import show_problems

bp = Blueprint("enrollment", __name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)
DEFAULT_ROSTER_MAX_BYTES = 256 * 1024
DEFAULT_ROSTER_MAX_ROWS = 1000
DEFAULT_MATRIX_PAGE_SIZE = 50  # students a page of the cohort matrix


def _actor():
    return current_user._get_current_object()


def _policy() -> rules.RiskPolicy:
    config = current_app.config
    return rules.RiskPolicy(
        failed_attempts=int(config.get("AT_RISK_FAILED_ATTEMPTS", 3)),
        inactivity_days=int(config.get("AT_RISK_INACTIVITY_DAYS", 14)),
    )


def _back(cohort_id: int, student_id: int | None = None):
    if student_id is not None:
        return redirect(
            url_for("enrollment.student_page", cohort_id=cohort_id, student_id=student_id)
        )
    return redirect(url_for("enrollment.cohort_page", cohort_id=cohort_id))


# --- students ----------------------------------------------------------------------------


@bp.get("/dashboard")
@roles_required(Role.STUDENT)
def dashboard():
    """A student's progress toward each target credential, what is due, and exam bookings."""
    student = _actor()
    return render_template(
        "enrollment/dashboard.html",
        progress=service.student_dashboard(student, utcnow().date()),
        evidence=credentials.evidence_of([student.id]),
        exam_form=ExamBookingForm(),
        contact_hours=courses.contact_hours_by_student([student.id])[student.id],
    )


@bp.post("/dashboard/exam/<int:cohort_id>")
@roles_required(Role.STUDENT)
def book_exam(cohort_id: int):
    """Record (or clear) the exam date the student booked, and who pays the fee."""
    form = ExamBookingForm()
    if not form.validate_on_submit():
        raise InvalidInput("The exam date could not be read. Use the date picker, or YYYY-MM-DD.")
    now = utcnow()
    enrollment = schedule.record_exam_booking(
        _actor(),
        cohort_id,
        booked_on=form.booked_on.data,
        employer_paid=bool(form.employer_paid.data),
        today=now.date(),
        now=now,
    )
    message = "Exam date saved." if enrollment.exam_booked_on else "Exam date cleared."
    flash(message, "success")
    return redirect(url_for("enrollment.dashboard"))


@bp.route("/join", methods=["GET", "POST"])
@roles_required(Role.STUDENT)
def join():
    """A student types a join code."""
    form = JoinForm()
    if form.validate_on_submit():
        code = rules.normalise_join_code(form.code.data) or form.code.data.strip()
        return redirect(url_for("enrollment.join_code", code=code))
    status = 400 if form.is_submitted() else 200
    return render_template("enrollment/join.html", form=form), status


@bp.route("/join/<code>", methods=["GET", "POST"])
@roles_required(Role.STUDENT)
def join_code(code: str):
    """Join a cohort by its code: a confirmation page, then the enrolment."""
    cohort = service.cohort_by_join_code(code)
    form = ActionForm()
    if form.validate_on_submit():
        service.self_enroll(_actor(), code, utcnow())
        name = cohort.name
        flash(f"You joined {name}.", "success")
        return redirect(url_for("enrollment.dashboard"))
    return render_template("enrollment/join_confirm.html", cohort=cohort, form=form)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    """An invited person sets their password; the link works once."""
    now = utcnow()
    invitation = invitations.find_invitation(token, now)
    person = {"full_name": invitation.user.full_name, "email": invitation.user.email}
    form = InvitationForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = invitations.accept_invitation(token, form.password.data, form.confirm.data, now)
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            email = user.email
            flash(f"Your password is set. Log in with {email}.", "success")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = 400
    return render_template("enrollment/invitation.html", form=form, person=person), status


# --- cohorts -----------------------------------------------------------------------------


@bp.get("/cohorts")
@roles_required(*STAFF)
def cohort_list():
    """The cohorts the instructor teaches; archived ones last."""
    cohorts = service.cohorts_for(_actor())
    active = [c for c in cohorts if not c.is_archived]
    today = utcnow().date()
    # One matrix per active cohort: the queries grow with the number of cohorts an
    # instructor runs (a handful), never with the number of students.
    summaries = {
        c.id: service.cohort_progress(c, today=today, default_policy=_policy()) for c in active
    }
    return render_template(
        "enrollment/cohort_list.html",
        cohorts=active,
        archived=[c for c in cohorts if c.is_archived],
        summaries=summaries,
    )


def _credential_choices(form: CohortForm) -> None:
    form.credential_id.choices = [
        SelectChoice(c.id, f"{c.code}: {c.name}") for c in credentials.list_credentials()
    ]


@bp.route("/cohorts/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def create_cohort():
    """Create a cohort aimed at a credential."""
    form = CohortForm()
    _credential_choices(form)
    status = 200
    if form.validate_on_submit():
        try:
            cohort = service.create_cohort(
                _actor(),
                name=form.name.data,
                credential_id=form.credential_id.data,
                start_date=form.start_date.data,
                exam_date=form.exam_date.data,
                inactivity_days=form.inactivity_days.data,
                failed_attempts_limit=form.failed_attempts_limit.data,
                now=utcnow(),
            )
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            cohort_id, name = cohort.id, cohort.name
            flash(f"Cohort “{name}” created. Now enrol its students.", "success")
            return redirect(url_for("enrollment.cohort_page", cohort_id=cohort_id))
    elif form.is_submitted():
        status = 400
    return render_template("enrollment/cohort_form.html", form=form, cohort=None), status


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_cohort(cohort_id: int):
    """Edit a cohort; manage its co-instructors, join code and archive state."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = CohortForm(obj=cohort if request.method == "GET" else None)
    _credential_choices(form)
    status = 200
    if form.validate_on_submit():
        try:
            service.update_cohort(
                _actor(),
                cohort,
                name=form.name.data,
                credential_id=form.credential_id.data,
                start_date=form.start_date.data,
                exam_date=form.exam_date.data,
                inactivity_days=form.inactivity_days.data,
                failed_attempts_limit=form.failed_attempts_limit.data,
                now=utcnow(),
            )
        except DomainError as error:
            status = show_problems(form, error)
        else:
            flash("Cohort saved.", "success")
            return redirect(url_for("enrollment.edit_cohort", cohort_id=cohort_id))
    elif form.is_submitted():
        status = 400
    join_link = (
        links.external_url("enrollment.join_code", code=cohort.join_code)
        if cohort.join_code
        else None
    )
    return render_template(
        "enrollment/cohort_form.html",
        form=form,
        cohort=cohort,
        instructor_form=InstructorForm(),
        action_form=ActionForm(),
        join_link=join_link,
    ), status


@bp.post("/cohorts/<int:cohort_id>/archive")
@roles_required(*STAFF)
def archive_cohort(cohort_id: int):
    """Archive the cohort, or restore it (``action=restore``)."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = ActionForm()
    if not form.validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    archived = form.action.data != "restore"
    service.set_archived(_actor(), cohort, archived, utcnow())
    flash("Cohort archived." if archived else "Cohort restored.", "success")
    return redirect(url_for("enrollment.edit_cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/instructors")
@roles_required(*STAFF)
def add_instructor(cohort_id: int):
    """Add a co-instructor by email."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = InstructorForm()
    if not form.validate_on_submit():
        raise InvalidInput("Give the email of the instructor to add.")
    person = service.add_instructor(_actor(), cohort, form.email.data, utcnow())
    message = f"{person.full_name} now teaches {cohort.name}."
    flash(message, "success")
    return redirect(url_for("enrollment.edit_cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/instructors/<int:user_id>/remove")
@roles_required(*STAFF)
def remove_instructor(cohort_id: int, user_id: int):
    """Remove a co-instructor."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    if not ActionForm().validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    person = service.remove_instructor(_actor(), cohort, user_id, utcnow())
    message = f"{person.full_name} no longer teaches {cohort.name}."
    flash(message, "success")
    if user_id == _actor().id:
        return redirect(url_for("enrollment.cohort_list"))
    return redirect(url_for("enrollment.edit_cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/join")
@roles_required(*STAFF)
def join_settings(cohort_id: int):
    """Turn the join code on or off, or replace it (``action`` = on / off / new)."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = ActionForm()
    if not form.validate_on_submit() or form.action.data not in ("on", "off", "new"):
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    action = form.action.data
    service.set_join(
        _actor(), cohort, enabled=action != "off", new_code=action == "new", now=utcnow()
    )
    flash("Joining by code is on." if action != "off" else "Joining by code is off.", "success")
    return redirect(url_for("enrollment.edit_cohort", cohort_id=cohort_id))


@bp.get("/cohorts/<int:cohort_id>")
@roles_required(*STAFF)
def cohort_page(cohort_id: int):
    """Students x requirements with at-risk flags, a page at a time (the counts, filters and
    sorts cover the whole cohort), upcoming exams and evidence to review."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    show = request.args.get("show", "all")
    sort = request.args.get("sort", "name")
    show = show if show in progress.FILTERS else "all"
    sort = sort if sort in progress.SORTS else "name"
    asked = request.args.get("page")
    page = paging.parse_page(asked)
    result = service.cohort_progress(cohort, today=utcnow().date(), default_policy=_policy())
    per_page = int(current_app.config.get("MATRIX_PAGE_SIZE", DEFAULT_MATRIX_PAGE_SIZE))
    matrix = progress.matrix_page(result, show, sort, page or 0, per_page)
    status, notice = 200, None
    if page is None:
        status = 400
        notice = f"“{asked[:20]}” is not a page number: pages are numbered 1, 2, 3 …"
    elif not matrix.window.exists:
        status = 404
        pages = matrix.window.pages
        notice = (
            f"There is no page {page}: the students shown here fill "
            f"{pages} page{'s' if pages != 1 else ''}."
        )
    return render_template(
        "enrollment/cohort.html",
        progress=result,
        matrix=matrix,
        notice=notice,
        exam=outcomes.pass_rate([row.student.id for row in result.rows], cohort.credential_id),
        show=show,
        sort=sort,
        filters=progress.FILTERS,
        sorts=progress.SORTS,
        enroll_form=EnrollForm(),
        decision_form=EvidenceDecisionForm(),
    ), status


@bp.get("/cohorts/<int:cohort_id>/progress.svg")
@roles_required(*STAFF)
def progress_chart(cohort_id: int):
    """The cohort's share ready and median completion over time, as SVG."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    _, svg = progress.progress_chart(cohort, utcnow().date())
    return Response(svg, mimetype="image/svg+xml")


@bp.post("/cohorts/<int:cohort_id>/enrollments")
@roles_required(*STAFF)
def enroll(cohort_id: int):
    """Enrol a student by email, inviting a new person when a name is given."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = EnrollForm()
    if not form.validate_on_submit():
        raise InvalidInput("Give the email of the student to enrol.")
    enrollment = service.enroll_by_email(
        _actor(),
        cohort,
        form.email.data,
        utcnow(),
        full_name=form.full_name.data,
        student_number=form.student_number.data or None,
    )
    message = f"{enrollment.student.full_name} is enrolled in {cohort.name}."
    flash(message, "success")
    return redirect(url_for("enrollment.cohort_page", cohort_id=cohort_id))


# --- roster import -----------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/roster", methods=["GET", "POST"])
@roles_required(*STAFF)
def roster_upload(cohort_id: int):
    """Upload a roster CSV and preview it: every problem row by row, nothing written yet."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = RosterUploadForm()
    max_bytes = int(current_app.config.get("ROSTER_MAX_BYTES", DEFAULT_ROSTER_MAX_BYTES))
    context = {"cohort": cohort, "form": form, "max_kb": max_bytes // 1024}
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("enrollment/roster.html", **context), status
    data = form.file.data.read(max_bytes + 1)
    if len(data) > max_bytes:
        form.form_errors.append(
            f"The file is larger than {max_bytes // 1024} KB, the limit. "
            "Split it into smaller files."
        )
        return render_template("enrollment/roster.html", **context), 413
    try:
        preview = roster.preview(
            cohort,
            data,
            max_bytes=max_bytes,
            max_rows=int(current_app.config.get("ROSTER_MAX_ROWS", DEFAULT_ROSTER_MAX_ROWS)),
        )
    except InvalidInput as error:
        form.form_errors.append(error.message)
        return render_template("enrollment/roster.html", **context), 400
    token = roster.sign_rows(cohort, preview.rows, current_app.config["SECRET_KEY"])
    confirm = RosterConfirmForm(token=token) if preview.ok else None
    return render_template(
        "enrollment/roster.html", **context, preview=preview, confirm_form=confirm
    ), (200 if preview.ok else 422)


@bp.post("/cohorts/<int:cohort_id>/roster/confirm")
@roles_required(*STAFF)
def roster_confirm(cohort_id: int):
    """Enrol every previewed row in one transaction, or nobody."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = RosterConfirmForm()
    if not form.validate_on_submit():
        raise InvalidInput("The preview could not be read. Upload the file again.")
    rows = roster.load_rows(cohort, form.token.data, current_app.config["SECRET_KEY"])
    try:
        result = roster.import_rows(_actor(), cohort, rows, utcnow())
    except roster.RosterRejected as error:
        db.session.rollback()  # the page must not show the rows the refused import flushed
        upload = RosterUploadForm()
        upload.form_errors.append(error.message)
        cohort = service.get_cohort_for(_actor(), cohort_id)
        return render_template(
            "enrollment/roster.html",
            cohort=cohort,
            form=upload,
            max_kb=int(current_app.config.get("ROSTER_MAX_BYTES", DEFAULT_ROSTER_MAX_BYTES))
            // 1024,
            preview=rules.Roster((), error.problems),
            confirm_form=None,
        ), 409
    flash(
        f"{result.enrolled} students enrolled; {result.invited} new accounts invited by email.",
        "success",
    )
    return redirect(url_for("enrollment.cohort_page", cohort_id=cohort_id))


# --- one student in a cohort -------------------------------------------------------------


@bp.get("/cohorts/<int:cohort_id>/students/<int:student_id>")
@roles_required(*STAFF)
def student_page(cohort_id: int, student_id: int):
    """A student's record in the cohort: requirements, overrides, enrolment history."""
    actor = _actor()
    cohort = service.get_cohort_for(actor, cohort_id)
    enrollment = service.get_enrollment_for(actor, cohort, student_id)
    record = progress.student_record(cohort, enrollment)
    override_form = OverrideForm()
    override_form.key.choices = [
        SelectChoice(c.key, f"{c.label}: {c.title}") for c in record.columns
    ]
    move_form = MoveForm()
    move_form.target.choices = [
        SelectChoice(c.id, c.name)
        for c in service.cohorts_for(actor, include_archived=False)
        if c.id != cohort.id
    ]
    return render_template(
        "enrollment/student.html",
        cohort=cohort,
        record=record,
        history=service.enrollment_history(
            student_id, None if actor.is_admin else [c.id for c in service.cohorts_for(actor)]
        ),
        override_form=override_form,
        move_form=move_form,
        withdraw_form=WithdrawForm(),
        action_form=ActionForm(),
    )


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/overrides")
@roles_required(*STAFF)
def override(cohort_id: int, student_id: int):
    """Mark a requirement met or not met for the student, or reverse an override."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    enrollment = service.get_enrollment_for(_actor(), cohort, student_id)
    form = OverrideForm()
    form.key.choices = None  # validated by the service against the cohort's requirements
    form.key.validate_choice = False
    if not form.validate_on_submit():
        raise InvalidInput("Choose a requirement and a decision, and give the reason.")
    decision = {"met": True, "not_met": False, "revoke": None}[form.decision.data]
    overrides.record_override(
        _actor(),
        cohort,
        enrollment,
        key=form.key.data,
        met=decision,
        reason=form.reason.data or "",
        now=utcnow(),
    )
    flash("Override recorded.", "success")
    return _back(cohort_id, student_id)


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/invitation")
@roles_required(*STAFF)
def resend_invitation(cohort_id: int, student_id: int):
    """Send a new invitation link to a student who has not set a password yet."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    if not ActionForm().validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    student = service.get_enrollment_for(_actor(), cohort, student_id).student
    invitations.resend_invitation(_actor(), student, utcnow())
    message = f"A new invitation was sent to {student.email}."
    flash(message, "success")
    return _back(cohort_id, student_id)


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/withdraw")
@roles_required(*STAFF)
def withdraw(cohort_id: int, student_id: int):
    """Withdraw the student from the cohort (the history is kept)."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    service.withdraw(_actor(), cohort, student_id, form.reason.data or "", utcnow())
    flash("Student withdrawn. Enrol them again by email to bring them back.", "success")
    return _back(cohort_id, student_id)


@bp.post("/cohorts/<int:cohort_id>/students/<int:student_id>/move")
@roles_required(*STAFF)
def move(cohort_id: int, student_id: int):
    """Move the student to another cohort the instructor teaches."""
    actor = _actor()
    cohort = service.get_cohort_for(actor, cohort_id)
    form = MoveForm()
    form.target.choices = [SelectChoice(c.id, c.name) for c in service.cohorts_for(actor)]
    if not form.validate_on_submit():
        raise InvalidInput("Choose one of your cohorts to move the student to.")
    moved = service.move_student(actor, cohort, student_id, form.target.data, utcnow())
    target_id, name = moved.cohort_id, moved.cohort.name
    flash(f"Moved to {name}; their completions count there too.", "success")
    return _back(target_id, student_id)


# --- study plan --------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/plan", methods=["GET", "POST"])
@roles_required(*STAFF)
def study_plan(cohort_id: int):
    """The study plan: a due date for every required module; the instructor moves them."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = DueDateForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            raise InvalidInput("The new due date could not be read. Use YYYY-MM-DD.")
        schedule.move_due_date(_actor(), cohort, form.module_code.data, form.due_on.data, utcnow())
        flash(f"Due date of {form.module_code.data} moved.", "success")
        return redirect(url_for("enrollment.study_plan", cohort_id=cohort_id))
    return render_template(
        "enrollment/plan.html", cohort=cohort, plan=progress.study_plan(cohort), form=form
    )


@bp.post("/cohorts/<int:cohort_id>/evidence/<int:evidence_id>")
@roles_required(*STAFF)
def decide_evidence(cohort_id: int, evidence_id: int):
    """Verify or reject a student's evidence."""
    cohort = service.get_cohort_for(_actor(), cohort_id)
    form = EvidenceDecisionForm()
    if not form.validate_on_submit():
        raise InvalidInput("The decision could not be read. Reload the page and try again.")
    evidence = service.decide_evidence(
        _actor(),
        evidence_id,
        verified=bool(form.verify.data),
        reason=form.reason.data or "",
        now=utcnow(),
    )
    flash(f"Evidence {evidence.status.value}.", "success")
    return redirect(url_for("enrollment.cohort_page", cohort_id=cohort.id))
