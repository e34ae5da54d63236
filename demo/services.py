"""Load the demo tenant from the bundled real data, plus clearly generated partners.

Accounts and deals are the real CRM data set and the Inc. 5000 list. Partners,
their reach lists and their referrals are generated: every choice comes from a
SHA-256 hash of fixed strings, so each run produces the same demo.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from attribution.links import link_create
from attribution.models import Referral, TrackingLink
from attribution.referrals import referral_register
from attribution.rules import attribution_settings_set
from commissions.models import CommissionPlan
from commissions.plans import commission_plan_activate, commission_plan_draft_save
from crm.importing import csv_import
from crm.models import Account, ImportRun
from crm.pipeline import deals_process
from demo import sources
from icp import rescoring
from icp import selectors as icp_selectors
from icp import services as icp_services
from partners import services as partner_services
from partners.applications import applications_open_set
from partners.models import Partner
from reporting.services import partner_rollups_refresh
from tenancy import services as tenancy_services
from tenancy.models import Membership, Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

TENANT_SLUG = "demo"
TENANT_NAME = "Maven Hardware (demo)"
DEMO_PASSWORD = "track360-demo"
# A fixed key so the README's curl examples work against the demo; local use only.
DEMO_API_KEY = "t360_demo_local_only_key"
REFERRAL_START = datetime.date(2017, 1, 1)
# Import file names of the demo's own data; the reach generator uses only accounts
# that came from these imports.
DEMO_FILES = {
    "crm_accounts": "demo-crm-accounts.csv",
    "inc5000_accounts": "demo-inc5000-accounts.csv",
    "crm_deals": "demo-crm-deals.csv",
}


@dataclass(frozen=True)
class DemoPartner:
    external_id: str
    name: str
    kind: str
    industries: tuple[str, ...]
    min_employees: int
    max_employees: int


PARTNERS = (
    DemoPartner("gen-summit", "Summit Channel Partners", "reseller", (), 2000, 10**9),
    DemoPartner("gen-carebridge", "Carebridge Referrals", "referral", ("medical",), 0, 10**9),
    DemoPartner("gen-storefront", "Storefront Growth Agency", "agency", ("retail",), 0, 10**9),
    DemoPartner(
        "gen-ledgerline", "Ledgerline Advisors", "referral", ("finance", "services"), 0, 10**9
    ),
    DemoPartner(
        "gen-openstack", "Open Stack Alliance", "technology", ("software", "technology"), 0, 1500
    ),
)

USERS = (
    ("admin", Membership.Role.ADMIN),
    ("manager", Membership.Role.PARTNER_MANAGER),
    ("analyst", Membership.Role.ANALYST),
)


def _fraction(*parts: str) -> float:
    """Return a stable number in [0, 1) for the given strings."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _on_focus(partner: DemoPartner, industry: str, employees: int | None) -> bool:
    industry_ok = not partner.industries or industry in partner.industries
    size_ok = employees is not None and partner.min_employees <= employees < partner.max_employees
    return industry_ok and size_ok


# Chance that a partner's reach contains a company, by (CRM account?, on the
# partner's focus?): partners reach mostly on-focus companies, few others.
REACH_CHANCE = {(True, True): 0.7, (True, False): 0.15, (False, True): 0.2, (False, False): 0.01}


def _reach_for(partner: DemoPartner, accounts: list[dict]) -> list[tuple[str, str]]:
    """Draw the partner's reach: mostly on-focus companies, some others."""
    reach = []
    for account in accounts:
        is_crm = account["external_id"].startswith("crm-")
        focus = _on_focus(partner, account["industry"], account["employees"])
        chance = REACH_CHANCE[(is_crm, focus)]
        if _fraction(partner.external_id, account["domain"]) < chance:
            reach.append((account["domain"], account["name"]))
    return reach


def _ensure_users(tenant: Tenant) -> list[tuple[str, str]]:
    logins = []
    for username, role in USERS:
        user = tenancy_services.user_ensure(
            username=username, email=f"{username}@demo.track360.test", password=DEMO_PASSWORD
        )
        tenancy_services.membership_set(tenant=tenant, user=user, role=role)
        logins.append((username, role.label))
    return logins


def _ensure_partners(tenant: Tenant) -> dict[str, Partner]:
    partners = {}
    for spec in PARTNERS:
        partner, _ = partner_services.partner_upsert(
            tenant=tenant,
            external_id=spec.external_id,
            name=spec.name,
            kind=spec.kind,
            status=Partner.Status.ACTIVE,
            is_generated=True,
            description=(
                "Generated for the demo: reach list and referrals are drawn from the real accounts."
            ),
        )
        partners[spec.external_id] = partner
    return partners


def _demo_sources() -> list[str]:
    filenames = [DEMO_FILES[kind] for kind in ("crm_accounts", "inc5000_accounts")]
    run_ids = ImportRun.objects.filter(filename__in=filenames).values_list("pk", flat=True)
    return [f"import:{pk}" for pk in run_ids]


