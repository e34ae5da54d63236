"""ICP version writes through the API: create, change, delete, copy and activate."""

from __future__ import annotations

import pytest

from icp.models import IcpVersion
from icp.scoring import validate_criteria
from jobs.models import Job
from jobs.services import job_create
from tenancy.models import AuditEvent, Membership
from tenancy.scope import tenant_scope
from tests.api.conftest import ICP_CRITERIA, ICP_CUTOFFS
from tests.factories import MembershipFactory, UserFactory
from tests.icp.editor_data import CUTOFFS, EVERY_KIND

LIST_URL = "/api/v1/icp/versions/"


def detail_url(pk: int) -> str:
    return f"/api/v1/icp/versions/{pk}/"


def send(client, method: str, url: str, body=None, headers=None):
    return getattr(client, method)(
        url, body, content_type="application/json", headers=headers or {}
    )


def make_version(tenant, number: int, status=IcpVersion.Status.DRAFT, **values) -> IcpVersion:
    defaults = {
        "name": f"Version {number}",
        "provenance": IcpVersion.Provenance.MANUAL,
        "criteria": validate_criteria(ICP_CRITERIA),
        "tier_cutoffs": ICP_CUTOFFS,
    }
    return IcpVersion.all_tenants.create(
        tenant=tenant, number=number, status=status, **{**defaults, **values}
    )


@pytest.fixture
def draft(scoped):
    return make_version(scoped, 1)


@pytest.fixture
def manager_client(client, tenant):
    user = UserFactory(username="manager-acme")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    client.force_login(user)
    return client


def test_create_stores_every_kind(client, headers, scoped):
    body = {"name": "Every kind", "criteria": EVERY_KIND, "tier_cutoffs": CUTOFFS}

    response = send(client, "post", LIST_URL, body, headers)

    assert response.status_code == 201
    created = IcpVersion.objects.get(pk=response.json()["id"])
    assert created.status == IcpVersion.Status.DRAFT
    assert created.provenance == IcpVersion.Provenance.MANUAL
    assert created.criteria == validate_criteria(EVERY_KIND)
    assert created.tier_cutoffs == CUTOFFS
    assert response.json()["metrics"]["coverage"]["accounts"] == 0


def test_output_round_trips_every_kind(client, headers, scoped):
    body = {"name": "Every kind", "criteria": EVERY_KIND, "tier_cutoffs": CUTOFFS}
    first = send(client, "post", LIST_URL, body, headers).json()

    again = {"name": "Again", "criteria": first["criteria"], "tier_cutoffs": first["tier_cutoffs"]}
    second = send(client, "post", LIST_URL, again, headers)

    assert second.status_code == 201
    assert second.json()["criteria"] == first["criteria"]
    stack = next(c for c in first["criteria"] if c["key"] == "stack")
    assert stack["match"] == "at_least"
    assert stack["count"] == 2
    funding = next(c for c in first["criteria"] if c["key"] == "funding")
    assert funding["trigger"] == "funding"
    assert funding["within_days"] == 180
    flags = {c["key"]: (c["knockout"], c["negate"]) for c in first["criteria"]}
    assert flags["antarctica"] == (True, False)
    assert flags["outside_us"] == (False, True)
    assert flags["industry"] == (False, False)


def test_session_manager_may_create(manager_client, scoped):
    body = {"name": "By hand", "criteria": ICP_CRITERIA, "tier_cutoffs": ICP_CUTOFFS}

    response = send(manager_client, "post", LIST_URL, body)

    assert response.status_code == 201


def test_create_domain_error_names_criterion(client, headers, scoped):
    criteria = [{**ICP_CRITERIA[1], "min": 900, "max": 100}]
    body = {"name": "Bad", "criteria": criteria, "tier_cutoffs": ICP_CUTOFFS}

    response = send(client, "post", LIST_URL, body, headers)

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid"
    assert error["field"] == "criteria.size.min"
    assert error["value"] == 900
    assert error["fix"] == "Make min smaller than max."
    assert "'size'" in error["message"]
    assert IcpVersion.objects.count() == 0


