from django.urls import path

from tenancy import member_views, views

app_name = "tenancy"
urlpatterns = [
    path("", views.settings_overview, name="settings"),
    path("switch/", views.tenant_switch, name="switch"),
    path("icp-review/", views.icp_review_days_update, name="icp_review_days_update"),
    path(
        "max-commission-share/",
        views.max_commission_share_update,
        name="max_commission_share_update",
    ),
    path(
        "mapping-visibility/",
        views.mapping_visibility_update,
        name="mapping_visibility_update",
    ),
    path("attribution/", views.attribution_settings_update, name="attribution_settings_update"),
    path("users/", member_views.user_list, name="user_list"),
    path("users/invite/", member_views.user_invite, name="user_invite"),
    path("users/<int:pk>/role/", member_views.user_role_change, name="user_role_change"),
    path("users/<int:pk>/remove/", member_views.user_remove, name="user_remove"),
    path("api-keys/", views.api_key_list, name="api_key_list"),
    path("api-keys/create/", views.api_key_create, name="api_key_create"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
