"""Writes of outgoing webhooks: endpoints, secret rotation, test pings and replays."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenancy.errors import Conflict, DomainError, NotFound
from tenancy.models import Tenant
from tenancy.queue import enqueue_on_commit
from tenancy.services import actor_user, audit_record
from webhooks.delivery import deliveries_claim, delivery_attempt
from webhooks.events import events_write
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from webhooks.signing import secret_generate
from webhooks.ssrf import UnsafeDestination, url_check

logger = logging.getLogger(__name__)

API_PATH = "/api/v1/webhooks/endpoints/"
SUBSCRIBABLE_TYPES = tuple(value for value in EventType.values if value != EventType.PING)
MAX_URL_LENGTH = 2000


def url_validate(url) -> str:
    """Return `url` stripped, or raise DomainError naming why it cannot receive webhooks."""
    text = url.strip() if isinstance(url, str) else ""
    if not text or len(text) > MAX_URL_LENGTH:
        raise DomainError(
            "The url is missing or longer than 2000 characters.",
            field="url",
            value=url,
            fix="Send the absolute http or https URL that receives the POSTs.",
        )
    try:
        url_check(text)
    except UnsafeDestination as error:
        raise DomainError(
            f"The url cannot receive webhooks: {error}",
            field="url",
            value=text,
            fix="Use an http or https URL whose host resolves only to public addresses.",
        ) from None
    return text


def event_types_validate(event_types) -> list[str]:
    """Return the subscribed types without repeats, or raise DomainError for an unknown one."""
    if not isinstance(event_types, list) or not event_types:
        raise DomainError(
            "The event_types must be a non-empty list.",
            field="event_types",
            value=event_types,
            fix=f"Send a list with one or more of: {', '.join(SUBSCRIBABLE_TYPES)}.",
        )
    unknown = [value for value in event_types if value not in SUBSCRIBABLE_TYPES]
    if unknown:
        raise DomainError(
            f"The event type {unknown[0]!r} does not exist.",
            field="event_types",
            value=unknown[0],
            fix=f"Use one or more of: {', '.join(SUBSCRIBABLE_TYPES)}.",
        )
    return list(dict.fromkeys(event_types))


def _url_taken(url: str) -> Conflict:
    return Conflict(
        "The tenant already has an endpoint with this url.",
        field="url",
        value=url,
        fix=f"Change the existing endpoint with PATCH {API_PATH}<id>/ instead.",
    )


def _audit_values(endpoint: WebhookEndpoint) -> dict:
    """Return the endpoint's audited fields; never the secret."""
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
    }


