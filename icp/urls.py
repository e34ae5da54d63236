from django.urls import path

app_name = "icp"
urlpatterns: list = []
