"""The commission plan form of the plan page."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from commissions.models import CommissionPlan
from tenancy.errors import DomainError

TIERS = ("a", "b", "c", "d")
SEGMENTS = ("strategic", "grow", "nurture", "deprioritise")
PERCENT = Decimal(100)
# CommissionPlan.base_rate is a fraction with 4 decimal places.
RATE_QUANTUM = Decimal("0.0001")
PERCENT_QUANTUM = Decimal("0.01")
# The multipliers have 2 decimal places. Quantizing before the service call makes the
# audit event record them as stored, such as "0.10" for an input of 0.1.
MULTIPLIER_QUANTUM = Decimal("0.01")


def _multiplier_field(tier: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=f"Tier {tier.upper()}",
        min_value=Decimal(0),
        max_value=Decimal(10),
        max_digits=4,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )


def _segment_multiplier_field(segment: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=segment.capitalize(),
        min_value=Decimal(0),
        max_value=Decimal(5),
        max_digits=3,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )


class CommissionPlanForm(forms.Form):
    """A plan as the page shows it: the base rate in percent, multipliers as factors.

    `plan_values()` converts the cleaned data to the keyword arguments of
    `commissions.plans.commission_plan_activate`, with the rate as a fraction.
    """

    name = forms.CharField(
        max_length=200,
        help_text=(
            "Saving under the active plan's name changes it for deals booked from now on. "
            "Saving under a new name starts a new plan today; the current one keeps paying "
            "deals that closed before. A plan that a later one replaced cannot be reopened: "
            "copy it into a draft instead."
        ),
    )
    base_rate_percent = forms.DecimalField(
        label="Base rate (%)",
        min_value=Decimal(0),
        max_value=PERCENT,
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text="Percentage of the won deal amount, from 0 to 100, such as 10 for 10%.",
    )
    multiplier_a = _multiplier_field("a")
    multiplier_b = _multiplier_field("b")
    multiplier_c = _multiplier_field("c")
    multiplier_d = _multiplier_field("d")
    # Empty keeps the plan's stored value, which is 1 for a new plan.
    segment_multiplier_strategic = _segment_multiplier_field("strategic")
    segment_multiplier_grow = _segment_multiplier_field("grow")
    segment_multiplier_nurture = _segment_multiplier_field("nurture")
    segment_multiplier_deprioritise = _segment_multiplier_field("deprioritise")
    clawback_days = forms.IntegerField(
        label="Clawback window (days)",
        min_value=0,
        max_value=3650,
        required=False,
        help_text="Churn within this many days of a deal's close date takes back the unearned "
        "part of its commission; 0 turns clawback off. Empty keeps the stored value (90 for a "
        "new plan).",
    )

    # DomainError fields of commission_plan_activate, mapped to the fields of this form.
    SERVICE_FIELDS = {"base_rate": "base_rate_percent"}

    @classmethod
    def initial_from(cls, plan: CommissionPlan | None) -> dict:
        """Return the form's initial values: the active plan's, or the model defaults."""
        names = [f"multiplier_{tier}" for tier in TIERS]
        names += [f"segment_multiplier_{segment}" for segment in SEGMENTS]
        names.append("clawback_days")
        if plan is None:
            return {name: CommissionPlan._meta.get_field(name).default for name in names}
        initial = {
            "name": plan.name,
            "base_rate_percent": (plan.base_rate * PERCENT).quantize(PERCENT_QUANTUM),
        }
        for name in names:
            initial[name] = getattr(plan, name)
        return initial

    @property
    def multiplier_fields(self) -> list[forms.BoundField]:
        return [self[f"multiplier_{tier}"] for tier in TIERS]

    @property
    def segment_multiplier_fields(self) -> list[forms.BoundField]:
        return [self[f"segment_multiplier_{segment}"] for segment in SEGMENTS]

    def plan_values(self) -> dict:
        """Return the cleaned plan as the keyword arguments of commission_plan_activate."""
        data = self.cleaned_data
        values = {
            "name": data["name"],
            "base_rate": (data["base_rate_percent"] / PERCENT).quantize(RATE_QUANTUM),
        }
        for tier in TIERS:
            values[f"multiplier_{tier}"] = data[f"multiplier_{tier}"].quantize(MULTIPLIER_QUANTUM)
        for segment in SEGMENTS:
            multiplier = data.get(f"segment_multiplier_{segment}")
            if multiplier is not None:
                values[f"segment_multiplier_{segment}"] = multiplier.quantize(MULTIPLIER_QUANTUM)
        if data.get("clawback_days") is not None:
            values["clawback_days"] = data["clawback_days"]
        return values

    def add_service_error(self, error: DomainError) -> None:
        """Show a DomainError of commission_plan_activate on the field it names."""
        text = f"{error.message} {error.fix}".strip()
        field = self.SERVICE_FIELDS.get(error.field, error.field)
        self.add_error(field if field in self.fields else None, text)
