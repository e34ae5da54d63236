"""Writes that a provider's event requests from Track360, independent of the provider.

A provider's `translate` turns one event into a list of these actions, and
`billing.processing` carries them out with the CRM and commission services.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class CustomerHints:
    """Customer details of an event, used to find the customer's account."""

    customer_ref: str = ""
    email: str = ""
    account_external_id: str = ""
    domain: str = ""


@dataclass(frozen=True)
class DealWon:
    """Book a won deal: new business, a renewal or an expansion."""

    external_id: str
    kind: str
    amount: Decimal
    currency: str
    paid_at: datetime.datetime
    customer: CustomerHints
    name: str = ""


@dataclass(frozen=True)
class Refund:
    """Record a refund of the deal of one invoice.

    `invoice_ref` is empty when the event names only the charge or payment intent;
    the invoice is then found through the invoice event that carried them.
    """

    external_id: str
    amount: Decimal
    currency: str
    occurred_at: datetime.datetime
    invoice_ref: str = ""
    charge_ref: str = ""
    payment_intent_ref: str = ""


@dataclass(frozen=True)
class Churn:
    """Record that a customer's subscription ended."""

    external_id: str
    occurred_at: datetime.datetime
    customer: CustomerHints


@dataclass(frozen=True)
class Ignore:
    """Write nothing, for the reason given."""

    reason: str


Action = DealWon | Refund | Churn | Ignore


@dataclass(frozen=True)
class ProviderEvent:
    """One verified webhook event, with the provider object ids found in it."""

    event_id: str
    event_type: str
    occurred_at: datetime.datetime
    payload: dict
    refs: dict[str, str] = field(default_factory=dict)
