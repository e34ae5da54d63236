"""The ICP-overlap score of a partner, from counts of its reach and the tenant's targets.

The score (0 to 100) ranks partners before and after signing. Up to 60 points come
from the share of the partner's matched reach that is on-profile (ICP tier A or B).
Up to 40 points come from how many of the tenant's open target accounts (tier A or
B, not yet won) the reach covers, and covering a quarter of them earns all 40.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

ON_PROFILE_TIERS = ("A", "B")
ON_PROFILE_POINTS = 60
COVERAGE_POINTS = 40
# Covering this share of the tenant's open target accounts earns all coverage points.
FULL_COVERAGE_SHARE = Decimal("0.25")
_SHARE_PLACES = Decimal("0.0001")


class OverlapScore(NamedTuple):
    """A partner's overlap score with its two parts, as PartnerScore stores them."""

    # On-profile share of the matched reach, 0 to 1, to four decimal places.
    share: Decimal
    # Share of the tenant's open target accounts the reach covers, 0 to 1, four places.
    coverage: Decimal
    # The score 0 to 100, rounded half to even.
    points: int


def overlap_score(
    on_profile_count: int, matched_count: int, target_overlap_count: int, target_count: int
) -> OverlapScore:
    """Compute a partner's overlap score from its reach counts.

    `matched_count` counts reach entries linked to an account, `on_profile_count` those
    whose account is tier A or B, and `target_overlap_count` those whose account is
    also not yet won. `target_count` is the number of the tenant's open target
    accounts. The points come from the unrounded share and coverage.
    """
    share = Decimal(on_profile_count) / matched_count if matched_count else Decimal(0)
    coverage = Decimal(target_overlap_count) / target_count if target_count else Decimal(0)
    points = ON_PROFILE_POINTS * share + COVERAGE_POINTS * min(
        Decimal(1), coverage / FULL_COVERAGE_SHARE
    )
    return OverlapScore(
        share=share.quantize(_SHARE_PLACES),
        coverage=coverage.quantize(_SHARE_PLACES),
        points=int(points.quantize(Decimal(1))),
    )
