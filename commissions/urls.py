from django.urls import path

from commissions import (
    fx_pages,
    mdf_pages,
    payout_pages,
    plan_pages,
    recalculation_pages,
    simulation_pages,
    unit_economics_pages,
    views,
)

app_name = "commissions"
urlpatterns = [
    path("", views.ledger_list, name="ledger_list"),
    path("plan/", views.plan, name="plan"),
    path(
        "unit-economics/",
        unit_economics_pages.unit_economics_page,
        name="unit_economics",
    ),
    path("plan/update/", views.plan_update, name="plan_update"),
    path("plans/new/", plan_pages.plan_create, name="plan_create"),
    path("plans/<int:pk>/", plan_pages.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/copy/", plan_pages.plan_copy, name="plan_copy"),
    path("plans/<int:pk>/delete/", plan_pages.plan_delete, name="plan_delete"),
    path("plans/<int:pk>/activate/", plan_pages.plan_activate, name="plan_activate"),
    path("payouts/", payout_pages.payout_list, name="payout_list"),
    path("payouts/prepare/", payout_pages.payout_prepare, name="payout_prepare"),
    path("payouts/<int:pk>/", payout_pages.payout_detail, name="payout_detail"),
    path("payouts/<int:pk>/approve/", payout_pages.payout_approve, name="payout_approve"),
    path("payouts/<int:pk>/mark-paid/", payout_pages.payout_mark_paid, name="payout_mark_paid"),
    path("entries/<int:pk>/approve/", payout_pages.entry_approve, name="entry_approve"),
    path("entries/<int:pk>/void/", payout_pages.entry_void, name="entry_void"),
    path("exchange-rates/", fx_pages.exchange_rates, name="exchange_rates"),
    path("exchange-rates/add/", fx_pages.exchange_rate_add, name="exchange_rate_add"),
    path("exchange-rates/import/", fx_pages.exchange_rate_import, name="exchange_rate_import"),
    path(
        "exchange-rates/<int:pk>/delete/",
        fx_pages.exchange_rate_delete,
        name="exchange_rate_delete",
    ),
    path("mdf/", mdf_pages.mdf_budget_list, name="mdf_budget_list"),
    path("mdf/budgets/set/", mdf_pages.mdf_budget_set, name="mdf_budget_set"),
    path("mdf/budgets/<int:pk>/", mdf_pages.mdf_budget_detail, name="mdf_budget_detail"),
    path(
        "mdf/budgets/<int:pk>/allocate/",
        mdf_pages.mdf_budget_allocate,
        name="mdf_budget_allocate",
    ),
    path(
        "mdf/budgets/<int:pk>/requests/",
        mdf_pages.mdf_request_create,
        name="mdf_request_create",
    ),
    path("mdf/requests/<int:pk>/", mdf_pages.mdf_request_detail, name="mdf_request_detail"),
    path(
        "mdf/requests/<int:pk>/approve/",
        mdf_pages.mdf_request_approve,
        name="mdf_request_approve",
    ),
    path("mdf/requests/<int:pk>/reject/", mdf_pages.mdf_request_reject, name="mdf_request_reject"),
    path("mdf/requests/<int:pk>/cancel/", mdf_pages.mdf_request_cancel, name="mdf_request_cancel"),
    path(
        "mdf/requests/<int:pk>/claim/accept/",
        mdf_pages.mdf_claim_accept,
        name="mdf_claim_accept",
    ),
    path(
        "mdf/requests/<int:pk>/claim/reject/",
        mdf_pages.mdf_claim_reject,
        name="mdf_claim_reject",
    ),
    path(
        "mdf/requests/<int:pk>/claim/reimburse/",
        mdf_pages.mdf_claim_reimburse,
        name="mdf_claim_reimburse",
    ),
    path("mdf/proofs/<int:pk>/", mdf_pages.mdf_proof, name="mdf_proof"),
    path("plans/<int:pk>/simulate/", simulation_pages.plan_simulate_page, name="plan_simulate"),
    path(
        "recalculations/new/",
        recalculation_pages.recalculation_new,
        name="recalculation_new",
    ),
    path(
        "recalculations/<int:pk>/",
        recalculation_pages.recalculation_detail,
        name="recalculation_detail",
    ),
    path(
        "recalculations/<int:pk>/apply/",
        recalculation_pages.recalculation_apply_page,
        name="recalculation_apply",
    ),
    path(
        "recalculations/<int:pk>/discard/",
        recalculation_pages.recalculation_discard_page,
        name="recalculation_discard",
    ),
]
