"""Rotating sign-in codes: a signed QR token and a short typed code per 30-second period.

The token signs (session id, period number) with the app's secret (itsdangerous); the
server accepts the current and the previous period, so a code photographed and sent to
someone absent stops working within a minute. The typed code is a keyed hash of the same
pair cut to six digits, for phones that cannot scan.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

PERIOD_SECONDS = 30
# Periods accepted: the current one and the one before (a scan at a period's very end).
ACCEPTED_AGE = 1
CODE_DIGITS = 6


class TokenRefused(Exception):
    """The code is forged, belongs to another session, or is too old."""


def period_at(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // PERIOD_SECONDS)


def seconds_left(now: float | None = None) -> int:
    now = time.time() if now is None else now
    return PERIOD_SECONDS - int(now % PERIOD_SECONDS)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="attendance-qr")


def make_token(session_id: int, period: int) -> str:
    return _serializer().dumps([session_id, period])


def check_token(token: str, session_id: int, now: float | None = None) -> int:
    """The token's period if it signs ``session_id`` and is at most one period old."""
    try:
        signed_session, period = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        raise TokenRefused("forged") from None
    if not isinstance(period, int) or signed_session != session_id:
        raise TokenRefused("other session")
    if not 0 <= period_at(now) - period <= ACCEPTED_AGE:
        raise TokenRefused("expired")
    return period


def typed_code(session_id: int, period: int) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, f"attendance-code:{session_id}:{period}".encode(), hashlib.sha256)
    return str(int.from_bytes(digest.digest()[:8], "big") % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def code_matches(code: str, session_id: int, now: float | None = None) -> bool:
    """Whether ``code`` is the session's typed code of this period or the one before."""
    code = (code or "").strip()
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        return False
    current = period_at(now)
    return any(
        hmac.compare_digest(code, typed_code(session_id, current - age))
        for age in range(ACCEPTED_AGE + 1)
    )
