from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from accounts.views import home
from config.views import favicon, healthz

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("accounts/", include("accounts.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("portal/", include("portal.urls")),
    path("engagements/", include("engagements.urls")),
    path("dashboard/", include("dashboard.urls")),
]
