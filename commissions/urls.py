from django.urls import path

from commissions import (
    payout_pages,
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
    path("payouts/", payout_pages.payout_list, name="payout_list"),
    path("payouts/prepare/", payout_pages.payout_prepare, name="payout_prepare"),
    path("payouts/<int:pk>/", payout_pages.payout_detail, name="payout_detail"),
    path("payouts/<int:pk>/approve/", payout_pages.payout_approve, name="payout_approve"),
    path("payouts/<int:pk>/mark-paid/", payout_pages.payout_mark_paid, name="payout_mark_paid"),
    path("entries/<int:pk>/approve/", payout_pages.entry_approve, name="entry_approve"),
    path("entries/<int:pk>/void/", payout_pages.entry_void, name="entry_void"),
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
