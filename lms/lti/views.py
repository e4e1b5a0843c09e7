"""LTI endpoints the platform calls (JWKS, login, launch) and the admin and instructor pages."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from wtforms import SelectChoice

from lms import csp, links
from lms.auth import sessions
from lms.auth.access import login_required, public, roles_required
from lms.auth.models import Role
from lms.db import utcnow
from lms.enrollment import service as enrollment
from lms.errors import InvalidInput
from lms.extensions import csrf, db
from lms.forms import show_problems
from lms.lti.forms import ActionForm, LinkCohortForm, ModuleChoiceForm, PlatformForm
from lms.lti.service import deep_linking, grades, identity, platforms, roster
from lms.lti.service import launch as launching
from lms.lti.service.launch_result import LaunchResult
from lms.transactions import run_apart, writes_on_get

bp = Blueprint("lti", __name__)
log = logging.getLogger(__name__)
STAFF = (Role.INSTRUCTOR, Role.ADMIN)
DEEP_LINK_SESSION_KEY = "lti_deep_link"


def _actor():
    return current_user._get_current_object()


def _external_url(endpoint: str) -> str:
    """An absolute URL of the tool, under the public base URL."""
    return links.external_url(endpoint)


def _secure_cookies() -> bool:
    return (
        request.is_secure
        or links.is_https()
        or current_app.config.get("PREFERRED_URL_SCHEME") == "https"
    )


LINK_COOKIE = "lti_link"


def _set_cookie(response, name: str, value: str, path: str, lifetime) -> None:
    secure = _secure_cookies()
    # Set on the answer to a cross-site POST: only SameSite=None cookies travel back in an
    # LMS's frame, and browsers accept those only when Secure (HTTPS).
    response.set_cookie(
        name,
        value,
        max_age=int(lifetime.total_seconds()),
        path=path,
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )


def tool_urls() -> dict[str, str]:
    """The tool's URLs an LMS administrator pastes into the platform."""
    return {
        "login": _external_url("lti.login"),
        "launch": _external_url("lti.launch"),
        "jwks": _external_url("keys.lti_jwks"),
        "deep_link": _external_url("lti.launch"),
    }


@bp.after_app_request
def send_scores_after_response(response):
    """When this request queued scores, send them once the response has gone to the browser."""
    if db.session.info.pop(grades.SCORES_QUEUED, False) and current_app.config.get(
        "LTI_SEND_SCORES_AFTER_REQUEST", True
    ):
        app = current_app._get_current_object()
        response.call_on_close(lambda: _send_due_scores(app))
    return response


def _send_due_scores(app) -> None:
    with app.app_context():
        try:
            run_apart(lambda: grades.send_due_scores(utcnow()))
        except Exception:  # the scores stay queued for the CLI; never break the response
            log.exception("sending LTI scores after the response failed")


# --- what the platform calls -------------------------------------------------------------


@bp.route("/lti/login", methods=["GET", "POST"])
@csrf.exempt
@public
@writes_on_get("LTI lets a platform start the OIDC login by GET; its state and nonce are kept")
def login():
    """OIDC login initiation: remember a state and nonce, send the browser to the platform."""
    params = request.form if request.method == "POST" else request.args
    state, target = launching.begin_login(params, _external_url("lti.launch"), utcnow())
    response = redirect(target)
    # The launch comes back as a cross-site POST, which must carry this cookie.
    _set_cookie(
        response,
        launching.STATE_COOKIE_PREFIX + state,
        state,
        url_for("lti.launch"),
        launching.LOGIN_STATE_LIFETIME,
    )
    return response


@bp.post("/lti/launch")
@csrf.exempt
@public
def launch():
    """The platform's signed launch: check it, log the user in, send them where it points."""
    now = utcnow()
    claims, login_state, platform = launching.verify_launch(request.form, request.cookies, now)
    result = launching.complete_launch(claims, login_state, platform, now)
    cookie = launching.STATE_COOKIE_PREFIX + login_state.state
    if result.link_token is not None:
        # An existing account: its owner confirms before anything is linked or logged in.
        response = redirect(url_for("lti.link_request", token=result.link_token))
        _set_cookie(
            response,
            LINK_COOKIE,
            result.browser_secret,
            url_for("lti.link_request", token=result.link_token),
            identity.LINK_REQUEST_LIFETIME,
        )
        response.delete_cookie(cookie, path=url_for("lti.launch"))
        return response
    return _launched(result, cookie)


