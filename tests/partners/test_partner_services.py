import pytest

from partners.models import Partner
from partners.services import partner_create, partner_update
from tenancy.errors import Conflict, DomainError
from tenancy.models import AuditEvent
from tests.factories import PartnerFactory


def test_partner_create_rejects_taken_external_id(scoped):
    PartnerFactory(tenant=scoped, external_id="p-1", name="First")

    with pytest.raises(Conflict) as error:
        partner_create(tenant=scoped, external_id="p-1", name="Second")

    assert error.value.field == "external_id"
    assert Partner.objects.get().name == "First"


def test_partner_update_renames_and_audits(scoped):
    partner = PartnerFactory(tenant=scoped, external_id="p-1", name="First")

    partner_update(partner=partner, external_id="p-9", tier="gold", notes="Met at a fair.")

    partner.refresh_from_db()
    event = AuditEvent.objects.get(event="partner.updated")
    assert (partner.external_id, partner.tier) == ("p-9", "gold")
    assert event.before == {"external_id": "p-1", "tier": "", "notes": ""}
    assert event.after == {"external_id": "p-9", "tier": "gold", "notes": "Met at a fair."}


def test_partner_update_rejects_taken_external_id(scoped):
    PartnerFactory(tenant=scoped, external_id="p-2")
    partner = PartnerFactory(tenant=scoped, external_id="p-1")

    with pytest.raises(Conflict):
        partner_update(partner=partner, external_id="p-2")

    partner.refresh_from_db()
    assert partner.external_id == "p-1"


def test_partner_update_rejects_unknown_status(scoped):
    partner = PartnerFactory(tenant=scoped)

    with pytest.raises(DomainError) as error:
        partner_update(partner=partner, status="gone")

    assert error.value.field == "status"


def test_partner_update_without_changes_writes_no_audit(scoped):
    partner = PartnerFactory(tenant=scoped, name="Same")

    partner_update(partner=partner, name="Same")

    assert not AuditEvent.objects.filter(event="partner.updated").exists()


def test_partner_domain_rejects_free_mail(scoped):
    partner = PartnerFactory(tenant=scoped, domain="northwind.com")

    with pytest.raises(DomainError) as error:
        partner_update(partner=partner, domain="gmail.com")

    partner.refresh_from_db()
    assert error.value.field == "domain"
    assert partner.domain == "northwind.com"
    with pytest.raises(DomainError):
        partner_create(tenant=scoped, external_id="p-free", name="Free", domain="outlook.com")
    assert not Partner.objects.filter(external_id="p-free").exists()
