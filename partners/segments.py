"""Partner segments: strategic, grow, nurture and deprioritise, by explicit thresholds.

A partner's segment comes from its overlap score (`partners.overlap`) and, once it
has enough closed deals, from its delivered results (`partners.quality`):

- With at least MIN_CLOSED_DEALS (5) closed deals credited to it, its results are
  good when all four GOOD_RESULTS conditions hold: win rate >= 25 %, at least 50 %
  of its customers in tier A or B, churn rate <= 25 %, and commission cost at most
  50 % of the customers' lifetime value. Then:
  strategic = overlap >= 60 and good results; grow = overlap >= 60 and results not
  good; nurture = overlap < 60 and good results; deprioritise = overlap < 60 and
  results not good.
- With fewer closed deals, the segment comes from the overlap score alone: grow =
  overlap >= 60; nurture = 30 <= overlap < 60; deprioritise = overlap < 30. Such a
  partner is never strategic, because strategic needs proven results.

SEGMENT_RULES contains these rules as data. `segment_decide` evaluates exactly that data,
and the segments page and GET /api/v1/partners/segments/ show it, so the rules shown
are the rules applied. A missing metric (such as the win rate of a partner with no
closed deal) fails every condition on it.

Commission plans can pay a multiplier per segment (`CommissionPlan.segment_multiplier_*`).

NOTE: MDF (market development funds) allocation does not exist yet. When it is
built, it reads the same stored segment, so funds follow the same rules as these
multipliers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from partners.models import PartnerScore

Segment = PartnerScore.Segment
Basis = PartnerScore.SegmentBasis

# The overlap score at or above which a partner's reach is a strong ICP match.
HIGH_OVERLAP = 60
# Without enough results, an overlap score below this deprioritises the partner.
LOW_OVERLAP = 30
# Closed (won or lost) deals credited to a partner before its results count.
MIN_CLOSED_DEALS = 5
MIN_WIN_RATE = Decimal("0.25")
MIN_ON_PROFILE_CUSTOMER_SHARE = Decimal("0.50")
MAX_CHURN_RATE = Decimal("0.25")
MAX_COMMISSION_TO_LIFETIME_VALUE = Decimal("0.50")

_OPERATORS: dict[str, Callable] = {
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
}

METRIC_LABELS = {
    "closed_deal_count": "Closed deals (won + lost)",
    "overlap_score": "Overlap score",
    "win_rate": "Win rate",
    "on_profile_customer_share": "Customers in tier A or B",
    "churn_rate": "Churn rate of customers",
    "commission_to_lifetime_value": "Commission cost / lifetime value",
    "good_results": "Good results",
}


@dataclass(frozen=True)
class Condition:
    """One test of a partner metric against a threshold."""

    metric: str
    operator: str
    value: object

    def holds(self, metrics: Mapping[str, object]) -> bool:
        actual = metrics.get(self.metric)
        if actual is None:
            return False
        return bool(_OPERATORS[self.operator](actual, self.value))

    def as_dict(self) -> dict:
        return {
            "metric": self.metric,
            "label": METRIC_LABELS[self.metric],
            "operator": self.operator,
            # Decimals as strings, as the API sends every decimal.
            "value": str(self.value) if isinstance(self.value, Decimal) else self.value,
        }

    def __str__(self) -> str:
        if isinstance(self.value, bool):
            value = "yes" if self.value else "no"
        elif isinstance(self.value, Decimal):
            value = f"{self.value:.0%}"
        else:
            value = str(self.value)
        symbol = {">=": "≥", "<=": "≤"}.get(self.operator, self.operator)
        return f"{METRIC_LABELS[self.metric]} {symbol} {value}"


@dataclass(frozen=True)
class SegmentRule:
    """A segment and the conditions that all hold for a partner in it, on one basis."""

    segment: str
    basis: str
    conditions: tuple[Condition, ...]


# All must hold for a partner's results to be good.
GOOD_RESULTS = (
    Condition("win_rate", ">=", MIN_WIN_RATE),
    Condition("on_profile_customer_share", ">=", MIN_ON_PROFILE_CUSTOMER_SHARE),
    Condition("churn_rate", "<=", MAX_CHURN_RATE),
    Condition("commission_to_lifetime_value", "<=", MAX_COMMISSION_TO_LIFETIME_VALUE),
)

_WITH_RESULTS = Condition("closed_deal_count", ">=", MIN_CLOSED_DEALS)
_WITHOUT_RESULTS = Condition("closed_deal_count", "<", MIN_CLOSED_DEALS)
_HIGH = Condition("overlap_score", ">=", HIGH_OVERLAP)
_NOT_HIGH = Condition("overlap_score", "<", HIGH_OVERLAP)

# Exactly one rule matches any partner, so their order does not change the result.
SEGMENT_RULES = (
    SegmentRule(
        Segment.STRATEGIC,
        Basis.OVERLAP_AND_RESULTS,
        (_WITH_RESULTS, _HIGH, Condition("good_results", "=", True)),
    ),
    SegmentRule(
        Segment.GROW,
        Basis.OVERLAP_AND_RESULTS,
        (_WITH_RESULTS, _HIGH, Condition("good_results", "=", False)),
    ),
    SegmentRule(
        Segment.NURTURE,
        Basis.OVERLAP_AND_RESULTS,
        (_WITH_RESULTS, _NOT_HIGH, Condition("good_results", "=", True)),
    ),
    SegmentRule(
        Segment.DEPRIORITISE,
        Basis.OVERLAP_AND_RESULTS,
        (_WITH_RESULTS, _NOT_HIGH, Condition("good_results", "=", False)),
    ),
    SegmentRule(Segment.GROW, Basis.OVERLAP_ONLY, (_WITHOUT_RESULTS, _HIGH)),
    SegmentRule(
        Segment.NURTURE,
        Basis.OVERLAP_ONLY,
        (_WITHOUT_RESULTS, Condition("overlap_score", ">=", LOW_OVERLAP), _NOT_HIGH),
    ),
    SegmentRule(
        Segment.DEPRIORITISE,
        Basis.OVERLAP_ONLY,
        (_WITHOUT_RESULTS, Condition("overlap_score", "<", LOW_OVERLAP)),
    ),
)

SEGMENT_DESCRIPTIONS = {
    Segment.STRATEGIC: "Strong ICP overlap and proven on-profile results: invest first.",
    Segment.GROW: "Strong ICP overlap whose results are unproven or weak: enable and grow.",
    Segment.NURTURE: "Moderate overlap, or good results from a narrow reach: keep engaged.",
    Segment.DEPRIORITISE: "Weak overlap and no good results: spend the least time here.",
}


@dataclass(frozen=True)
class SegmentDecision:
    segment: str
    basis: str
    rule: SegmentRule


def segment_metrics(score) -> dict[str, object]:
    """Return the metrics the rules test, from a PartnerScore or an object with its fields."""
    metrics = {
        "closed_deal_count": score.won_deal_count + score.lost_deal_count,
        "overlap_score": score.overlap_score,
        "win_rate": score.win_rate,
        "on_profile_customer_share": score.on_profile_customer_share,
        "churn_rate": score.churn_rate,
        "commission_to_lifetime_value": score.commission_to_lifetime_value,
    }
    metrics["good_results"] = all(condition.holds(metrics) for condition in GOOD_RESULTS)
    return metrics


def segment_decide(score) -> SegmentDecision:
    """Return the segment of a score: that of the rule of SEGMENT_RULES whose conditions hold."""
    metrics = segment_metrics(score)
    for rule in SEGMENT_RULES:
        if all(condition.holds(metrics) for condition in rule.conditions):
            return SegmentDecision(rule.segment, rule.basis, rule)
    # The rules cover every closed-deal count and overlap score; this is a bug guard.
    raise AssertionError(f"no segment rule matches {metrics!r}")


def segment_rules_data() -> dict:
    """Return the rules as plain data, for the segments page and API."""
    segments = []
    for segment in Segment:
        rules = [rule for rule in SEGMENT_RULES if rule.segment == segment]
        segments.append(
            {
                "key": segment.value,
                "label": segment.label,
                "description": SEGMENT_DESCRIPTIONS[segment],
                "rules": [
                    {
                        "basis": rule.basis,
                        "basis_label": Basis(rule.basis).label,
                        "conditions": [condition.as_dict() for condition in rule.conditions],
                        "text": " and ".join(str(condition) for condition in rule.conditions),
                    }
                    for rule in rules
                ],
            }
        )
    return {
        "min_closed_deals": MIN_CLOSED_DEALS,
        "good_results": [condition.as_dict() for condition in GOOD_RESULTS],
        "good_results_text": " and ".join(str(condition) for condition in GOOD_RESULTS),
        "segments": segments,
    }


def partner_segments(*, partner_ids) -> dict[int, str]:
    """Return the stored segment of each of the active tenant's partners that has one."""
    return dict(
        PartnerScore.objects.filter(partner_id__in=list(partner_ids))
        .exclude(segment="")
        .values_list("partner_id", "segment")
    )
