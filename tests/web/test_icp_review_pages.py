"""The ICP review page, the review banner and the review interval on the settings page."""

from __future__ import annotations

import datetime

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from icp.models import IcpVersion
from tenancy.models import AuditEvent, Membership
from tenancy.scope import tenant_scope
from tests.factories import MembershipFactory, PartnerFactory, UserFactory
from tests.icp.drift_data import active_version, drifting_tenant

BANNER = "review-banner"


def _days(tenant, days: int) -> datetime.date:
    return tenant.today() + datetime.timedelta(days=days)


@pytest.fixture
def overdue(tenant):
    return active_version(tenant, review_due_on=_days(tenant, -10))


@pytest.mark.parametrize("url_name", ["reporting:dashboard", "icp:version_list"])
def test_banner_shown_when_overdue(staff_client, overdue, url_name):
    content = staff_client.get(reverse(url_name)).content.decode()

    assert BANNER in content
    assert "The ICP review is overdue" in content
    assert reverse("icp:review") in content


def test_banner_shown_on_version_detail(analyst_client, overdue):
    url = reverse("icp:version_detail", args=[overdue.pk])

    assert BANNER in analyst_client.get(url).content.decode()


def test_banner_shown_when_upcoming(staff_client, tenant):
    active_version(tenant, review_due_on=_days(tenant, 10))

    content = staff_client.get(reverse("reporting:dashboard")).content.decode()

    assert "The ICP review is due in" in content


def test_banner_hidden_when_far_off(staff_client, tenant):
    active_version(tenant, review_due_on=_days(tenant, 30))

    content = staff_client.get(reverse("reporting:dashboard")).content.decode()

    assert BANNER not in content


def test_banner_hidden_without_active_version(staff_client, tenant):
    assert BANNER not in staff_client.get(reverse("reporting:dashboard")).content.decode()


def test_banner_hidden_for_partner_user(tenant, overdue):
    with tenant_scope(tenant):
        partner = PartnerFactory()
    membership = MembershipFactory(
        tenant=tenant, user=UserFactory(username="partner-x"), role="partner", partner=partner
    )
    request = RequestFactory().get("/")
    request.tenant, request.membership = tenant, membership

    html = Template("{% load icp_review %}{% icp_review_banner %}").render(
        Context({"request": request})
    )

    assert BANNER not in html
    membership.role = Membership.Role.ANALYST
    membership.partner = None
    html = Template("{% load icp_review %}{% icp_review_banner %}").render(
        Context({"request": request})
    )
    assert BANNER in html


def test_review_page_without_active_version(staff_client, tenant):
    content = staff_client.get(reverse("icp:review")).content.decode()

    assert "No ICP version is active" in content
    assert "Complete review" not in content


def test_review_page_shows_status_and_drift(staff_client, tenant):
    drift = drifting_tenant(tenant)
    with tenant_scope(tenant):
        drift.version.review_due_on = _days(tenant, -10)
        drift.version.save(update_fields=["review_due_on"])

    content = staff_client.get(reverse("icp:review")).content.decode()

    assert "overdue by" in content
    assert "Complete review" in content
    assert "Healthcare" in content
    assert "Industry: fintech" in content
    assert "Create a draft from these findings" in content
    assert BANNER not in content


def test_review_page_read_only_for_analyst(analyst_client, overdue):
    content = analyst_client.get(reverse("icp:review")).content.decode()

    assert "Your role can read the review but not complete it" in content
    assert 'action="/icp/review/complete/"' not in content


def test_review_page_says_too_few_wins(staff_client, tenant):
    active_version(tenant, review_due_on=_days(tenant, -1))

    content = staff_client.get(reverse("icp:review")).content.decode()

    assert "Only 0 won deals closed since 2024-01-01" in content
    assert "Drafting needs at least 20 won deals" in content


def test_complete_review_from_page(manager_client, tenant, overdue):
    response = manager_client.post(
        reverse("icp:review_complete"), {"version": overdue.pk, "note": "Checked the segments."}
    )

    assert response.status_code == 302
    with tenant_scope(tenant):
        overdue.refresh_from_db()
        event = AuditEvent.objects.get(event="icp_version.reviewed")
    assert overdue.review_due_on == tenant.today() + datetime.timedelta(days=90)
    assert event.after["note"] == "Checked the segments."
    page = manager_client.get(reverse("icp:review")).content.decode()
    assert "Checked the segments." in page


