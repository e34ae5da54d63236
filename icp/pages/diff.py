"""The page that compares two ICP versions side by side."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from icp.diff import ALL_TIERS, icp_versions_diff
from icp.models import IcpVersion
from icp.selectors import icp_version_list
from tenancy.permissions import staff_required
from tenancy.shortcuts import get_for_tenant_or_404

PART_LABELS = {
    "label": "Label",
    "kind": "Kind",
    "field": "Field",
    "weight": "Weight",
    "knockout": "Knock-out",
    "negate": "Negated",
    "values": "Values",
    "min": "Minimum",
    "max": "Maximum",
    "match": "Match",
    "count": "Count",
    "trigger": "Trigger",
    "within_days": "Within days",
}
STATUS_LABELS = {
    "added": "Added",
    "removed": "Removed",
    "changed": "Changed",
    "unchanged": "Unchanged",
}


@staff_required
def versions_diff(request):
    """Compare `?left=` (before, default: the active version) with `?right=` (after).

    Without `right`, the newest version other than the left one is the right side.
    An id that is not a number or not one of the tenant's versions is 404.
    """
    versions = list(icp_version_list(tenant=request.tenant))
    left = _version_param(request, "left")
    right = _version_param(request, "right")
    if left is None:
        left = next((v for v in versions if v.status == IcpVersion.Status.ACTIVE), None)
    if right is None:
        right = next((v for v in versions if left is None or v.pk != left.pk), None)

    context = {"versions": versions, "left": left, "right": right, "diff": None}
    if left is not None and right is not None:
        diff = icp_versions_diff(tenant=request.tenant, left=left, right=right)
        context.update(
            diff=diff,
            criteria_rows=[_criterion_row(row) for row in diff["criteria"]],
            matrix_rows=_matrix_rows(diff["accounts"]),
            tiers=ALL_TIERS,
        )
    return render(request, "icp/versions_diff.html", context)


def _version_param(request, name: str) -> IcpVersion | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404(f"ICP version id {raw!r} is not a number.")
    return get_for_tenant_or_404(IcpVersion, pk=int(raw))


def _criterion_row(row: dict) -> dict:
    """Add the status label and the changed parts in words to one criteria row."""
    return {
        **row,
        "status_label": STATUS_LABELS[row["status"]],
        "change_lines": [_change_line(change) for change in row["changes"]],
    }


def _change_line(change: dict) -> str:
    label = PART_LABELS.get(change["part"], change["part"])
    if change["part"] == "values":
        pieces = []
        if change["added"]:
            pieces.append(f"added {', '.join(change['added'])}")
        if change["removed"]:
            pieces.append(f"removed {', '.join(change['removed'])}")
        return f"{label}: {' and '.join(pieces)}"
    return f"{label}: {_display(change['before'])} → {_display(change['after'])}"


def _display(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _matrix_rows(movement: dict) -> list[dict]:
    """Return the movement matrix as table rows, each cell flagged when it is on the diagonal."""
    return [
        {
            "tier": row["tier"],
            "total": row["total"],
            "cells": [
                {"tier": tier, "count": row["counts"][tier], "same": tier == row["tier"]}
                for tier in ALL_TIERS
            ],
        }
        for row in movement["matrix"]
    ]
