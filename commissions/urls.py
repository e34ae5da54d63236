from django.urls import path

app_name = "commissions"
urlpatterns: list = []
