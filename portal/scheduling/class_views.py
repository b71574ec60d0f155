"""Training classes: the organizer's list with filters, registering, editing and a class's page.

Routes of the ``bookings`` blueprint (booking_views.py), imported by the app factory.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from portal.catalog.models import TeachingSite
from portal.catalog.views import show_errors
from portal.errors import ServiceError, ValidationFailed
from portal.extensions import db
from portal.maps import services as maps
from portal.maps.drawing import render_svg
from portal.pagecache import private_page
from portal.scheduling import booking_forms as forms
from portal.scheduling.booking_views import (
    ID,
    bp,
    int_arg,
    load_class,
    one_time_key,
    require_organizer,
)
from portal.scheduling.classes import (
    active_bookings,
    needs_ring_route,
    register_class,
    ring_route_message,
    update_class,
    validate_class,
)
from portal.scheduling.models import (
    CLASS_KINDS,
    ORIGINS,
    RouteTemplate,
    TrainingClass,
)
from portal.scheduling.settings import all_settings, setting

# ---------------------------------------------------------------- classes


def theme_options() -> list[str]:
    """Themes of the catalogue and of the published routes, the ring-route theme first."""
    first = setting("ring_route_theme")
    found = set(db.session.scalars(select(TeachingSite.theme).distinct()))
    found |= set(
        db.session.scalars(
            select(RouteTemplate.theme).where(RouteTemplate.status == "published").distinct()
        )
    )
    found.discard(first)
    return [first, *sorted(t for t in found if t)]


def class_values(form: forms.ClassForm) -> dict[str, Any] | None:
    """The form's values when it parsed; else None, with the service's messages added too."""
    if form.validate():
        return form.values()
    try:
        validate_class(form.values())
    except ValidationFailed as error:
        for name, message in error.errors.items():
            bad = getattr(form, name, None)
            if bad is not None and not bad.errors:
                bad.errors = [message]
    return None


def render_class_form(form: forms.ClassForm, training_class: TrainingClass | None):
    status = 400 if form.is_submitted() else 200
    return render_template(
        "bookings/class_form.html",
        form=form,
        training_class=training_class,
        themes=theme_options(),
        ring_days=setting("ring_route_min_days"),
        ring_theme=setting("ring_route_theme"),
    ), status


@bp.get("/classes")
@login_required
@private_page()
def classes():
    """The classes with their kind, origin, dates, state and plan; filters in the query."""
    from portal.reports.review import plans_of
    from portal.scheduling.class_list import (
        CLASS_STATES,
        class_state,
        filtered_classes,
        parse_filters,
    )

    require_organizer()
    filters, errors = parse_filters(request.args)
    found = filtered_classes(current_user, filters)
    rules = all_settings()
    plans = plans_of([c.id for c in found])
    return render_template(
        "bookings/classes.html",
        classes=found,
        filters=filters,
        errors=errors,
        typed=request.args,
        kinds=CLASS_KINDS,
        origins=ORIGINS,
        states=CLASS_STATES,
        state_of={c.id: class_state(c) for c in found},
        plans=plans,
        warn={
            c.id
            for c in found
            if not c.cancelled
            and needs_ring_route(c, rules)
            and not active_bookings(c)
            and not (c.id in plans and plans[c.id].exemption_reason)
        },
    ), 400 if errors else 200


@bp.route("/classes/new", methods=["GET", "POST"])
@login_required
def class_new():
    require_organizer()
    form = forms.ClassForm()
    if not form.is_submitted():
        form.theme.data = setting("ring_route_theme")
        form.key.data = one_time_key(None)
    elif (values := class_values(form)) is not None:
        form.key.data = key = one_time_key(form.key.data)
        try:
            training_class = register_class(current_user, values, idempotency_key=key)
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            if needs_ring_route(training_class):
                flash(ring_route_message(training_class), "warning")
                return redirect(url_for("bookings.new", class_id=training_class.id))
            flash(_("已登记培训班：%(name)s", name=training_class.name), "success")
            return redirect(url_for("bookings.class_detail", class_id=training_class.id))
    return render_class_form(form, None)


@bp.get(f"/classes/<{ID}:class_id>")
@login_required
@private_page()
def class_detail(class_id: int):
    from portal.reports.review import plan_of, ring_route_unmet

    require_organizer()
    training_class = load_class(class_id)
    spec = maps.class_map(
        training_class, site_url=lambda site: url_for("catalog.site_detail", site_id=site.id)
    )
    return render_template(
        "bookings/class_detail.html",
        training_class=training_class,
        route_map=Markup(render_svg(spec)) if spec else None,
        # Unmet: the rule applies, nothing is booked and the office recorded no exemption.
        ring_route_missing=ring_route_unmet(training_class),
        ring_route_message=ring_route_message(training_class),
        plan=plan_of(training_class),
    )


@bp.route(f"/classes/<{ID}:class_id>/edit", methods=["GET", "POST"])
@login_required
def class_edit(class_id: int):
    require_organizer()
    training_class = load_class(class_id)
    form = forms.ClassForm(obj=training_class)
    if form.is_submitted() and (values := class_values(form)) is not None:
        try:
            update_class(training_class, current_user, values)
        except ServiceError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("已保存。"), "success")
            if needs_ring_route(training_class) and not active_bookings(training_class):
                flash(ring_route_message(training_class), "warning")
            return redirect(url_for("bookings.class_detail", class_id=training_class.id))
    return render_class_form(form, training_class)


@bp.route(f"/classes/<{ID}:class_id>/book", methods=["GET", "POST"])
@login_required
def class_book(class_id: int):
    """The class's booking page lives at /bookings/new (307 keeps a POST a POST)."""
    mode = "custom" if request.args.get("mode") == "custom" else None
    target = url_for(
        "bookings.new", class_id=class_id, template_id=int_arg("template_id"), mode=mode
    )
    return redirect(target, code=307 if request.method == "POST" else 302)
