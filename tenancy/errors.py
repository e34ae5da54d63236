"""The domain error type that views and the API turn into a readable response."""

from __future__ import annotations

import json
import math


class DomainError(Exception):
    """A rejected request: names the field, the value and how to fix it."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, value=None, fix: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.fix = fix

    def as_dict(self) -> dict:
        body: dict = {"code": self.code, "message": _shortened(self.message)}
        if self.field is not None:
            body["field"] = self.field
            body["value"] = _json_value(self.value)
        elif self.value is not None:
            body["value"] = _json_value(self.value)
        if self.fix:
            body["fix"] = self.fix
        return body


# Rejected text is echoed up to this many characters, so a huge input gets a small reply.
MAX_ECHO_LENGTH = 200


def _shortened(text: str) -> str:
    return text if len(text) <= MAX_ECHO_LENGTH * 2 else f"{text[: MAX_ECHO_LENGTH * 2]}…"


def _json_value(value):
    """Return the rejected value as JSON can carry it: as sent when small, else as short text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value if len(value) <= MAX_ECHO_LENGTH else f"{value[:MAX_ECHO_LENGTH]}…"
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = str(value)
    else:
        if len(text) <= MAX_ECHO_LENGTH:
            return json.loads(text)
    return text if len(text) <= MAX_ECHO_LENGTH else f"{text[:MAX_ECHO_LENGTH]}…"


class FieldErrors(DomainError):
    """Several rejected fields of one request, so a form can show every error at once.

    The first error is also this error's own message, field, value and fix, so a
    caller that handles one DomainError still names a field.
    """

    def __init__(self, errors: list[DomainError]):
        if not errors:
            raise ValueError("FieldErrors needs at least one error.")
        first = errors[0]
        super().__init__(first.message, field=first.field, value=first.value, fix=first.fix)
        self.errors = list(errors)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "errors": [error.as_dict() for error in self.errors]}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
