"""Stripe webhooks: signature verification and the translation of events.

Stripe signs each delivery with the endpoint's signing secret. The
`Stripe-Signature` header is a comma-separated list of `key=value` pairs: `t` is
the Unix timestamp of the signing, and each `v1` is a hex HMAC-SHA256 of
`"<t>.<raw body>"`. A secret roll in Stripe keeps the old secret signing for a
while, so a header can carry several `v1` values, and one match is enough. Other
schemes, such as the test-mode `v0`, are ignored. A timestamp more than
`TOLERANCE_SECONDS` old is rejected even with a valid signature, so a captured
request cannot be replayed later.

Amounts arrive in the currency's minor unit (cents, or whole yen for JPY) with a
lowercase ISO 4217 code. Field names follow the Stripe API object reference for
invoices, charges, refunds and subscriptions. Where newer API versions moved a
field (`invoice.subscription` to `invoice.parent.subscription_details`), both
places are read.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import time
from decimal import Decimal

from billing.actions import Churn, CustomerHints, DealWon, Ignore, ProviderEvent, Refund
from billing.providers import EventBodyInvalid, PayloadInvalid, SignatureInvalid
from crm.parsing import currency_exponent, parse_currency

PROVIDER = "stripe"
SIGNATURE_HEADER = "Stripe-Signature"
SIGNATURE_SCHEME = "v1"
# Stripe's own libraries default to five minutes.
TOLERANCE_SECONDS = 300

# Invoice billing reasons and the deal kind each one books.
DEAL_KINDS = {
    "subscription_create": "new",
    "subscription_cycle": "renewal",
    "subscription_update": "expansion",
}
SIGNATURE_FIX = (
    "Copy the endpoint's signing secret (whsec_…) from Stripe into the billing "
    "connection, and send the request body unchanged."
)


def signature_compute(*, secret: str, timestamp: str, body: bytes) -> str:
    """Return the hex v1 signature Stripe computes for `body` signed at `timestamp`."""
    signed = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header_parse(header: str) -> tuple[str, list[str]]:
    """Return the timestamp and the v1 signatures of a `Stripe-Signature` header."""
    timestamp = ""
    signatures = []
    for item in header.split(","):
        key, separator, value = item.strip().partition("=")
        if not separator:
            continue
        if key == "t":
            timestamp = value
        elif key == SIGNATURE_SCHEME:
            signatures.append(value)
    return timestamp, signatures


def signature_verify(*, header: str, body: bytes, secrets: list[str], now: float) -> int:
    """Check the header against `body` and each of `secrets`; return the signed timestamp.

    Raises SignatureInvalid when the header is missing or malformed, no v1 signature
    matches, or the timestamp is more than TOLERANCE_SECONDS before `now`.
    """
    if not header:
        raise SignatureInvalid(
            "The request has no Stripe-Signature header.",
            field=SIGNATURE_HEADER,
            value=None,
            fix="Send the webhook from Stripe, which signs every delivery.",
        )
    timestamp, signatures = signature_header_parse(header)
    if not timestamp.isdigit() or not signatures:
        raise SignatureInvalid(
            "The Stripe-Signature header has no timestamp or no v1 signature.",
            field=SIGNATURE_HEADER,
            value=None,
            fix="Send the header as Stripe does: t=<timestamp>,v1=<signature>.",
        )
    matched = False
    for secret in secrets:
        expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
        # Compare every candidate, so the time taken does not tell which one matched.
        for signature in signatures:
            matched |= hmac.compare_digest(expected, signature)
    if not matched:
        raise SignatureInvalid(
            "No v1 signature of the Stripe-Signature header matches the request body.",
            field=SIGNATURE_HEADER,
            value=None,
            fix=SIGNATURE_FIX,
        )
    signed_at = int(timestamp)
    if signed_at < now - TOLERANCE_SECONDS:
        raise SignatureInvalid(
            f"The signature is {int(now - signed_at)} seconds old, more than the "
            f"{TOLERANCE_SECONDS} seconds allowed.",
            field=SIGNATURE_HEADER,
            value=signed_at,
            fix="Replays are rejected; resend the event from Stripe, which signs it anew.",
        )
    return signed_at


def verify(request, *, secrets: list[str], now: float | None = None) -> ProviderEvent:
    """Verify a webhook request's signature and return its event."""
    body = request.body
    signature_verify(
        header=request.headers.get(SIGNATURE_HEADER, ""),
        body=body,
        secrets=secrets,
        now=time.time() if now is None else now,
    )
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise EventBodyInvalid(
            "The signed request body is not JSON.",
            field="body",
            value=None,
            fix="Send the event as Stripe does, as one JSON object.",
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise EventBodyInvalid(
            "The signed request body is not a Stripe event.",
            field="body",
            value=None,
            fix="Send an event object with id, type, created and data.object.",
        )
    event_id = payload.get("id")
    event_type = payload.get("type")
    created = payload.get("created")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str):
        raise EventBodyInvalid(
            "The Stripe event has no id or type.",
            field="id",
            value=event_id,
            fix="Send the event as Stripe does, with its evt_… id and its type.",
        )
    if not isinstance(created, int):
        raise EventBodyInvalid(
            "The Stripe event has no created timestamp.",
            field="created",
            value=created,
            fix="Send the event as Stripe does, with created as Unix seconds.",
        )
    return ProviderEvent(
        event_id=event_id,
        event_type=event_type,
        occurred_at=_datetime(created),
        payload=payload,
        refs=_refs(event_type, _object(payload)),
    )


