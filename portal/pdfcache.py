"""Built PDFs kept by a fingerprint of what they show, so a document is typeset once per change.

Typesetting a PDF in Chinese takes a few tenths of a second of CPU (the CJK font is parsed
and subset for every document), while what it shows changes rarely. The caller computes a
fingerprint of everything the document shows (its rows, labels, the font and the layout
code); a document whose data changed has a new fingerprint, so a stored one is never
served stale, and nothing needs to be told when data changes.

Where documents live, so that every worker shares them: files under ``PDF_CACHE_DIR``
(``instance/cache/pdf`` by default), written atomically (a temporary file, then
``os.replace``), the previous version of the same document removed when a new one is
stored; or Redis, when ``CACHE_REDIS_URL`` (or ``REDIS_URL``) is set, for
``PDF_CACHE_TIMEOUT`` seconds. ``PDF_CACHE = False`` turns it off. A cache that cannot be
read or written is logged and the document typeset as if it were not there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

# The code and words that make documents from their data: a change to them (a new
# release) is a new fingerprint.
LAYOUT_SOURCES = (
    "pdf.py",
    "pdfcache.py",
    "scheduling/calendars.py",
    "scheduling/calendar_views.py",
    "scheduling/itinerary.py",
    "maps/drawing.py",
    "translations/en/LC_MESSAGES/messages.po",
)


@cache
def layout_version() -> str:
    """A digest of that code, those words and the PDF library's version, once per process."""
    from fpdf import __version__ as fpdf_version

    digest = hashlib.sha256(fpdf_version.encode())
    root = Path(__file__).parent
    for name in LAYOUT_SOURCES:
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:16]


def fingerprint(*parts: Any) -> str:
    """A key for a document showing ``parts`` (JSON-able: strings, numbers, lists, tuples)."""
    text = json.dumps([layout_version(), *parts], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _enabled() -> bool:
    return bool(current_app.config.get("PDF_CACHE", True))


def _redis():
    url = current_app.config.get("CACHE_REDIS_URL") or current_app.config.get("REDIS_URL")
    if not url:
        return None
    clients = current_app.extensions.setdefault("portal.pdfcache.redis", {})
    if url not in clients:
        import redis

        clients[url] = redis.Redis.from_url(url, socket_timeout=2)
    return clients[url]


def _directory() -> Path:
    configured = current_app.config.get("PDF_CACHE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "cache" / "pdf"


def _name(document: str, key: str) -> str:
    """``document`` names what the file is of (e.g. "itinerary-12-zh_Hans_CN"): one version
    of each is kept."""
    return f"{document}-{key[:32]}.pdf"


def load(document: str, key: str) -> bytes | None:
    """The stored PDF of ``document`` with this fingerprint, or None."""
    if not _enabled():
        return None
    try:
        client = _redis()
        if client is not None:
            return client.get(f"{_prefix()}pdf:{_name(document, key)}")
        return (_directory() / _name(document, key)).read_bytes()
    except FileNotFoundError:
        return None
    except Exception:
        log.exception("could not read the PDF cache")
        return None


def store(document: str, key: str, body: bytes) -> None:
    """Keep ``body`` as the current version of ``document``; older versions go."""
    if not _enabled():
        return
    try:
        client = _redis()
        if client is not None:
            timeout = int(current_app.config.get("PDF_CACHE_TIMEOUT", 7 * 24 * 3600))
            client.set(f"{_prefix()}pdf:{_name(document, key)}", body, ex=timeout)
            return
        folder = _directory()
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / _name(document, key)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            os.replace(temporary, final)  # readers see the old file or the new one, whole
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        for older in folder.glob(f"{document}-*.pdf"):
            if older != final:
                older.unlink(missing_ok=True)
    except Exception:
        log.exception("could not write the PDF cache")


def _prefix() -> str:
    return current_app.config.get("PAGE_CACHE_KEY_PREFIX", "portal:")
