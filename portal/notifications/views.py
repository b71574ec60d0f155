"""The user's inbox (站内消息)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal.extensions import db
from portal.notifications import services

bp = Blueprint("messages", __name__, template_folder="templates")


@bp.get("/messages")
@login_required
def index():
    return render_template(
        "notifications/index.html", messages=services.inbox(current_user), form=FlaskForm()
    )


@bp.post("/messages/read")
@login_required
def read():
    if not FlaskForm().validate_on_submit():
        abort(400)
    raw = request.form.get("message_id", "")
    message_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
    services.mark_read(current_user, message_id)
    db.session.commit()
    return redirect(url_for("messages.index"))


@bp.app_context_processor
def unread_messages():
    def count() -> int:
        return services.unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_messages": count}
