"""The plan API: drafts, rules, activation, copies, and the deal preview."""

import datetime
from decimal import Decimal

import pytest

from commissions.fx import exchange_rates_upsert
from commissions.models import CommissionPlan
from commissions.plans import commission_plan_activate
from crm.models import Deal
from tests.factories import AccountFactory, DealFactory, PartnerFactory

LIST_URL = "/api/v1/commission-plans/"
PREVIEW_URL = "/api/v1/commission-plans/preview/"

DRAFT = {
    "name": "FY27",
    "base_rate": "0.1000",
    "multiplier_a": "1.50",
    "multiplier_b": "1.00",
    "multiplier_c": "0.50",
    "multiplier_d": "0.00",
    "score_bands": [{"min_score": 90, "multiplier": "1.10"}],
    "partner_tier_multipliers": {"gold": "1.20"},
    "min_fit_score": 40,
    "cap_per_deal": "5000.00",
    "rules": [
        {"scope": "program", "deal_kind": "renewal", "rate": "0.0500"},
        {"scope": "product", "value": "Enterprise", "payout_type": "flat", "flat_amount": "800"},
    ],
}


def post(client, url, body, headers):
    return client.post(url, body, content_type="application/json", headers=headers)


@pytest.fixture
def partner(scoped):
    return PartnerFactory(tenant=scoped, name="North", tier="gold")


def test_create_draft_with_rules(client, headers, scoped):
    response = post(client, LIST_URL, DRAFT, headers)

    assert response.status_code == 201
    body = response.json()
    assert (body["is_draft"], body["is_active"], body["effective_from"]) == (True, False, None)
    assert body["score_bands"] == [{"min_score": 90, "multiplier": "1.10"}]
    assert body["partner_tier_multipliers"] == {"gold": "1.20"}
    assert [(r["scope"], r["deal_kind"], r["payout_type"]) for r in body["rules"]] == [
        ("program", "renewal", "percentage"),
        ("product", "", "flat"),
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rules": [{"scope": "segment", "value": "vip", "rate": "0.1"}]}, "rules[0].value"),
        ({"score_bands": [{"min_score": 90, "multiplier": "1"}] * 2}, "score_bands[1].min_score"),
        ({"partner_tier_multipliers": {"platinum": "1"}}, "partner_tier_multipliers.platinum"),
        ({"payout_type": "flat"}, "flat_amount"),
    ],
)
def test_invalid_draft_names_the_field(client, headers, scoped, change, field):
    response = post(client, LIST_URL, {**DRAFT, **change}, headers)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["fix"]
    assert not CommissionPlan.objects.exists()


def test_update_and_delete_draft(client, headers, scoped):
    pk = post(client, LIST_URL, DRAFT, headers).json()["id"]

    updated = client.put(
        f"{LIST_URL}{pk}/",
        {**DRAFT, "base_rate": "0.2000", "rules": []},
        content_type="application/json",
        headers=headers,
    )
    deleted = client.delete(f"{LIST_URL}{pk}/", headers=headers)

    assert updated.status_code == 200
    assert (updated.json()["base_rate"], updated.json()["rules"]) == ("0.2000", [])
    assert deleted.status_code == 204
    assert not CommissionPlan.objects.exists()


def test_activate_draft_from_a_day(client, headers, scoped):
    commission_plan_activate(tenant=scoped, name="Old", base_rate=Decimal("0.1"))
    pk = post(client, LIST_URL, DRAFT, headers).json()["id"]

    response = post(client, f"{LIST_URL}{pk}/activate/", {"effective_from": "2027-01-01"}, headers)
    edit = client.put(f"{LIST_URL}{pk}/", DRAFT, content_type="application/json", headers=headers)

    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["effective_from"]) == (True, "2027-01-01")
    assert CommissionPlan.objects.get(name="Old").effective_to == datetime.date(2026, 12, 31)
    assert edit.status_code == 409
    assert "copy" in edit.json()["fix"].lower()


def test_copy_and_list(client, headers, scoped):
    pk = post(client, LIST_URL, DRAFT, headers).json()["id"]

    copy = post(client, f"{LIST_URL}{pk}/copy/", {"name": "FY27 b"}, headers)
    taken = post(client, f"{LIST_URL}{pk}/copy/", {"name": "FY27"}, headers)
    listed = client.get(LIST_URL, headers=headers).json()

    assert copy.status_code == 201
    assert len(copy.json()["rules"]) == 2
    assert taken.status_code == 409
    assert taken.json()["field"] == "name"
    assert listed["count"] == 2


def test_put_active_plan_takes_rules_and_effective_from(client, headers, scoped):
    response = client.put(
        "/api/v1/commission-plan/",
        {**DRAFT, "effective_from": "2026-01-01"},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["effective_from"]) == (True, "2026-01-01")
    assert len(response.json()["rules"]) == 2


def test_analyst_may_read_and_preview_but_not_write(analyst_client, scoped, partner):
    commission_plan_activate(tenant=scoped, name="Live", base_rate=Decimal("0.1"))

    listed = analyst_client.get(LIST_URL)
    preview = analyst_client.post(
        PREVIEW_URL, {"partner_id": partner.pk, "amount": "100.00"}, content_type="application/json"
    )
    created = analyst_client.post(LIST_URL, DRAFT, content_type="application/json")

    assert (listed.status_code, preview.status_code, created.status_code) == (200, 200, 403)


# Preview


