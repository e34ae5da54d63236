"""API routes of accounts, deals and CSV imports, mounted under /api/v1/."""

from django.urls import path

from crm.api import bulk_views, import_views, views

urlpatterns = [
    path("deals/", views.DealListCreateView.as_view(), name="api-deal-list"),
    path("deals/bulk/", bulk_views.DealBulkUpsertView.as_view(), name="api-deal-bulk"),
    path("deals/<int:pk>/", views.DealDetailView.as_view(), name="api-deal-detail"),
    path("accounts/", views.AccountListView.as_view(), name="api-account-list"),
    path("accounts/bulk/", bulk_views.AccountBulkUpsertView.as_view(), name="api-account-bulk"),
    path("accounts/<int:pk>/", views.AccountDetailView.as_view(), name="api-account-detail"),
    path("imports/", import_views.ImportRunListView.as_view(), name="api-import-list"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="api-import-detail"),
    path("imports/<str:kind>/", views.ImportCreateView.as_view(), name="api-import-create"),
    path("import-mappings/", views.ImportMappingListView.as_view(), name="api-import-mapping-list"),
]
