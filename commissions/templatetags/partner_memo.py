"""The memo of a ledger entry as a partner reads it, without the program's segment names."""

from __future__ import annotations

import re

from django import template

from commissions.pricing import SEGMENT_MEMO_PATTERN

register = template.Library()


@register.filter
def partner_memo(memo: str) -> str:
    """Return `memo` with the segment name, an internal label such as "deprioritise", left out."""
    return re.sub(SEGMENT_MEMO_PATTERN, "for your partner segment", memo or "")
