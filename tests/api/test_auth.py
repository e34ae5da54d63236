"""Which callers each endpoint accepts (API keys, staff sessions by role) and rejects."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.models import Deal, ImportRun
from partners.models import Partner
from tenancy.models import ApiKey, Membership
from tenancy.services import api_key_revoke
from tests.api.conftest import auth
from tests.factories import (
    AccountFactory,
    DealFactory,
    MembershipFactory,
    PartnerFactory,
    UserFactory,
)

LIST_URLS = [
    "/api/v1/deals/",
    "/api/v1/accounts/",
    "/api/v1/partners/",
    "/api/v1/partners/ranking/",
    "/api/v1/ledger/",
    "/api/v1/unit-economics/",
    "/api/v1/icp/versions/",
    "/api/v1/partner-applications/",
]
DETAIL_URL_TEMPLATES = [
    "/api/v1/deals/{deal}/",
    "/api/v1/accounts/{account}/",
    "/api/v1/partners/{partner}/",
    "/api/v1/icp/versions/{icp_version}/",
]
DEAL_BODY = {"external_id": "opp-auth", "stage": "open", "amount": "10.00"}
INVALID_KEY_MESSAGE = "The API key is invalid or revoked: create a new key in Settings → API keys."


@pytest.fixture
def read_urls(scoped, icp_version) -> list[str]:
    """Every GET endpoint, with the ids of objects the tenant owns."""
    account = AccountFactory(tenant=scoped)
    ids = {
        "account": account.pk,
        "deal": DealFactory(tenant=scoped, account=account).pk,
        "partner": PartnerFactory(tenant=scoped).pk,
        "icp_version": icp_version.pk,
    }
    return LIST_URLS + [template.format(**ids) for template in DETAIL_URL_TEMPLATES]


def import_file() -> dict:
    csv = b"external_id,name\nacc-auth,Auth Test\n"
    return {"file": SimpleUploadedFile("accounts.csv", csv, content_type="text/csv")}


def test_api_key_reads_every_endpoint(client, headers, read_urls):
    for url in read_urls:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url


def test_unauthenticated_requests_rejected(client, read_urls):
    for url in read_urls:
        response = client.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Api-Key"
        assert response.json() == {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fix": "Send the header Authorization: Api-Key <key> with a live key of the tenant.",
        }


def test_unauthenticated_writes_rejected(client, scoped):
    deal = client.post("/api/v1/deals/", DEAL_BODY, content_type="application/json")
    upload = client.post("/api/v1/imports/accounts/", import_file())

    assert deal.status_code == 401
    assert upload.status_code == 401
    assert Deal.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Api-Key t360_not-a-real-key", id="unknown"),
        pytest.param("Api-Key  t360_not-a-real-key ", id="unknown-padded"),
    ],
)
def test_invalid_key_rejected(client, read_urls, header):
    for url in read_urls:
        response = client.get(url, headers={"Authorization": header})
        assert response.status_code == 401, url
        assert response.json() == {
            "code": "authentication_failed",
            "message": INVALID_KEY_MESSAGE,
        }


def test_empty_key_rejected(client, scoped):
    response = client.get("/api/v1/deals/", headers={"Authorization": "Api-Key "})

    assert response.status_code == 401
    assert response.json()["message"] == (
        "The Authorization header has no key: send 'Api-Key <key>'."
    )


def test_revoked_key_rejected(client, api_key, read_urls):
    key = api_key_revoke(key=ApiKey.objects.get(name="tests"))
    message = (
        f"The API key {key.prefix}… was revoked on {key.revoked_at:%Y-%m-%d}: "
        "create a new key in Settings → API keys."
    )

    for url in read_urls:
        response = client.get(url, headers=auth(api_key))
        assert response.status_code == 401, url
        assert response.json()["message"] == message

    write = client.post(
        "/api/v1/deals/", DEAL_BODY, content_type="application/json", headers=auth(api_key)
    )
    assert write.status_code == 401
    assert not Deal.objects.filter(external_id="opp-auth").exists()


def test_other_scheme_is_unauthenticated(client, scoped):
    response = client.get("/api/v1/deals/", headers={"Authorization": "Basic abc"})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_bearer_scheme_names_the_api_key_scheme(client, scoped):
    response = client.get("/api/v1/deals/", headers={"Authorization": "Bearer abc"})

    assert response.status_code == 401
    assert "Api-Key <key>" in response.json()["message"]


def test_analyst_session_reads(analyst_client, read_urls):
    for url in read_urls:
        response = analyst_client.get(url)
        assert response.status_code == 200, url


def test_analyst_session_cannot_write(analyst_client, scoped):
    deal = analyst_client.post("/api/v1/deals/", DEAL_BODY, content_type="application/json")
    upload = analyst_client.post("/api/v1/imports/accounts/", import_file())

    assert deal.status_code == 403
    assert deal.json()["code"] == "permission_denied"
    assert upload.status_code == 403
    assert Deal.objects.count() == 0
    assert ImportRun.objects.count() == 0


@pytest.mark.parametrize(
    "role",
    [
        pytest.param(Membership.Role.ADMIN, id="admin"),
        pytest.param(Membership.Role.PARTNER_MANAGER, id="partner-manager"),
    ],
)
def test_writer_session_writes(client, scoped, role):
    user = UserFactory(username=f"writer-{role}")
    MembershipFactory(tenant=scoped, user=user, role=role)
    client.force_login(user)

    response = client.post("/api/v1/deals/", DEAL_BODY, content_type="application/json")

    assert response.status_code == 201
    assert Deal.objects.get().external_id == "opp-auth"


def test_partner_user_session_rejected(client, scoped, read_urls):
    partner = Partner.objects.first()
    user = UserFactory(username="partner-user")
    MembershipFactory(tenant=scoped, user=user, role=Membership.Role.PARTNER, partner=partner)
    client.force_login(user)

    for url in read_urls:
        response = client.get(url)
        assert response.status_code == 403, url


def test_user_without_membership_rejected(client, scoped, read_urls):
    client.force_login(UserFactory(username="outsider"))

    for url in read_urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["code"] == "permission_denied"


def test_other_tenant_session_sees_no_objects(client, other_admin_user, read_urls):
    client.force_login(other_admin_user)

    for url in read_urls[len(LIST_URLS) :]:
        response = client.get(url)
        assert response.status_code == 404, url
    for url in LIST_URLS:
        response = client.get(url)
        assert response.json()["count"] == 0, url