def endpoint_get_locked(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(
            "No webhook endpoint has this id.",
            field="id",
            value=endpoint_id,
            fix=f"List the tenant's endpoints with GET {API_PATH}.",
        )
    return endpoint


def endpoint_create(
    *,
    tenant: Tenant,
    url,
    event_types,
    description: str = "",
    is_active: bool = True,
    actor=None,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint with a new secret; return both, as no later read returns the secret."""
    url = url_validate(url)
    event_types = event_types_validate(event_types)
    secret = secret_generate()
    try:
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.create(
                tenant=tenant,
                url=url,
                description=description,
                event_types=event_types,
                secret=secret,
                is_active=is_active,
                created_by=actor_user(actor),
            )
            audit_record(
                tenant_id=tenant.pk,
                actor=actor,
                event="webhook_endpoint.created",
                obj=endpoint,
                after=_audit_values(endpoint),
            )
    except IntegrityError:
        raise _url_taken(url) from None
    logger.info("webhooks.endpoint_created tenant_id=%s endpoint_id=%s", tenant.pk, endpoint.pk)
    return endpoint, secret


def endpoint_update(*, tenant: Tenant, endpoint_id: int, changes: dict, actor=None):
    """Change the url, description, event types or active flag of an endpoint."""
    if "url" in changes:
        changes["url"] = url_validate(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = event_types_validate(changes["event_types"])
    try:
        with transaction.atomic():
            endpoint = endpoint_get_locked(endpoint_id)
            before = _audit_values(endpoint)
            for field in ("url", "description", "event_types", "is_active"):
                if field in changes:
                    setattr(endpoint, field, changes[field])
            after = _audit_values(endpoint)
            if after != before:
                endpoint.save()
                audit_record(
                    tenant_id=tenant.pk,
                    actor=actor,
                    event="webhook_endpoint.updated",
                    obj=endpoint,
                    before=before,
                    after=after,
                )
    except IntegrityError:
        raise _url_taken(changes.get("url")) from None
    logger.info("webhooks.endpoint_updated tenant_id=%s endpoint_id=%s", tenant.pk, endpoint.pk)
    return endpoint


@transaction.atomic
def endpoint_delete(*, tenant: Tenant, endpoint_id: int, actor=None) -> None:
    """Delete an endpoint with its deliveries; the events stay for other endpoints."""
    endpoint = endpoint_get_locked(endpoint_id)
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="webhook_endpoint.deleted",
        obj=endpoint,
        before=_audit_values(endpoint),
    )
    endpoint.delete()
    logger.info("webhooks.endpoint_deleted tenant_id=%s endpoint_id=%s", tenant.pk, endpoint_id)


@transaction.atomic
def endpoint_secret_rotate(
    *, tenant: Tenant, endpoint_id: int, actor=None
) -> tuple[WebhookEndpoint, str]:
    """Replace an endpoint's secret; return both, as no later read returns the secret.

    Deliveries sent from now on, retries included, are signed with the new secret.
    """
    endpoint = endpoint_get_locked(endpoint_id)
    secret = secret_generate()
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "updated_at"])
    audit_record(
        tenant_id=tenant.pk, actor=actor, event="webhook_endpoint.secret_rotated", obj=endpoint
    )
    logger.info("webhooks.secret_rotated tenant_id=%s endpoint_id=%s", tenant.pk, endpoint.pk)
    return endpoint, secret


def endpoint_test(*, tenant: Tenant, endpoint_id: int, actor=None) -> WebhookDelivery:
    """Send a ping event to one endpoint now, in this request, and return its delivery.

    The ping is retried on the usual schedule when this attempt fails.
    """
    with transaction.atomic():
        endpoint = endpoint_get_locked(endpoint_id)
        data = {"message": "Test event from Track360.", "endpoint_id": endpoint.pk}
        (delivery_id,) = events_write(
            tenant_id=tenant.pk,
            event_type=EventType.PING,
            payload=data,
            endpoint_ids=[endpoint.pk],
            enqueue=False,
        )
    logger.info(
        "webhooks.endpoint_tested tenant_id=%s endpoint_id=%s delivery_id=%s",
        tenant.pk,
        endpoint.pk,
        delivery_id,
    )
    if deliveries_claim(delivery_ids=[delivery_id]):
        delivery_attempt(delivery_id=delivery_id)
    return WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)


@transaction.atomic
def delivery_replay(*, tenant: Tenant, delivery_id: int, actor=None) -> WebhookDelivery:
    """Schedule a new attempt of a delivery now, whatever its status, and start sending it.

    The attempt counts toward the retry schedule, so a dead delivery that fails
    again is dead again, and a failed one keeps retrying.
    """
    delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(
            "No webhook delivery has this id.",
            field="id",
            value=delivery_id,
            fix="List the tenant's deliveries with GET /api/v1/webhooks/deliveries/.",
        )
    before = {"status": delivery.status, "attempts": delivery.attempts}
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at", "updated_at"])
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="webhook_delivery.replayed",
        obj=delivery,
        before=before,
        after={"status": delivery.status},
    )
    from webhooks.tasks import send_webhook_deliveries_task

    enqueue_on_commit(send_webhook_deliveries_task, delivery_ids=[delivery.pk])
    logger.info("webhooks.delivery_replayed tenant_id=%s delivery_id=%s", tenant.pk, delivery.pk)
    return delivery