def _ensure_reach_and_referrals(partners: dict[str, Partner]) -> int:
    # Only the accounts the demo itself loaded: a tenant's own imports stay out of
    # the generated reach lists, so loading the demo again keeps the same partners.
    accounts = list(
        Account.objects.filter(source__in=_demo_sources())
        .exclude(domain="")
        .values("id", "external_id", "name", "domain", "industry", "employees")
    )
    reach_domains: dict[str, set[str]] = {}
    for spec in PARTNERS:
        reach = _reach_for(spec, accounts)
        partner_services.reach_replace(
            partner=partners[spec.external_id], entries=reach, source="generated:demo"
        )
        reach_domains[spec.external_id] = {domain for domain, _ in reach}

    referred = 0
    for account in accounts:
        if not account["external_id"].startswith("crm-"):
            continue
        candidates = sorted(
            (_fraction("referrer", spec.external_id, account["domain"]), spec.external_id)
            for spec in PARTNERS
            if account["domain"] in reach_domains[spec.external_id]
        )
        if not candidates or _fraction("refers", account["domain"]) >= 0.6:
            continue
        partner = partners[candidates[0][1]]
        days = int(_fraction("referred_at", account["domain"]) * 240)
        _, created = referral_register(
            partner=partner,
            company=account["domain"],
            source=Referral.Source.IMPORT,
            registered_on=REFERRAL_START + datetime.timedelta(days=days),
        )
        referred += created
    return referred


def _import(tenant: Tenant, kind: str, content: bytes, filename: str) -> ImportRun:
    run = csv_import(tenant=tenant, kind=kind, content=content, filename=filename, strict=True)
    if run.status != ImportRun.Status.SUCCEEDED:
        raise RuntimeError(f"Demo import of {filename} failed: {run.errors[:5]}")
    return run


def _ensure_api_key(tenant: Tenant) -> None:
    from tenancy.models import ApiKey

    if not ApiKey.objects.filter(name="demo").exists():
        tenancy_services.api_key_create(tenant=tenant, name="demo", raw_key=DEMO_API_KEY)


# The demo's tracking links lead to the domain reserved for examples (RFC 2606).
DEMO_SITE = "example.com"


def _ensure_program_pages(tenant: Tenant, partner: Partner) -> None:
    """Open the application page and give the demo partner user one tracking link."""
    applications_open_set(tenant=tenant, is_open=True, actor=None)
    if DEMO_SITE not in tenant.link_domains:
        attribution_settings_set(tenant=tenant, link_domains=[*tenant.link_domains, DEMO_SITE])
    if not TrackingLink.objects.filter(partner=partner).exists():
        link_create(
            partner=partner, destination=f"https://{DEMO_SITE}/pricing", label="Pricing page"
        )


def demo_load() -> dict:
    """Create or refresh the demo tenant; safe to run again."""
    logger.info("demo.load.started")
    tenant = tenancy_services.tenant_create(name=TENANT_NAME, slug=TENANT_SLUG)
    logins = _ensure_users(tenant)

    with tenant_scope(tenant):
        _ensure_api_key(tenant)
        _import(tenant, "accounts", sources.crm_accounts_csv(), DEMO_FILES["crm_accounts"])
        _import(tenant, "accounts", sources.inc5000_accounts_csv(), DEMO_FILES["inc5000_accounts"])
        partners = _ensure_partners(tenant)
        with transaction.atomic():
            referred = _ensure_reach_and_referrals(partners)
        partner_user = tenancy_services.user_ensure(
            username="partner", email="partner@demo.track360.test", password=DEMO_PASSWORD
        )
        tenancy_services.membership_set(
            tenant=tenant,
            user=partner_user,
            role=Membership.Role.PARTNER,
            partner=partners[PARTNERS[0].external_id],
        )
        logins.append(("partner", f"Partner user of {partners[PARTNERS[0].external_id].name}"))

        _import(tenant, "deals", sources.crm_deals_csv(), DEMO_FILES["crm_deals"])

        version = icp_selectors.icp_version_active(tenant=tenant)
        if version is None:
            version = icp_services.icp_learn(tenant=tenant)
            icp_services.icp_version_activate(version=version)
            # The demo needs the scores now, not when a worker gets to the job.
            rescoring.version_rescore_now(tenant=tenant, version=version)
        else:
            icp_services.accounts_rescore(tenant=tenant)

        commission_plan_activate(
            tenant=tenant,
            name="Fit-weighted referral plan",
            base_rate=Decimal("0.1000"),
            multiplier_a=Decimal("1.50"),
            multiplier_b=Decimal("1.00"),
            multiplier_c=Decimal("0.50"),
            multiplier_d=Decimal("0.00"),
        )
        _draft_plan_ensure(tenant)
        processed = deals_process(tenant_id=tenant.pk)
        partner_services.partner_scores_refresh(tenant=tenant)
        partner_rollups_refresh()
        _ensure_program_pages(tenant, partners[PARTNERS[0].external_id])

    logger.info(
        "demo.load.finished tenant_id=%s referred=%s processed=%s", tenant.pk, referred, processed
    )
    return {
        "tenant": tenant,
        "logins": logins,
        "password": DEMO_PASSWORD,
        "api_key": DEMO_API_KEY,
        "icp_version": version,
        "processed": processed,
    }


DRAFT_PLAN_NAME = "Draft: pay more for tier A"


def _draft_plan_ensure(tenant: Tenant) -> None:
    """Store a draft plan for the simulator to compare with the active one, once."""
    if CommissionPlan.objects.filter(name=DRAFT_PLAN_NAME).exists():
        return
    commission_plan_draft_save(
        tenant=tenant,
        name=DRAFT_PLAN_NAME,
        base_rate=Decimal("0.1000"),
        multiplier_a=Decimal("2.00"),
        multiplier_b=Decimal("1.00"),
        multiplier_c=Decimal("0.25"),
        multiplier_d=Decimal("0.00"),
        min_fit_score=40,
        cap_per_deal=Decimal("5000.00"),
        rules=[{"scope": "segment", "value": "strategic", "rate": Decimal("0.1200")}],
    )
