"""Show a service's DomainError on the form field it names."""

from __future__ import annotations

from django import forms

from tenancy.errors import DomainError, FieldErrors


def form_error_add(form: forms.Form, error: DomainError) -> None:
    """Add `error` (message and fix) to the form field named by `error.field`.

    A FieldErrors adds each of its errors. An error about a field the form does
    not have goes to the form as a whole, which the page shows above the fields.
    """
    errors = error.errors if isinstance(error, FieldErrors) else [error]
    for field_error in errors:
        field = field_error.field if field_error.field in form.fields else None
        form.add_error(field, f"{field_error.message} {field_error.fix}".strip())


def validation_error(error: DomainError) -> forms.ValidationError:
    """Return `error` as a ValidationError, for a form's clean method that calls a service check."""
    return forms.ValidationError(f"{error.message} {error.fix}".strip(), code=error.code)
