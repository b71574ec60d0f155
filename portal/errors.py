"""Errors that services raise with a message a user can read (Simplified Chinese)."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule said no; ``message`` tells the user why, ``field`` names the form field if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(ServiceError):
    """The acting user may not do this."""


class NotFound(ServiceError):
    """No such object, or not one the acting user may see (answered as 404, leaking nothing)."""


class ValidationFailed(ServiceError):
    """Several fields are wrong at once; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("；".join(errors.values()))
        self.errors = errors
