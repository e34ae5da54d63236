"""The ICP list page's form that starts learning a draft in the background."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from icp.models import IcpVersion
from jobs.models import Job
from tests.icp.test_services import create_closed_deals

LIST_URL = "/icp/"
LEARN_URL = "/icp/learn/"


def test_editor_sees_learn_form(manager_client):
    page = manager_client.get(LIST_URL).content.decode()

    assert "Learn a new draft from closed deals" in page
    assert f'action="{LEARN_URL}"' in page
    assert 'value="value_and_churn"' in page


def test_analyst_sees_no_learn_form(analyst_client):
    page = analyst_client.get(LIST_URL).content.decode()

    assert "Learn a new draft from closed deals" not in page


def test_analyst_post_is_forbidden(analyst_client):
    response = analyst_client.post(LEARN_URL, {"weighting": "none"})

    assert response.status_code == 403
    assert not Job.all_tenants.exists()


def test_learn_get_is_not_allowed(manager_client):
    assert manager_client.get(LEARN_URL).status_code == 405


def test_post_redirects_to_job_page(tenant, manager_client, django_capture_on_commit_callbacks):
    create_closed_deals(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(LEARN_URL, {"weighting": "value", "name": "Q3 by value"})

    job = Job.all_tenants.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    job_page = manager_client.get(response["Location"]).content.decode()
    assert "Learning a new draft from closed deals has started." in job_page
    assert "Learned draft v1 from 100 closed deals, weighted by value." in job_page
    assert f'href="{job.target_url}"' in job_page
    version = IcpVersion.all_tenants.get()
    assert version.name == "Q3 by value"
    assert version.metrics["weighting"] == "value"


def test_double_post_returns_the_same_job(tenant, manager_client):
    first = manager_client.post(LEARN_URL, {"weighting": "none"})
    second = manager_client.post(LEARN_URL, {"weighting": "value"})

    assert first["Location"] == second["Location"]
    assert Job.all_tenants.count() == 1
    texts = [str(message) for message in get_messages(second.wsgi_request)]
    assert any("already queued or running" in text for text in texts)


def test_list_links_to_unfinished_job(tenant, manager_client):
    manager_client.post(LEARN_URL, {"weighting": "none"})
    job = Job.all_tenants.get()

    page = manager_client.get(LIST_URL).content.decode()

    assert "A learning job is queued" in page
    assert f'href="/jobs/{job.pk}/"' in page


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param({"weighting": "revenue"}, "Select a valid choice.", id="weighting"),
        pytest.param(
            {"weighting": "none", "name": "x" * 300},
            "Ensure this value has at most 200 characters",
            id="name",
        ),
    ],
)
def test_invalid_post_shows_field_error(manager_client, data, error):
    response = manager_client.post(LEARN_URL, data)

    assert response.status_code == 400
    page = response.content.decode()
    assert '<p class="field-error">' in page
    assert error in page
    assert "All versions" in page
    assert not Job.all_tenants.exists()


def test_detail_shows_weighting_lifetime_and_churn(
    tenant, staff_client, django_capture_on_commit_callbacks
):
    create_closed_deals(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(LEARN_URL, {"weighting": "value_and_churn"})
    version = IcpVersion.all_tenants.get()
    version.metrics["tiers"]["A"]["churn_rate"] = 0.25
    version.save(update_fields=["metrics"])

    page = staff_client.get(f"/icp/versions/{version.pk}/").content.decode()

    assert "Weighting: By value, with wins that churned within a year counted as lost." in page
    assert "Won deals whose account churned within a year: 0." in page
    assert "Lift: lifetime value" in page
    assert "Lifetime value (USD)" in page
    assert "Churn rate" in page
    assert "25.0%" in page


def test_detail_hides_churn_rate_without_churn_data(
    tenant, staff_client, django_capture_on_commit_callbacks
):
    create_closed_deals(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(LEARN_URL, {"weighting": "none"})
    version = IcpVersion.all_tenants.get()

    page = staff_client.get(f"/icp/versions/{version.pk}/").content.decode()

    assert "Weighting: None (every closed deal counts once)." in page
    assert "Churn rate" not in page
