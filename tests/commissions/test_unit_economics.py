"""Unit economics: expected LTV per ICP tier, partner cost shares, the share setting, pages."""

import datetime
from decimal import Decimal

import pytest

from commissions.unit_economics import (
    MIN_TIER_CUSTOMERS,
    cost_share_over_limit,
    tier_economics,
    tier_economics_from,
    unit_economics,
)
from tenancy.errors import DomainError
from tenancy.models import AuditEvent, Tenant
from tenancy.scope import tenant_scope
from tenancy.services import tenant_max_commission_share_set
from tests.commissions.unit_economics_data import customer, ledger_entry, two_tenants_build
from tests.factories import DealFactory, PartnerFactory

CLOSED = datetime.date(2024, 1, 1)


def test_tier_formula_on_hand_built_deals(scoped):
    # Five tier A customers worth 1000, 2000, 3000, 4000 and 5000; one churns after 100 days.
    for index, amount in enumerate(["1000.00", "2000.00", "3000.00", "4000.00", "5000.00"]):
        customer(scoped, "A", amount, churned_after_days=100 if index == 0 else None)
    account, _ = customer(scoped, "B", "10.00")
    # A second won deal adds to the first customer's value but not to the count.
    DealFactory(
        tenant=scoped,
        account=account,
        amount=Decimal("5.00"),
        close_date=CLOSED + datetime.timedelta(days=30),
        won_fit_tier="A",
    )

    tiers = {row.tier: row for row in tier_economics(tenant_id=scoped.pk)}

    assert tiers["A"].customers == 5
    assert tiers["A"].average_value == Decimal("3000.00")
    assert tiers["A"].churned_customers == 1
    assert tiers["A"].churn_rate == Decimal("0.2000")
    assert tiers["A"].expected_lifetime_years == Decimal("5.0000")
    assert tiers["A"].expected_lifetime_value == Decimal("15000.00")
    assert tiers["B"].customers == 1
    assert tiers["B"].average_value == Decimal("15.00")


def test_tier_lifetime_below_cap():
    tier = tier_economics_from(tier="C", customers=8, total_value=Decimal("8000"), churned=4)

    assert tier.churn_rate == Decimal("0.5000")
    assert tier.expected_lifetime_years == Decimal("2.0000")
    assert tier.expected_lifetime_value == Decimal("2000.00")


def test_tier_lifetime_cap_without_churn():
    tier = tier_economics_from(tier="A", customers=10, total_value=Decimal("1234.56"), churned=0)

    assert tier.expected_lifetime_years == Decimal("5.0000")
    assert tier.expected_lifetime_value == Decimal("617.28")


def test_tier_lifetime_cap_with_low_churn():
    # 1 / (1/20) = 20 years, capped at 5.
    tier = tier_economics_from(tier="A", customers=20, total_value=Decimal("2000"), churned=1)

    assert tier.expected_lifetime_years == Decimal("5.0000")
    assert tier.expected_lifetime_value == Decimal("500.00")


def test_tier_minimum_data_rule():
    below = tier_economics_from(
        tier="D", customers=MIN_TIER_CUSTOMERS - 1, total_value=Decimal("400"), churned=1
    )
    at = tier_economics_from(
        tier="D", customers=MIN_TIER_CUSTOMERS, total_value=Decimal("500"), churned=1
    )

    assert below.enough_data is False
    assert below.churn_rate is None
    assert below.expected_lifetime_value is None
    assert below.average_value == Decimal("100.00")
    assert at.enough_data is True
    assert at.expected_lifetime_value == Decimal("500.00")


def test_churn_window_boundary(scoped):
    customer(scoped, "A", "100.00", churned_after_days=365)
    customer(scoped, "A", "100.00", churned_after_days=366)
    customer(scoped, "A", "100.00", churned_after_days=-3)
    for _ in range(2):
        customer(scoped, "A", "100.00")

    tier = tier_economics(tenant_id=scoped.pk)[0]

    assert tier.customers == 5
    assert tier.churned_customers == 2
    assert tier.churn_rate == Decimal("0.4000")
    assert tier.expected_lifetime_years == Decimal("2.5000")
    assert tier.expected_lifetime_value == Decimal("250.00")


def test_partner_sums_with_reversal_and_void(scoped):
    north = PartnerFactory(tenant=scoped, name="North")
    south = PartnerFactory(tenant=scoped, name="South")
    deals = [customer(scoped, "A", "1000.00", partner=north)[1] for _ in range(3)]
    for _ in range(2):
        customer(scoped, "A", "1000.00")
    # Tier B has one customer only, so it has no estimate.
    _, b_deal = customer(scoped, "B", "500.00", partner=south)
    ledger_entry(north, deals[0], "n-1", "900.00")
    ledger_entry(north, deals[1], "n-2", "800.00")
    ledger_entry(north, deals[0], "n-3", "-200.00", kind="reversal")
    ledger_entry(north, deals[2], "n-4", "5000.00", status="void")
    ledger_entry(south, b_deal, "s-1", "50.00")

    economics = unit_economics(tenant=Tenant.objects.get(pk=scoped.pk))
    rows = {row.partner_name: row for row in economics.partners}

    # Tier A: 5 customers, average 1000, no churn, so expected LTV 5 × 1000 = 5000.
    assert rows["North"].customers == 3
    assert rows["North"].expected_lifetime_value == Decimal("15000.00")
    assert rows["North"].commission_cost == Decimal("1500.00")
    assert rows["North"].cost_share == Decimal("0.1000")
    assert rows["North"].over_limit is False
    assert rows["South"].customers == 1
    assert rows["South"].customers_without_estimate == 1
    assert rows["South"].expected_lifetime_value == Decimal("0")
    assert rows["South"].cost_share is None
    assert [row.partner_name for row in economics.partners] == ["North", "South"]


