"""Cursor pages, page_size bounds, ordering allow-lists and updated_since on the large lists."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from commissions.models import RevenueEvent
from crm.models import Account
from tests.factories import AccountFactory, DealFactory, ReferralFactory

ACCOUNTS_URL = "/api/v1/accounts/"

# The large lists that page by cursor.
CURSOR_LISTS = [
    "/api/v1/accounts/",
    "/api/v1/deals/",
    "/api/v1/ledger/",
    "/api/v1/revenue-events/",
    "/api/v1/referrals/",
]


@pytest.fixture
def accounts(scoped):
    return [AccountFactory(name=f"Company {index:02d}") for index in range(7)]


def walk(client, headers, url: str) -> list[int]:
    """Follow next links from `url` and return every row id in page order."""
    ids = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert "count" not in body
        ids.extend(row["id"] for row in body["results"])
        url = body["next"]
    return ids


def test_cursor_pages_cover_every_row_once(client, headers, accounts):
    ids = walk(client, headers, f"{ACCOUNTS_URL}?page_size=3")

    assert ids == sorted((account.pk for account in accounts), reverse=True)


def test_cursor_pages_ascending_by_id(client, headers, accounts):
    ids = walk(client, headers, f"{ACCOUNTS_URL}?page_size=3&ordering=id")

    assert ids == sorted(account.pk for account in accounts)


def test_cursor_pages_stable_under_inserts(client, headers, accounts):
    first = client.get(f"{ACCOUNTS_URL}?page_size=3", headers=headers).json()
    AccountFactory(name="Inserted meanwhile")
    rest = walk(client, headers, first["next"])

    seen = [row["id"] for row in first["results"]] + rest
    assert seen == sorted((account.pk for account in accounts), reverse=True)
    assert len(set(seen)) == len(seen)


def test_cursor_previous_link_returns_first_page(client, headers, accounts):
    first = client.get(f"{ACCOUNTS_URL}?page_size=3", headers=headers).json()
    second = client.get(first["next"], headers=headers).json()

    back = client.get(second["previous"], headers=headers).json()

    assert [row["id"] for row in back["results"]] == [row["id"] for row in first["results"]]


def test_empty_cursor_starts_at_first_page(client, headers, accounts):
    response = client.get(f"{ACCOUNTS_URL}?cursor=", headers=headers)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 7
    assert response.json()["previous"] is None


def test_offset_pages_remain_default(client, headers, accounts):
    body = client.get(f"{ACCOUNTS_URL}?limit=2&offset=2", headers=headers).json()

    assert body["count"] == 7
    assert len(body["results"]) == 2


@pytest.mark.parametrize("url", CURSOR_LISTS)
def test_every_large_list_pages_by_cursor(client, headers, scoped, url):
    response = client.get(f"{url}?page_size=1", headers=headers)

    assert response.status_code == 200
    assert set(response.json()) == {"next", "previous", "results"}


@pytest.mark.parametrize("page_size", ["0", "1001", "-1", "many"])
def test_page_size_out_of_bounds_rejected(client, headers, accounts, page_size):
    response = client.get(f"{ACCOUNTS_URL}?page_size={page_size}", headers=headers)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] == "page_size"
    assert body["value"] == page_size
    assert body["fix"] == "Send a whole number from 1 to 1,000."


def test_page_size_maximum_accepted(client, headers, accounts):
    response = client.get(f"{ACCOUNTS_URL}?page_size=1000", headers=headers)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 7


def test_invalid_cursor_rejected(client, headers, accounts):
    response = client.get(f"{ACCOUNTS_URL}?cursor=not-a-cursor", headers=headers)

    assert response.status_code == 400
    assert response.json()["field"] == "cursor"
    assert response.json()["value"] == "not-a-cursor"


def test_cursor_rejects_non_id_ordering(client, headers, accounts):
    response = client.get(f"{ACCOUNTS_URL}?page_size=2&ordering=name", headers=headers)

    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "ordering"
    assert body["value"] == "name"
    assert "-id, id" in body["fix"]


def test_cursor_with_limit_rejected(client, headers, accounts):
    response = client.get(f"{ACCOUNTS_URL}?page_size=2&limit=5", headers=headers)

    assert response.status_code == 400
    assert response.json()["field"] == "limit"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/api/v1/deals/", "-close_date, close_date, -updated_at, updated_at, -id, id"),
        ("/api/v1/ledger/", "-created_at, created_at, -updated_at, updated_at, -id, id"),
        ("/api/v1/revenue-events/", "-created_at, created_at, -updated_at, updated_at, -id, id"),
        (
            "/api/v1/referrals/",
            "-registered_at, registered_at, -updated_at, updated_at, -id, id",
        ),
    ],
)
def test_ordering_outside_allow_list_rejected(client, headers, scoped, url, allowed):
    response = client.get(f"{url}?ordering=amount", headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "ordering",
            "value": "amount",
            "message": f'"amount" is not a valid ordering; use one of: {allowed}.',
        }
    ]


def test_deals_ordering_by_id(client, headers, scoped):
    account = AccountFactory(name="Dealer")
    deals = [DealFactory(external_id=f"deal-{index}", account=account) for index in range(3)]

    body = client.get("/api/v1/deals/?ordering=id", headers=headers).json()

    assert [row["id"] for row in body["results"]] == [deal.pk for deal in deals]


def test_referrals_ordering_by_registration(client, headers, scoped):
    older = ReferralFactory(
        domain="older.com", registered_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    newer = ReferralFactory(
        domain="newer.com", registered_at=datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC)
    )

    body = client.get("/api/v1/referrals/?ordering=registered_at", headers=headers).json()

    assert [row["id"] for row in body["results"]] == [older.pk, newer.pk]


def test_updated_since_keeps_changed_rows(client, headers, accounts):
    cutoff = timezone.now()
    Account.objects.filter(pk=accounts[0].pk).update(updated_at=cutoff - datetime.timedelta(days=1))
    Account.objects.exclude(pk=accounts[0].pk).update(
        updated_at=cutoff - datetime.timedelta(days=2)
    )
    Account.objects.filter(pk=accounts[3].pk).update(updated_at=cutoff)

    since = (cutoff - datetime.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    body = client.get(f"{ACCOUNTS_URL}?updated_since={since}", headers=headers).json()

    assert [row["id"] for row in body["results"]] == [accounts[3].pk]


def test_updated_since_invalid_rejected(client, headers, scoped):
    response = client.get(f"{ACCOUNTS_URL}?updated_since=yesterday", headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "updated_since"
    assert response.json()["errors"][0]["value"] == "yesterday"


def test_schema_documents_cursor_parameters(client, db):
    schema = client.get("/api/schema/?format=json").json()

    for url in CURSOR_LISTS:
        names = {p["name"] for p in schema["paths"][url]["get"]["parameters"]}
        assert {"cursor", "page_size", "limit", "offset", "ordering"} <= names, url


def test_ledger_created_date_range(client, headers, scoped):
    response = client.get(
        "/api/v1/ledger/?created_from=2026-02-01&created_to=2026-01-01", headers=headers
    )

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "created_to"
    assert error["message"] == "created_to must not be earlier than created_from."


def test_revenue_events_occurred_date_range(client, headers, scoped):
    account = AccountFactory(name="Churned")
    inside = RevenueEvent.objects.create(
        external_id="churn-inside",
        kind=RevenueEvent.Kind.CHURN,
        account=account,
        occurred_on=datetime.date(2026, 3, 31),
    )
    RevenueEvent.objects.create(
        external_id="churn-outside",
        kind=RevenueEvent.Kind.CHURN,
        account=account,
        occurred_on=datetime.date(2026, 4, 1),
    )

    url = "/api/v1/revenue-events/?occurred_from=2026-03-01&occurred_to=2026-03-31"
    body = client.get(url, headers=headers).json()

    assert [row["id"] for row in body["results"]] == [inside.pk]
