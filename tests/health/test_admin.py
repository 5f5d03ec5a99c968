"""The admin lists snapshots and flags and changes flags only through the services."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from health.models import Flag
from health.services import score_engagements
from tests import factories
from tests.health.histories import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client):
    admin = factories.ManagerFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client, admin


@pytest.fixture
def flag(engagement):
    factories.SessionFactory(engagement=engagement, start=at(timezone.localdate() - dt.timedelta(days=60)))
    score_engagements(engagement_ids=[engagement.pk], as_of=timezone.localdate())
    return Flag.objects.get(engagement=engagement)


def test_lists_snapshots_and_flags(admin_client_logged_in, flag):
    client, _admin = admin_client_logged_in
    for name in ("healthsnapshot", "flag"):
        response = client.get(reverse(f"admin:health_{name}_changelist"), {"q": "Acme"})
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1


def test_acknowledge_action_goes_through_the_service(admin_client_logged_in, flag):
    client, admin = admin_client_logged_in
    response = client.post(reverse("admin:health_flag_changelist"),
                           {"action": "acknowledge", "_selected_action": [flag.pk]})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.owner) == (Flag.Status.ACKNOWLEDGED, admin)
