"""Billing providers: each verifies its webhook requests and translates its events.

A provider module has `PROVIDER` (the name in the webhook URL), `verify(request,
*, secrets, now)` returning a `billing.actions.ProviderEvent` or raising
`SignatureInvalid`, and `translate(event)` returning a list of `billing.actions`
actions or raising `PayloadInvalid`.
"""

from __future__ import annotations

from types import ModuleType

from tenancy.errors import DomainError


class SignatureInvalid(DomainError):
    """A webhook request whose signature is missing, wrong or too old."""

    code = "signature_invalid"


class EventBodyInvalid(SignatureInvalid):
    """A correctly signed request whose body is not an event of the provider."""

    code = "event_invalid"


class PayloadInvalid(ValueError):
    """An event whose payload lacks a field its translation needs."""


def provider_module(name: str) -> ModuleType | None:
    """Return the module of provider `name`, or None for a provider Track360 lacks."""
    from billing.providers import stripe

    return {stripe.PROVIDER: stripe}.get(name)
