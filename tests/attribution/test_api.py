"""The registrations, links and settings API for staff, and the portal API for partner users."""

from __future__ import annotations

import pytest

from attribution import portal_check
from attribution.clicks import clicks_drain
from attribution.links import link_create
from attribution.models import Referral
from attribution.referrals import referral_register
from tenancy.models import AuditEvent
from tests.factories import AccountFactory, ReachEntryFactory, registration_create


def post(client, url, body, headers=None):
    return client.post(url, body, content_type="application/json", headers=headers or {})


@pytest.fixture
def acme(scoped):
    return AccountFactory(tenant=scoped, name="Acme", domain="acme.com", fit_score=91, fit_tier="A")


@pytest.fixture
def registrations(acme, partner, rival):
    rival_registration, _ = referral_register(
        partner=rival, company="acme.com", source=Referral.Source.API
    )
    conflict, _ = referral_register(partner=partner, company="acme.com", source=Referral.Source.API)
    own, _ = referral_register(partner=partner, company="newco.io", source=Referral.Source.API)
    return {"rival": rival_registration, "conflict": conflict, "own": own}


# Staff and API keys


def test_list_filters(client, headers, registrations, partner):
    base = "/api/v1/referrals/"

    everything = client.get(base, headers=headers).json()
    conflicts = client.get(f"{base}?status=conflict", headers=headers).json()
    by_partner = client.get(f"{base}?partner={partner.pk}", headers=headers).json()
    by_domain = client.get(f"{base}?domain=https://www.acme.com/", headers=headers).json()
    registered = client.get(f"{base}?conflict=registered", headers=headers).json()

    assert everything["count"] == 3
    assert [row["id"] for row in conflicts["results"]] == [registrations["conflict"].pk]
    assert {row["id"] for row in by_partner["results"]} == {
        registrations["conflict"].pk,
        registrations["own"].pk,
    }
    assert by_domain["count"] == 2
    assert registered["count"] == 1


