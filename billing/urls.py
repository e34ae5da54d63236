from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("", views.billing_overview, name="overview"),
    path("connections/", views.connection_create, name="connection_create"),
    path("connections/<int:pk>/rotate/", views.connection_rotate, name="connection_rotate"),
    path(
        "connections/<int:pk>/deactivate/",
        views.connection_deactivate,
        name="connection_deactivate",
    ),
    path("events/<int:pk>/retry/", views.event_retry, name="event_retry"),
]
