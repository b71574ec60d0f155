"""Files attached to courses: checked by extension and magic bytes, stored under random names."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from portal.errors import ServiceError

MAX_BYTES = 10 * 1024 * 1024
ZIP = b"PK\x03\x04"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Extension -> (magic prefixes, content type). Office files are zips (new) or OLE (old).
ALLOWED = {
    "pdf": ((b"%PDF-",), "application/pdf"),
    "docx": ((ZIP,), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pptx": ((ZIP,), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "xlsx": ((ZIP,), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "doc": ((OLE,), "application/msword"),
    "ppt": ((OLE,), "application/vnd.ms-powerpoint"),
    "xls": ((OLE,), "application/vnd.ms-excel"),
    "png": ((b"\x89PNG\r\n\x1a\n",), "image/png"),
    "jpg": ((b"\xff\xd8\xff",), "image/jpeg"),
    "jpeg": ((b"\xff\xd8\xff",), "image/jpeg"),
}


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int


def upload_dir() -> Path:
    folder = Path(
        current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_upload(upload: FileStorage) -> StoredFile:
    """Check an uploaded file and keep it under a random name; raise ServiceError if unfit."""
    original = (upload.filename or "").replace("\x00", "")[-200:]
    extension = original.rsplit(".", 1)[-1].lower() if "." in original else ""
    if extension not in ALLOWED:
        raise ServiceError(_("只能上传 PDF、Word、PPT、Excel 或 PNG/JPG 图片。"), "file")
    data = upload.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ServiceError(_("附件不能超过 10 MB。"), "file")
    if not data:
        raise ServiceError(_("附件是空文件。"), "file")
    magics, content_type = ALLOWED[extension]
    if not any(data.startswith(m) for m in magics):
        raise ServiceError(_("文件内容与扩展名不符，请检查后重新上传。"), "file")
    stored = f"{secrets.token_hex(16)}.{extension}"
    (upload_dir() / stored).write_bytes(data)
    return StoredFile(stored, original, content_type, len(data))


def stored_path(stored_name: str) -> Path:
    """The path of a stored file; names come from the database, never from a request."""
    if "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        raise ServiceError(_("文件名无效。"))
    return upload_dir() / stored_name


def remove_stored(stored_name: str | None) -> None:
    if stored_name:
        stored_path(stored_name).unlink(missing_ok=True)