def test_list_rejects_unknown_status(client, headers, scoped):
    response = client.get("/api/v1/referrals/?status=maybe", headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"


def test_detail_names_holder_for_staff(client, headers, registrations, rival):
    response = client.get(f"/api/v1/referrals/{registrations['conflict'].pk}/", headers=headers)

    data = response.json()
    assert response.status_code == 200
    assert data["conflict"] == "registered"
    assert data["conflict_message"].startswith("South Agency registered Acme")
    assert data["conflict_detail"]["partner_id"] == rival.pk
    assert data["fit_tier"] == "A"


def test_post_takes_email_and_details(client, headers, acme, partner):
    body = {
        "partner_external_id": "p-north",
        "email": "cfo@acme.com",
        "company_name": "Acme Inc",
        "contact_email": "cfo@acme.com",
        "notes": "Warm intro",
    }

    response = post(client, "/api/v1/referrals/", body, headers)

    assert response.status_code == 201
    assert response.json()["domain"] == "acme.com"
    assert response.json()["company_name"] == "Acme Inc"
    assert response.json()["notes"] == "Warm intro"


def test_post_rejects_personal_email(client, headers, partner):
    response = post(
        client,
        "/api/v1/referrals/",
        {"partner_external_id": "p-north", "email": "jane@gmail.com"},
        headers,
    )

    assert response.status_code == 400
    assert response.json()["field"] == "email"
    assert "consumer mail provider" in response.json()["message"]


def test_approve_and_reject(client, headers, registrations, acme):
    conflict = registrations["conflict"]
    url = f"/api/v1/referrals/{conflict.pk}/"

    approved = post(client, f"{url}approve/", {"note": "Joint meeting on file"}, headers)
    rejected = post(client, f"{url}reject/", {"note": "Changed our mind"}, headers)

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["review_note"] == "Joint meeting on file"
    assert rejected.json()["status"] == "rejected"
    events = AuditEvent.objects.filter(object_id=str(conflict.pk)).values_list("event", flat=True)
    assert sorted(events) == ["referral.approved", "referral.registered", "referral.rejected"]
    actor_labels = set(
        AuditEvent.objects.filter(event="referral.approved").values_list("actor_label", flat=True)
    )
    assert all(label.startswith("api-key:") for label in actor_labels)


def test_review_needs_note(client, headers, registrations):
    response = post(
        client, f"/api/v1/referrals/{registrations['conflict'].pk}/approve/", {}, headers
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "note"


def test_analyst_cannot_review(analyst_client, registrations):
    response = post(
        analyst_client, f"/api/v1/referrals/{registrations['conflict'].pk}/approve/", {"note": "x"}
    )

    assert response.status_code == 403


def test_staff_check(client, headers, registrations, partner, rival):
    response = client.get(
        f"/api/v1/referrals/check/?domain=acme.com&partner={rival.pk}", headers=headers
    )
    anyone = client.get("/api/v1/referrals/check/?domain=www.acme.com", headers=headers)

    assert response.json()["status"] == "registered_by_you"
    assert anyone.json()["conflict"] == "registered"
    assert anyone.json()["detail"]["partner_name"] == "South Agency"
    assert anyone.json()["fit_score"] == 91


@pytest.mark.parametrize(
    ("query", "field"),
    [("domain=gmail.com", "domain"), ("domain=acme.com&partner=999999", "partner"), ("", "domain")],
)
def test_staff_check_errors(client, headers, scoped, query, field):
    response = client.get(f"/api/v1/referrals/check/?{query}", headers=headers)

    data = response.json()
    assert response.status_code == 400
    assert (data.get("field") or data["errors"][0]["field"]) == field


def test_links_create_list_deactivate(client, headers, link_hosts, partner):
    created = post(
        client,
        "/api/v1/links/",
        {
            "partner_external_id": "p-north",
            "label": "Blog",
            "destination": "https://acme-analytics.com/",
        },
        headers,
    )
    link = created.json()
    client.get(f"/r/{link['code']}")
    client.get(f"/r/{link['code']}")
    clicks_drain()

    listed = client.get(f"/api/v1/links/?partner={partner.pk}", headers=headers).json()
    deactivated = post(client, f"/api/v1/links/{link['id']}/deactivate/", {}, headers)
    active = client.get("/api/v1/links/?active=true", headers=headers).json()

    assert created.status_code == 201
    assert link["url"] == f"http://testserver/r/{link['code']}"
    assert link["partner"]["external_id"] == "p-north"
    assert listed["results"][0]["click_count"] == 2
    assert deactivated.json()["is_active"] is False
    assert active["count"] == 0


def test_link_destination_error(client, headers, link_hosts, partner):
    response = post(
        client,
        "/api/v1/links/",
        {"partner_external_id": "p-north", "destination": "javascript:alert(1)"},
        headers,
    )

    assert response.status_code == 400
    assert response.json()["field"] == "destination"
    assert response.json()["value"] == "javascript:alert(1)"


def test_settings_get_and_put(client, headers, scoped, django_capture_on_commit_callbacks):
    url = "/api/v1/settings/attribution/"

    before = client.get(url, headers=headers).json()
    with django_capture_on_commit_callbacks(execute=True):
        put = client.put(
            url,
            {"attribution_touch": "last", "link_domains": ["Acme.com"]},
            content_type="application/json",
            headers=headers,
        )

    assert before == {
        "attribution_window_days": 365,
        "attribution_touch": "first",
        "link_domains": [],
    }
    assert put.status_code == 200
    assert put.json() == {
        "attribution_window_days": 365,
        "attribution_touch": "last",
        "link_domains": ["acme.com"],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"attribution_window_days": 0}, "attribution_window_days"),
        ({"attribution_window_days": 2000}, "attribution_window_days"),
        ({"attribution_window_days": "soon"}, "attribution_window_days"),
        ({"attribution_touch": "middle"}, "attribution_touch"),
        ({"link_domains": ["not a host"]}, "link_domains"),
    ],
)
def test_settings_put_errors(client, headers, scoped, body, field):
    response = client.put(
        "/api/v1/settings/attribution/", body, content_type="application/json", headers=headers
    )

    data = response.json()
    assert response.status_code == 400
    assert (data.get("field") or data["errors"][0]["field"]) == field
    scoped.refresh_from_db()
    assert scoped.attribution_window_days == 365


def test_analyst_reads_but_cannot_change_settings(analyst_client, scoped):
    url = "/api/v1/settings/attribution/"

    assert analyst_client.get(url).status_code == 200
    response = analyst_client.put(
        url, {"attribution_touch": "last"}, content_type="application/json"
    )

    assert response.status_code == 403


# The portal


def test_portal_lists_only_own_registrations(client, partner_user, registrations):
    client.force_login(partner_user)

    data = client.get("/api/v1/portal/referrals/").json()

    assert {row["id"] for row in data["results"]} == {
        registrations["conflict"].pk,
        registrations["own"].pk,
    }
    conflict = next(row for row in data["results"] if row["id"] == registrations["conflict"].pk)
    assert "partner" not in conflict
    assert "South Agency" not in str(conflict)
    assert "partner_id" not in conflict["conflict_detail"]
    assert conflict["conflict_message"].startswith("Another partner registered acme.com")


def test_portal_registers_for_own_partner(client, partner_user, acme, partner):
    client.force_login(partner_user)

    first = post(client, "/api/v1/portal/referrals/", {"domain": "acme.com", "notes": "Intro"})
    again = post(client, "/api/v1/portal/referrals/", {"url": "https://acme.com/about"})

    assert first.status_code == 201
    assert first.json()["status"] == "approved"
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Referral.objects.get().partner == partner
    assert Referral.objects.get().source == Referral.Source.PORTAL


