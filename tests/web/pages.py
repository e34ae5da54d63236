"""The dashboard's pages by name, with URLs built from a filled tenant."""

from __future__ import annotations

from django.urls import reverse


def staff_pages(program) -> dict[str, str]:
    """Return every GET page that staff roles may open, with object ids from `program`."""
    return {
        "dashboard": reverse("reporting:dashboard"),
        "account list": reverse("crm:account_list"),
        "account detail": reverse("crm:account_detail", args=[program.account.pk]),
        "import list": reverse("crm:import_list"),
        "import detail": reverse("crm:import_detail", args=[program.run.pk]),
        "icp list": reverse("icp:version_list"),
        "icp detail": reverse("icp:version_detail", args=[program.version.pk]),
        "icp review": reverse("icp:review"),
        "partner list": reverse("partners:partner_list"),
        "partner detail": reverse("partners:partner_detail", args=[program.partner.pk]),
        "partner ranking": reverse("partners:partner_ranking"),
        "partner segments": reverse("partners:partner_segments"),
        "ledger": reverse("commissions:ledger_list"),
        "commission plan": reverse("commissions:plan"),
        "commission plan detail": reverse("commissions:plan_detail", args=[program.plan.pk]),
        "settings": reverse("tenancy:settings"),
        "fraud review": reverse("fraud:signal_list"),
        "mdf budgets": reverse("commissions:mdf_budget_list"),
        "mdf budget": reverse("commissions:mdf_budget_detail", args=[program.mdf_budget.pk]),
        "mdf request": reverse("commissions:mdf_request_detail", args=[program.mdf_request.pk]),
    }


def detail_pages(program) -> dict[str, str]:
    """Return the pages that show one object of `program`'s tenant."""
    pages = staff_pages(program)
    return {
        name: pages[name]
        for name in ("account detail", "import detail", "icp detail", "partner detail")
    }


STAFF_PAGE_NAMES = [
    "dashboard",
    "account list",
    "account detail",
    "import list",
    "import detail",
    "icp list",
    "icp detail",
    "icp review",
    "partner list",
    "partner detail",
    "partner ranking",
    "partner segments",
    "ledger",
    "commission plan",
    "commission plan detail",
    "settings",
    "fraud review",
    "mdf budgets",
    "mdf budget",
    "mdf request",
]

# Pages without an object id, by URL name.
LIST_PAGES = {
    "dashboard": "reporting:dashboard",
    "account list": "crm:account_list",
    "import list": "crm:import_list",
    "icp list": "icp:version_list",
    "icp review": "icp:review",
    "partner list": "partners:partner_list",
    "partner ranking": "partners:partner_ranking",
    "partner segments": "partners:partner_segments",
    "ledger": "commissions:ledger_list",
    "commission plan": "commissions:plan",
    "settings": "tenancy:settings",
    "fraud review": "fraud:signal_list",
}
