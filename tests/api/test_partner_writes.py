"""Partner upsert, referral registration and the commission plan through the API."""

import datetime
from decimal import Decimal

import pytest

from attribution.models import Referral
from commissions.models import CommissionPlan
from crm.models import Account, Deal
from partners.models import Partner
from tenancy.models import AuditEvent
from tests.factories import AccountFactory, DealFactory, PartnerFactory

PARTNERS_URL = "/api/v1/partners/"
REFERRALS_URL = "/api/v1/referrals/"
PLAN_URL = "/api/v1/commission-plan/"


def post(client, url, body, headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def test_partner_post_creates_then_updates(client, headers, scoped):
    body = {"external_id": "p-1", "name": "Northwind", "kind": "reseller",
            "domain": "https://www.Northwind.co.uk/"}  # fmt: skip

    first = post(client, PARTNERS_URL, body, headers)
    second = post(client, PARTNERS_URL, {**body, "name": "Northwind Ltd"}, headers)

    assert first.status_code == 201
    assert second.status_code == 200
    partner = Partner.objects.get()
    assert partner.name == "Northwind Ltd"
    assert partner.domain == "northwind.co.uk"
    assert partner.kind == "reseller"
    assert second.json()["external_id"] == "p-1"


def test_partner_post_rejects_bad_kind(client, headers, scoped):
    response = post(client, PARTNERS_URL, {"external_id": "p", "name": "P", "kind": "x"}, headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "kind"
    assert response.json()["errors"][0]["value"] == "x"
    assert Partner.objects.count() == 0


def test_partner_post_analyst_forbidden(analyst_client, scoped):
    response = analyst_client.post(
        PARTNERS_URL, {"external_id": "p", "name": "P"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert "may read but not change data" in response.json()["message"]


@pytest.fixture
def referral_setup(scoped):
    partner = PartnerFactory(tenant=scoped, external_id="p-1")
    account = AccountFactory(tenant=scoped, external_id="a-1", domain="acme.com")
    return partner, account


def test_referral_registers_and_attributes_open_deals(client, headers, referral_setup):
    partner, account = referral_setup
    open_deal = DealFactory(tenant=account.tenant, account=account, stage="open",
                            close_date=datetime.date(2017, 6, 1))  # fmt: skip
    body = {"partner_external_id": "p-1", "account_domain": "www.acme.com",
            "referred_at": "2017-01-01"}  # fmt: skip

    response = post(client, REFERRALS_URL, body, headers)

    assert response.status_code == 201
    data = response.json()
    assert data["partner"]["external_id"] == "p-1"
    assert data["account_id"] == account.pk
    assert data["domain"] == "acme.com"
    assert data["status"] == "approved"
    assert data["source"] == "api"
    assert data["registered_at"].startswith("2017-01-01T00:00:00")
    assert data["expires_on"] == "2018-01-01"
    account.refresh_from_db()
    assert account.referred_by == partner
    assert account.referred_at == datetime.date(2017, 1, 1)
    assert Deal.objects.get(pk=open_deal.pk).partner == partner
    assert AuditEvent.objects.filter(event="referral.registered").count() == 1


def test_referral_same_partner_twice_is_200(client, headers, referral_setup):
    body = {"partner_external_id": "p-1", "account_external_id": "a-1"}

    first = post(client, REFERRALS_URL, body, headers)
    response = post(client, REFERRALS_URL, body, headers)

    assert response.status_code == 200
    assert response.json()["id"] == first.json()["id"]
    assert AuditEvent.objects.filter(event="referral.registered").count() == 1


def test_referral_other_partner_is_stored_conflict(client, headers, referral_setup):
    PartnerFactory(tenant=referral_setup[1].tenant, external_id="p-2", name="Second")
    post(client, REFERRALS_URL, {"partner_external_id": "p-1", "account_external_id": "a-1"},
         headers)  # fmt: skip

    response = post(
        client, REFERRALS_URL, {"partner_external_id": "p-2", "account_external_id": "a-1"}, headers
    )

    assert response.status_code == 201
    assert response.json()["status"] == "conflict"
    assert response.json()["conflict"] == "registered"
    assert response.json()["conflict_message"].startswith(referral_setup[0].name)
    assert response.json()["conflict_detail"]["partner_id"] == referral_setup[0].pk
    assert Account.objects.get().referred_by.external_id == "p-1"


def test_referral_future_date_rejected(client, headers, referral_setup):
    body = {"partner_external_id": "p-1", "account_external_id": "a-1", "referred_at": "2099-12-31"}

    response = post(client, REFERRALS_URL, body, headers)

    assert response.status_code == 400
    assert response.json()["field"] == "referred_at"
    assert Account.objects.get().referred_by is None
    assert Referral.objects.count() == 0


def test_referral_other_tenants_account_stays_unknown(
    client, other_headers, referral_setup, other_tenant
):
    PartnerFactory(tenant=other_tenant, external_id="p-1")

    response = post(
        client, REFERRALS_URL, {"partner_external_id": "p-1", "account_domain": "acme.com"},
        other_headers,
    )  # fmt: skip

    assert response.status_code == 201
    assert response.json()["account_id"] is None
    assert response.json()["status"] == "approved"
    assert Account.all_tenants.get(domain="acme.com").referred_by is None
    assert Referral.objects.count() == 0


def test_referral_needs_a_company(client, headers, referral_setup):
    response = post(client, REFERRALS_URL, {"partner_external_id": "p-1"}, headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "domain"


def test_referral_unknown_account_external_id(client, headers, referral_setup):
    body = {"partner_external_id": "p-1", "account_external_id": "ghost"}

    response = post(client, REFERRALS_URL, body, headers)

    assert response.status_code == 400
    assert response.json()["field"] == "account_external_id"


PLAN = {"name": "Fit-weighted", "base_rate": "0.1000", "multiplier_a": "1.50",
        "multiplier_b": "1.00", "multiplier_c": "0.50", "multiplier_d": "0.00"}  # fmt: skip


def test_plan_put_then_get(client, headers, scoped):
    put = client.put(PLAN_URL, PLAN, content_type="application/json", headers=headers)
    got = client.get(PLAN_URL, headers=headers)

    assert put.status_code == 200
    assert got.status_code == 200
    assert {key: got.json()[key] for key in PLAN} == PLAN
    plan = CommissionPlan.objects.get()
    assert plan.base_rate == Decimal("0.1000")
    assert plan.is_active is True
    assert AuditEvent.objects.filter(event="commission_plan.activated").count() == 1


def test_plan_get_without_plan_is_404(client, headers, scoped):
    response = client.get(PLAN_URL, headers=headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_plan_put_segment_multipliers(client, headers, scoped):
    body = {**PLAN, "segment_multiplier_strategic": "1.25"}

    response = client.put(PLAN_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 200
    assert response.json()["segment_multiplier_strategic"] == "1.25"
    # Left out, a segment multiplier is 1, so commissions follow the tier alone.
    assert response.json()["segment_multiplier_grow"] == "1.00"
    plan = CommissionPlan.objects.get()
    assert plan.segment_multiplier_strategic == Decimal("1.25")
    assert plan.segment_multiplier_deprioritise == Decimal("1.00")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("base_rate", "1.5"),
        ("multiplier_a", "-1"),
        ("multiplier_b", "11"),
        ("segment_multiplier_nurture", "5.5"),
        ("segment_multiplier_grow", "-0.5"),
    ],
)
def test_plan_put_rejects_out_of_range(client, headers, scoped, field, value):
    response = client.put(
        PLAN_URL, {**PLAN, field: value}, content_type="application/json", headers=headers
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["errors"][0]["value"] == value
    assert CommissionPlan.objects.count() == 0


def test_plan_put_analyst_forbidden(analyst_client, scoped):
    response = analyst_client.put(PLAN_URL, PLAN, content_type="application/json")

    assert response.status_code == 403
    assert CommissionPlan.objects.count() == 0


def test_plan_is_per_tenant(client, headers, other_headers, scoped):
    client.put(PLAN_URL, PLAN, content_type="application/json", headers=headers)

    response = client.get(PLAN_URL, headers=other_headers)

    assert response.status_code == 404


def test_api_key_changes_name_the_key_in_audit(client, headers, scoped):
    client.put(PLAN_URL, PLAN, content_type="application/json", headers=headers)

    event = AuditEvent.objects.get(event="commission_plan.activated")
    assert event.actor is None
    assert event.actor_label.startswith("api-key:t360_")


def test_partner_update_keeps_fields_left_out(client, headers, scoped):
    post(client, PARTNERS_URL, {"external_id": "p-1", "name": "N", "domain": "northwind.com",
                                "description": "Reseller in Leeds"}, headers)  # fmt: skip

    response = post(client, PARTNERS_URL, {"external_id": "p-1", "name": "N2"}, headers)

    partner = Partner.objects.get()
    assert response.status_code == 200
    assert partner.domain == "northwind.com"
    assert partner.description == "Reseller in Leeds"


def test_infinite_json_number_is_400(client, headers, scoped):
    response = client.post(
        "/api/v1/deals/",
        '{"external_id": "x", "stage": "open", "amount": 1e400}',
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "amount"
    assert response.json()["errors"][0]["value"] == "inf"


def test_referral_with_two_accounts_is_400(client, headers, referral_setup):
    body = {"partner_external_id": "p-1", "account_external_id": "a-1", "account_domain": "x.com"}

    response = post(client, REFERRALS_URL, body, headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "account_domain"


def test_referral_unknown_partner_fix(client, headers, referral_setup):
    body = {"partner_external_id": "ghost", "account_external_id": "a-1"}

    response = post(client, REFERRALS_URL, body, headers)

    assert response.status_code == 400
    assert response.json()["fix"] == "Create the partner first."
