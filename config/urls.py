from django.contrib import admin
from django.urls import include, path

from accounts.views import home, language_set
from config.views import favicon, healthz

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("accounts/", include("accounts.urls")),
    path("i18n/setlang/", language_set, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("portal/", include("portal.urls")),
    path("engagements/", include("workspace.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("calendar/", include("workspace.calendar_urls")),
]
