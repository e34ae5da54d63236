"""POST /api/v1/icp/learn/: start learning a draft, poll the job, reject bad input."""

from __future__ import annotations

from icp.models import IcpVersion
from jobs.models import Job
from tests.icp.test_services import create_closed_deals

URL = "/api/v1/icp/learn/"


def test_learn_returns_202_with_job(client, headers, tenant, django_capture_on_commit_callbacks):
    create_closed_deals(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, {"weighting": "value_and_churn"}, content_type="application/json", headers=headers
        )

    assert response.status_code == 202
    job = Job.all_tenants.get()
    assert response.json() == {
        "job": {"id": job.pk, "status": "queued", "url": f"/api/v1/jobs/{job.pk}/"}
    }
    polled = client.get(f"/api/v1/jobs/{job.pk}/", headers=headers).json()
    assert polled["status"] == "succeeded"
    assert polled["percent"] == 100
    assert polled["result"]["objective"] == "won"
    version = IcpVersion.all_tenants.get(pk=polled["result"]["version_id"])
    assert version.metrics["weighting"] == "value_and_churn"
    assert polled["target_url"] == f"/icp/versions/{version.pk}/"


def test_learn_defaults_to_no_weighting(client, headers, tenant):
    response = client.post(URL, {}, content_type="application/json", headers=headers)

    assert response.status_code == 202
    assert Job.all_tenants.get().subject == "weighting:none"


def test_learn_twice_returns_the_same_job(client, headers, tenant):
    first = client.post(URL, {}, content_type="application/json", headers=headers)
    second = client.post(
        URL, {"weighting": "value"}, content_type="application/json", headers=headers
    )

    assert second.status_code == 202
    assert second.json()["job"]["id"] == first.json()["job"]["id"]
    assert Job.all_tenants.count() == 1


def test_learn_rejects_bad_weighting(client, headers, tenant):
    response = client.post(
        URL, {"weighting": "revenue"}, content_type="application/json", headers=headers
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == [
        {
            "field": "weighting",
            "value": "revenue",
            "message": '"revenue" is not a valid choice.',
        }
    ]
    assert not Job.all_tenants.exists()


def test_learn_rejects_analyst_session(analyst_client, tenant):
    response = analyst_client.post(URL, {}, content_type="application/json")

    assert response.status_code == 403
    assert not Job.all_tenants.exists()


def test_other_tenant_cannot_read_the_job(client, headers, other_headers, tenant, other_admin_user):
    job_id = client.post(URL, {}, content_type="application/json", headers=headers).json()["job"][
        "id"
    ]

    api = client.get(f"/api/v1/jobs/{job_id}/", headers=other_headers)
    client.force_login(other_admin_user)
    page = client.get(f"/jobs/{job_id}/")

    assert api.status_code == 404
    assert api.json()["code"] == "not_found"
    assert page.status_code == 404