@pytest.mark.parametrize("bound", ["1e3", "1,000", True])
def test_create_rejects_non_number_bound(client, headers, scoped, bound):
    criteria = [{**ICP_CRITERIA[1], "min": bound}]
    body = {"name": "Bad", "criteria": criteria, "tier_cutoffs": ICP_CUTOFFS}

    response = send(client, "post", LIST_URL, body, headers)

    assert response.status_code == 400
    error = response.json()
    assert error["field"] == f"criteria.{ICP_CRITERIA[1]['key']}.min"
    assert error["value"] == bound
    assert "finite number" in error["message"]
    assert "leave it empty" in error["fix"]
    assert IcpVersion.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({"weight": "10"}, "weight", "10"),
        ({"weight": True}, "weight", True),
        ({"weight": -1}, "weight", -1),
        ({"values": [1, 2]}, "values", 1),
        ({"knockout": "yes"}, "knockout", "yes"),
        ({"colour": "red"}, "property", "colour"),
        ({"values": ["x"] * 1001}, "values", 1001),
        ({"label": "x" * 201}, "label", "x" * 40 + "…"),
    ],
)
def test_create_rejects_wrong_types_by_key(client, headers, scoped, change, field, value):
    criterion = {"key": "sector", "kind": "category", "field": "industry", "values": ["a"]}
    criterion.update({"weight": 10, **change})
    body = {"name": "Bad", "criteria": [criterion], "tier_cutoffs": ICP_CUTOFFS}

    response = send(client, "post", LIST_URL, body, headers)

    assert response.status_code == 400
    error = response.json()
    assert error["field"] == f"criteria.sector.{field}"
    assert error["value"] == value
    assert error["fix"]
    assert IcpVersion.objects.count() == 0


@pytest.mark.parametrize("cutoffs", [["A", 1], "high", {"A": "75", "B": 50, "C": 25}])
def test_create_rejects_malformed_cutoffs(client, headers, scoped, cutoffs):
    body = {"name": "Bad", "criteria": ICP_CRITERIA, "tier_cutoffs": cutoffs}

    response = send(client, "post", LIST_URL, body, headers)

    assert response.status_code == 400
    assert response.json()["field"].startswith("tier_cutoffs")
    assert response.json()["fix"]


def test_create_rejects_bad_cutoffs(client, headers, scoped):
    body = {"name": "Bad", "criteria": ICP_CRITERIA, "tier_cutoffs": {"A": 50, "B": 60, "C": 1}}

    response = send(client, "post", LIST_URL, body, headers)

    assert response.status_code == 400
    assert response.json()["field"] == "tier_cutoffs"
    assert response.json()["fix"] == "Use 100 >= A > B > C >= 0."


def test_create_requires_fields(client, headers, scoped):
    response = send(client, "post", LIST_URL, {"name": "Empty"}, headers)

    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"criteria", "tier_cutoffs"}


def test_patch_name_keeps_content(client, headers, draft):
    response = send(client, "patch", detail_url(draft.pk), {"name": "Renamed"}, headers)

    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.name == "Renamed"
    assert draft.criteria == validate_criteria(ICP_CRITERIA)
    assert draft.tier_cutoffs == ICP_CUTOFFS


def test_patch_criteria_and_cutoffs(client, headers, draft):
    body = {"criteria": EVERY_KIND, "tier_cutoffs": CUTOFFS}

    response = send(client, "patch", detail_url(draft.pk), body, headers)

    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.criteria == validate_criteria(EVERY_KIND)
    assert draft.tier_cutoffs == CUTOFFS
    event = AuditEvent.all_tenants.get(event="icp_version.updated")
    assert event.actor_label.startswith("api-key:")


def test_patch_same_content_writes_no_audit(client, headers, draft):
    body = {"name": draft.name, "criteria": ICP_CRITERIA, "tier_cutoffs": ICP_CUTOFFS}

    response = send(client, "patch", detail_url(draft.pk), body, headers)

    assert response.status_code == 200
    assert not AuditEvent.all_tenants.filter(event="icp_version.updated").exists()


