"""The domain error type that views and the API turn into a readable response."""

from __future__ import annotations


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
        body: dict = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.value is not None:
            body["value"] = self.value if isinstance(self.value, str | int) else str(self.value)
        if self.fix:
            body["fix"] = self.fix
        return body


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
