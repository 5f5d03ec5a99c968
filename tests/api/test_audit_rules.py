"""Rules the API path used to skip (security audit, issue 15): each lives in a service now, so the
API, the pages and the admin all obey it. Each test goes through the API, as the audit did."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.models import Engagement
from tests import factories
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


# --- F5: an engagement's client is fixed at creation ----------------------------------------------

def test_an_engagement_cannot_be_moved_to_another_client(consultant, engagement, client_user):
    other = factories.EngagementFactory(lead=consultant, client__name="Solstice Media")  # a client in scope
    url = reverse("api:engagement-detail", kwargs={"pk": engagement.pk})
    response = client_for(consultant).patch(url, {"client": other.client_id}, format="json")
    assert response.status_code == 400
    assert "cannot change" in response.json()["errors"]["client"][0]
    engagement.refresh_from_db()
    assert engagement.client_id == client_user.contact.client_id


def test_a_manager_cannot_move_one_either_but_may_name_the_same_client(manager, engagement):
    other_client = factories.ClientFactory()
    url = reverse("api:engagement-detail", kwargs={"pk": engagement.pk})
    api = client_for(manager)
    assert api.patch(url, {"client": other_client.pk}, format="json").status_code == 400
    same = api.patch(url, {"client": engagement.client_id, "title": "Renamed"}, format="json")
    assert same.status_code == 200 and same.json()["title"] == "Renamed"
    assert Engagement.objects.get(pk=engagement.pk).client_id == engagement.client_id


def test_the_admin_shows_the_client_but_does_not_let_it_change(client, engagement):
    admin = factories.ManagerFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:engagements_engagement_change", args=[engagement.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "client" not in response.context["adminform"].form.fields
    assert client.get(reverse("admin:engagements_engagement_add")).context["adminform"].form.fields["client"]
