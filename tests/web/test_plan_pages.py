"""Plan pages: every term and rule, draft editing, copies, activation, previews and roles."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse

from commissions.models import CommissionPlan, CommissionRule, LedgerEntry
from commissions.plans import commission_plan_activate, commission_plan_draft_save
from commissions.services import accrual_key
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.web.data import ledger_entry_create

# A draft as the edit form posts it, with no rule rows and no score bands.
TERMS = {
    "name": "Summer draft",
    "payout_type": "percentage",
    "base_rate_percent": "12.5",
    "flat_amount": "",
    "multiplier_a": "1.5",
    "multiplier_b": "1",
    "multiplier_c": "0.5",
    "multiplier_d": "0",
    "segment_multiplier_strategic": "1.2",
    "segment_multiplier_grow": "1",
    "segment_multiplier_nurture": "1",
    "segment_multiplier_deprioritise": "0.5",
    "partner_tier_gold": "1.25",
    "partner_tier_silver": "",
    "partner_tier_bronze": "0.8",
    "min_fit_score": "40",
    "recurring_months": "12",
    "recurring_rate_frozen": "on",
    "cap_per_deal": "5000",
    "cap_per_partner": "",
    "cap_period": "quarter",
    "holding_days": "30",
    "clawback_days": "90",
}
EMPTY_RULE = {
    "scope": "",
    "partner": "",
    "value": "",
    "deal_kind": "",
    "payout_type": "percentage",
    "rate_percent": "",
    "flat_amount": "",
}

# The field that the confirmation of a destructive action adds.
CONFIRMED = {"confirmed": "1"}


def form_body(*, rules=(), bands=(), **changes) -> dict:
    """Return the POST body of the draft form with `rules` and `bands` as rows."""
    body = {**TERMS, **changes}
    rows = [*rules, EMPTY_RULE]
    body.update(
        {
            "rules-TOTAL_FORMS": str(len(rows)),
            "rules-INITIAL_FORMS": "0",
            "rules-MIN_NUM_FORMS": "0",
            "rules-MAX_NUM_FORMS": "1000",
        }
    )
    for index, rule in enumerate(rows):
        for key, value in {**EMPTY_RULE, **rule}.items():
            body[f"rules-{index}-{key}"] = value
    band_rows = [*bands, {}]
    body.update(
        {
            "bands-TOTAL_FORMS": str(len(band_rows)),
            "bands-INITIAL_FORMS": "0",
            "bands-MIN_NUM_FORMS": "0",
            "bands-MAX_NUM_FORMS": "5",
        }
    )
    for index, band in enumerate(band_rows):
        body[f"bands-{index}-min_score"] = band.get("min_score", "")
        body[f"bands-{index}-multiplier"] = band.get("multiplier", "")
    return body


def draft_create(tenant, name="Autumn draft", **values) -> CommissionPlan:
    with tenant_scope(tenant):
        return commission_plan_draft_save(
            tenant=tenant, name=name, base_rate=Decimal("0.2000"), **values
        )


def plan_rules(tenant, plan_id) -> list[tuple]:
    with tenant_scope(tenant):
        return list(
            CommissionRule.objects.filter(plan_id=plan_id)
            .order_by("id")
            .values_list("scope", "value", "deal_kind", "payout_type", "rate", "flat_amount")
        )


@pytest.fixture
def ruled_plan(program):
    """The active plan with every kind of term and a rule of each scope."""
    tenant = program.tenant
    with tenant_scope(tenant):
        return commission_plan_activate(
            tenant=tenant,
            name="Fit-weighted",
            payout_type="percentage",
            base_rate=Decimal("0.1000"),
            min_fit_score=30,
            recurring_months=0,
            cap_per_deal=Decimal("4000.00"),
            cap_per_partner=Decimal("20000.00"),
            cap_period="quarter",
            holding_days=45,
            clawback_days=0,
            score_bands=[{"min_score": 90, "multiplier": "1.30"}],
            partner_tier_multipliers={"gold": "1.40"},
            rules=[
                {"scope": "program", "payout_type": "percentage", "rate": Decimal("0.05")},
                {
                    "scope": "product",
                    "value": "GTX Pro",
                    "payout_type": "flat",
                    "flat_amount": Decimal("750.00"),
                },
                {
                    "scope": "product",
                    "value": "GTX Pro",
                    "deal_kind": "renewal",
                    "payout_type": "percentage",
                    "rate": Decimal("0.03"),
                },
                {"scope": "segment", "value": "grow", "rate": Decimal("0.08")},
                {"scope": "partner", "partner_id": program.partner.pk, "rate": Decimal("0.25")},
            ],
        )


def test_plan_page_shows_every_term(analyst_client, ruled_plan):
    content = analyst_client.get(reverse("commissions:plan")).content.decode()

    assert "10.00%</strong> of the won deal amount" in content
    assert "30: accounts scored lower pay nothing" in content
    assert "Pay nothing: new business only" in content
    assert "4,000.00 USD per deal" in content
    assert "20,000.00 USD per partner and quarter" in content
    assert "45 days after the close date" in content
    assert "Off: churn takes nothing back" in content
    assert "×1.30" in content
    assert "×1.40" in content
    assert "×1.00 (not set)" in content


def test_plan_page_lists_rules_in_precedence(analyst_client, ruled_plan):
    response = analyst_client.get(reverse("commissions:plan"))
    rules = [rule for rule, _ in response.context["terms_rules"]]
    content = response.content.decode()

    assert [(rule.scope, rule.deal_kind) for rule in rules] == [
        ("partner", ""),
        ("segment", ""),
        ("product", "renewal"),
        ("product", ""),
        ("program", ""),
    ]
    assert "Acme Referrals" in content
    assert "750.00 USD flat" in content
    assert "25.00%" in content
    assert "partner override, segment, partner tier, product, program" in content


def test_plan_page_lists_drafts_and_earlier(manager_client, program):
    draft = draft_create(program.tenant)
    with tenant_scope(program.tenant):
        CommissionPlan.objects.filter(pk=program.plan.pk).update(
            effective_from=datetime.date(2016, 1, 1)
        )
        commission_plan_activate(
            tenant=program.tenant,
            name="Second",
            base_rate=Decimal("0.2"),
            effective_from=datetime.date(2017, 1, 1),
        )

    content = manager_client.get(reverse("commissions:plan")).content.decode()

    assert reverse("commissions:plan_detail", args=[draft.pk]) in content
    assert "paid deals that closed from 2016-01-01 to 2016-12-31" in content
    assert reverse("commissions:plan_create") in content


def test_manager_creates_draft_with_rules(manager_client, program):
    rules = [
        {"scope": "partner", "partner": str(program.partner.pk), "rate_percent": "20"},
        {
            "scope": "product",
            "value": "GTX Pro",
            "deal_kind": "renewal",
            "payout_type": "flat",
            "flat_amount": "300",
        },
    ]
    bands = [{"min_score": "80", "multiplier": "1.2"}, {"min_score": "50", "multiplier": "1"}]

    response = manager_client.post(
        reverse("commissions:plan_create"), form_body(rules=rules, bands=bands)
    )

    with tenant_scope(program.tenant):
        draft = CommissionPlan.objects.get(name="Summer draft")
    assert response.status_code == 302
    assert response["Location"] == reverse("commissions:plan_detail", args=[draft.pk])
    assert draft.is_draft
    assert not draft.is_active
    assert draft.base_rate == Decimal("0.1250")
    assert draft.partner_tier_multipliers == {"bronze": "0.80", "gold": "1.25"}
    assert draft.score_bands == [
        {"min_score": 50, "multiplier": "1.00"},
        {"min_score": 80, "multiplier": "1.20"},
    ]
    assert draft.cap_per_deal == Decimal("5000.00")
    assert draft.cap_period == "quarter"
    assert draft.min_fit_score == 40
    assert plan_rules(program.tenant, draft.pk) == [
        ("partner", "", "", "percentage", Decimal("0.2000"), None),
        ("product", "GTX Pro", "renewal", "flat", None, Decimal("300.00")),
    ]


def test_bad_rule_error_on_its_row(manager_client, program):
    draft = draft_create(program.tenant, rules=[{"scope": "program", "rate": Decimal("0.05")}])
    rules = [
        {"scope": "program", "rate_percent": "7"},
        {"scope": "segment", "value": "grow", "rate_percent": "9", "DELETE": "on"},
        {"scope": "product", "value": "GTX", "rate_percent": "8"},
        {"scope": "segment", "value": "platinum", "rate_percent": "9"},
    ]

    response = manager_client.post(
        reverse("commissions:plan_detail", args=[draft.pk]),
        form_body(rules=rules, name="Renamed"),
    )
    forms = response.context["draft_forms"].rules.forms

    assert response.status_code == 400
    # The removed row is not sent, so the service's rules[2] is the fourth row.
    assert "platinum" in forms[3].errors["value"][0]
    assert [index for index, form in enumerate(forms) if form.errors] == [3]
    assert 'id="id_rules-3-value_error"' in response.content.decode()
    with tenant_scope(program.tenant):
        draft.refresh_from_db()
    assert draft.name == "Autumn draft"
    assert plan_rules(program.tenant, draft.pk) == [
        ("program", "", "", "percentage", Decimal("0.0500"), None)
    ]


def test_duplicate_rules_error_on_row(manager_client, program):
    draft = draft_create(program.tenant)
    rules = [
        {"scope": "product", "value": "GTX", "rate_percent": "8"},
        {"scope": "product", "value": "gtx", "rate_percent": "9"},
    ]

    response = manager_client.post(
        reverse("commissions:plan_detail", args=[draft.pk]), form_body(rules=rules)
    )
    forms = response.context["draft_forms"].rules.forms

    assert response.status_code == 400
    assert "match the same deals" in forms[1].non_field_errors()[0]
    assert plan_rules(program.tenant, draft.pk) == []


def test_form_rate_above_100_is_row_error(manager_client, program):
    draft = draft_create(program.tenant)

    response = manager_client.post(
        reverse("commissions:plan_detail", args=[draft.pk]),
        form_body(rules=[{"scope": "program", "rate_percent": "150"}]),
    )

    assert response.status_code == 400
    assert response.context["draft_forms"].rules.forms[0].errors["rate_percent"] == [
        "Ensure this value is less than or equal to 100."
    ]


def test_duplicate_band_error_on_row(manager_client, program):
    draft = draft_create(program.tenant)
    bands = [{"min_score": "80", "multiplier": "1.2"}, {"min_score": "80", "multiplier": "1.5"}]

    response = manager_client.post(
        reverse("commissions:plan_detail", args=[draft.pk]), form_body(bands=bands)
    )
    band_forms = response.context["draft_forms"].bands.forms

    assert response.status_code == 400
    assert "Two score bands start at 80." in band_forms[1].errors["min_score"][0]
    with tenant_scope(program.tenant):
        draft.refresh_from_db()
    assert draft.score_bands == []


def test_flat_plan_needs_amount(manager_client, program):
    draft = draft_create(program.tenant)

    response = manager_client.post(
        reverse("commissions:plan_detail", args=[draft.pk]), form_body(payout_type="flat")
    )

    assert response.status_code == 400
    assert (
        "flat plan needs the amount"
        in response.context["draft_forms"].terms.errors["flat_amount"][0]
    )


def test_manager_edits_draft(manager_client, program):
    draft = draft_create(program.tenant)

    response = manager_client.post(
        reverse("commissions:plan_detail", args=[draft.pk]),
        form_body(rules=[{"scope": "partner_tier", "value": "gold", "rate_percent": "15"}]),
    )

    assert response.status_code == 302
    with tenant_scope(program.tenant):
        draft.refresh_from_db()
        events = list(
            AuditEvent.objects.filter(event="commission_plan.draft_saved", object_id=draft.pk)
        )
    assert draft.name == "Summer draft"
    assert draft.is_draft
    assert plan_rules(program.tenant, draft.pk) == [
        ("partner_tier", "gold", "", "percentage", Decimal("0.1500"), None)
    ]
    assert len(events) == 2


def test_draft_page_prefills_rules(manager_client, ruled_plan, program):
    draft = draft_create(
        program.tenant,
        rules=[{"scope": "product", "value": "GTX", "rate": Decimal("0.0825")}],
    )

    response = manager_client.get(reverse("commissions:plan_detail", args=[draft.pk]))
    rules = response.context["draft_forms"].rules

    assert rules.forms[0]["rate_percent"].value() == Decimal("8.25")
    assert rules.forms[0]["value"].value() == "GTX"
    assert len(rules.forms) == 4


def test_activated_plan_not_editable(manager_client, program):
    response = manager_client.post(
        reverse("commissions:plan_detail", args=[program.plan.pk]), form_body()
    )

    assert response.status_code == 302
    with tenant_scope(program.tenant):
        assert not CommissionPlan.objects.filter(name="Summer draft").exists()
        assert CommissionPlan.objects.get(pk=program.plan.pk).base_rate == Decimal("0.1000")


def test_new_draft_from_active_plan(manager_client, ruled_plan):
    url = f"{reverse('commissions:plan_create')}?from={ruled_plan.pk}"

    response = manager_client.get(url)
    forms = response.context["draft_forms"]

    assert forms.terms["name"].value() == "Copy of Fit-weighted"
    assert forms.terms["cap_per_deal"].value() == Decimal("4000.00")
    assert [form["scope"].value() for form in forms.rules.initial_forms] == [
        "program",
        "product",
        "product",
        "segment",
        "partner",
    ]


def test_activate_draft_with_date(manager_client, program):
    draft = draft_create(program.tenant)

    response = manager_client.post(
        reverse("commissions:plan_activate", args=[draft.pk]),
        {"effective_from": "2018-03-01"},
        follow=True,
    )

    with tenant_scope(program.tenant):
        draft.refresh_from_db()
        old = CommissionPlan.objects.get(pk=program.plan.pk)
    assert response.status_code == 200
    assert "keeps paying deals that closed before that day" in response.content.decode()
    assert draft.is_active
    assert not draft.is_draft
    assert draft.effective_from == datetime.date(2018, 3, 1)
    assert not old.is_active
    assert old.effective_to == datetime.date(2018, 2, 28)


def test_activate_before_current_start_rejected(manager_client, program):
    with tenant_scope(program.tenant):
        CommissionPlan.objects.filter(pk=program.plan.pk).update(
            effective_from=datetime.date(2018, 1, 1)
        )
    draft = draft_create(program.tenant)

    response = manager_client.post(
        reverse("commissions:plan_activate", args=[draft.pk]), {"effective_from": "2017-12-01"}
    )

    assert response.status_code == 400
    assert "must start after" in response.context["activate_form"].errors["effective_from"][0]
    with tenant_scope(program.tenant):
        draft.refresh_from_db()
        assert CommissionPlan.objects.get(pk=program.plan.pk).is_active
    assert draft.is_draft


def test_activate_form_defaults_to_today(manager_client, program):
    draft = draft_create(program.tenant)

    response = manager_client.get(reverse("commissions:plan_detail", args=[draft.pk]))

    assert response.context["activate_form"]["effective_from"].value() == program.tenant.today()
    assert "keeps paying deals that closed before the day below" in response.content.decode()


def test_copy_plan_into_draft(manager_client, ruled_plan, program):
    response = manager_client.post(
        reverse("commissions:plan_copy", args=[ruled_plan.pk]), {"name": "Next year"}
    )

    with tenant_scope(program.tenant):
        copy = CommissionPlan.objects.get(name="Next year")
    assert response.status_code == 302
    assert response["Location"] == reverse("commissions:plan_detail", args=[copy.pk])
    assert copy.is_draft
    assert copy.cap_per_deal == Decimal("4000.00")
    assert copy.effective_from is None
    assert sorted(plan_rules(program.tenant, copy.pk)) == sorted(
        plan_rules(program.tenant, ruled_plan.pk)
    )


def test_copy_under_taken_name_rejected(manager_client, program):
    response = manager_client.post(
        reverse("commissions:plan_copy", args=[program.plan.pk]),
        {"name": "Fit-weighted"},
        follow=True,
    )

    assert "Another plan is named “Fit-weighted”." in response.content.decode()
    with tenant_scope(program.tenant):
        assert CommissionPlan.objects.count() == 1


def test_delete_draft(manager_client, program):
    draft = draft_create(program.tenant, rules=[{"scope": "program", "rate": Decimal("0.05")}])

    response = manager_client.post(reverse("commissions:plan_delete", args=[draft.pk]), CONFIRMED)

    assert response.status_code == 302
    with tenant_scope(program.tenant):
        assert not CommissionPlan.objects.filter(pk=draft.pk).exists()
        assert AuditEvent.objects.filter(event="commission_plan.draft_deleted").count() == 1


def test_delete_activated_plan_rejected(manager_client, program):
    response = manager_client.post(
        reverse("commissions:plan_delete", args=[program.plan.pk]), follow=True
    )

    assert "ledger entries may point at it" in response.content.decode()
    with tenant_scope(program.tenant):
        assert CommissionPlan.objects.filter(pk=program.plan.pk).exists()


def test_analyst_reads_draft_without_forms(analyst_client, program):
    draft = draft_create(program.tenant)

    response = analyst_client.get(reverse("commissions:plan_detail", args=[draft.pk]))
    content = response.content.decode()

    assert response.status_code == 200
    assert response.context["draft_forms"] is None
    assert "rules-TOTAL_FORMS" not in content
    assert reverse("commissions:plan_activate", args=[draft.pk]) not in content
    assert reverse("commissions:plan_delete", args=[draft.pk]) not in content
    assert 'name="preview-amount"' in content


@pytest.mark.parametrize(
    ("route", "method"),
    [
        ("commissions:plan_detail", "post"),
        ("commissions:plan_copy", "post"),
        ("commissions:plan_delete", "post"),
        ("commissions:plan_activate", "post"),
    ],
)
def test_analyst_cannot_change_plans(analyst_client, program, route, method):
    draft = draft_create(program.tenant)

    response = getattr(analyst_client, method)(
        reverse(route, args=[draft.pk]), {**form_body(), "effective_from": "2018-01-01"}
    )

    assert response.status_code == 403
    with tenant_scope(program.tenant):
        draft.refresh_from_db()
        assert CommissionPlan.objects.count() == 2
    assert draft.is_draft
    assert draft.name == "Autumn draft"


def test_analyst_cannot_create_draft(analyst_client, program):
    assert analyst_client.get(reverse("commissions:plan_create")).status_code == 403
    assert analyst_client.post(reverse("commissions:plan_create"), form_body()).status_code == 403
    with tenant_scope(program.tenant):
        assert CommissionPlan.objects.count() == 1


def test_simulate_link_only_when_routed(manager_client, program):
    draft = draft_create(program.tenant)
    try:
        simulate = reverse("commissions:plan_simulate", kwargs={"pk": draft.pk})
    except NoReverseMatch:
        simulate = None

    draft_page = manager_client.get(reverse("commissions:plan_detail", args=[draft.pk]))
    active_page = manager_client.get(reverse("commissions:plan_detail", args=[program.plan.pk]))

    assert draft_page.context["simulate_url"] == simulate
    assert active_page.context["simulate_url"] is None


def preview_query(**fields) -> dict:
    return {f"preview-{key}": value for key, value in fields.items()}


def test_analyst_previews_described_deal(analyst_client, program):
    query = preview_query(
        partner=program.partner.pk,
        amount="10000",
        close_date="2018-01-10",
        kind="new",
        fit_tier="A",
        fit_score="95",
    )

    response = analyst_client.get(reverse("commissions:plan"), query)
    preview = response.context["preview"]
    content = response.content.decode()

    # 10,000.00 × 10% × 1.50 for tier A.
    assert response.status_code == 200
    assert preview.price.amount == Decimal("1500.00")
    assert preview.price.rate_source == "default"
    assert "would pay <strong>1,500.00 USD</strong>" in content
    for step in preview.price.steps:
        assert f"<li>{step}</li>" in content
    with tenant_scope(program.tenant):
        assert LedgerEntry.objects.count() == 1


def test_preview_on_draft_uses_draft(analyst_client, program):
    draft = draft_create(
        program.tenant,
        rules=[{"scope": "partner", "partner_id": program.partner.pk, "rate": Decimal("0.3")}],
    )
    query = preview_query(partner=program.partner.pk, amount="1000", fit_tier="B")

    response = analyst_client.get(reverse("commissions:plan_detail", args=[draft.pk]), query)
    preview = response.context["preview"]

    # 1,000.00 × 30% × tier B's 1.00, from the partner override.
    assert preview.plan.pk == draft.pk
    assert preview.price.rate_source == "partner"
    assert preview.price.amount == Decimal("300.00")


def test_preview_stored_deal_shows_booked(analyst_client, program):
    with tenant_scope(program.tenant):
        booked = ledger_entry_create(
            partner=program.partner,
            deal=program.deal,
            plan=program.plan,
            idempotency_key=accrual_key(program.deal.pk),
            amount=Decimal("1700.00"),
            rate_source="default",
        )
    query = preview_query(deal_external_id=program.deal.external_id)

    response = analyst_client.get(reverse("commissions:plan"), query)
    preview = response.context["preview"]
    content = response.content.decode()

    # 12,500.00 × 10% × 1.50 for tier A under the plan in force.
    assert preview.price.amount == Decimal("1875.00")
    assert preview.booked.pk == booked.pk
    assert f"Booked: entry {booked.pk} for <strong>1,700.00 USD</strong>" in content


def test_preview_unknown_deal_is_field_error(analyst_client, program):
    response = analyst_client.get(
        reverse("commissions:plan"), preview_query(deal_external_id="nope")
    )

    assert response.context["preview"] is None
    assert (
        "No deal has the external id 'nope'"
        in response.context["preview_form"].errors["deal_external_id"][0]
    )


def test_preview_needs_partner_and_amount(analyst_client, program):
    response = analyst_client.get(reverse("commissions:plan"), preview_query(amount=""))
    errors = response.context["preview_form"].errors

    assert response.context["preview"] is None
    assert list(errors) == ["partner", "amount"]


def test_preview_without_plan_in_force(analyst_client, tenant):
    from tests.factories import PartnerFactory

    with tenant_scope(tenant):
        partner = PartnerFactory(name="Solo")
    response = analyst_client.get(
        reverse("commissions:plan"), preview_query(partner=partner.pk, amount="100")
    )

    assert response.context["preview"] is None
    assert (
        "No commission plan is in force" in response.context["preview_form"].errors["close_date"][0]
    )


def test_flat_plan_example_pays_flat(analyst_client, program):
    with tenant_scope(program.tenant):
        commission_plan_activate(
            tenant=program.tenant,
            name="Fit-weighted",
            payout_type="flat",
            flat_amount=Decimal("400.00"),
        )

    response = analyst_client.get(reverse("commissions:plan"))
    content = response.content.decode()

    # 400.00 flat × tier A's 1.50, whatever the deal amount.
    assert response.context["tier_a_example"].amount == Decimal("600.00")
    assert "<strong>400.00 USD</strong> per won deal" in content
    assert "Effective rate" not in content


def test_other_tenants_partner_not_choosable(manager_client, program, other_program):
    rules = [{"scope": "partner", "partner": str(other_program.partner.pk), "rate_percent": "20"}]

    response = manager_client.post(reverse("commissions:plan_create"), form_body(rules=rules))

    assert response.status_code == 400
    assert (
        "Select a valid choice"
        in response.context["draft_forms"].rules.forms[0].errors["partner"][0]
    )
    assert "Globex" not in response.content.decode()
    with tenant_scope(program.tenant):
        assert CommissionPlan.objects.count() == 1


def test_repeated_create_is_name_error(manager_client, program):
    first = manager_client.post(reverse("commissions:plan_create"), form_body())
    second = manager_client.post(reverse("commissions:plan_create"), form_body())

    assert first.status_code == 302
    assert second.status_code == 400
    assert (
        "Another plan is named “Summer draft”."
        in second.context["draft_forms"].terms.errors["name"][0]
    )
    with tenant_scope(program.tenant):
        assert CommissionPlan.objects.filter(name="Summer draft").count() == 1
