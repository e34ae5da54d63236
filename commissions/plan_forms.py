"""Forms of the draft plan page: scalar terms, score bands and rules.

Rates are entered in percent, as on the plan page, and passed to
`commissions.plans` as fractions. Service errors name fields such as
`rules[2].rate` or `score_bands[0].min_score`; `PlanDraftForms.add_service_error`
puts each one on the row and field it names.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms

from commissions.forms import (
    MULTIPLIER_QUANTUM,
    PERCENT,
    PERCENT_QUANTUM,
    RATE_QUANTUM,
    SEGMENTS,
    TIERS,
)
from commissions.models import CapPeriod, CommissionPlan, CommissionRule, PayoutType
from commissions.plans import MAX_MULTIPLIER, MAX_SEGMENT_MULTIPLIER, PARTNER_TIERS
from partners.models import Partner
from tenancy.errors import DomainError

SCORE_BAND_ROWS = 5
# Blank rule rows shown under the saved ones; a row left blank is ignored.
BLANK_RULE_ROWS = 3
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal(0)}
SERVICE_ERROR = re.compile(r"^(rules|score_bands)\[(\d+)\](?:\.(\w+))?$")


def _factor(label: str, maximum: Decimal, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal(0),
        max_value=maximum,
        max_digits=4,
        decimal_places=2,
        required=required,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )


def _percent(label: str, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal(0),
        max_value=PERCENT,
        max_digits=5,
        decimal_places=2,
        required=required,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )


def _fraction(percent: Decimal | None) -> Decimal | None:
    return None if percent is None else (percent / PERCENT).quantize(RATE_QUANTUM)


def _percent_of(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else (fraction * PERCENT).quantize(PERCENT_QUANTUM)


class PlanTermsForm(forms.Form):
    """The scalar terms of a draft, with the base rate in percent."""

    name = forms.CharField(max_length=200)
    payout_type = forms.ChoiceField(choices=PayoutType.choices, label="Default payout")
    base_rate_percent = _percent("Base rate (%)")
    flat_amount = forms.DecimalField(
        label="Flat amount per deal", required=False, **MONEY, help_text="Base currency."
    )
    multiplier_a = _factor("Tier A", MAX_MULTIPLIER)
    multiplier_b = _factor("Tier B", MAX_MULTIPLIER)
    multiplier_c = _factor("Tier C", MAX_MULTIPLIER)
    multiplier_d = _factor("Tier D", MAX_MULTIPLIER)
    segment_multiplier_strategic = _factor("Strategic", MAX_SEGMENT_MULTIPLIER)
    segment_multiplier_grow = _factor("Grow", MAX_SEGMENT_MULTIPLIER)
    segment_multiplier_nurture = _factor("Nurture", MAX_SEGMENT_MULTIPLIER)
    segment_multiplier_deprioritise = _factor("Deprioritise", MAX_SEGMENT_MULTIPLIER)
    partner_tier_gold = _factor("Gold", MAX_SEGMENT_MULTIPLIER, required=False)
    partner_tier_silver = _factor("Silver", MAX_SEGMENT_MULTIPLIER, required=False)
    partner_tier_bronze = _factor("Bronze", MAX_SEGMENT_MULTIPLIER, required=False)
    min_fit_score = forms.IntegerField(
        label="Minimum fit score",
        min_value=0,
        max_value=100,
        required=False,
        help_text="Deals of accounts scored below this pay nothing. Empty pays every fit.",
    )
    recurring_months = forms.IntegerField(
        label="Recurring months",
        min_value=0,
        max_value=600,
        required=False,
        help_text="Renewals and expansions pay for this many months after the original "
        "deal closed. 0 pays new business only; empty pays for as long as the account renews.",
    )
    recurring_rate_frozen = forms.BooleanField(
        label="Renewals keep the original deal's rate",
        required=False,
        help_text="Unticked, renewals are priced by this plan's rules when they are booked.",
    )
    cap_per_deal = forms.DecimalField(
        label="Cap per deal", required=False, **MONEY, help_text="Base currency; empty is no cap."
    )
    cap_per_partner = forms.DecimalField(
        label="Cap per partner and period",
        required=False,
        **MONEY,
        help_text="Base currency; empty is no cap.",
    )
    cap_period = forms.ChoiceField(choices=CapPeriod.choices, label="Cap period")
    holding_days = forms.IntegerField(
        label="Holding days",
        min_value=0,
        max_value=32767,
        help_text="Days after the close date before an accrual is approved for payout.",
    )
    clawback_days = forms.IntegerField(
        label="Clawback window (days)",
        min_value=0,
        max_value=3650,
        help_text="Churn within this many days of the close date takes back the unearned part; "
        "0 turns clawback off.",
    )

    # Service field names that differ from this form's.
    SERVICE_FIELDS = {
        "base_rate": "base_rate_percent",
        **{f"partner_tier_multipliers.{tier}": f"partner_tier_{tier}" for tier in PARTNER_TIERS},
    }

    @classmethod
    def initial_from(cls, plan: CommissionPlan | None) -> dict:
        """Return the initial values of `plan`, or of a new plan with the model defaults."""
        source = plan or CommissionPlan()
        initial = {
            name: getattr(source, name)
            for name in cls.base_fields
            if name not in ("base_rate_percent",) and not name.startswith("partner_tier_")
        }
        initial["name"] = plan.name if plan else ""
        initial["base_rate_percent"] = _percent_of(source.base_rate)
        for tier in PARTNER_TIERS:
            initial[f"partner_tier_{tier}"] = (source.partner_tier_multipliers or {}).get(tier)
        return initial

    @property
    def tier_fields(self):
        return [self[f"multiplier_{tier}"] for tier in TIERS]

    @property
    def segment_fields(self):
        return [self[f"segment_multiplier_{segment}"] for segment in SEGMENTS]

    @property
    def partner_tier_fields(self):
        return [self[f"partner_tier_{tier}"] for tier in PARTNER_TIERS]

    def plan_values(self) -> dict:
        """Return the cleaned terms as keyword arguments of commission_plan_draft_save."""
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in self.fields
            if name not in ("base_rate_percent",) and not name.startswith("partner_tier_")
        }
        values["base_rate"] = _fraction(data["base_rate_percent"])
        for name in values:
            if name.startswith(("multiplier_", "segment_multiplier_")):
                values[name] = values[name].quantize(MULTIPLIER_QUANTUM)
        values["partner_tier_multipliers"] = {
            tier: str(data[f"partner_tier_{tier}"])
            for tier in PARTNER_TIERS
            if data.get(f"partner_tier_{tier}") is not None
        }
        return values


class ScoreBandForm(forms.Form):
    """One score band row; clearing both fields removes the band."""

    min_score = forms.IntegerField(
        label="From fit score", min_value=0, max_value=100, required=False
    )
    multiplier = _factor("Multiplier", MAX_MULTIPLIER, required=False)

    def clean(self):
        data = super().clean()
        low, multiplier = data.get("min_score"), data.get("multiplier")
        if low is None and multiplier is not None and "min_score" not in self.errors:
            self.add_error("min_score", "A band needs the fit score it starts at.")
        if multiplier is None and low is not None and "multiplier" not in self.errors:
            self.add_error("multiplier", "A band needs a multiplier, such as 1.20.")
        return data

    @property
    def is_blank(self) -> bool:
        return self.cleaned_data.get("min_score") is None


ScoreBandFormSet = forms.formset_factory(
    ScoreBandForm, extra=SCORE_BAND_ROWS, max_num=SCORE_BAND_ROWS
)


class RuleForm(forms.Form):
    """One rule row; its rate is in percent."""

    scope = forms.ChoiceField(choices=[("", "—"), *CommissionRule.Scope.choices])
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), required=False)
    value = forms.CharField(
        max_length=100,
        required=False,
        label="Matches",
        help_text="Segment, partner tier or product; empty for partner and program rules.",
    )
    deal_kind = forms.ChoiceField(
        choices=CommissionRule.DealKind.choices, required=False, initial=""
    )
    payout_type = forms.ChoiceField(choices=PayoutType.choices, initial=PayoutType.PERCENTAGE)
    rate_percent = _percent("Rate (%)", required=False)
    flat_amount = forms.DecimalField(label="Flat amount", required=False, **MONEY)

    SERVICE_FIELDS = {"partner_id": "partner", "rate": "rate_percent"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The scoped manager needs the request's tenant, so the queryset is built here.
        self.fields["partner"].queryset = Partner.objects.order_by("name")

    def rule_values(self) -> dict:
        data = self.cleaned_data
        return {
            "scope": data["scope"],
            "partner_id": data["partner"].pk if data.get("partner") else None,
            "value": data.get("value", ""),
            "deal_kind": data.get("deal_kind", ""),
            "payout_type": data["payout_type"],
            "rate": _fraction(data.get("rate_percent")),
            "flat_amount": data.get("flat_amount"),
        }

    @staticmethod
    def initial_from(rule: CommissionRule) -> dict:
        return {
            "scope": rule.scope,
            "partner": rule.partner_id,
            "value": rule.value,
            "deal_kind": rule.deal_kind,
            "payout_type": rule.payout_type,
            "rate_percent": _percent_of(rule.rate),
            "flat_amount": rule.flat_amount,
        }


RuleFormSet = forms.formset_factory(RuleForm, extra=BLANK_RULE_ROWS, can_delete=True)


class PlanDraftForms:
    """The terms form, the score band rows and the rule rows of one draft, together."""

    def __init__(self, data=None, *, plan: CommissionPlan | None = None, name: str = ""):
        bands = plan.score_bands if plan else []
        band_initial = [{"min_score": b["min_score"], "multiplier": b["multiplier"]} for b in bands]
        rules = list(plan.rules.select_related("partner").order_by("id")) if plan else []
        terms_initial = PlanTermsForm.initial_from(plan)
        if name:
            terms_initial["name"] = name
        self.terms = PlanTermsForm(data, initial=terms_initial)
        self.bands = ScoreBandFormSet(data, initial=band_initial, prefix="bands")
        self.rules = RuleFormSet(
            data, initial=[RuleForm.initial_from(rule) for rule in rules], prefix="rules"
        )
        # The rule and band forms in the order their values are sent to the service.
        self.sent_rules: list[RuleForm] = []
        self.sent_bands: list[ScoreBandForm] = []

    def is_valid(self) -> bool:
        # Evaluate all three so every error shows at once.
        results = [self.terms.is_valid(), self.bands.is_valid(), self.rules.is_valid()]
        return all(results)

    def values(self) -> dict:
        """Return the keyword arguments of commission_plan_draft_save, rules included."""
        values = self.terms.plan_values()
        self.sent_bands = [form for form in self.bands if form.cleaned_data and not form.is_blank]
        values["score_bands"] = [
            {
                "min_score": form.cleaned_data["min_score"],
                "multiplier": str(form.cleaned_data["multiplier"]),
            }
            for form in self.sent_bands
        ]
        self.sent_rules = [
            form for form in self.rules if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        values["rules"] = [form.rule_values() for form in self.sent_rules]
        return values

    def add_service_error(self, error: DomainError) -> None:
        """Show a DomainError of commission_plans on the row and field it names."""
        text = f"{error.message} {error.fix}".strip()
        match = SERVICE_ERROR.match(error.field or "")
        if match:
            kind, index, field = match.group(1), int(match.group(2)), match.group(3)
            rows = self.sent_rules if kind == "rules" else self.sent_bands
            if index < len(rows):
                form = rows[index]
                field = getattr(form, "SERVICE_FIELDS", {}).get(field, field)
                form.add_error(field if field in form.fields else None, text)
                return
        field = PlanTermsForm.SERVICE_FIELDS.get(error.field, error.field)
        self.terms.add_error(field if field in self.terms.fields else None, text)

    @property
    def errors_count(self) -> int:
        count = len(self.terms.errors) + len(self.bands.non_form_errors())
        count += sum(len(form.errors) for form in self.bands)
        count += len(self.rules.non_form_errors())
        return count + sum(len(form.errors) for form in self.rules)
