"""Template helpers of the ICP review: the review banner and share formatting."""

from __future__ import annotations

from django import template

from icp.review import icp_review_status

register = template.Library()


@register.inclusion_tag("icp/_review_banner.html", takes_context=True)
def icp_review_banner(context) -> dict:
    """Show a banner to staff when the active version's review is overdue, due or upcoming.

    Partner users and requests without a tenant get nothing, and the status is read
    only when a template uses the tag.
    """
    request = context.get("request")
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    if tenant is None or membership is None or not membership.is_staff_role:
        return {"review": None}
    review = icp_review_status(tenant=tenant)
    return {"review": review if review.needs_attention else None}


@register.filter
def percent(share, digits: int = 1) -> str:
    """Format a share from 0 to 1 as a percentage such as "42.5%", or "–" when missing."""
    if share is None or share == "":
        return "–"
    return f"{float(share) * 100:.{int(digits)}f}%"


@register.filter
def signed_points(value) -> str:
    """Format a change in percentage points with its sign, such as "+4.2 pts"."""
    if value is None:
        return "–"
    return f"{float(value):+.1f} pts"