def test_preview_described_deal_explains_each_step(client, headers, scoped, partner):
    commission_plan_activate(tenant=scoped, name="Live", base_rate=Decimal("0.1"))
    draft = post(client, LIST_URL, DRAFT, headers).json()

    response = post(
        client,
        PREVIEW_URL,
        {
            "plan_id": draft["id"],
            "partner_id": partner.pk,
            "amount": "20000.00",
            "product": "enterprise",
            "fit_tier": "A",
            "fit_score": 95,
        },
        headers,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["plan"] == {"id": draft["id"], "name": "FY27", "is_draft": True}
    assert body["partner"] == {"id": partner.pk, "name": "North"}
    price = body["price"]
    # Flat 800 × 1.50 (tier A) × 1.10 (score 95) × 1.00 (no segment) × 1.20 (gold) = 1,584.
    assert (price["rate_source"], price["amount"]) == ("product", "1584.00")
    assert price["steps"][0] == "Product rule Enterprise: a flat 800.00 per deal"
    assert price["steps"][-1] == "= 1584.00 USD"
    assert body["booked"] is None


def test_preview_stored_deal_shows_what_was_booked(
    client, headers, scoped, partner, django_capture_on_commit_callbacks
):
    commission_plan_activate(tenant=scoped, name="Live", base_rate=Decimal("0.1"))
    account = AccountFactory(tenant=scoped, domain="acme.com", fit_tier="B", fit_score=60)
    DealFactory(tenant=scoped, external_id="D1", account=account, partner=partner,
                partner_named=True, close_date=datetime.date(2026, 3, 1),
                pipeline_status=Deal.PipelineStatus.PENDING)  # fmt: skip
    from crm.pipeline import deals_process

    deals_process(tenant_id=scoped.pk)

    response = post(client, PREVIEW_URL, {"deal_external_id": "D1"}, headers)

    body = response.json()
    assert body["deal_external_id"] == "D1"
    assert body["booked"]["amount"] == body["price"]["amount"]
    assert body["price"]["rate_source"] == "default"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"amount": "10"}, 400, "partner_id"),
        ({"partner_id": 999999, "amount": "10"}, 404, "partner_id"),
        ({"deal_external_id": "nope"}, 404, "deal_external_id"),
        ({"plan_id": 999999, "deal_external_id": "x"}, 404, "id"),
    ],
)
def test_preview_errors(client, headers, scoped, body, status, field):
    response = post(client, PREVIEW_URL, body, headers)

    assert response.status_code == status
    payload = response.json()
    assert payload.get("field") == field or field in str(payload)


def test_preview_converts_other_currency(client, headers, scoped, partner):
    commission_plan_activate(tenant=scoped, name="Live", base_rate=Decimal("0.1"))
    exchange_rates_upsert(
        tenant=scoped, rows=[{"currency": "GBP", "rate_date": "2026-02-01", "rate": "1.25"}]
    )
    described = {"partner_id": partner.pk, "amount": "800.00", "fit_tier": "B"}

    response = post(
        client, PREVIEW_URL, {**described, "currency": "GBP", "close_date": "2026-02-20"}, headers
    )
    missing = post(
        client, PREVIEW_URL, {**described, "currency": "GBP", "close_date": "2026-04-20"}, headers
    )

    body = response.json()
    assert body["quote"]["rate"] == "1.25000000"
    assert (body["facts"]["amount"], body["facts"]["currency"]) == ("1000.00", "USD")
    assert body["price"]["amount"] == "100.00"
    assert missing.status_code == 404
    assert missing.json()["code"] == "missing_exchange_rate"


def test_preview_without_plan_in_force_is_a_conflict(client, headers, scoped, partner):
    response = post(
        client,
        PREVIEW_URL,
        {"partner_id": partner.pk, "amount": "10.00", "close_date": "2026-01-01"},
        headers,
    )

    assert response.status_code == 409
    assert response.json()["field"] == "close_date"


def test_preview_of_other_tenants_partner_is_404(client, headers, other_tenant):
    from tenancy.scope import tenant_scope

    with tenant_scope(other_tenant):
        foreign = PartnerFactory(tenant=other_tenant, name="Globex partner")

    response = post(client, PREVIEW_URL, {"partner_id": foreign.pk, "amount": "10"}, headers)

    assert response.status_code == 404
    assert "Globex" not in response.content.decode()


def test_minimal_draft_takes_new_plan_defaults(client, headers, scoped):
    response = post(client, LIST_URL, {"name": "Bare"}, headers)

    body = response.json()
    assert response.status_code == 201, body
    assert (body["base_rate"], body["multiplier_a"], body["multiplier_d"]) == (
        "0.1000",
        "1.50",
        "0.00",
    )
    assert (body["holding_days"], body["min_payout_amount"]) == (30, "50.00")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"surprise": 1}, "surprise"),
        ({"holding_days": -1}, "holding_days"),
        ({"min_payout_amount": "-5"}, "min_payout_amount"),
        ({"rules": [{"scope": "program", "rate": "0.1", "flat_amount": "5"}]}, "flat_amount"),
    ],
)
def test_draft_rejects_unknown_or_dropped_values(client, headers, scoped, change, field):
    response = post(client, LIST_URL, {**DRAFT, **change}, headers)

    assert response.status_code == 400
    assert field in str(response.json())
    assert not CommissionPlan.objects.exists()


def test_plan_amounts_must_fit_the_base_currency(client, headers, scoped):
    scoped.base_currency = "JPY"
    scoped.save()

    response = post(client, LIST_URL, {**DRAFT, "cap_per_deal": "99.99"}, headers)

    assert response.status_code == 400
    assert response.json()["field"] == "cap_per_deal"
    assert "JPY" in response.json()["fix"]
