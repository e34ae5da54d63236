"""MDF over the API and the pages: staff steps, the partner portal, isolation, uploads."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from commissions.mdf_models import MdfBudget, MdfClaim, MdfProof, MdfRequest
from tenancy.models import AuditEvent, Membership
from tenancy.scope import tenant_scope
from tests.factories import (
    AccountFactory,
    DealFactory,
    MembershipFactory,
    PartnerFactory,
    UserFactory,
)

PDF = b"%PDF-1.4\n% invoice\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.fixture
def world(tenant):
    """Two partners with won tier A deals, and a partner user for each."""
    with tenant_scope(tenant):
        north = PartnerFactory(tenant=tenant, name="Northwind")
        south = PartnerFactory(tenant=tenant, name="Southwind")
        for partner, amount in ((north, "3000.00"), (south, "1000.00")):
            DealFactory(
                tenant=tenant,
                account=AccountFactory(tenant=tenant),
                partner=partner,
                amount=Decimal(amount),
                won_fit_tier="A",
                close_date=datetime.date(2026, 3, 1),
            )
    users = {}
    for partner in (north, south):
        user = UserFactory(username=f"{partner.name.lower()}-user")
        MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER, partner=partner)
        users[partner.name] = user
    return north, south, users


def portal_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def budget_allocate(client, headers, amount="1000.00") -> int:
    response = client.post(
        "/api/v1/mdf/budgets/",
        {"period": "2026-Q3", "amount": amount},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code in (200, 201), response.json()
    pk = response.json()["id"]
    allocated = client.post(f"/api/v1/mdf/budgets/{pk}/allocate/", headers=headers)
    assert allocated.status_code == 200, allocated.json()
    return pk


REQUEST = {
    "period": "2026-Q3",
    "idempotency_key": "webinar-1",
    "title": "Joint webinar",
    "activity_type": "event",
    "planned_start": "2026-08-01",
    "planned_end": "2026-08-01",
    "requested_amount": "300.00",
}


def portal_request(client, **values):
    return client.post(
        "/api/v1/portal/mdf/requests/", {**REQUEST, **values}, content_type="application/json"
    )


def test_budget_and_allocation_api(client, headers, world):
    north, south, _ = world
    pk = budget_allocate(client, headers)

    detail = client.get(f"/api/v1/mdf/budgets/{pk}/", headers=headers).json()

    amounts = {row["partner"]["name"]: row["amount"] for row in detail["allocations"]}
    assert amounts == {"Northwind": "750.00", "Southwind": "250.00"}
    assert detail["status"] == "allocated"
    assert detail["weight_a"] == "1.000"
    assert detail["allocations"][0]["share"] == "0.7500000000"
    assert detail["excluded_deal_count"] == 0


def test_budget_upsert_is_idempotent(client, headers, world):
    body = {"period": "2026-Q3", "amount": "100.00"}
    first = client.post(
        "/api/v1/mdf/budgets/", body, content_type="application/json", headers=headers
    )
    again = client.post(
        "/api/v1/mdf/budgets/", body, content_type="application/json", headers=headers
    )

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


def test_budget_bad_period_names_field(client, headers):
    response = client.post(
        "/api/v1/mdf/budgets/",
        {"period": "2026-Q9", "amount": "100.00"},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 400
    assert response.json()["field"] == "period"


def test_analyst_reads_but_cannot_write(analyst_client, client, headers, world):
    pk = budget_allocate(client, headers)

    assert analyst_client.get(f"/api/v1/mdf/budgets/{pk}/").status_code == 200
    assert analyst_client.post(f"/api/v1/mdf/budgets/{pk}/allocate/").status_code == 403
    assert (
        analyst_client.get(reverse("commissions:mdf_budget_detail", args=[pk])).status_code == 200
    )
    page = analyst_client.post(reverse("commissions:mdf_budget_allocate", args=[pk]))
    assert page.status_code == 403


def test_portal_request_flow_through_reimbursement(client, headers, world, tenant):
    north, _, users = world
    budget_allocate(client, headers)
    partner = portal_client(users["Northwind"])

    created = portal_request(partner)
    retried = portal_request(partner)

    assert created.status_code == 201, created.json()
    assert retried.status_code == 200
    assert retried.json()["id"] == created.json()["id"]
    pk = created.json()["id"]

    approved = client.post(
        f"/api/v1/mdf/requests/{pk}/approve/",
        {"approved_amount": "250.00"},
        content_type="application/json",
        headers=headers,
    )
    assert approved.status_code == 200, approved.json()
    assert approved.json()["approved_amount"] == "250.00"

    claimed = partner.post(
        f"/api/v1/portal/mdf/requests/{pk}/claim/",
        {"claimed_amount": "240.00", "files": [SimpleUploadedFile("invoice.pdf", PDF)]},
    )
    assert claimed.status_code == 201, claimed.json()
    proof_id = claimed.json()["claim"]["proofs"][0]["id"]

    accepted = client.post(
        f"/api/v1/mdf/requests/{pk}/claim/accept/",
        {},
        content_type="application/json",
        headers=headers,
    )
    assert accepted.json()["claim"]["reimbursed_amount"] == "240.00"
    paid = client.post(
        f"/api/v1/mdf/requests/{pk}/claim/reimburse/",
        {"payment_reference": "TR-42"},
        content_type="application/json",
        headers=headers,
    )
    assert paid.json()["claim"]["status"] == "reimbursed"

    [own] = partner.get("/api/v1/portal/mdf/allocations/").json()["results"]
    assert own["partner"]["name"] == "Northwind"
    assert own["committed"] == "240.00"
    assert own["reimbursed"] == "240.00"
    assert own["remaining"] == "510.00"

    download = partner.get(f"/api/v1/portal/mdf/proofs/{proof_id}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    staff_download = client.get(f"/api/v1/mdf/proofs/{proof_id}/", headers=headers)
    assert staff_download.status_code == 200
    with tenant_scope(tenant):
        events = set(AuditEvent.objects.values_list("event", flat=True))
    assert {"mdf.request_approved", "mdf.claim_accepted", "mdf.claim_reimbursed"} <= events


def test_approve_beyond_allocation_is_409(client, headers, world):
    _, _, users = world
    budget_allocate(client, headers)
    south = portal_client(users["Southwind"])
    first = portal_request(south, requested_amount="200.00", idempotency_key="a").json()["id"]
    second = portal_request(south, requested_amount="200.00", idempotency_key="b").json()["id"]
    client.post(
        f"/api/v1/mdf/requests/{first}/approve/",
        {},
        content_type="application/json",
        headers=headers,
    )

    response = client.post(
        f"/api/v1/mdf/requests/{second}/approve/",
        {},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 409
    assert response.json()["field"] == "approved_amount"
    assert "50.00 USD remains" in response.json()["message"]


def test_partner_cannot_see_or_claim_other_partners_request(client, headers, world, tenant):
    _, _, users = world
    budget_allocate(client, headers)
    north = portal_client(users["Northwind"])
    south = portal_client(users["Southwind"])
    pk = portal_request(north).json()["id"]
    client.post(
        f"/api/v1/mdf/requests/{pk}/approve/", {}, content_type="application/json", headers=headers
    )
    north.post(
        f"/api/v1/portal/mdf/requests/{pk}/claim/",
        {"claimed_amount": "10.00", "files": [SimpleUploadedFile("invoice.pdf", PDF)]},
    )
    with tenant_scope(tenant):
        proof = MdfProof.objects.get()

    assert south.get(f"/api/v1/portal/mdf/requests/{pk}/").status_code == 404
    claim = south.post(
        f"/api/v1/portal/mdf/requests/{pk}/claim/",
        {"claimed_amount": "10.00", "files": [SimpleUploadedFile("invoice.pdf", PDF)]},
    )
    assert claim.status_code == 404
    assert south.get(f"/api/v1/portal/mdf/proofs/{proof.pk}/").status_code == 404
    assert south.get(reverse("partners:portal_mdf_request", args=[pk])).status_code == 404
    assert south.get(reverse("partners:portal_mdf_proof", args=[proof.pk])).status_code == 404
    assert south.get("/api/v1/portal/mdf/requests/").json()["count"] == 0
    assert "Joint webinar" not in south.get(reverse("partners:portal_mdf")).content.decode()


def test_staff_cannot_use_portal_api(client, headers, world):
    assert client.get("/api/v1/portal/mdf/requests/", headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("invoice.docx", PDF), "not a PDF, PNG or JPEG"),
        (SimpleUploadedFile("invoice.jpg", PNG), "content is not image/jpeg"),
        (SimpleUploadedFile("scan.pdf", PDF + b"x" * (5 * 1024 * 1024)), "more than the limit"),
    ],
)
def test_claim_upload_validation(client, headers, world, tenant, upload, message):
    _, _, users = world
    budget_allocate(client, headers)
    north = portal_client(users["Northwind"])
    pk = portal_request(north).json()["id"]
    client.post(
        f"/api/v1/mdf/requests/{pk}/approve/", {}, content_type="application/json", headers=headers
    )

    response = north.post(
        f"/api/v1/portal/mdf/requests/{pk}/claim/",
        {"claimed_amount": "10.00", "files": [upload]},
    )

    assert response.status_code == 400
    assert response.json()["field"] == "files"
    assert message in response.json()["message"]
    with tenant_scope(tenant):
        assert MdfClaim.objects.count() == 0
        assert MdfProof.objects.count() == 0


def test_claim_png_accepted_and_retry_stores_once(client, headers, world, tenant):
    _, _, users = world
    budget_allocate(client, headers)
    north = portal_client(users["Northwind"])
    pk = portal_request(north).json()["id"]
    client.post(
        f"/api/v1/mdf/requests/{pk}/approve/", {}, content_type="application/json", headers=headers
    )
    body = {"claimed_amount": "10.00", "files": [SimpleUploadedFile("receipt.PNG", PNG)]}

    first = north.post(f"/api/v1/portal/mdf/requests/{pk}/claim/", body)
    body["files"] = [SimpleUploadedFile("receipt.PNG", PNG)]
    again = north.post(f"/api/v1/portal/mdf/requests/{pk}/claim/", body)

    assert first.status_code == 201
    assert again.status_code == 200
    with tenant_scope(tenant):
        assert MdfProof.objects.get().content_type == "image/png"


def test_staff_request_on_behalf(client, headers, world):
    north, _, _ = world
    budget_allocate(client, headers)

    response = client.post(
        "/api/v1/mdf/requests/",
        {**REQUEST, "partner": north.pk},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 201, response.json()
    assert response.json()["partner"]["id"] == north.pk


def test_other_tenant_partner_is_404_on_behalf(client, headers, world, other_tenant):
    budget_allocate(client, headers)
    with tenant_scope(other_tenant):
        stranger = PartnerFactory(tenant=other_tenant)

    response = client.post(
        "/api/v1/mdf/requests/",
        {**REQUEST, "partner": stranger.pk},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 404


def test_reallocation_after_approval_is_409(client, headers, world):
    _, _, users = world
    budget_pk = budget_allocate(client, headers)
    pk = portal_request(portal_client(users["Northwind"])).json()["id"]
    client.post(
        f"/api/v1/mdf/requests/{pk}/approve/", {}, content_type="application/json", headers=headers
    )

    response = client.post(f"/api/v1/mdf/budgets/{budget_pk}/allocate/", headers=headers)

    assert response.status_code == 409


# Pages


def test_staff_pages_flow(staff_client, world, tenant):
    north, _, _ = world
    response = staff_client.post(
        reverse("commissions:mdf_budget_set"),
        {
            "period": "2026-Q3",
            "amount": "1000.00",
            "lookback_months": "12",
            "weight_a": "1",
            "weight_b": "0.5",
            "weight_c": "0",
            "weight_d": "0",
            "weight_unscored": "0",
        },
    )
    with tenant_scope(tenant):
        budget = MdfBudget.objects.get()
    assert response.status_code == 302
    staff_client.post(reverse("commissions:mdf_budget_allocate", args=[budget.pk]))
    page = staff_client.get(reverse("commissions:mdf_budget_detail", args=[budget.pk]))
    assert page.status_code == 200
    assert "Northwind" in page.content.decode()
    assert "750.00" in page.content.decode()

    created = staff_client.post(
        reverse("commissions:mdf_request_create", args=[budget.pk]),
        {**REQUEST, "partner": north.pk},
    )
    with tenant_scope(tenant):
        mdf_request = MdfRequest.objects.get()
    assert created.status_code == 302
    staff_client.post(
        reverse("commissions:mdf_request_approve", args=[mdf_request.pk]),
        {"approved_amount": "800.00"},
    )
    with tenant_scope(tenant):
        mdf_request.refresh_from_db()
    assert mdf_request.status == MdfRequest.Status.SUBMITTED
    staff_client.post(reverse("commissions:mdf_request_approve", args=[mdf_request.pk]))
    with tenant_scope(tenant):
        mdf_request.refresh_from_db()
    assert mdf_request.status == MdfRequest.Status.APPROVED
    detail = staff_client.get(reverse("commissions:mdf_request_detail", args=[mdf_request.pk]))
    assert "No claim yet" in detail.content.decode()
    budget_page = staff_client.get(reverse("commissions:mdf_budget_detail", args=[budget.pk]))
    assert "allocation is fixed" in budget_page.content.decode()
    assert reverse("commissions:mdf_budget_allocate", args=[budget.pk]) not in (
        budget_page.content.decode()
    )


def test_portal_pages_request_and_claim(client, headers, world, tenant):
    _, _, users = world
    budget_allocate(client, headers)
    north = portal_client(users["Northwind"])

    page = north.get(reverse("partners:portal_mdf"))
    assert page.status_code == 200
    key = page.context["form"].initial["idempotency_key"]
    body = {**REQUEST, "idempotency_key": key}
    first = north.post(reverse("partners:portal_mdf"), body)
    again = north.post(reverse("partners:portal_mdf"), body)
    with tenant_scope(tenant):
        mdf_request = MdfRequest.objects.get()
    assert first.status_code == 302
    assert again.status_code == 302
    client.post(
        f"/api/v1/mdf/requests/{mdf_request.pk}/approve/",
        {},
        content_type="application/json",
        headers=headers,
    )

    url = reverse("partners:portal_mdf_request", args=[mdf_request.pk])
    bad = north.post(
        url, {"claimed_amount": "10.00", "files": [SimpleUploadedFile("a.txt", b"hi")]}
    )
    assert bad.status_code == 400
    good = north.post(url, {"claimed_amount": "10.00", "files": [SimpleUploadedFile("a.pdf", PDF)]})
    assert good.status_code == 302
    shown = north.get(url).content.decode()
    assert "a.pdf" in shown


def test_portal_request_over_allocation_error_at_field(client, headers, world, tenant):
    _, _, users = world
    budget_allocate(client, headers)
    north = portal_client(users["Northwind"])
    key = north.get(reverse("partners:portal_mdf")).context["form"].initial["idempotency_key"]

    response = north.post(
        reverse("partners:portal_mdf"),
        {**REQUEST, "idempotency_key": key, "requested_amount": "99999999.00"},
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "requested_amount" in errors
    assert 'id="id_requested_amount_error"' in response.content.decode()
    with tenant_scope(tenant):
        assert not MdfRequest.objects.exists()
