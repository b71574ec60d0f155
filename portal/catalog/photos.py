"""Photos of teaching sites: checked, re-encoded with Pillow at two sizes, stored under random names.

An upload is accepted only as JPEG, PNG or WebP, by its extension *and* its first bytes,
within ``MAX_BYTES`` and ``MAX_PIXELS``; Pillow then decodes it (a file that only looks
like an image fails here) and writes new JPEGs — a large one (at most ``LARGE`` px on its
longer side) and a thumbnail — so nothing the client sent is ever served back as it was
(no metadata, no hidden payload, no client file name). Member staff add and remove photos
of their own member's sites, the office of any site.
"""

from __future__ import annotations

import io
import secrets
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal.catalog.models import SitePhoto, TeachingSite
from portal.catalog.services import record_change, require_edit_item
from portal.catalog.uploads import remove_stored, upload_dir
from portal.errors import ServiceError
from portal.extensions import db

MAX_BYTES = 12 * 1024 * 1024
# Decompression bombs: Pillow refuses (warns, then errors) far above this; we refuse here.
MAX_PIXELS = 40_000_000
MAX_PHOTOS = 12
LARGE = 1600
THUMB = 480
MAGIC = {
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "webp": (b"RIFF",),
}
FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}


def photos_of(site: TeachingSite) -> list[SitePhoto]:
    return list(
        db.session.scalars(
            select(SitePhoto)
            .where(SitePhoto.site_id == site.id)
            .order_by(SitePhoto.position, SitePhoto.id)
        )
    )


def photos_by_site(site_ids: list[int]) -> dict[int, list[SitePhoto]]:
    """The photos of several sites (for a route page), site by site."""
    found: dict[int, list[SitePhoto]] = {}
    if not site_ids:
        return found
    for photo in db.session.scalars(
        select(SitePhoto)
        .where(SitePhoto.site_id.in_(set(site_ids)))
        .order_by(SitePhoto.site_id, SitePhoto.position, SitePhoto.id)
    ):
        found.setdefault(photo.site_id, []).append(photo)
    return found


def _checked_image(upload: FileStorage) -> Any:
    from PIL import Image, ImageOps, UnidentifiedImageError

    original = (upload.filename or "").replace("\x00", "")
    extension = original.rsplit(".", 1)[-1].lower() if "." in original else ""
    if extension not in MAGIC:
        raise ServiceError(_("只能上传 JPG、PNG 或 WebP 格式的照片。"), "photo")
    data = upload.stream.read(MAX_BYTES + 1)
    if not data:
        raise ServiceError(_("照片是空文件。"), "photo")
    if len(data) > MAX_BYTES:
        raise ServiceError(_("照片不能超过 12 MB。"), "photo")
    if not any(data.startswith(m) for m in MAGIC[extension]) or (
        extension == "webp" and data[8:12] != b"WEBP"
    ):
        raise ServiceError(_("文件内容与扩展名不符，请检查后重新上传。"), "photo")
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != FORMATS[extension]:
            raise ServiceError(_("文件内容与扩展名不符，请检查后重新上传。"), "photo")
        if image.width * image.height > MAX_PIXELS:
            raise ServiceError(_("照片像素过大（不超过 4000 万像素）。"), "photo")
        image.load()
    except ServiceError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ServiceError(_("无法读取这张照片，请换一张再试。"), "photo") from exc
    # Phones store the rotation in EXIF: turn the pixels upright, then drop all metadata.
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    return image.convert("RGB")


def _save(image: Any, longest: int) -> tuple[str, int, int]:
    copy = image.copy()
    copy.thumbnail((longest, longest))
    name = f"site-{secrets.token_hex(16)}.jpg"
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    (upload_dir() / name).write_bytes(out.getvalue())
    return name, copy.width, copy.height


def add_photo(site: TeachingSite, actor: Any, upload: FileStorage, caption: str = "") -> SitePhoto:
    """Add a photo to ``site``; NotFound (404) unless ``actor`` may edit the site's member.

    The caller commits; on an exception nothing is stored.
    """
    require_edit_item(actor, site)
    caption = (caption or "").replace("\x00", "").strip()
    if len(caption) > 128:
        raise ServiceError(_("说明不能超过 128 个字。"), "caption")
    count = db.session.scalar(
        select(func.count()).select_from(SitePhoto).where(SitePhoto.site_id == site.id)
    )
    if count >= MAX_PHOTOS:
        raise ServiceError(
            _("每个教学点最多 %(count)s 张照片，请先删除不用的照片。", count=MAX_PHOTOS), "photo"
        )
    image = _checked_image(upload)
    large, width, height = _save(image, LARGE)
    try:
        thumb, _w, _h = _save(image, THUMB)
    except Exception:
        remove_stored(large)
        raise
    photo = SitePhoto(
        site_id=site.id,
        stored_name=large,
        thumb_name=thumb,
        width=width,
        height=height,
        caption=caption,
        position=count,
        uploaded_by_id=getattr(actor, "id", None),
    )
    db.session.add(photo)
    record_change(site, "photo", actor, {"photo": ["", caption or _("新照片")]})
    return photo


def remove_photo(photo: SitePhoto, actor: Any) -> tuple[str, str]:
    """Delete a photo; NotFound (404) unless ``actor`` may edit the site.

    Returns its files' names: the caller removes them (``remove_files``) once committed.
    """
    site = photo.site
    require_edit_item(actor, site)
    names = (photo.stored_name, photo.thumb_name)
    record_change(site, "photo", actor, {"photo": [photo.caption or _("照片"), ""]})
    db.session.delete(photo)
    db.session.flush()
    return names


def remove_files(names: tuple[str, ...]) -> None:
    for name in names:
        remove_stored(name)
