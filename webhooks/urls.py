from django.urls import path

from webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.delivery_list, name="delivery_list"),
    path("endpoints/new/", views.endpoint_create, name="endpoint_create"),
    path("endpoints/<int:pk>/", views.endpoint_detail, name="endpoint_detail"),
    path(
        "endpoints/<int:pk>/rotate-secret/",
        views.endpoint_rotate_secret,
        name="endpoint_rotate_secret",
    ),
    path("endpoints/<int:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("endpoints/<int:pk>/test/", views.endpoint_test, name="endpoint_test"),
    path("deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery_replay"),
]
