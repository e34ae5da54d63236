"""The ICP-overlap score of a partner: its parts, and the points each part earns.

The score (0 to 100) ranks partners before and after signing. Two parts earn points:

- on-profile share, up to ON_PROFILE_POINTS (60): 60 × on_profile_count /
  assessed_count. The assessed reach is the entries matched to an account plus the
  unmatched entries scored on their own firmographics, and on-profile means ICP tier
  A or B, so companies that are not in the CRM yet count too.
- target coverage, up to COVERAGE_POINTS (40): 40 × min(1, coverage / 0.25), where
  coverage is the share of the tenant's open target accounts (tier A or B, no won
  deal) that the reach contains. Covering a quarter of them earns all 40.

The score is the sum of the two, from the unrounded share and coverage, rounded to a
whole number with halves to even. The stored points of each part are rounded to two
places, so they may add up to half a point more or less than the score.

The other parts describe the reach and earn no points: reach size, matched count,
the open pipeline reached (accounts with an open deal, already being worked), the
customers reached (won and not churned, so no new business) and the fit-weighted
reach (the sum of the fit scores / 100), a volume measure that counts companies
outside the CRM as well.
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
_POINT_PLACES = Decimal("0.01")

FORMULA_EXPRESSION = (
    f"{ON_PROFILE_POINTS} × on-profile share + {COVERAGE_POINTS} × "
    f"min(1, target coverage / {FULL_COVERAGE_SHARE})"
)
FORMULA = f"Overlap score = {FORMULA_EXPRESSION}, rounded to a whole number."


class OverlapScore(NamedTuple):
    """A partner's overlap score with its parts, as PartnerScore stores them."""

    # On-profile share of the assessed reach, 0 to 1, to four decimal places.
    share: Decimal
    # Share of the tenant's open target accounts the reach covers, 0 to 1, four places.
    coverage: Decimal
    # Points of each part, to two decimal places.
    on_profile_points: Decimal
    coverage_points: Decimal
    # The score 0 to 100, rounded half to even.
    points: int


def overlap_score(
    on_profile_count: int, assessed_count: int, target_overlap_count: int, target_count: int
) -> OverlapScore:
    """Compute a partner's overlap score from its reach counts.

    `assessed_count` counts reach entries matched to an account or scored on their
    own firmographics, `on_profile_count` those of them in tier A or B, and
    `target_overlap_count` the entries whose account is an open target. `target_count`
    is the number of the tenant's open target accounts.
    """
    share = Decimal(on_profile_count) / assessed_count if assessed_count else Decimal(0)
    coverage = Decimal(target_overlap_count) / target_count if target_count else Decimal(0)
    on_profile_points = ON_PROFILE_POINTS * share
    coverage_points = COVERAGE_POINTS * min(Decimal(1), coverage / FULL_COVERAGE_SHARE)
    return OverlapScore(
        share=share.quantize(_SHARE_PLACES),
        coverage=coverage.quantize(_SHARE_PLACES),
        on_profile_points=on_profile_points.quantize(_POINT_PLACES),
        coverage_points=coverage_points.quantize(_POINT_PLACES),
        points=int((on_profile_points + coverage_points).quantize(Decimal(1))),
    )


# Keys of the parts `overlap_parts` returns, in display order.
PART_KEYS = (
    "reach",
    "matched",
    "on_profile",
    "target_overlap",
    "pipeline_overlap",
    "customer_overlap",
    "fit_weighted_reach",
)


class OverlapPart(NamedTuple):
    """One line of a partner's overlap explanation, for the pages and the API."""

    key: str
    label: str
    count: int | None
    share: Decimal | None
    # A sum: the open pipeline amount in the base currency, or the fit-weighted reach.
    total: Decimal | None
    # Points earned and the part's maximum; both 0 for the parts that earn none.
    points: Decimal
    max_points: int
    rule: str


_NO_POINTS = Decimal("0.00")


def overlap_parts(score) -> list[OverlapPart]:
    """Return the parts of a stored score in display order.

    `score` is a PartnerScore or any object with its fields, such as a partner
    annotated with `score_<field>` by `partners.selectors` (use `ScoreView` then).
    """
    return [
        OverlapPart(
            "reach",
            "Reach",
            score.reach_count,
            None,
            None,
            _NO_POINTS,
            0,
            "Companies on the reach list. Earns no points by itself.",
        ),
        OverlapPart(
            "matched",
            "In your CRM",
            score.matched_count,
            None,
            None,
            _NO_POINTS,
            0,
            "Reach entries matched to one of your accounts by domain. Earns no points.",
        ),
        OverlapPart(
            "on_profile",
            "On-profile reach (tier A or B)",
            score.on_profile_count,
            score.on_profile_share,
            None,
            score.on_profile_points,
            ON_PROFILE_POINTS,
            f"{ON_PROFILE_POINTS} × the share of the assessed reach (matched entries and "
            "unmatched entries scored on their own firmographics) that is tier A or B.",
        ),
        OverlapPart(
            "target_overlap",
            "Open target accounts reached",
            score.target_overlap_count,
            score.target_coverage,
            None,
            score.coverage_points,
            COVERAGE_POINTS,
            f"{COVERAGE_POINTS} × min(1, coverage / {FULL_COVERAGE_SHARE}), where coverage is "
            f"the share of your {score.target_count:,} tier A/B accounts without a won deal "
            "that the reach contains.",
        ),
        OverlapPart(
            "pipeline_overlap",
            "Open pipeline reached",
            score.pipeline_overlap_count,
            None,
            score.pipeline_overlap_amount,
            _NO_POINTS,
            0,
            "Reach accounts of any tier with an open deal, customers included, and the sum "
            "of those deals. The brief counts only on-profile accounts that are not yet "
            "customers. Earns no points, because these deals are already being worked.",
        ),
        OverlapPart(
            "customer_overlap",
            "Customers reached",
            score.customer_overlap_count,
            None,
            None,
            _NO_POINTS,
            0,
            "Reach accounts of any tier with a won deal that have not churned. The brief "
            "counts only on-profile ones. Earns no points, because they bring no new "
            "business.",
        ),
        OverlapPart(
            "fit_weighted_reach",
            "Fit-weighted reach",
            None,
            score.fit_weighted_per_entry,
            score.fit_weighted_reach,
            _NO_POINTS,
            0,
            "Sum of the fit scores of the reach / 100, matched or not; the share is that "
            "per reach entry. Earns no points: it shows volume next to the share.",
        ),
    ]


class ScoreView:
    """The `score_<field>` annotations of a partner, read as the fields of a PartnerScore."""

    def __init__(self, partner):
        self._partner = partner

    def __getattr__(self, name: str):
        return getattr(self._partner, f"score_{name}")
