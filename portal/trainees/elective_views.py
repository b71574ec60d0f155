"""Electives (菜单式选学): the organizer sets them up; hosting members see how many come."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.catalog.models import Course
from portal.errors import ServiceError
from portal.extensions import db
from portal.formfields import show_errors
from portal.scheduling.fitting import BookingRefused, bookable_sites_query
from portal.trainees import electives, roster
from portal.trainees.forms import ElectiveForm
from portal.trainees.views import bp, managed_class


def option_choices(form: ElectiveForm) -> None:
    sites = db.session.scalars(bookable_sites_query()).all()
    courses = db.session.scalars(
        select(Course).where(Course.status == "active").order_by(Course.id)
    ).all()
    site_choices = [("", _("（不设）"))] + [(str(s.id), s.name) for s in sites]
    course_choices = [("", _("现场参观（不选课程）"))] + [(str(c.id), c.name) for c in courses]
    for option in form.options:
        option.site_id.choices = site_choices
        option.course_id.choices = course_choices


@bp.route("/classes/<int:class_id>/electives", methods=["GET", "POST"])
@login_required
def class_electives(class_id: int):
    training_class = managed_class(class_id)
    form = ElectiveForm()
    option_choices(form)
    problems = []
    if form.validate_on_submit():
        try:
            electives.create_elective(training_class, current_user, form.values())
        except BookingRefused as refused:
            problems = [p.message for p in refused.problems]
        except ServiceError as error:
            show_errors(form, error)
        else:
            flash(_("选学已设置，各备选项已预约，学员已收到选择通知。"), "success")
            return redirect(url_for(".class_electives", class_id=class_id))
    rows = []
    for elective in electives.electives_of(training_class):
        chosen = {
            c.entry_id: c
            for c in db.session.scalars(
                select(electives.ElectiveChoice).where(
                    electives.ElectiveChoice.elective_id == elective.id
                )
            )
        }
        rows.append(
            {
                "elective": elective,
                "fill": electives.option_fill(elective),
                "chosen": chosen,
            }
        )
    return (
        render_template(
            "trainees/electives.html",
            training_class=training_class,
            form=form,
            rows=rows,
            entries=roster.entries_of(training_class),
            problems=problems,
        ),
        400 if form.is_submitted() else 200,
    )


@bp.get("/hosting/electives")
@login_required
def hosting_electives():
    """A member's staff: how many trainees come to each elective option at its sites."""
    if not (current_user.is_member_user or current_user.is_office):
        abort(403)
    member_id = None if current_user.is_office else current_user.member_id
    return render_template("trainees/hosting.html", rows=electives.hosting_counts(member_id))
