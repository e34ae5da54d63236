"""The dashboard fragment that htmx polls: its sections, access rules and tenant scope."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reporting import views as reporting_views
from tests.factories import UserFactory
from tests.web.test_queries import add_rows

HTMX = {"HX-Request": "true"}
LIVE_URL = "/dashboard/live/"


def get_live(client, **headers):
    return client.get(reverse("reporting:dashboard_live"), headers={**HTMX, **headers})


def test_live_url():
    assert reverse("reporting:dashboard_live") == LIVE_URL


def test_live_fragment_has_only_sections(staff_client, program):
    response = get_live(staff_client)
    content = response.content.decode()

    assert response.status_code == 200
    assert [template.name for template in response.templates][0] == "reporting/_dashboard_live.html"
    assert content.lstrip().startswith('<div id="dashboard-live"')
    assert "<html" not in content
    assert "<h1" not in content
    assert 'class="topbar"' not in content
    assert 'aria-label="Headline numbers"' in content
    assert "Partner leaderboard" in content
    assert "Partner-sourced vs direct deals" in content


def test_live_fragment_shows_current_numbers(staff_client, program):
    content = get_live(staff_client).content.decode()

    assert "Acme Referrals" in content
    assert "12,500.00" in content
    assert "1,875.00" in content
    # The direct deals are one won and one lost, so their win rate is 50%.
    assert "50.0%" in content


def test_live_fragment_polls_itself(staff_client, program):
    content = get_live(staff_client).content.decode()

    assert f'hx-get="{LIVE_URL}"' in content
    assert "hx-trigger=\"every 15s [document.visibilityState === 'visible']\"" in content
    assert 'hx-swap="outerHTML"' in content


def test_live_stamp_in_tenant_time_zone(staff_client, program, monkeypatch):
    program.tenant.time_zone = "Europe/Berlin"
    program.tenant.save(update_fields=["time_zone"])
    moment = datetime.datetime(2025, 1, 15, 12, 4, 5, tzinfo=datetime.UTC)
    monkeypatch.setattr(reporting_views.timezone, "now", lambda: moment)

    content = get_live(staff_client).content.decode()

    assert '<time datetime="2025-01-15T12:04:05+00:00">13:04:05 CET</time>' in content


def test_dashboard_page_embeds_live_fragment(staff_client, program):
    content = staff_client.get(reverse("reporting:dashboard")).content.decode()

    assert content.count('id="dashboard-live"') == 1
    assert f'hx-get="{LIVE_URL}"' in content
    assert "Updated <time" in content
    assert 'src="/static/vendor/htmx/htmx.min.js"' in content


def test_htmx_is_vendored():
    script = finders.find("vendor/htmx/htmx.min.js")
    license_file = finders.find("vendor/htmx/LICENSE")

    assert script is not None
    assert license_file is not None


def test_live_fragment_not_cached(staff_client, program):
    response = get_live(staff_client)

    assert "no-store" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("client_fixture", ["staff_client", "analyst_client", "manager_client"])
def test_live_fragment_200_for_staff_roles(request, program, client_fixture):
    client = request.getfixturevalue(client_fixture)

    response = get_live(client)

    assert response.status_code == 200


def test_live_without_htmx_redirects_to_dashboard(staff_client, program):
    response = staff_client.get(reverse("reporting:dashboard_live"))

    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:dashboard")


def test_live_anonymous_redirected_to_login(client, program):
    response = client.get(LIVE_URL)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={LIVE_URL}"


def test_live_anonymous_htmx_redirects_whole_page(client, program):
    response = get_live(client)

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/login/?next={LIVE_URL}"
    assert b"Acme" not in response.content


def test_live_partner_user_sent_to_portal(partner_client, program):
    response = get_live(partner_client)

    assert response["HX-Redirect"] == reverse("partners:portal")
    assert b"Acme Referrals" not in response.content


def test_live_user_without_membership_gets_403(client, program):
    client.force_login(UserFactory(username="drifter"))

    response = get_live(client)

    assert response.status_code == 403


def test_live_rejects_post(staff_client, program):
    response = staff_client.post(LIVE_URL, headers=HTMX)

    assert response.status_code == 405


def test_live_fragment_hides_other_tenant(client, program, other_program, other_admin_user):
    client.force_login(other_admin_user)

    content = get_live(client).content.decode()

    assert "Globex Referrals" in content
    assert "Acme Referrals" not in content


def test_live_fragment_query_count_is_fixed(staff_client, program):
    with CaptureQueriesContext(connection) as before:
        get_live(staff_client)

    add_rows(program, 5)
    with CaptureQueriesContext(connection) as after:
        get_live(staff_client)

    assert len(after) == len(before)
