from django.urls import path

from workspace import calendar_views as views

# The calendar page's addresses (/calendar/…) and names (calendars:page) did not change when its views
# joined the consultant workspace; the calendar import itself (models, services, tasks) is calendars/.
app_name = "calendars"

urlpatterns = [
    path("", views.page, name="page"),
    path("upload/", views.upload, name="upload"),
    path("feeds/", views.feed_add, name="feed_add"),
    path("feeds/<int:pk>/delete/", views.feed_delete, name="feed_delete"),
    path("feeds/<int:pk>/refresh/", views.feed_refresh, name="feed_refresh"),
    path("meetings/confirm/", views.meetings_confirm, name="meetings_confirm"),
    path("meetings/<int:pk>/ignore/", views.meeting_ignore, name="meeting_ignore"),
    path("meetings/<int:pk>/restore/", views.meeting_restore, name="meeting_restore"),
    path("meetings/<int:pk>/apply/", views.meeting_apply, name="meeting_apply"),
    path("meetings/<int:pk>/keep/", views.meeting_keep, name="meeting_keep"),
    path("meetings/<int:pk>/remove-session/", views.meeting_remove_session, name="meeting_remove_session"),
]
