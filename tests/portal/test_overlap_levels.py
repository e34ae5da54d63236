"""At each mapping visibility, every portal surface shows exactly the fields it allows."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.privacy import COUNTS_ONLY_CSV_MESSAGE, COUNTS_ONLY_NOTE, EXPLANATIONS
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, ReachEntryFactory
from tests.portal.data import ACCOUNT_NAMES, COUNTS, FORBIDDEN

PORTAL_URL = reverse("partners:portal")
CSV_URL = reverse("partners:portal_brief_csv")
API_URLS = {
    "partner": "/api/v1/portal/partner/",
    "overlap": "/api/v1/portal/overlap/",
    "reach": "/api/v1/portal/reach/",
    "brief": "/api/v1/portal/brief/",
}

OWN = {"domain", "company_name"}
NAMES = OWN | {"account_name", "on_profile", "prospect_to_bring"}
DETAILS = NAMES | {"tier", "fit_score", "criteria", "relationship"}
ROW_KEYS = {"counts": OWN, "names": NAMES, "details": DETAILS}
PAGE_KEYS = {"count", "next", "previous", "results"}
BRIEF_KEYS = {
    "visibility",
    "summary",
    "icp_version",
    "strengths",
    "knockouts",
    "headline",
    "on_profile_count",
    "prospect_count",
}
PROSPECT_KEYS = {
    "names": {"account_name", "domain"},
    "details": {"account_name", "domain", "tier", "fit_score", "criteria"},
}

OVERLAP_HEADERS = {
    "counts": ["Domain", "Company on your list"],
    "names": ["Domain", "Company on your list", "Our account", "On profile", "Prospect to bring"],
    "details": [
        "Domain",
        "Company on your list",
        "Our account",
        "On profile",
        "Prospect to bring",
        "Tier",
        "Fit score",
        "Relationship",
        "Criteria it matches",
    ],
}
BRIEF_HEADERS = {
    "counts": [],
    "names": ["Account", "Domain"],
    "details": ["Account", "Domain", "Tier", "Fit score", "Why it is on profile"],
}
# Fit scores of the five matched accounts, which only details may show.
SCORES = ("91", "57", "83", "31", "88")
BOTH_CRITERIA = ["Industry: software", "Employees 200 or more"]


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}"[^>]*>(.*?)</section>', html, re.DOTALL)
    assert match is not None, f"no section {section_id}"
    return match.group(1)


def headers(html: str) -> list[str]:
    return re.findall(r"<th[^>]*>(.*?)</th>", html)


def assert_nothing_forbidden(body: str) -> None:
    for text in FORBIDDEN:
        assert text not in body, text


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# The portal page


def test_portal_page_shows_level(northwind_client, level):
    response = northwind_client.get(PORTAL_URL)
    html = response.content.decode()
    overlap = section(html, "overlap")
    brief = section(html, "brief")

    assert response.status_code == 200
    assert_nothing_forbidden(html)
    assert EXPLANATIONS[level] in overlap
    assert headers(overlap) == OVERLAP_HEADERS[level]
    assert headers(brief) == BRIEF_HEADERS[level]
    assert "Own Unmatched Co" in overlap
    assert "Alpha from our list" in overlap
    assert "1 prospect to bring forward among 4 on-profile accounts" in brief


@pytest.mark.parametrize("level", ["counts"], indirect=True)
def test_portal_counts_lists_no_accounts(northwind_client, level):
    html = northwind_client.get(PORTAL_URL).content.decode()
    overlap = section(html, "overlap")

    for name in ACCOUNT_NAMES:
        assert name not in html, name
    assert COUNTS_ONLY_NOTE in section(html, "brief")
    assert CSV_URL not in html
    assert "no matching account" not in overlap
    assert "<dd>6 companies</dd>" in overlap


@pytest.mark.parametrize("level", ["names"], indirect=True)
def test_portal_names_hides_tier_and_score(northwind_client, level):
    html = northwind_client.get(PORTAL_URL).content.decode()
    overlap = section(html, "overlap")
    brief = section(html, "brief")

    for name in ACCOUNT_NAMES:
        assert name in overlap, name
    assert "Alpha Prospect Corp" in brief
    for part in (overlap, brief):
        assert 'class="badge tier' not in part
        for score in SCORES:
            assert f">{score}<" not in part, score
    assert "Industry: software" not in overlap
    assert CSV_URL in brief


@pytest.mark.parametrize("level", ["details"], indirect=True)
def test_portal_details_shows_tier_and_criteria(northwind_client, level):
    html = northwind_client.get(PORTAL_URL).content.decode()
    overlap = section(html, "overlap")
    brief = section(html, "brief")

    for score in SCORES:
        assert f">{score}<" in overlap, score
    assert "Industry: software; Employees 200 or more" in overlap
    assert "Open pipeline" in overlap
    assert "Customer" in overlap
    assert ">91<" in brief


def test_portal_ledger_is_own_only(northwind_client, level):
    html = northwind_client.get(PORTAL_URL).content.decode()

    assert "No commission entries yet" in html
    assert "rival-ledger-memo" not in html


# The brief CSV


@pytest.mark.parametrize("level", ["counts"], indirect=True)
def test_csv_counts_is_forbidden(northwind_client, level):
    response = northwind_client.get(CSV_URL)
    body = response.content.decode()

    assert response.status_code == 403
    assert COUNTS_ONLY_CSV_MESSAGE in body
    for name in ACCOUNT_NAMES:
        assert name not in body, name


@pytest.mark.parametrize("level", ["names"], indirect=True)
def test_csv_names_has_name_and_domain(northwind_client, level):
    response = northwind_client.get(CSV_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert csv_rows(response) == [["account", "domain"], ["Alpha Prospect Corp", "alpha.example"]]
    assert_nothing_forbidden(response.content.decode())


@pytest.mark.parametrize("level", ["details"], indirect=True)
def test_csv_details_has_tier_and_criteria(northwind_client, level):
    response = northwind_client.get(CSV_URL)

    assert response.status_code == 200
    assert csv_rows(response) == [
        ["account", "domain", "tier", "fit_score", "why_on_profile"],
        ["Alpha Prospect Corp", "alpha.example", "A", "91", "; ".join(BOTH_CRITERIA)],
    ]
    assert_nothing_forbidden(response.content.decode())


# The portal API


@pytest.mark.parametrize("endpoint", sorted(API_URLS))
def test_api_never_shows_forbidden(northwind_client, level, endpoint):
    response = northwind_client.get(API_URLS[endpoint])

    assert response.status_code == 200
    assert_nothing_forbidden(response.content.decode())
    if level == "counts":
        for name in ACCOUNT_NAMES:
            assert name not in response.content.decode(), name


def test_api_partner_reports_level(northwind_client, level):
    body = northwind_client.get(API_URLS["partner"]).json()

    assert body["mapping_visibility"] == level


def test_api_overlap_keys(northwind_client, level):
    body = northwind_client.get(API_URLS["overlap"]).json()

    assert body["visibility"] == level
    assert body["explanation"] == EXPLANATIONS[level]
    assert body["counts"] == COUNTS
    if level == "counts":
        assert set(body) == {"visibility", "explanation", "counts"}
        return
    assert set(body) == {"visibility", "explanation", "counts"} | PAGE_KEYS
    assert body["count"] == 5
    assert [row["domain"] for row in body["results"]] == [
        "alpha.example",
        "beta.example",
        "delta.example",
        "epsilon.example",
        "gamma.example",
    ]
    for row in body["results"]:
        assert set(row) == ROW_KEYS[level], row["domain"]


@pytest.mark.parametrize("level", ["names", "details"], indirect=True)
def test_api_overlap_names_values(northwind_client, level):
    rows = {
        row["domain"]: row for row in northwind_client.get(API_URLS["overlap"]).json()["results"]
    }

    assert rows["alpha.example"]["account_name"] == "Alpha Prospect Corp"
    assert rows["alpha.example"]["company_name"] == "Alpha from our list"
    flags = {domain: (row["on_profile"], row["prospect_to_bring"]) for domain, row in rows.items()}
    assert flags == {
        "alpha.example": (True, True),
        "beta.example": (True, False),
        "gamma.example": (True, False),
        "delta.example": (False, False),
        "epsilon.example": (True, False),
    }


@pytest.mark.parametrize("level", ["details"], indirect=True)
def test_api_overlap_details_values(northwind_client, level):
    rows = {
        row["domain"]: row for row in northwind_client.get(API_URLS["overlap"]).json()["results"]
    }

    details = {
        domain: (row["tier"], row["fit_score"], row["relationship"]) for domain, row in rows.items()
    }
    assert details == {
        "alpha.example": ("A", 91, "prospect"),
        "beta.example": ("B", 57, "customer"),
        "gamma.example": ("A", 83, "open_pipeline"),
        "delta.example": ("C", 31, "prospect"),
        "epsilon.example": ("A", 88, "prospect"),
    }
    assert rows["alpha.example"]["criteria"] == BOTH_CRITERIA
    assert rows["delta.example"]["criteria"] == []


@pytest.mark.parametrize("level", ["names", "details"], indirect=True)
def test_api_overlap_pages(northwind_client, level):
    body = northwind_client.get(API_URLS["overlap"], {"limit": 2, "offset": 2}).json()

    assert body["count"] == 5
    assert [row["domain"] for row in body["results"]] == ["delta.example", "epsilon.example"]
    assert "offset=4" in body["next"]
    assert body["previous"] is not None


def test_api_reach_keys(northwind_client, level):
    body = northwind_client.get(API_URLS["reach"]).json()

    assert set(body) == {"visibility", "explanation"} | PAGE_KEYS
    assert body["count"] == 6
    rows = body["results"]
    if level == "counts":
        assert rows == [
            {"domain": "alpha.example", "company_name": "Alpha from our list"},
            {"domain": "beta.example", "company_name": "Beta from our list"},
            {"domain": "delta.example", "company_name": "Delta from our list"},
            {"domain": "epsilon.example", "company_name": "Epsilon from our list"},
            {"domain": "gamma.example", "company_name": "Gamma from our list"},
            {"domain": "unmatched-own.example", "company_name": "Own Unmatched Co"},
        ]
        return
    assert rows[-1] == {
        "domain": "unmatched-own.example",
        "company_name": "Own Unmatched Co",
        "matched": False,
    }
    for row in rows[:-1]:
        assert set(row) == ROW_KEYS[level] | {"matched"}, row["domain"]
        assert row["matched"] is True


def test_api_brief_keys(northwind_client, level):
    body = northwind_client.get(API_URLS["brief"]).json()

    assert body["visibility"] == level
    assert body["prospect_count"] == 1
    assert body["on_profile_count"] == 4
    assert "Industry: software (60 points)" in body["summary"]
    if level == "counts":
        assert set(body) == BRIEF_KEYS | {"note"}
        assert body["note"] == COUNTS_ONLY_NOTE
        return
    extra = {"criteria_truncated"} if level == "details" else set()
    assert set(body) == BRIEF_KEYS | PAGE_KEYS | extra
    assert body["count"] == 1
    assert set(body["results"][0]) == PROSPECT_KEYS[level]
    assert body["results"][0]["account_name"] == "Alpha Prospect Corp"


@pytest.mark.parametrize("level", ["details"], indirect=True)
def test_api_brief_details_values(northwind_client, level):
    body = northwind_client.get(API_URLS["brief"]).json()

    assert body["results"] == [
        {
            "account_name": "Alpha Prospect Corp",
            "domain": "alpha.example",
            "tier": "A",
            "fit_score": 91,
            "criteria": BOTH_CRITERIA,
        }
    ]
    assert body["criteria_truncated"] is False


def test_api_ignores_partner_parameter(northwind_client, world, level):
    for url in API_URLS.values():
        response = northwind_client.get(
            url, {"partner": world.rival.pk, "partner_id": world.rival.pk}
        )

        assert response.status_code == 200
        assert_nothing_forbidden(response.content.decode())


def query_count(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("endpoint", ["overlap", "reach", "brief"])
@pytest.mark.parametrize("level", ["names", "details"], indirect=True)
def test_api_queries_do_not_grow(northwind_client, world, level, endpoint):
    before = query_count(northwind_client, API_URLS[endpoint])
    with tenant_scope(world.tenant):
        for number in range(5):
            account = AccountFactory(
                name=f"More Prospect {number}",
                fit_tier="A",
                fit_score=90,
                fit_version=world.version,
            )
            ReachEntryFactory(partner=world.northwind, domain=account.domain, account=account)

    after = query_count(northwind_client, API_URLS[endpoint])

    assert after == before
