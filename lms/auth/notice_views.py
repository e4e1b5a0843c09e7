"""The notices page: every logged-in user's in-app notices, newest first."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from lms.auth import notices
from lms.auth.access import login_required
from lms.auth.forms import UserActiveForm
from lms.db import utcnow
from lms.errors import InvalidInput

bp = Blueprint("notices", __name__, url_prefix="/notices")


@bp.get("")
@login_required
def notice_list():
    """The user's newest notices; unread ones marked until "Mark all as read"."""
    return render_template(
        "notices/list.html",
        notices=notices.notices_of(current_user),
        form=UserActiveForm(),
        shown=notices.SHOWN,
    )


@bp.post("/read")
@login_required
def mark_read():
    """Mark every notice read (the header's count goes back to none)."""
    if not UserActiveForm().validate_on_submit():
        raise InvalidInput("The form could not be checked. Reload the page and try again.")
    count = notices.mark_all_read(current_user._get_current_object(), utcnow())
    flash(f"{count} notice{'s' if count != 1 else ''} marked as read.", "success")
    return redirect(url_for("notices.notice_list"))