def translate(event: ProviderEvent) -> list:
    """Return the actions of one Stripe event; unknown types give one Ignore."""
    handler = HANDLERS.get(event.event_type)
    if handler is None:
        return [Ignore(f"Track360 does not use {event.event_type} events.")]
    return handler(event, _object(event.payload))


# ----------------------------------------------------------------------------------
# Handlers, one per event type.


def _invoice_paid(event: ProviderEvent, invoice: dict) -> list:
    invoice_id = _text(invoice, "id")
    reason = invoice.get("billing_reason") or ""
    kind = DEAL_KINDS.get(reason)
    if kind is None:
        return [
            Ignore(
                f"Invoice {invoice_id} has billing_reason {reason or 'none'!r}; only "
                "subscription_create, subscription_cycle and subscription_update book deals."
            )
        ]
    amount_paid = _minor_units(invoice, "amount_paid")
    if amount_paid == 0:
        return [Ignore(f"Invoice {invoice_id} paid nothing, such as a trial or a credit.")]
    currency = _currency(invoice)
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
    return [
        DealWon(
            external_id=f"{PROVIDER}:{invoice_id}",
            kind=kind,
            amount=_amount(amount_paid, currency),
            currency=currency,
            paid_at=_datetime(paid_at) if isinstance(paid_at, int) else event.occurred_at,
            customer=_customer_hints(invoice),
            name=f"Stripe invoice {invoice.get('number') or invoice_id}",
        )
    ]


def _charge_refunded(event: ProviderEvent, charge: dict) -> list:
    charge_id = _text(charge, "id")
    refunds = (charge.get("refunds") or {}).get("data")
    if not isinstance(refunds, list):
        # Without each refund's id, the cumulative amount_refunded cannot be split
        # into refunds that refund.created events may also report.
        return [
            Ignore(
                f"Charge {charge_id} lists no refunds, so its refunds are recorded from "
                "refund.created events; subscribe the endpoint to them."
            )
        ]
    actions = []
    for refund in refunds:
        actions.extend(_refund_actions(event, refund, charge=charge))
    return actions or [Ignore(f"Charge {charge_id} has no succeeded refund.")]


def _refund_event(event: ProviderEvent, refund: dict) -> list:
    return _refund_actions(event, refund, charge=None)


def _refund_actions(event: ProviderEvent, refund: dict, *, charge: dict | None) -> list:
    refund_id = _text(refund, "id")
    if refund.get("status") != "succeeded":
        return [Ignore(f"Refund {refund_id} is {refund.get('status')!r}; only succeeded counts.")]
    currency = _currency(refund)
    created = refund.get("created")
    charge_ref = _ref(refund.get("charge")) or _ref((charge or {}).get("id"))
    return [
        Refund(
            external_id=f"{PROVIDER}:{refund_id}",
            amount=_amount(_minor_units(refund, "amount"), currency),
            currency=currency,
            occurred_at=_datetime(created) if isinstance(created, int) else event.occurred_at,
            invoice_ref=_ref((charge or {}).get("invoice")),
            charge_ref=charge_ref,
            payment_intent_ref=_ref(refund.get("payment_intent"))
            or _ref((charge or {}).get("payment_intent")),
        )
    ]


