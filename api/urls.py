from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api import calendars as calendar_api
from api import views

app_name = "api"

router = SimpleRouter()
router.register("auth/tokens", views.TokenViewSet, basename="token")
router.register("clients", views.ClientViewSet, basename="client")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("engagements", views.EngagementViewSet, basename="engagement")
router.register("sessions", views.SessionViewSet, basename="session")
router.register("planned-breaks", views.PlannedBreakViewSet, basename="planned-break")
router.register("milestones", views.MilestoneViewSet, basename="milestone")
router.register(r"milestones/(?P<milestone_pk>[^/]+)/comments", views.MilestoneCommentViewSet,
                basename="milestone-comment")
router.register("kpis", views.KPIViewSet, basename="kpi")
router.register("kpi-measurements", views.KPIMeasurementViewSet, basename="kpi-measurement")
router.register("feedback-responses", views.FeedbackResponseViewSet, basename="feedback-response")
router.register("pulses", views.PulseViewSet, basename="pulse")
router.register("health-snapshots", views.HealthSnapshotViewSet, basename="health-snapshot")
router.register("flags", views.FlagViewSet, basename="flag")
router.register("calendar/meetings", calendar_api.CalendarMeetingViewSet, basename="calendar-meeting")
router.register("calendar/imports", calendar_api.CalendarImportViewSet, basename="calendar-import")
router.register("calendar/feeds", calendar_api.CalendarFeedViewSet, basename="calendar-feed")

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token-obtain"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (docs/?script=) instead of inline:
    # the Content-Security-Policy allows scripts from our own origin only, never inline ones.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
]