def _launched(result: LaunchResult, state_cookie: str | None = None):
    """Log the launched user in on a fresh session and send them where the launch points."""
    sessions.start_session(result.user)  # a fresh session with its login and idle clocks
    if result.deep_link is not None:
        session[DEEP_LINK_SESSION_KEY] = result.deep_link
        response = redirect(url_for("lti.deep_link"))
    elif result.module_id is not None:
        response = redirect(url_for("courses.module_page", module_id=result.module_id))
    else:
        if result.message:
            flash(result.message, "info")
        response = redirect(url_for("auth.home"))
    if state_cookie:
        response.delete_cookie(state_cookie, path=url_for("lti.launch"))
    return response


@bp.get("/lti/link/<token>")
@public
def link_request(token: str):
    """An LMS account asks to be linked to an existing account: say so, and ask its owner."""
    _pending, shown = identity.pending_link(token, utcnow())
    owner = current_user.is_authenticated and current_user.id == shown.account_id
    return render_template(
        "lti/link_request.html",
        link=shown,
        token=token,
        owner=owner,
        same_browser=bool(request.cookies.get(LINK_COOKIE)),
        form=ActionForm(),
    )


@bp.post("/lti/link/<token>")
@login_required
def answer_link_request(token: str):
    """The account's owner links the LMS account (and the launch goes on) or refuses."""
    form = ActionForm()
    if not form.validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    confirm = request.form.get("answer") == "link"
    result = launching.answer_link(
        _actor(), token, request.cookies.get(LINK_COOKIE), confirm, utcnow()
    )
    if result is None:
        flash(
            "Nothing was linked. If someone else tried to reach your account, tell the school.",
            "info",
        )
        response = redirect(url_for("auth.home"))
    else:
        flash("Your LMS account is linked: next time it opens this account directly.", "success")
        response = _launched(result)
    response.delete_cookie(LINK_COOKIE, path=url_for("lti.link_request", token=token))
    return response


# --- deep linking ------------------------------------------------------------------------


@bp.route("/lti/deep-link", methods=["GET", "POST"])
@roles_required(*STAFF)
def deep_link():
    """Pick modules to place in the LMS course; the answer is posted back to the platform."""
    request_info = session.get(DEEP_LINK_SESSION_KEY)
    if not request_info:
        raise InvalidInput(
            "There is no deep-linking request to answer. Start from “Add content” in your LMS."
        )
    choices = deep_linking.deep_link_choices()
    form = ModuleChoiceForm()
    form.modules.choices = [
        SelectChoice(module.id, f"{module.code}: {module.title}")
        for _title, modules in choices
        for module in modules
    ]
    status = 200
    if form.validate_on_submit():
        try:
            return_url, token = deep_linking.deep_link_response(
                _actor(),
                request_info,
                form.modules.data or [],
                _external_url("lti.launch"),
                utcnow(),
            )
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            session.pop(DEEP_LINK_SESSION_KEY, None)
            response = make_response(
                render_template("lti/deep_link_return.html", return_url=return_url, jwt=token)
            )
            # The answer is a form posted to the LMS: allow that one origin for this page.
            target = urlsplit(return_url)
            response.headers["Content-Security-Policy"] = csp.content_security_policy(
                (f"{target.scheme}://{target.netloc}",)
            )
            return response
    elif form.is_submitted():
        status = 400
    return render_template("lti/deep_link.html", form=form, choices=choices), status


# --- admin: platforms and scores ---------------------------------------------------------


def _platform_data(form: PlatformForm) -> platforms.PlatformData:
    return platforms.PlatformData(
        name=form.name.data or "",
        issuer=form.issuer.data or "",
        client_id=form.client_id.data or "",
        deployment_ids=form.deployment_ids.data or "",
        auth_login_url=form.auth_login_url.data or "",
        auth_token_url=form.auth_token_url.data or "",
        key_set_url=form.key_set_url.data or "",
    )


@bp.get("/admin/lti/platforms")
@roles_required(Role.ADMIN)
def platform_list():
    """Registered platforms and the tool's URLs to paste into an LMS."""
    return render_template(
        "lti/platforms.html", platforms=platforms.list_platforms(), urls=tool_urls()
    )


