"""Two-factor authentication: the Security page, TOTP at log-in and recovery codes."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client
from django.urls import reverse

from partners.recompute import redis_client
from tenancy.models import Membership
from tests.factories import MembershipFactory, UserFactory

PASSWORD = "pass-word-123"
SECRET_SESSION_KEY = "mfa.totp.secret"


@pytest.fixture(autouse=True)
def _allauth_counters_reset():
    """Delete allauth's rate-limit and used-code records, which live in Redis past the test."""
    client = redis_client()
    for pattern in ("*allauth:rl:*", "*allauth.mfa.totp.used*"):
        keys = list(client.scan_iter(pattern))
        if keys:
            client.delete(*keys)


def totp_code(secret: str, *, offset_periods: int = 0) -> str:
    counter = int(time.time()) // 30 + offset_periods
    return format_hotp_value(hotp_value(secret, counter))


def wrong_code(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def log_in(client: Client, login: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"login": login, "password": password})


def reauthenticate(client: Client, password: str = PASSWORD) -> None:
    """Enter the password again, as allauth requires before any change to 2FA."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content.decode()


def totp_enable(client: Client) -> str:
    """Turn on TOTP for the logged-in user through the pages and return its secret."""
    reauthenticate(client)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()
    return secret


@pytest.fixture
def manager(tenant):
    user = UserFactory(username="mia-manager", email="mia@acme.example")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    return user


@pytest.fixture
def manager_with_totp(manager):
    client = Client()
    log_in(client, "mia-manager")
    secret = totp_enable(client)
    client.post(reverse("logout"))
    return manager, secret


def test_header_links_security_page(manager):
    client = Client()
    log_in(client, "mia-manager")

    content = client.get(reverse("reporting:dashboard")).content.decode()

    assert f'<a href="{reverse("mfa_index")}"' in content


def test_security_page_offers_totp(manager):
    client = Client()
    log_in(client, "mia-manager")

    response = client.get(reverse("mfa_index"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Turn on two-factor authentication" in content
    assert 'class="topbar"' in content


def test_activate_page_shows_qr_and_secret(manager):
    client = Client()
    log_in(client, "mia-manager")
    reauthenticate(client)

    response = client.get(reverse("mfa_activate_totp"))

    content = response.content.decode()
    assert 'src="data:image/svg+xml' in content
    assert client.session[SECRET_SESSION_KEY] in content
    assert 'for="id_code"' in content


def test_activation_rejects_wrong_code(manager):
    client = Client()
    log_in(client, "mia-manager")
    reauthenticate(client)
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]

    response = client.post(reverse("mfa_activate_totp"), {"code": wrong_code(totp_code(secret))})

    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not Authenticator.objects.filter(user=manager).exists()


def test_activation_asks_password_again(manager):
    client = Client()
    log_in(client, "mia-manager")

    response = client.get(reverse("mfa_activate_totp"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_activation_creates_recovery_codes(manager):
    client = Client()
    log_in(client, "mia-manager")

    totp_enable(client)

    types = set(Authenticator.objects.filter(user=manager).values_list("type", flat=True))
    assert types == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
    codes = client.get(reverse("mfa_view_recovery_codes")).content.decode()
    recovery = RecoveryCodes(Authenticator.objects.get(user=manager, type="recovery_codes"))
    assert recovery.get_unused_codes()[0] in codes


def test_login_asks_for_code(manager_with_totp):
    client = Client()

    response = log_in(client, "mia-manager")

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    dashboard = client.get(reverse("reporting:dashboard"))
    assert dashboard.status_code == 302
    assert dashboard["Location"].startswith(reverse("login"))


def test_login_with_correct_code(manager_with_totp):
    _, secret = manager_with_totp
    client = Client()
    log_in(client, "mia@acme.example")

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})

    assert response.status_code == 302
    assert client.get(reverse("reporting:dashboard")).status_code == 200


def test_login_wrong_code_rejected(manager_with_totp):
    _, secret = manager_with_totp
    client = Client()
    log_in(client, "mia-manager")

    response = client.post(
        reverse("mfa_authenticate"), {"code": wrong_code(totp_code(secret, offset_periods=5))}
    )

    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert client.get(reverse("reporting:dashboard")).status_code == 302


def test_recovery_code_works_once(manager_with_totp):
    manager, _ = manager_with_totp
    recovery = RecoveryCodes(Authenticator.objects.get(user=manager, type="recovery_codes"))
    code = recovery.get_unused_codes()[0]
    first = Client()
    log_in(first, "mia-manager")

    used = first.post(reverse("mfa_authenticate"), {"code": code})
    second = Client()
    log_in(second, "mia-manager")
    reused = second.post(reverse("mfa_authenticate"), {"code": code})

    assert used.status_code == 302
    assert first.get(reverse("reporting:dashboard")).status_code == 200
    assert reused.status_code == 200
    assert second.get(reverse("reporting:dashboard")).status_code == 302


def test_regenerate_recovery_codes(manager_with_totp):
    manager, secret = manager_with_totp
    client = Client()
    log_in(client, "mia-manager")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    reauthenticate(client)
    old = RecoveryCodes(Authenticator.objects.get(user=manager, type="recovery_codes"))
    old_codes = set(old.get_unused_codes())

    page = client.get(reverse("mfa_generate_recovery_codes"))
    response = client.post(reverse("mfa_generate_recovery_codes"))

    assert page.status_code == 200
    assert response.status_code == 302
    new = RecoveryCodes(Authenticator.objects.get(user=manager, type="recovery_codes"))
    assert set(new.get_unused_codes()).isdisjoint(old_codes)


def test_deactivation_confirms_first(manager_with_totp):
    manager, secret = manager_with_totp
    client = Client()
    log_in(client, "mia-manager")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    reauthenticate(client)

    page = client.get(reverse("mfa_deactivate_totp"))
    still_on = Authenticator.objects.filter(user=manager, type="totp").exists()
    client.post(reverse("mfa_deactivate_totp"))

    assert "Turn off two-factor authentication?" in page.content.decode()
    assert still_on
    assert not Authenticator.objects.filter(user=manager, type="totp").exists()
    client.post(reverse("logout"))
    assert log_in(Client(), "mia-manager")["Location"] == reverse("reporting:dashboard")


def test_partner_user_enables_totp(tenant):
    from tests.web.data import program_create

    program = program_create(tenant, label="Acme")
    user = program.portal_membership.user
    client = Client()
    log_in(client, user.username)

    totp_enable(client)

    assert Authenticator.objects.filter(user=user, type="totp").exists()
    assert 'href="/partners/portal/"' in client.get(reverse("mfa_index")).content.decode()


def test_wrong_password_rejected(manager):
    response = log_in(Client(), "mia-manager", password="not-the-password")

    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_model_backend_still_logs_in(manager):
    client = Client()

    assert client.login(username="mia-manager", password=PASSWORD)
    assert client.get(reverse("reporting:dashboard")).status_code == 200


@pytest.mark.parametrize(
    "route", ["account_reset_password", "account_change_password", "account_reauthenticate"]
)
def test_allauth_pages_use_site_layout(manager, route):
    client = Client()
    log_in(client, "mia-manager")

    response = client.get(reverse(route))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="topbar"' in content
    assert 'class="stacked-form"' in content


def test_admin_login_goes_through_site_login(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
