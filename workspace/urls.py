from django.urls import path

from workspace import flag_views, views

# The namespace names the pages' addresses (/engagements/…), which did not change when the pages left
# the engagements app for this one: {% url "engagements:detail" pk %} as before.
app_name = "engagements"

urlpatterns = [
    path("", views.home, name="home"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/timeline/", views.timeline, name="timeline"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/milestones/new/", views.milestone_create, name="milestone_create"),
    path("<int:pk>/planned-breaks/new/", views.planned_break_create, name="planned_break_create"),
    path("planned-breaks/<int:pk>/delete/", views.planned_break_delete, name="planned_break_delete"),
    path("sessions/new/", views.session_new, name="session_new"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("markdown/preview/", views.markdown_preview, name="markdown_preview"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone_edit"),
    path("milestones/<int:pk>/status/", views.milestone_status, name="milestone_status"),
    path("milestones/<int:pk>/move/", views.milestone_move, name="milestone_move"),
    path("milestones/<int:pk>/comments/", views.milestone_comment, name="milestone_comment"),
    path("flags/<int:pk>/acknowledge/", flag_views.flag_acknowledge, name="flag_acknowledge"),
    path("flags/<int:pk>/note/", flag_views.flag_note, name="flag_note"),
    path("flags/<int:pk>/assign/", flag_views.flag_assign, name="flag_assign"),
    path("flags/<int:pk>/snooze/", flag_views.flag_snooze, name="flag_snooze"),
    path("flags/<int:pk>/resolve/", flag_views.flag_resolve, name="flag_resolve"),
    path("flags/<int:pk>/dismiss/", flag_views.flag_dismiss, name="flag_dismiss"),
]