def test_portal_cannot_register_for_another_partner(client, partner_user, acme, partner, rival):
    client.force_login(partner_user)

    post(
        client,
        "/api/v1/portal/referrals/",
        {"domain": "acme.com", "partner_external_id": "p-south", "partner": rival.pk},
    )

    assert Referral.objects.get().partner == partner


def test_portal_check_hides_holder(client, partner_user, acme, rival):
    registration_create(rival, "acme.com", acme.tenant.today())
    client.force_login(partner_user)

    data = client.get("/api/v1/portal/referrals/check/?domain=jane@acme.com").json()

    assert data["conflict"] == "registered"
    assert data["fit_tier"] == "A"
    assert "South Agency" not in str(data)
    assert "partner_id" not in data["detail"]
    assert "referral_id" not in data["detail"]


def test_portal_check_rejects_free_mail(client, partner_user):
    client.force_login(partner_user)

    response = client.get("/api/v1/portal/referrals/check/?domain=jane@gmail.com")

    assert response.status_code == 400
    assert response.json()["field"] == "domain"


def test_portal_links_are_own(client, partner_user, link_hosts, partner, rival):
    link_create(partner=rival, destination="https://acme-analytics.com/")
    client.force_login(partner_user)

    created = post(
        client,
        "/api/v1/portal/links/",
        {"destination": "https://acme-analytics.com/x", "label": "Mail"},
    )
    listed = client.get("/api/v1/portal/links/").json()

    assert created.status_code == 201
    assert "partner" not in created.json()
    assert [row["id"] for row in listed["results"]] == [created.json()["id"]]


@pytest.mark.parametrize(
    "url", ["/api/v1/portal/referrals/", "/api/v1/portal/links/", "/api/v1/portal/referrals/check/"]
)
def test_portal_rejects_staff_and_keys(client, staff_client, headers, url):
    assert staff_client.get(url).status_code == 403
    client.logout()
    assert client.get(url, headers=headers).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/referrals/",
        "/api/v1/links/",
        "/api/v1/settings/attribution/",
        "/api/v1/referrals/check/?domain=acme.com",
    ],
)
def test_staff_endpoints_reject_partner_users(client, partner_user, url):
    client.force_login(partner_user)

    assert client.get(url).status_code == 403


def test_lists_are_per_tenant(client, other_headers, registrations, link_hosts, partner):
    link_create(partner=partner, destination="https://acme-analytics.com/")

    referrals = client.get("/api/v1/referrals/", headers=other_headers).json()
    links = client.get("/api/v1/links/", headers=other_headers).json()

    assert referrals["count"] == 0
    assert links["count"] == 0


CHECK_URL = "/api/v1/portal/referrals/check/?domain=acme.com"


@pytest.mark.parametrize(
    ("level", "in_reach", "name", "score"),
    [
        ("counts", True, "", None),
        ("names", False, "", None),
        ("names", True, "Acme", None),
        ("details", False, "", 91),
        ("details", True, "Acme", 91),
    ],
)
def test_portal_check_follows_visibility(
    client, partner_user, partner, acme, level, in_reach, name, score
):
    partner.mapping_visibility = level
    partner.save()
    if in_reach:
        ReachEntryFactory(partner=partner, domain="acme.com", account=acme)
    client.force_login(partner_user)

    data = client.get(CHECK_URL).json()

    assert data["fit_tier"] == "A"
    assert data["account_id"] is None
    assert data["account_name"] == name
    assert data["fit_score"] == score


def test_portal_check_rate_limited(client, partner_user, acme, monkeypatch):
    monkeypatch.setattr(portal_check, "CHECKS_PER_HOUR", 3)
    client.force_login(partner_user)

    statuses = [client.get(CHECK_URL).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize(("level", "score"), [("names", None), ("details", 91)])
def test_portal_registration_hides_crm_data(client, partner_user, partner, acme, level, score):
    partner.mapping_visibility = level
    partner.save()
    client.force_login(partner_user)

    created = post(client, "/api/v1/portal/referrals/", {"domain": "acme.com"}).json()
    listed = client.get("/api/v1/portal/referrals/").json()["results"][0]

    for body in (created, listed):
        assert body["company_name"] == ""
        assert body["fit_tier"] == "A"
        assert body["fit_score"] == score
    assert "Acme" not in str(created)
    assert "Acme" not in client.get(CHECK_URL).content.decode()


def test_portal_registrations_share_check_limit(client, partner_user, acme, monkeypatch):
    monkeypatch.setattr(portal_check, "CHECKS_PER_HOUR", 2)
    client.force_login(partner_user)

    first = client.get(CHECK_URL)
    second = post(client, "/api/v1/portal/referrals/", {"domain": "acme.com"})
    third = post(client, "/api/v1/portal/referrals/", {"domain": "globex.com"})

    assert (first.status_code, second.status_code, third.status_code) == (200, 201, 429)
    assert Referral.objects.count() == 1