def test_complete_review_rejects_long_note_next_to_field(staff_client, overdue):
    response = staff_client.post(
        reverse("icp:review_complete"), {"version": overdue.pk, "note": "x" * 2001}
    )

    assert response.status_code == 400
    assert 'id="id_note_error"' in response.content.decode()


def test_complete_review_of_retired_version_conflicts(staff_client, tenant, overdue):
    with tenant_scope(tenant):
        retired = IcpVersion.objects.create(
            number=5, name="Old", status="retired", provenance="manual", criteria=[]
        )

    response = staff_client.post(reverse("icp:review_complete"), {"version": retired.pk})

    assert response.status_code == 409
    assert "only the active version is reviewed" in response.content.decode()


@pytest.mark.parametrize("url_name", ["icp:review_complete", "icp:drift_draft"])
def test_analyst_cannot_post(analyst_client, overdue, url_name):
    response = analyst_client.post(reverse(url_name), {"version": overdue.pk})

    assert response.status_code == 403


def test_create_draft_from_page(staff_client, tenant):
    drifting_tenant(tenant)

    response = staff_client.post(reverse("icp:drift_draft"))
    again = staff_client.post(reverse("icp:drift_draft"))

    with tenant_scope(tenant):
        draft = IcpVersion.objects.get(provenance="drift")
    assert response["Location"] == reverse("icp:version_detail", args=[draft.pk])
    assert again["Location"] == response["Location"]


def test_create_draft_with_too_few_wins_explains(staff_client, overdue):
    response = staff_client.post(reverse("icp:drift_draft"))

    assert response.status_code == 409
    assert "fewer than the 20 a draft from drift needs" in response.content.decode()


def test_review_page_never_shows_other_tenant(staff_client, tenant, other_tenant):
    active_version(tenant, name="Acme profile", review_due_on=_days(tenant, -3))
    other = drifting_tenant(other_tenant)

    content = staff_client.get(reverse("icp:review")).content.decode()
    response = staff_client.post(reverse("icp:review_complete"), {"version": other.version.pk})

    assert "Acme profile" in content
    assert "Healthcare" not in content
    assert "Large software and fintech" not in content
    assert response.status_code == 404
    with tenant_scope(other_tenant):
        other.version.refresh_from_db()
    assert other.version.reviewed_at is None


def test_settings_form_shown_to_admin_only(staff_client, analyst_client):
    assert (
        'name="icp_review_days"' in staff_client.get(reverse("tenancy:settings")).content.decode()
    )
    analyst_page = analyst_client.get(reverse("tenancy:settings")).content.decode()
    assert 'name="icp_review_days"' not in analyst_page
    assert "Only admins can change how often the ICP is reviewed." in analyst_page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5", "ICP review interval 5 days is outside 7 to 730 days."),
        ("731", "ICP review interval 731 days is outside 7 to 730 days."),
        ("abc", "&#x27;abc&#x27; is not a whole number of days."),
        ("", "This field is required."),
    ],
)
def test_settings_rejects_interval_next_to_field(staff_client, tenant, value, message):
    response = staff_client.post(
        reverse("tenancy:icp_review_days_update"), {"icp_review_days": value}
    )
    content = response.content.decode()

    assert response.status_code == 400
    error_start = content.index('id="id_icp_review_days_error"')
    assert message in content[error_start : error_start + 300]
    tenant.refresh_from_db()
    assert tenant.icp_review_days == 90


def test_settings_saves_interval(staff_client, tenant):
    response = staff_client.post(
        reverse("tenancy:icp_review_days_update"), {"icp_review_days": "120"}
    )

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.icp_review_days == 120
    with tenant_scope(tenant):
        assert AuditEvent.objects.filter(event="tenant.icp_review_days_set").count() == 1


@pytest.mark.parametrize("role", [Membership.Role.ANALYST, Membership.Role.PARTNER_MANAGER])
def test_settings_interval_admin_only(login_as, tenant, role):
    client = login_as(role)

    response = client.post(reverse("tenancy:icp_review_days_update"), {"icp_review_days": "60"})

    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.icp_review_days == 90
