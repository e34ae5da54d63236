from django.urls import path

from attribution.fraud import views

app_name = "fraud"
urlpatterns = [
    path("", views.signal_list, name="signal_list"),
    path("<int:pk>/dismiss/", views.signal_dismiss, name="signal_dismiss"),
    path("<int:pk>/confirm/", views.signal_confirm, name="signal_confirm"),
]
