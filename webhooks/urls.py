from django.urls import path

from webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery_replay"),
]
