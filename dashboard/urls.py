from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("trends/", views.trends, name="trends"),
    path("export.csv", views.export, name="export"),
    path("flags/", views.flags, name="flags"),
]