def _subscription_deleted(event: ProviderEvent, subscription: dict) -> list:
    subscription_id = _text(subscription, "id")
    ended = subscription.get("ended_at") or subscription.get("canceled_at")
    return [
        Churn(
            external_id=f"{PROVIDER}:{subscription_id}:deleted",
            occurred_at=_datetime(ended) if isinstance(ended, int) else event.occurred_at,
            customer=_customer_hints(subscription),
        )
    ]


HANDLERS = {
    "invoice.paid": _invoice_paid,
    "charge.refunded": _charge_refunded,
    "refund.created": _refund_event,
    "refund.updated": _refund_event,
    "customer.subscription.deleted": _subscription_deleted,
}


# ----------------------------------------------------------------------------------
# Payload readers.


def _object(payload: dict) -> dict:
    obj = payload["data"].get("object")
    return obj if isinstance(obj, dict) else {}


def _ref(value) -> str:
    """Return the id of a field that contains an id or an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _refs(event_type: str, obj: dict) -> dict[str, str]:
    refs = {"customer": _ref(obj.get("customer"))}
    if event_type.startswith("invoice."):
        refs["invoice"] = _ref(obj.get("id"))
        refs["charge"] = _ref(obj.get("charge"))
        refs["payment_intent"] = _ref(obj.get("payment_intent"))
        # Newer API versions list the invoice's payments instead.
        for entry in (obj.get("payments") or {}).get("data") or []:
            payment = entry.get("payment") if isinstance(entry, dict) else None
            if isinstance(payment, dict):
                refs["charge"] = refs["charge"] or _ref(payment.get("charge"))
                refs["payment_intent"] = refs["payment_intent"] or _ref(
                    payment.get("payment_intent")
                )
    elif event_type.startswith("charge."):
        refs["charge"] = _ref(obj.get("id"))
        refs["invoice"] = _ref(obj.get("invoice"))
        refs["payment_intent"] = _ref(obj.get("payment_intent"))
    elif event_type.startswith("refund."):
        refs["charge"] = _ref(obj.get("charge"))
        refs["payment_intent"] = _ref(obj.get("payment_intent"))
    return {key: value for key, value in refs.items() if value}


def _customer_hints(obj: dict) -> CustomerHints:
    """Collect the account hints of an invoice or subscription and its customer.

    The customer is usually only an id; when the endpoint expands it, its email and
    metadata count too. Metadata on the object itself wins over the customer's.
    """
    customer = obj.get("customer")
    customer_obj = customer if isinstance(customer, dict) else {}
    metadata = {**_metadata(customer_obj), **_metadata(obj)}
    return CustomerHints(
        customer_ref=_ref(customer),
        email=obj.get("customer_email") or customer_obj.get("email") or "",
        account_external_id=str(metadata.get("account_external_id") or ""),
        domain=str(metadata.get("domain") or ""),
    )


def _metadata(obj: dict) -> dict:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _text(obj: dict, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadInvalid(f"The event object has no {key}.")
    return value


def _minor_units(obj: dict, key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PayloadInvalid(f"{key} is {value!r}, not a whole number of minor units ≥ 0.")
    return value


def _currency(obj: dict) -> str:
    value = obj.get("currency")
    try:
        code = parse_currency(value) if isinstance(value, str) else ""
    except ValueError:
        code = ""
    if not code:
        raise PayloadInvalid(f"currency is {value!r}, not an ISO 4217 code.")
    return code


def _amount(minor_units: int, currency: str) -> Decimal:
    """Convert minor units to a Decimal amount: 1999 USD cents is 19.99, 1999 JPY is 1999."""
    return Decimal(minor_units).scaleb(-currency_exponent(currency))


def _datetime(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
