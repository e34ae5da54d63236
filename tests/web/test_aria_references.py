"""Every id that an aria-describedby names exists in the page."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse


class _AriaReferences(HTMLParser):
    """Collect the ids of a document and the ids its aria-describedby attributes name."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.described_by: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        for name in (values.get("aria-describedby") or "").split():
            self.described_by.append((values.get("name") or values.get("id") or tag, name))


def dangling_references(content: str) -> list[str]:
    """Return 'element -> id' for each aria-describedby id missing from `content`."""
    parser = _AriaReferences()
    parser.feed(content)
    return [
        f"{element} -> {name}" for element, name in parser.described_by if name not in parser.ids
    ]


def described_count(content: str) -> int:
    parser = _AriaReferences()
    parser.feed(content)
    return len(parser.described_by)


@pytest.mark.parametrize(
    "data",
    [{}, {"login": "nobody", "password": "wrong-password"}, {"login": "", "password": ""}],
    ids=["empty", "wrong-password", "missing-fields"],
)
def test_login_page_references(db, data):
    client = Client()
    response = client.post(reverse("login"), data) if data else client.get(reverse("login"))
    content = response.content.decode()

    assert response.status_code == 200
    assert described_count(content) > 0
    assert dangling_references(content) == []


@pytest.mark.parametrize(
    "query",
    ["", "?status=active&segment=strategic&kind=referral&q=acme", "?status=bogus&segment=bogus"],
    ids=["unfiltered", "valid-filters", "invalid-filters"],
)
def test_partner_list_references(staff_client, program, query):
    response = staff_client.get(f"{reverse('partners:partner_list')}{query}")
    content = response.content.decode()

    assert response.status_code in (200, 400)
    assert dangling_references(content) == []


def test_partner_list_invalid_filter_described(staff_client, program):
    content = staff_client.get(f"{reverse('partners:partner_list')}?status=bogus").content.decode()

    assert 'aria-describedby="id_status_error"' in content
    assert dangling_references(content) == []


@pytest.mark.parametrize("submit", [False, True], ids=["blank", "submitted-empty"])
def test_apply_page_references(tenant, submit):
    tenant.applications_open = True
    tenant.save(update_fields=["applications_open"])
    url = reverse("partner_apply", args=[tenant.slug])
    client = Client()
    response = client.post(url, {}) if submit else client.get(url)
    content = response.content.decode()

    assert response.status_code in (200, 400)
    assert dangling_references(content) == []


def test_dashboard_references(staff_client, program):
    content = staff_client.get(reverse("reporting:dashboard")).content.decode()

    assert dangling_references(content) == []


@pytest.mark.parametrize(
    ("route", "query", "error"),
    [
        ("crm:account_list", "?tier=Z&ordering=domain", "Sort: Select a valid choice."),
        ("crm:account_list", "?q=" + "x" * 101, "Search: Ensure this value has at most 100"),
        ("attribution:referral_list", "?status=bogus&conflict=bogus", "Conflict: Select a valid"),
        ("fraud:signal_list", "?status=bogus&kind=bogus&partner=0", "Kind: Select a valid"),
    ],
    ids=["accounts", "accounts-search", "referrals", "fraud-signals"],
)
def test_filter_errors_beside_controls(staff_client, program, route, query, error):
    content = staff_client.get(f"{reverse(route)}{query}").content.decode()

    assert error in content
    assert "_error" in content
    assert dangling_references(content) == []
