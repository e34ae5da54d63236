import csv
import io

import pytest
from django.urls import reverse

from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, PartnerFactory, ReachEntryFactory


def _reach(partner, **values):
    account = AccountFactory(**values)
    ReachEntryFactory(partner=partner, domain=account.domain, account=account)
    return account


@pytest.fixture
def prospects(program, tenant):
    """An open prospect in the program partner's reach and one in a rival partner's reach."""
    with tenant_scope(tenant):
        rival = PartnerFactory(name="Rival Partner")
        own = _reach(program.partner, name="Own Prospect", fit_tier="A", fit_score=90)
        other = _reach(rival, name="Rival Prospect", fit_tier="A", fit_score=95)
    return {"rival": rival, "own": own, "other": other}


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_detail_shows_brief(analyst_client, program, prospects):
    url = reverse("partners:partner_detail", args=[program.partner.pk])

    content = analyst_client.get(url).content.decode()

    assert "<h2>Brief</h2>" in content
    assert "Own Prospect" in content
    assert "1 to bring forward, 1 already customers" in content
    assert "We win most with: Industry: software (60 points)" in content
    assert reverse("partners:partner_brief_csv", args=[program.partner.pk]) in content


def test_analyst_downloads_brief_csv(analyst_client, program, prospects):
    url = reverse("partners:partner_brief_csv", args=[program.partner.pk])

    response = analyst_client.get(url)
    rows = _csv_rows(response)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert rows[0] == ["account", "domain", "tier", "fit_score", "why_on_profile"]
    assert [row[0] for row in rows[1:]] == ["Own Prospect"]


def test_portal_shows_own_brief_only(partner_client, prospects):
    content = partner_client.get(reverse("partners:portal")).content.decode()

    assert "<h2>Brief</h2>" in content
    assert "Own Prospect" in content
    assert "Rival Prospect" not in content
    assert reverse("partners:portal_brief_csv") in content


def test_portal_csv_is_own_brief(partner_client, prospects):
    response = partner_client.get(reverse("partners:portal_brief_csv"))

    assert response.status_code == 200
    assert [row[0] for row in _csv_rows(response)[1:]] == ["Own Prospect"]


def test_partner_user_cannot_open_other_brief(partner_client, prospects):
    url = reverse("partners:partner_brief_csv", args=[prospects["rival"].pk])

    response = partner_client.get(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:portal")
    assert b"Rival Prospect" not in response.content


def test_staff_cannot_open_portal_csv(analyst_client, program):
    response = analyst_client.get(reverse("partners:portal_brief_csv"))

    assert response.status_code == 403


def test_brief_empty_state(analyst_client, program):
    url = reverse("partners:partner_detail", args=[program.partner.pk])

    content = analyst_client.get(url).content.decode()

    assert "Every on-profile account in this reach is already a customer" in content