def test_patch_invalid_criterion(client, headers, draft):
    body = {"criteria": [{**ICP_CRITERIA[0], "weight": 0}]}

    response = send(client, "patch", detail_url(draft.pk), body, headers)

    assert response.status_code == 400
    assert response.json()["field"] == "criteria.industry.weight"
    assert "knock-out" in response.json()["fix"]


@pytest.mark.parametrize("status", [IcpVersion.Status.ACTIVE, IcpVersion.Status.RETIRED])
def test_patch_non_draft_conflicts(client, headers, scoped, status):
    version = make_version(scoped, 3, status=status)

    response = send(client, "patch", detail_url(version.pk), {"name": "No"}, headers)

    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "conflict"
    assert error["field"] == "status"
    assert error["value"] == status
    assert "Copy it into a new draft" in error["fix"]


def test_delete_draft(client, headers, draft):
    response = send(client, "delete", detail_url(draft.pk), headers=headers)

    assert response.status_code == 204
    assert not IcpVersion.objects.filter(pk=draft.pk).exists()


def test_delete_active_conflicts(client, headers, scoped):
    version = make_version(scoped, 1, status=IcpVersion.Status.ACTIVE)

    response = send(client, "delete", detail_url(version.pk), headers=headers)

    assert response.status_code == 409
    assert IcpVersion.objects.filter(pk=version.pk).exists()


def test_copy_makes_draft(client, headers, scoped):
    source = make_version(scoped, 1, status=IcpVersion.Status.ACTIVE, name="Live")

    response = send(client, "post", f"{detail_url(source.pk)}copy/", {}, headers)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    assert body["provenance"] == "copied"
    assert body["based_on"] == source.pk
    assert body["name"] == "Copy of v1 Live"
    assert body["number"] == 2
    assert IcpVersion.objects.get(pk=body["id"]).criteria == source.criteria


def test_copy_takes_name(client, headers, draft):
    response = send(client, "post", f"{detail_url(draft.pk)}copy/", {"name": "Q3"}, headers)

    assert response.json()["name"] == "Q3"


def test_activate_draft_retires_live_version(client, headers, scoped, draft):
    live = make_version(scoped, 2, status=IcpVersion.Status.ACTIVE)

    response = send(client, "post", f"{detail_url(draft.pk)}activate/", {}, headers)

    assert response.status_code == 202
    assert response.json()["version"]["status"] == "active"
    live.refresh_from_db()
    assert live.status == IcpVersion.Status.RETIRED


def test_activate_returns_rescore_job(client, headers, draft):
    response = send(client, "post", f"{detail_url(draft.pk)}activate/", {}, headers)

    job = Job.objects.get(subject=f"icp_version:{draft.pk}")
    assert response.status_code == 202
    assert job.kind == Job.Kind.ICP_RESCORE
    assert response.json()["job"] == {
        "id": job.pk,
        "url": f"http://testserver/api/v1/jobs/{job.pk}/",
    }


def test_activate_active_is_200_without_job(client, headers, scoped):
    version = make_version(scoped, 1, status=IcpVersion.Status.ACTIVE)
    job_create(tenant=scoped, kind=Job.Kind.ICP_RESCORE, subject=f"icp_version:{version.pk}")

    response = send(client, "post", f"{detail_url(version.pk)}activate/", {}, headers)

    assert response.status_code == 200
    assert response.json()["job"] is None
    assert response.json()["version"]["id"] == version.pk
    assert not AuditEvent.all_tenants.filter(event="icp_version.activated").exists()


