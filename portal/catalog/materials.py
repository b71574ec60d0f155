"""Course materials: the teaching materials (教材) and cases (案例) listed with a course.

``add_material`` lists a material with a course, with an optional uploaded file (stored by
portal.catalog.uploads); ``remove_material`` takes it off and deletes its file. Whoever may
change the course may do either, and each is recorded in the course's history.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from portal.catalog.history import record_change
from portal.catalog.models import MATERIAL_KINDS, Course, CourseMaterial
from portal.catalog.permissions import require_edit_item
from portal.catalog.validation import clean_text
from portal.errors import ValidationFailed
from portal.extensions import db


def add_material(
    course: Course, actor: Any, kind: str, title: str, upload: Any = None
) -> CourseMaterial:
    """List a teaching material (教材) or case (案例) with a course, with an optional file."""
    from portal.catalog import uploads

    require_edit_item(actor, course)
    values = {"title": title}
    errors: dict[str, str] = {}
    clean_text(errors, values, "title", _("标题"), required=True, limit=200)
    if kind not in MATERIAL_KINDS:
        errors["kind"] = _("请选择教材或案例。")
    if errors:
        raise ValidationFailed(errors)
    material = CourseMaterial(course=course, kind=kind, title=values["title"])
    if upload is not None and getattr(upload, "filename", ""):
        stored = uploads.store_upload(upload)
        material.stored_name = stored.stored_name
        material.original_name = stored.original_name
        material.content_type = stored.content_type
        material.size = stored.size
    db.session.add(material)
    record_change(course, "material", actor, {str(MATERIAL_KINDS[kind]): ["", material.title]})
    return material


def remove_material(material: CourseMaterial, actor: Any) -> None:
    from portal.catalog import uploads

    require_edit_item(actor, material.course)
    record_change(material.course, "material", actor, {material.kind_label: [material.title, ""]})
    uploads.remove_stored(material.stored_name)
    db.session.delete(material)
