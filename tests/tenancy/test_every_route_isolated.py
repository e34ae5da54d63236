"""Every route that takes an object id returns 404 for another tenant's object.

The test walks the URL configuration, so a new route with an id fails here until
it is listed in OBJECT_ROUTES with the object it loads.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tenancy.scope import tenant_scope
from tenancy.services import api_key_create
from tests.factories import MembershipFactory, UserFactory
from tests.web.data import program_create

# Route name → (HTTP method, attribute of the other tenant's program to request).
OBJECT_ROUTES = {
    "api-deal-detail": ("get", "deal"),
    "api-account-detail": ("get", "account"),
    "api-import-detail": ("get", "run"),
    "api-ledger-detail": ("get", "entry"),
    "api-revenue-event-detail": ("get", "revenue_event"),
    "api-link-detail": ("get", "link"),
    "api-partner-detail": ("get", "partner"),
    "api-partner-status": ("post", "partner"),
    "api-partner-reach": ("post", "partner"),
    "api-partner-brief": ("get", "partner"),
    "api-icp-version-detail": ("get", "version"),
    "api-icp-version-copy": ("post", "version"),
    "api-icp-version-activate": ("post", "version"),
    "api-icp-version-diff": ("get", "version"),
    "api-job-detail": ("get", "job"),
    "api-fraud-signal-detail": ("get", "fraud_signal"),
    "api-fraud-signal-dismiss": ("post", "fraud_signal"),
    "api-fraud-signal-confirm": ("post", "fraud_signal"),
    "crm:account_detail": ("get", "account"),
    "crm:import_detail": ("get", "run"),
    "icp:version_detail": ("get", "version"),
    "icp:version_edit": ("get", "version"),
    "icp:version_copy": ("post", "version"),
    "icp:version_activate": ("get", "version"),
    "icp:version_delete": ("get", "version"),
    "jobs:job_detail": ("get", "job"),
    "fraud:signal_dismiss": ("post", "fraud_signal"),
    "fraud:signal_confirm": ("post", "fraud_signal"),
    "partners:partner_detail": ("get", "partner"),
    "partners:partner_edit": ("get", "partner"),
    "partners:partner_status_change": ("post", "partner"),
    "partners:partner_brief_csv": ("get", "partner"),
    "partners:portal_user_invite": ("post", "partner"),
    "partners:portal_user_remove": ("post", "portal_membership"),
    # Account mapping privacy: the staff preview of a partner's portal.
    "partners:partner_portal_preview": ("get", "partner"),
    "partners:partner_portal_preview_csv": ("get", "partner"),
    "tenancy:api_key_revoke": ("post", "api_key"),
    "tenancy:user_role_change": ("post", "staff_membership"),
    "tenancy:user_remove": ("post", "staff_membership"),
    "api-api-key-revoke": ("post", "api_key"),
    "api-referral-detail": ("get", "referral"),
    "api-referral-approve": ("post", "referral"),
    "api-referral-reject": ("post", "referral"),
    "api-link-deactivate": ("post", "link"),
    "attribution:referral_approve": ("post", "referral"),
    "attribution:referral_reject": ("post", "referral"),
    "api-ledger-entry-approve": ("post", "entry"),
    "api-ledger-entry-void": ("post", "entry"),
    "api-commission-plan-detail": ("get", "plan"),
    "api-commission-plan-activate": ("post", "plan"),
    "api-commission-plan-copy": ("post", "plan"),
    "api-payout-detail": ("get", "payout"),
    "api-payout-approve": ("post", "payout"),
    "api-payout-mark-paid": ("post", "payout"),
    "commissions:plan_detail": ("get", "plan"),
    "commissions:plan_copy": ("post", "plan"),
    "commissions:plan_delete": ("post", "plan"),
    "commissions:plan_activate": ("post", "plan"),
    "commissions:payout_detail": ("get", "payout"),
    "commissions:payout_approve": ("post", "payout"),
    "commissions:payout_mark_paid": ("post", "payout"),
    "commissions:entry_approve": ("post", "entry"),
    "commissions:entry_void": ("post", "entry"),
    "attribution:partner_links": ("get", "partner"),
    "attribution:link_deactivate": ("post", "link"),
    "api-exchange-rate-detail": ("delete", "exchange_rate"),
    "commissions:exchange_rate_delete": ("post", "exchange_rate"),
    "api-mdf-budget-detail": ("get", "mdf_budget"),
    "api-mdf-budget-allocate": ("post", "mdf_budget"),
    "api-mdf-request-detail": ("get", "mdf_request"),
    "api-mdf-request-approve": ("post", "mdf_request"),
    "api-mdf-request-reject": ("post", "mdf_request"),
    "api-mdf-request-cancel": ("post", "mdf_request"),
    "api-mdf-claim-accept": ("post", "mdf_request"),
    "api-mdf-claim-reject": ("post", "mdf_request"),
    "api-mdf-claim-reimburse": ("post", "mdf_request"),
    "api-mdf-proof": ("get", "mdf_proof"),
    "commissions:mdf_budget_detail": ("get", "mdf_budget"),
    "commissions:mdf_budget_allocate": ("post", "mdf_budget"),
    "commissions:mdf_request_create": ("post", "mdf_budget"),
    "commissions:mdf_request_detail": ("get", "mdf_request"),
    "commissions:mdf_request_approve": ("post", "mdf_request"),
    "commissions:mdf_request_reject": ("post", "mdf_request"),
    "commissions:mdf_request_cancel": ("post", "mdf_request"),
    "commissions:mdf_claim_accept": ("post", "mdf_request"),
    "commissions:mdf_claim_reject": ("post", "mdf_request"),
    "commissions:mdf_claim_reimburse": ("post", "mdf_request"),
    "commissions:mdf_proof": ("get", "mdf_proof"),
    "api-commission-plan-simulate": ("post", "plan"),
    "api-recalculation-detail": ("get", "recalculation"),
    "api-recalculation-apply": ("post", "recalculation"),
    "api-recalculation-discard": ("post", "recalculation"),
    "commissions:plan_simulate": ("get", "plan"),
    "commissions:recalculation_detail": ("get", "recalculation"),
    "commissions:recalculation_apply": ("post", "recalculation"),
    "commissions:recalculation_discard": ("post", "recalculation"),
    "api-webhook-endpoint-detail": ("get", "webhook_endpoint"),
    "api-webhook-endpoint-rotate-secret": ("post", "webhook_endpoint"),
    "api-webhook-endpoint-test": ("post", "webhook_endpoint"),
    "api-webhook-delivery-detail": ("get", "webhook_delivery"),
    "api-webhook-delivery-replay": ("post", "webhook_delivery"),
    "webhooks:delivery_replay": ("post", "webhook_delivery"),
    "webhooks:endpoint_detail": ("get", "webhook_endpoint"),
    "webhooks:endpoint_rotate_secret": ("post", "webhook_endpoint"),
    "webhooks:endpoint_delete": ("post", "webhook_endpoint"),
    "webhooks:endpoint_test": ("post", "webhook_endpoint"),
    "api-billing-connection-detail": ("get", "billing_connection"),
    "api-billing-connection-rotate": ("post", "billing_connection"),
    "api-billing-connection-deactivate": ("post", "billing_connection"),
    "billing:connection_rotate": ("post", "billing_connection"),
    "billing:connection_deactivate": ("post", "billing_connection"),
    "api-billing-event-retry": ("post", "billing_event"),
    "billing:event_retry": ("post", "billing_event"),
}

# API routes that reject API keys whatever their scopes, so only the session test runs.
SESSION_ONLY_API_ROUTES = {"api-api-key-revoke"}

# Partner portal routes with an id, requested by a partner user of the own tenant.
PORTAL_OBJECT_ROUTES = {
    "partners:portal_statement": ("get", "payout"),
    "partners:portal_mdf_request": ("get", "mdf_request"),
    "partners:portal_mdf_proof": ("get", "mdf_proof"),
    "api-portal-mdf-request-detail": ("get", "mdf_request"),
    "api-portal-mdf-claim": ("post", "mdf_request"),
    "api-portal-mdf-proof": ("get", "mdf_proof"),
}


def _routes_with_ids(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes_with_ids(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and "pk" in pattern.pattern.converters:
            yield f"{namespace}{pattern.name}"


def test_every_route_with_an_id_is_listed():
    routes = {name for name in _routes_with_ids(get_resolver().url_patterns)}
    routes = {name for name in routes if not name.startswith("admin:")}

    assert routes == set(OBJECT_ROUTES) | set(PORTAL_OBJECT_ROUTES)


@pytest.fixture
def other_program(other_tenant):
    program = program_create(other_tenant, label="Globex")
    program.api_key, _ = api_key_create(tenant=other_tenant, name="globex")
    return program


@pytest.fixture
def own_program(tenant):
    return program_create(tenant, label="Acme")


@pytest.mark.parametrize("route", sorted(OBJECT_ROUTES))
def test_other_tenants_object_is_404(route, tenant, own_program, other_program, client):
    user = UserFactory(username="isolation-admin")
    MembershipFactory(tenant=tenant, user=user, role="admin")
    client.force_login(user)
    method, attribute = OBJECT_ROUTES[route]
    url = reverse(route, kwargs={"pk": getattr(other_program, attribute).pk})

    response = getattr(client, method)(url)

    assert response.status_code == 404
    assert "Globex" not in response.content.decode()


@pytest.mark.parametrize(
    "route",
    sorted(r for r in OBJECT_ROUTES if r.startswith("api-") and r not in SESSION_ONLY_API_ROUTES),
)
def test_other_tenants_object_is_404_by_api_key(route, tenant, own_program, other_program, client):
    _, raw_key = api_key_create(tenant=tenant, name="acme")
    method, attribute = OBJECT_ROUTES[route]
    url = reverse(route, kwargs={"pk": getattr(other_program, attribute).pk})

    response = getattr(client, method)(url, headers={"Authorization": f"Api-Key {raw_key}"})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_revoking_other_tenants_key_leaves_it_live(tenant, other_program, client):
    user = UserFactory(username="isolation-admin")
    MembershipFactory(tenant=tenant, user=user, role="admin")
    client.force_login(user)

    client.post(reverse("tenancy:api_key_revoke", kwargs={"pk": other_program.api_key.pk}))

    with tenant_scope(other_program.tenant):
        other_program.api_key.refresh_from_db()
    assert other_program.api_key.revoked_at is None


@pytest.mark.parametrize("route", sorted(PORTAL_OBJECT_ROUTES))
def test_other_tenants_object_is_404_in_the_portal(route, own_program, other_program, client):
    client.force_login(own_program.portal_membership.user)
    method, attribute = PORTAL_OBJECT_ROUTES[route]
    url = reverse(route, kwargs={"pk": getattr(other_program, attribute).pk})

    response = getattr(client, method)(url)

    assert response.status_code == 404
    assert "Globex" not in response.content.decode()