def test_partners_sorted_by_share(scoped):
    low = PartnerFactory(tenant=scoped, name="Low")
    high = PartnerFactory(tenant=scoped, name="High")
    _, low_deal = customer(scoped, "A", "1000.00", partner=low)
    _, high_deal = customer(scoped, "A", "1000.00", partner=high)
    for _ in range(3):
        customer(scoped, "A", "1000.00")
    ledger_entry(low, low_deal, "l-1", "100.00")
    ledger_entry(high, high_deal, "h-1", "1600.00")

    economics = unit_economics(tenant=Tenant.objects.get(pk=scoped.pk))

    assert [row.partner_name for row in economics.partners] == ["High", "Low"]
    assert economics.partners[0].cost_share == Decimal("0.3200")
    assert economics.partners[0].over_limit is True


def test_warning_threshold_boundary():
    limit = Decimal("0.3000")

    assert cost_share_over_limit(Decimal("0.3000"), limit) is False
    assert cost_share_over_limit(Decimal("0.3001"), limit) is True
    assert cost_share_over_limit(None, limit) is False


def test_partner_at_limit_is_not_over(scoped):
    partner = PartnerFactory(tenant=scoped, name="Even")
    _, deal = customer(scoped, "A", "1000.00", partner=partner)
    for _ in range(4):
        customer(scoped, "A", "1000.00")
    ledger_entry(partner, deal, "e-1", "1500.00")

    row = unit_economics(tenant=Tenant.objects.get(pk=scoped.pk)).partners[0]

    assert row.cost_share == Decimal("0.3000")
    assert row.over_limit is False


@pytest.mark.parametrize("share", [Decimal("-0.01"), Decimal("1.0001"), Decimal("0.12345"), "0.3"])
def test_share_setting_rejects_invalid(tenant, share):
    with pytest.raises(DomainError) as raised:
        tenant_max_commission_share_set(tenant=tenant, share=share)

    assert raised.value.field == "max_commission_share"
    tenant.refresh_from_db()
    assert tenant.max_commission_share == Decimal("0.3000")


def test_share_setting_audited(tenant, admin_user):
    tenant_max_commission_share_set(tenant=tenant, share=Decimal("0.25"), actor=admin_user)
    tenant_max_commission_share_set(tenant=tenant, share=Decimal("0.2500"), actor=admin_user)

    tenant.refresh_from_db()
    assert tenant.max_commission_share == Decimal("0.2500")
    with tenant_scope(tenant):
        events = list(AuditEvent.objects.filter(event="tenant.max_commission_share_set"))
    assert len(events) == 1
    assert events[0].before == {"max_commission_share": "0.3000"}
    assert events[0].after == {"max_commission_share": "0.2500"}


def test_settings_page_saves_share(staff_client, tenant):
    response = staff_client.post(
        "/settings/max-commission-share/", {"max_commission_share": "0.45"}
    )

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.max_commission_share == Decimal("0.4500")


@pytest.mark.parametrize("raw", ["abc", "1.5"])
def test_settings_page_names_invalid_field(staff_client, tenant, raw):
    response = staff_client.post("/settings/max-commission-share/", {"max_commission_share": raw})

    assert response.status_code == 400
    assert "max_commission_share" in response.context["share_form"].errors
    tenant.refresh_from_db()
    assert tenant.max_commission_share == Decimal("0.3000")


def test_settings_share_needs_admin(client, tenant):
    from tenancy.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username="analyst-acme")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.ANALYST)
    client.force_login(user)

    response = client.post("/settings/max-commission-share/", {"max_commission_share": "0.5"})

    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.max_commission_share == Decimal("0.3000")


@pytest.fixture
def two_tenants(tenant, other_tenant):
    return two_tenants_build(tenant, other_tenant)


def test_page_shows_only_own_tenant(staff_client, two_tenants):
    ours, theirs = two_tenants

    response = staff_client.get("/ledger/unit-economics/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme Reseller" in body
    assert "Over limit" in body
    assert "Globex Secret Partner" not in body
    assert "99,999" not in body


def test_partner_page_warns_over_limit(staff_client, two_tenants):
    ours, theirs = two_tenants

    response = staff_client.get(f"/partners/{ours.pk}/")
    other = staff_client.get(f"/partners/{theirs.pk}/")

    assert response.status_code == 200
    assert "over the limit of 0.3000" in response.content.decode()
    assert other.status_code == 404
