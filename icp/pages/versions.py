"""ICP version pages: the active version, the version list and one version's detail."""

from __future__ import annotations

from django.shortcuts import render

from icp.forms import LearnForm
from icp.learning.weighting import WEIGHTING_LABELS
from icp.models import IcpVersion
from icp.scoring import KIND_LABELS
from icp.selectors import icp_version_list
from jobs.models import Job
from jobs.selectors import job_latest
from tenancy.permissions import page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404

TIERS = ("A", "B", "C", "D")
WARNING_SIGNALS = (IcpVersion.Signal.WEAK, IcpVersion.Signal.NONE)


def _score_ranges(cutoffs: dict) -> dict[str, tuple[int, int]]:
    """Map each tier to its (lowest, highest) score, or return {} when a cut-off is missing."""
    if not all(tier in cutoffs for tier in ("A", "B", "C")):
        return {}
    a, b, c = cutoffs["A"], cutoffs["B"], cutoffs["C"]
    return {"A": (a, 100), "B": (b, a - 1), "C": (c, b - 1), "D": (0, c - 1)}


def _tier_rows(version: IcpVersion) -> list[dict]:
    """Return one row per tier with its score range and validation figures, when present."""
    ranges = _score_ranges(version.tier_cutoffs or {})
    tier_metrics = (version.metrics or {}).get("tiers", {})
    coverage = ((version.metrics or {}).get("coverage") or {}).get("tiers", {})
    rows = []
    for tier in TIERS:
        figures = tier_metrics.get(tier, {})
        covered = coverage.get(tier, {})
        win_rate = figures.get("win_rate")
        lowest, highest = ranges.get(tier, (None, None))
        rows.append(
            {
                "tier": tier,
                "lowest_score": lowest,
                "highest_score": highest,
                # A cut-off at 0 leaves tier D no scores at all.
                "empty_range": lowest is not None and highest < lowest,
                "accounts": figures.get("accounts"),
                "all_accounts": covered.get("accounts"),
                "all_share_percent": _percent(covered.get("share")),
                "closed_deals": figures.get("closed_deals"),
                "won_deals": figures.get("won_deals"),
                "win_rate_percent": None if win_rate is None else round(win_rate * 100, 1),
                "won_value": figures.get("won_value"),
                "lifetime_value": figures.get("lifetime_value"),
                "churn_rate_percent": _percent(figures.get("churn_rate")),
            }
        )
    return rows


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _auc_rows(metrics: dict) -> list[dict]:
    """Return the cross-validated ROC AUC figures that the version's metrics contain."""
    labels = (
        ("cv_auc_won", "Model: won vs lost deals"),
        ("cv_auc_value", "Model: above-median won value per account"),
        ("cv_auc_criteria", "These criteria, relearned in each fold"),
    )
    rows = []
    for key, label in labels:
        figures = metrics.get(key)
        if figures:
            rows.append({"label": label, **figures})
    return rows


def _criteria_rows(criteria: list) -> list[dict]:
    """Return the criteria with the label of their kind, for the criteria table."""
    return [
        {**criterion, "kind_label": KIND_LABELS.get(criterion.get("kind"), criterion.get("kind"))}
        for criterion in criteria
        if isinstance(criterion, dict)
    ]


@staff_required
def version_list(request, learn_form: LearnForm | None = None, status: int = 200):
    """Render the version list; the learn view passes its invalid form and a 400 status."""
    versions = list(icp_version_list(tenant=request.tenant))
    active = next((v for v in versions if v.status == IcpVersion.Status.ACTIVE), None)
    learn_job = job_latest(tenant=request.tenant, kind=Job.Kind.ICP_LEARN)
    context = {
        "versions": versions,
        "active": active,
        "active_warning": active is not None and active.signal in WARNING_SIGNALS,
        "objective_label": active.objective_label if active else "",
        "learn_form": learn_form or LearnForm(),
        "learn_job": learn_job if learn_job and not learn_job.finished else None,
        **page_permissions(request.membership),
    }
    return render(request, "icp/version_list.html", context, status=status)


@staff_required
def version_detail(request, pk: int):
    version = get_for_tenant_or_404(
        IcpVersion.objects.select_related("created_by", "activated_by"), pk=pk
    )
    metrics = version.metrics or {}
    context = {
        "version": version,
        "criteria": _criteria_rows(version.criteria or []),
        "tiers": _tier_rows(version),
        "auc_rows": _auc_rows(metrics),
        "counts": metrics.get("counts"),
        "objective_label": version.objective_label,
        "show_warning": version.signal in WARNING_SIGNALS,
        **page_permissions(request.membership),
        "weighting_label": WEIGHTING_LABELS.get(metrics.get("weighting"), ""),
        "churn_known": any(
            figures.get("churn_rate") is not None for figures in metrics.get("tiers", {}).values()
        ),
    }
    return render(request, "icp/version_detail.html", context)
