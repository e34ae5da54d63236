from django.urls import path

from commissions import views

app_name = "commissions"
urlpatterns = [
    path("", views.ledger_list, name="ledger_list"),
    path("plan/", views.plan, name="plan"),
    path("plan/update/", views.plan_update, name="plan_update"),
]