def test_activate_retired_version(client, headers, scoped):
    retired = make_version(scoped, 1, status=IcpVersion.Status.RETIRED)

    response = send(client, "post", f"{detail_url(retired.pk)}activate/", {}, headers)

    assert response.status_code == 202
    retired.refresh_from_db()
    assert retired.status == IcpVersion.Status.ACTIVE


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("post", "", {"name": "X", "criteria": ICP_CRITERIA, "tier_cutoffs": ICP_CUTOFFS}),
        ("patch", "{pk}/", {"name": "X"}),
        ("delete", "{pk}/", None),
        ("post", "{pk}/copy/", {}),
        ("post", "{pk}/activate/", {}),
    ],
)
def test_analyst_may_not_write(analyst_client, draft, method, suffix, body):
    url = LIST_URL + suffix.format(pk=draft.pk)

    response = send(analyst_client, method, url, body)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "may read but not change data" in response.json()["message"]
    draft.refresh_from_db()
    assert draft.name == "Version 1"
    assert IcpVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("patch", "{pk}/"), ("delete", "{pk}/"), ("post", "{pk}/copy/"), ("post", "{pk}/activate/")],
)
def test_other_tenant_version_not_found(client, headers, scoped, other_tenant, method, suffix):
    with tenant_scope(other_tenant):
        theirs = make_version(other_tenant, 1, name="Globex draft")

    response = send(client, method, LIST_URL + suffix.format(pk=theirs.pk), {}, headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.name == "Globex draft"
    assert theirs.status == IcpVersion.Status.DRAFT


def raw_post(client, headers, body: str | bytes):
    return client.post(LIST_URL, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": ["range"]}, "criteria.sector.kind"),
        ({"kind": {"a": 1}}, "criteria.sector.kind"),
        ({"support": {}}, "criteria.sector.support.deals"),
        ({"support": {"deals": "abc", "accounts": 1}}, "criteria.sector.support.deals"),
        ({"support": {"a": 1}}, "criteria.sector.support"),
        ({"lift": {"win_rate": "high"}}, "criteria.sector.lift.win_rate"),
        ({"label": "a\u0000b"}, "criteria.sector.label"),
        ({"values": ["a\u0000b"]}, "criteria.sector.values"),
    ],
)
def test_create_rejects_malformed_parts(client, headers, scoped, change, field):
    criterion = {"key": "sector", "kind": "category", "field": "industry", "values": ["a"]}
    criterion.update({"weight": 10, **change})
    body = {"name": "Bad", "criteria": [criterion], "tier_cutoffs": ICP_CUTOFFS}

    response = send(client, "post", LIST_URL, body, headers)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["fix"]
    assert IcpVersion.objects.count() == 0
    assert send(client, "get", LIST_URL, headers=headers).status_code == 200


def test_create_keeps_valid_learned_evidence(client, headers, scoped):
    criterion = {"key": "sector", "kind": "category", "field": "industry", "values": ["a"]}
    criterion.update(
        weight=10,
        support={"deals": 40, "accounts": 12},
        lift={"win_rate": 1.2, "won_value": None},
    )
    body = {"name": "Evidence", "criteria": [criterion], "tier_cutoffs": ICP_CUTOFFS}

    response = send(client, "post", LIST_URL, body, headers)

    assert response.status_code == 201
    stored = response.json()["criteria"][0]
    assert stored["support"] == {"deals": 40, "accounts": 12}
    assert stored["lift"]["win_rate"] == 1.2


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"name": "x", "criteria": [], "tier_cutoffs": {"A": NaN, "B": 1, "C": 0}}',
        '{"name": ',
    ],
    ids=["deep", "nan", "truncated"],
)
def test_unparsable_body_gets_json_error(client, headers, scoped, body):
    response = raw_post(client, headers, body)

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "parse_error"
    assert error["field"] == "body"
    assert "NaN" in error["fix"]


def test_oversized_body_gets_json_error(client, headers, scoped, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"name": "x" * 5000, "criteria": [], "tier_cutoffs": ICP_CUTOFFS}

    response = send(client, "post", LIST_URL, body, headers)

    assert response.status_code == 400
    assert response.json()["code"] == "too_large"
    assert response.json()["field"] == "body"
    assert IcpVersion.objects.count() == 0


def test_huge_name_is_not_echoed_whole(client, headers, scoped):
    body = {"name": "n" * 100_000, "criteria": ICP_CRITERIA, "tier_cutoffs": ICP_CUTOFFS}

    response = send(client, "post", LIST_URL, body, headers)

    assert response.status_code == 400
    assert len(response.content) < 2000
