"""Photos of teaching sites: upload and delete (the site's member staff, the office), serve."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.catalog import forms, photos
from portal.catalog.models import SitePhoto, TeachingSite
from portal.catalog.uploads import stored_path
from portal.errors import NotFound, ServiceError
from portal.extensions import db

bp = Blueprint("site_photos", __name__)

SIZES = ("large", "small")


@bp.post("/sites/<int:site_id>/photos")
@login_required
def upload(site_id: int):
    site = db.session.get(TeachingSite, site_id) or abort(404)
    form = forms.PhotoForm(prefix="photo")
    back = url_for("catalog.site_detail", site_id=site.id) + "#photos"
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return redirect(back)
    if not form.photo.data:
        flash(_("请选择要上传的照片。"), "danger")
        return redirect(back)
    try:
        photos.add_photo(site, current_user, form.photo.data, form.caption.data or "")
    except NotFound:
        db.session.rollback()
        abort(404)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(back)
    db.session.commit()
    flash(_("照片已上传。"), "success")
    return redirect(back)


@bp.post("/site-photos/<int:photo_id>/delete")
@login_required
def delete(photo_id: int):
    photo = db.session.get(SitePhoto, photo_id) or abort(404)
    site_id = photo.site_id
    if not forms.ConfirmForm(prefix="x").validate_on_submit():
        abort(400)
    try:
        names = photos.remove_photo(photo, current_user)
    except NotFound:
        db.session.rollback()
        abort(404)
    db.session.commit()
    photos.remove_files(names)
    flash(_("照片已删除。"), "success")
    return redirect(url_for("catalog.site_detail", site_id=site_id) + "#photos")


@bp.get("/site-photos/<int:photo_id>/<size>.jpg")
def image(photo_id: int, size: str):
    """A photo (public, as the site pages are): files the portal wrote, JPEG only."""
    photo = db.session.get(SitePhoto, photo_id)
    if photo is None or size not in SIZES:
        abort(404)
    path = stored_path(photo.stored_name if size == "large" else photo.thumb_name)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=7 * 24 * 3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