@bp.route("/admin/lti/platforms/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def platform_new():
    """Register a platform."""
    return _platform_form(None)


@bp.route("/admin/lti/platforms/<int:platform_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def platform_edit(platform_id: int):
    """Change a platform's registration."""
    return _platform_form(platforms.get_platform(platform_id))


def _platform_form(platform):
    form = PlatformForm(
        obj=platform,
        data={"deployment_ids": "\n".join(d.deployment_id for d in platform.deployments)}
        if platform is not None and request.method == "GET"
        else None,
    )
    status = 200
    if form.validate_on_submit():
        try:
            saved = platforms.save_platform(_actor(), _platform_data(form), utcnow(), platform)
        except InvalidInput as error:
            status = show_problems(form, error)
        else:
            name = saved.name
            flash(f"Platform “{name}” saved.", "success")
            return redirect(url_for("lti.platform_list"))
    elif form.is_submitted():
        status = 400
    return render_template("lti/platform_form.html", form=form, platform=platform), status


@bp.get("/admin/lti/scores")
@roles_required(Role.ADMIN)
def score_list():
    """Scores waiting for a platform's gradebook (with why they failed) and those sent."""
    return render_template("lti/scores.html", outbox=grades.score_outbox(), form=ActionForm())


@bp.post("/admin/lti/scores/send")
@roles_required(Role.ADMIN)
def send_scores():
    """Try every waiting score now."""
    if not ActionForm().validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    now = utcnow()
    report = grades.send_due_scores(now, everything=True, actor=_actor())
    flash(
        f"{report.sent} score(s) sent, {report.failed} still waiting.",
        "success" if not report.failed else "error",
    )
    return redirect(url_for("lti.score_list"))


# --- instructors: platform courses and rosters -------------------------------------------


@bp.get("/lti/courses")
@roles_required(*STAFF)
def context_list():
    """The LMS courses the instructor launched the tool from."""
    return render_template("lti/contexts.html", contexts=roster.contexts_for(_actor()))


@bp.get("/lti/courses/<int:context_id>")
@roles_required(*STAFF)
def context_page(context_id: int):
    """An LMS course: the cohort its roster feeds, and the sync button."""
    context = roster.get_context_for(_actor(), context_id)
    form = LinkCohortForm(data={"cohort_id": context.cohort_id})
    form.cohort_id.choices = [
        SelectChoice(c.id, f"{c.name} ({c.credential.code})")
        for c in enrollment.cohorts_for(_actor())
    ]
    return render_template(
        "lti/context.html", context=context, link_form=form, sync_form=ActionForm()
    )


@bp.post("/lti/courses/<int:context_id>/cohort")
@roles_required(*STAFF)
def link_cohort(context_id: int):
    """Choose which cohort the LMS course's roster feeds."""
    context = roster.get_context_for(_actor(), context_id)
    form = LinkCohortForm()
    form.cohort_id.choices = [SelectChoice(c.id, c.name) for c in enrollment.cohorts_for(_actor())]
    if not form.validate_on_submit():
        raise InvalidInput("Choose one of your cohorts.")
    cohort = roster.link_cohort(_actor(), context, form.cohort_id.data, utcnow())
    message = f"The roster of this LMS course now feeds {cohort.name}."
    flash(message, "success")
    return redirect(url_for("lti.context_page", context_id=context_id))


@bp.post("/lti/courses/<int:context_id>/sync")
@roles_required(*STAFF)
def sync_roster(context_id: int):
    """Pull the LMS course roster into the linked cohort."""
    context = roster.get_context_for(_actor(), context_id)
    if not ActionForm().validate_on_submit():
        raise InvalidInput("The request could not be read. Reload the page and try again.")
    report = roster.sync_roster(_actor(), context, utcnow())
    flash(
        f"Roster synced: {len(report.added)} added, {len(report.withdrawn)} withdrawn, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped.",
        "success",
    )
    for name in report.added:
        flash(f"Added {name}.", "info")
    for name in report.withdrawn:
        flash(f"Withdrew {name}.", "info")
    for reason in report.skipped:
        flash(f"Skipped {reason}", "error")
    return redirect(url_for("lti.context_page", context_id=context_id))
