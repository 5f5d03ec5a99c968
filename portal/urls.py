from django.urls import path

from portal import staff_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("engagements/<int:pk>/", views.engagement, name="engagement"),
    path("engagements/<int:pk>/sessions/", views.sessions, name="sessions"),
    path("engagements/<int:pk>/propose/", views.propose, name="propose"),
    path("milestones/<int:pk>/", views.milestone, name="milestone"),
    path("milestones/<int:pk>/comment/", views.milestone_comment, name="milestone_comment"),
    path("milestones/<int:pk>/approve/", views.milestone_approve, name="milestone_approve"),
    path("milestones/<int:pk>/request-changes/", views.milestone_request_changes, name="milestone_request_changes"),
    path("milestones/<int:pk>/done/", views.milestone_complete, name="milestone_complete"),
    path("pulses/<int:pk>/", views.pulse, name="pulse"),
    path("pulse/<str:uidb64>/<str:token>/", views.pulse_link, name="pulse_link"),
    path("invitation/<str:uidb64>/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("notifications/", views.notification_settings, name="notifications"),
    path("staff/", staff_views.staff_home, name="staff_home"),
    path("staff/clients/<int:pk>/contacts/", staff_views.contacts, name="staff_contacts"),
    path("staff/contacts/<int:pk>/invite/", staff_views.invite, name="staff_invite"),
    path("staff/invitations/<int:pk>/resend/", staff_views.invitation_resend, name="staff_invitation_resend"),
    path("staff/invitations/<int:pk>/revoke/", staff_views.invitation_revoke, name="staff_invitation_revoke"),
    path("staff/engagements/<int:pk>/pulses/", staff_views.pulses, name="staff_pulses"),
    path("staff/engagements/<int:pk>/self-assessment/", staff_views.self_assessment, name="staff_self_assessment"),
]
