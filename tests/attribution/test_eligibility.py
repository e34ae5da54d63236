"""The eligibility check: conflicts in order, what partners and staff see, and no writes."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attribution.domains import company_domain
from attribution.eligibility import eligibility_check
from attribution.models import Referral
from crm.models import Deal
from tenancy.errors import DomainError
from tests.factories import AccountFactory, DealFactory, registration_create


@pytest.fixture
def acme(scoped):
    return AccountFactory(tenant=scoped, name="Acme", domain="acme.com", fit_score=88, fit_tier="A")


def check(tenant, partner, raw="acme.com", on=None):
    return eligibility_check(tenant=tenant, domain=company_domain(raw), partner=partner, on=on)


def days_ago(tenant, days: int) -> datetime.date:
    return tenant.today() - datetime.timedelta(days=days)


def test_eligible_known_company_has_fit(scoped, acme, partner):
    result = check(scoped, partner)

    assert result.status == "eligible"
    assert result.conflict == ""
    assert result.account == acme
    assert (result.fit_tier, result.fit_score) == ("A", 88)
    assert "acme.com is eligible" in result.message
    assert "Acme is eligible" in result.staff_message


def test_unknown_company_is_eligible(scoped, partner):
    result = check(scoped, partner, "https://www.Newco.io/pricing")

    data = result.as_dict(reveal_holder=False)
    assert result.status == "eligible"
    assert data["domain"] == "newco.io"
    assert data["known_company"] is False
    assert data["fit_tier"] == ""
    assert data["fit_score"] is None
    assert "unknown company, not in the CRM" in data["message"]


def test_email_address_names_company(scoped, acme, partner):
    result = check(scoped, partner, "Jane.Doe@Acme.com")

    assert result.domain == "acme.com"
    assert result.account == acme


def test_customer_conflicts(scoped, acme, partner):
    DealFactory(tenant=scoped, account=acme, stage=Deal.Stage.WON, amount=12345)

    result = check(scoped, partner)

    assert result.status == "conflict"
    assert result.conflict == Referral.Conflict.CUSTOMER
    assert "already a customer" in result.message
    assert "12345" not in result.message


def test_churned_customer_is_eligible(scoped, acme, partner):
    DealFactory(
        tenant=scoped, account=acme, stage=Deal.Stage.WON, close_date=datetime.date(2020, 1, 1)
    )
    acme.churned_on = datetime.date(2021, 6, 30)
    acme.save()

    result = check(scoped, partner)

    assert result.status == "eligible"


def test_customer_won_again_after_churn_conflicts(scoped, acme, partner):
    DealFactory(
        tenant=scoped, account=acme, stage=Deal.Stage.WON, close_date=datetime.date(2020, 1, 1)
    )
    DealFactory(
        tenant=scoped, account=acme, stage=Deal.Stage.WON, close_date=datetime.date(2022, 1, 1)
    )
    acme.churned_on = datetime.date(2021, 6, 30)
    acme.save()

    result = check(scoped, partner)

    assert result.conflict == Referral.Conflict.CUSTOMER


def test_open_deal_conflicts_with_dates_and_no_amount(scoped, acme, partner):
    deal = DealFactory(
        tenant=scoped,
        account=acme,
        stage=Deal.Stage.OPEN,
        amount=98765,
        engage_date=datetime.date(2026, 3, 2),
        close_date=datetime.date(2026, 6, 30),
    )

    result = check(scoped, partner)

    assert result.conflict == Referral.Conflict.OPEN_DEAL
    assert "since 2026-03-02" in result.message
    assert "expected to close 2026-06-30" in result.message
    assert "98765" not in result.message
    assert result.as_dict(reveal_holder=True)["detail"]["deal_id"] == deal.pk
    assert "deal_id" not in result.as_dict(reveal_holder=False)["detail"]
    assert result.as_dict(reveal_holder=False)["detail"]["stage"] == "open"


def test_own_open_deal_is_eligible(scoped, acme, partner):
    DealFactory(
        tenant=scoped, account=acme, stage=Deal.Stage.OPEN, partner=partner, close_date=None
    )

    result = check(scoped, partner)

    assert result.status == "eligible"


def test_other_partners_open_deal_conflicts(scoped, acme, partner, rival):
    DealFactory(
        tenant=scoped,
        account=acme,
        stage=Deal.Stage.OPEN,
        partner=rival,
        partner_named=True,
        close_date=None,
    )

    result = check(scoped, partner)

    assert result.conflict == Referral.Conflict.OPEN_DEAL


def test_registered_by_other_inside_window(scoped, acme, partner, rival):
    registration_create(rival, "acme.com", days_ago(scoped, 10))

    result = check(scoped, partner)

    partner_view = result.as_dict(reveal_holder=False)
    staff_view = result.as_dict(reveal_holder=True)
    assert result.conflict == Referral.Conflict.REGISTERED
    assert "Another partner registered acme.com" in partner_view["message"]
    assert "South Agency" not in str(partner_view)
    assert "partner_id" not in partner_view["detail"]
    assert staff_view["message"].startswith("South Agency registered Acme")
    assert staff_view["detail"]["partner_id"] == rival.pk


def test_other_partners_registration_dates_hidden(scoped, acme, partner, rival):
    registration_create(rival, "acme.com", days_ago(scoped, 10))
    registered_on = days_ago(scoped, 10).isoformat()

    result = check(scoped, partner)

    partner_view = result.as_dict(reveal_holder=False)
    staff_view = result.as_dict(reveal_holder=True)
    assert registered_on not in str(partner_view)
    assert partner_view["detail"] == {}
    assert staff_view["detail"]["holder_registered_on"] == registered_on
    assert registered_on in staff_view["message"]


def test_registration_expiring_today_still_holds(scoped, acme, partner, rival):
    referral = registration_create(rival, "acme.com", days_ago(scoped, 30))
    Referral.objects.filter(pk=referral.pk).update(expires_on=scoped.today())

    result = check(scoped, partner)

    assert result.conflict == Referral.Conflict.REGISTERED


def test_expired_registration_is_eligible(scoped, acme, partner, rival):
    referral = registration_create(rival, "acme.com", days_ago(scoped, 400))
    Referral.objects.filter(pk=referral.pk).update(expires_on=days_ago(scoped, 1))

    result = check(scoped, partner)

    assert result.status == "eligible"


@pytest.mark.parametrize("status", [Referral.Status.REJECTED, Referral.Status.CONFLICT])
def test_unapproved_registration_is_eligible(scoped, acme, partner, rival, status):
    registration_create(rival, "acme.com", days_ago(scoped, 10), status=status)

    result = check(scoped, partner)

    assert result.status == "eligible"


def test_own_registration_reported_with_dates(scoped, acme, partner):
    registration_create(partner, "acme.com", datetime.date(2026, 1, 5))

    result = check(scoped, partner)

    assert result.status == "registered_by_you"
    assert result.message == (
        f"Already registered by you on 2026-01-05, expires "
        f"{datetime.date(2026, 1, 5) + datetime.timedelta(days=365):%Y-%m-%d}."
    )
    assert result.existing is not None


def test_staff_check_without_partner_sees_any_open_deal(scoped, acme, partner):
    DealFactory(
        tenant=scoped, account=acme, stage=Deal.Stage.OPEN, partner=partner, close_date=None
    )

    result = check(scoped, None)

    assert result.conflict == Referral.Conflict.OPEN_DEAL


def test_backdated_check_ignores_later_deals(scoped, acme, partner):
    DealFactory(
        tenant=scoped,
        account=acme,
        stage=Deal.Stage.WON,
        engage_date=datetime.date(2017, 3, 1),
        close_date=datetime.date(2017, 6, 1),
    )

    before = check(scoped, partner, on=datetime.date(2017, 1, 1))
    during = check(scoped, partner, on=datetime.date(2017, 4, 1))
    after = check(scoped, partner, on=datetime.date(2017, 7, 1))

    assert before.status == "eligible"
    assert during.conflict == Referral.Conflict.OPEN_DEAL
    assert after.conflict == Referral.Conflict.CUSTOMER


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("jane@gmail.com", "consumer mail provider"),
        ("yahoo.co.uk", "consumer mail provider"),
        ("localhost", "Invalid domain"),
        ("not a domain", "Invalid domain"),
        ("192.168.0.1", "Invalid domain"),
        ("", "missing"),
        ("   ", "missing"),
    ],
)
def test_invalid_company_rejected(raw, message):
    with pytest.raises(DomainError) as caught:
        company_domain(raw)

    assert caught.value.field == "domain"
    assert message in caught.value.message
    assert caught.value.fix


def test_check_writes_nothing(scoped, acme, partner, rival):
    registration_create(rival, "acme.com", days_ago(scoped, 10))
    DealFactory(tenant=scoped, account=acme, stage=Deal.Stage.OPEN, close_date=None)

    with CaptureQueriesContext(connection) as queries:
        check(scoped, partner)

    statements = [query["sql"].split()[0].upper() for query in queries]
    assert set(statements) == {"SELECT"}


def test_expired_own_registration_is_eligible_again(scoped, partner):
    AccountFactory(tenant=scoped, name="Acme", domain="acme.com", fit_score=64, fit_tier="B")
    registration_create(partner, "acme.com", scoped.today() - datetime.timedelta(days=400))

    result = eligibility_check(tenant=scoped, domain="acme.com", partner=partner)

    assert result.status == "eligible"
