"""Show a service's DomainError on the form field it names."""

from __future__ import annotations

from django import forms

from tenancy.errors import DomainError


def form_error_add(form: forms.Form, error: DomainError) -> None:
    """Add `error` (message and fix) to the form field named by `error.field`.

    An error about a field the form does not have goes to the form as a whole,
    which the page shows above the fields.
    """
    field = error.field if error.field in form.fields else None
    form.add_error(field, f"{error.message} {error.fix}".strip())
