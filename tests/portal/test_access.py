"""Nothing of another client, and nothing unshared, is reachable from the portal: always 404."""

import pytest
from django.urls import reverse

from engagements.models import Milestone, MilestoneComment
from feedback.models import FeedbackResponse
from portal import urls as portal_urls

pytestmark = pytest.mark.django_db

CLIENT_PAGES = {
    # url name: (kind of object, methods)
    "engagement": ("engagement", ["get"]),
    "sessions": ("engagement", ["get"]),
    "propose": ("engagement", ["get", "post"]),
    "milestone": ("milestone", ["get"]),
    "milestone_comment": ("milestone", ["post"]),
    "milestone_approve": ("milestone", ["post"]),
    "milestone_request_changes": ("milestone", ["post"]),
    "milestone_complete": ("milestone", ["post"]),
    "pulse": ("pulse", ["get", "post"]),
}
STAFF_PAGES = {
    "staff_contacts": "client", "staff_invite": "contact", "staff_invitation_resend": "invitation",
    "staff_invitation_revoke": "invitation", "staff_pulses": "engagement", "staff_self_assessment": "engagement",
}
NO_OBJECT = {"home", "notifications", "staff_home", "pulse_link", "invitation_accept"}
POST_DATA = {"text": "Hello", "comment": "Please change", "title": "New", "phase": "action", "rating": "4",
             "involvement": "4", "note": "", "form_token": "x"}


def test_every_portal_url_is_covered_by_these_tests():
    names = {pattern.name for pattern in portal_urls.urlpatterns}
    assert names == set(CLIENT_PAGES) | set(STAFF_PAGES) | NO_OBJECT


def test_a_client_gets_404_for_every_object_of_another_client(client, client_user, world):
    client.force_login(client_user)
    objects = {"engagement": world.other_engagement, "milestone": world.other_milestone, "pulse": world.other_pulse}
    before = (MilestoneComment.objects.count(), Milestone.objects.count(), FeedbackResponse.objects.count())
    for name, (kind, methods) in CLIENT_PAGES.items():
        url = reverse(f"portal:{name}", args=[objects[kind].pk])
        for method in methods:
            response = getattr(client, method)(url, POST_DATA) if method == "post" else client.get(url)
            assert response.status_code == 404, (name, method)
    world.other_milestone.refresh_from_db()
    assert world.other_milestone.approved_at is None and world.other_milestone.approval_requested
    assert (MilestoneComment.objects.count(), Milestone.objects.count(), FeedbackResponse.objects.count()) == before


def test_a_client_gets_404_for_unshared_milestones_and_objects_that_do_not_exist(client, client_user, world):
    client.force_login(client_user)
    for name, (kind, methods) in CLIENT_PAGES.items():
        if kind != "milestone":
            continue
        for pk in (world.unshared.pk, 999999):
            url = reverse(f"portal:{name}", args=[pk])
            for method in methods:
                response = client.post(url, POST_DATA) if method == "post" else client.get(url)
                assert response.status_code == 404, (name, pk)
    assert not world.unshared.comments.exists()


def test_unshared_sessions_and_milestones_never_appear_in_the_client_pages(client, client_user, world):
    client.force_login(client_user)
    pages = [reverse("portal:home"), reverse("portal:engagement", args=[world.engagement.pk]),
             reverse("portal:sessions", args=[world.engagement.pk])]
    for url in pages:
        content = client.get(url).content.decode()
        assert "Internal pricing note" not in content and "Internal follow-up" not in content
        assert "SECRET NOTES" not in content
        assert "Globex" not in content
    assert "Send the draft" in client.get(pages[2]).content.decode()


def test_firm_staff_get_404_on_client_pages(client, consultant, manager, world):
    for user in (consultant, manager):
        client.force_login(user)
        assert client.get(reverse("portal:home")).status_code == 404
        assert client.get(reverse("portal:milestone", args=[world.shared.pk])).status_code == 404
        assert client.post(reverse("portal:milestone_comment", args=[world.shared.pk]), POST_DATA).status_code == 404


def test_clients_get_404_on_staff_pages(client, client_user, world):
    client.force_login(client_user)
    objects = {"client": world.engagement.client, "contact": client_user.contact,
               "engagement": world.engagement, "invitation": client_user.contact}
    assert client.get(reverse("portal:staff_home")).status_code == 404
    for name, kind in STAFF_PAGES.items():
        url = reverse(f"portal:{name}", args=[objects[kind].pk])
        assert client.get(url).status_code in (404, 405)
        assert client.post(url, POST_DATA).status_code == 404, name


def test_a_consultant_gets_404_for_clients_and_engagements_they_do_not_staff(client, other_consultant, world):
    client.force_login(other_consultant)
    assert client.get(reverse("portal:staff_contacts", args=[world.engagement.client_id])).status_code == 404
    assert client.get(reverse("portal:staff_pulses", args=[world.engagement.pk])).status_code == 404
    assert client.post(reverse("portal:staff_invite", args=[world.awaiting.client_owner_id])).status_code == 404
    assert client.post(reverse("portal:staff_self_assessment", args=[world.engagement.pk]),
                       {"rating": 5, "involvement": 5}).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get(reverse("portal:milestone", args=[world.shared.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_a_contact_who_leaves_loses_access_at_once(client, client_user, world):
    from clients.services import contact_deactivate

    client.force_login(client_user)
    assert client.get(reverse("portal:home")).status_code == 200
    contact_deactivate(contact=client_user.contact)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and reverse("accounts:login") in response.url
