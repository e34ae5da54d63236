"""Template helpers of the fraud review: the open-signal banner and evidence formatting."""

from __future__ import annotations

import json

from django import template

from attribution.fraud.selectors import open_signal_count

register = template.Library()


@register.inclusion_tag("fraud/_open_banner.html", takes_context=True)
def fraud_review_banner(context) -> dict:
    """Show staff how many fraud signals wait for review; partner users get nothing."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if getattr(request, "tenant", None) is None or membership is None:
        return {"open_count": 0}
    if not membership.is_staff_role:
        return {"open_count": 0}
    return {"open_count": open_signal_count()}


@register.filter
def pretty_json(value) -> str:
    """Format a signal's details as indented JSON for a <pre> block."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
