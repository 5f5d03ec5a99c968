"""The calendar API: upload, list, confirm (one or many), and subscriptions whose address stays secret."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from calendars import services
from calendars.models import CalendarFeed, CalendarMeeting
from engagements.models import Session
from tests.calendars.conftest import NOW, ics

pytestmark = pytest.mark.django_db

URL = "/api/v1/calendar/"


@pytest.fixture
def api(firm):
    client = APIClient()
    client.force_authenticate(firm.consultant)
    return client


def test_uploading_a_file_answers_with_what_it_did(api, firm, time_machine):
    time_machine.move_to(NOW, tick=False)
    upload = SimpleUploadedFile("calendar.ics", ics("own/series_v1.ics"), content_type="text/calendar")
    response = api.post(URL + "imports/", {"file": upload}, format="multipart")
    assert response.status_code == 200
    assert (response.json()["matched"], response.json()["created"]) == (16, 16)
    again = api.post(URL + "imports/", {"content": ics("own/series_v1.ics").decode()}, format="json")
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 16)


def test_a_broken_file_is_a_400_with_the_reason(api):
    response = api.post(URL + "imports/", {"content": "<html>nope</html>"}, format="json")
    assert response.status_code == 400
    assert "not an iCalendar file" in str(response.json())
    assert not CalendarMeeting.objects.exists()


def test_listing_and_confirming_meetings(api, firm, django_assert_max_num_queries):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    with django_assert_max_num_queries(8):
        listed = api.get(URL + "meetings/", {"state": "waiting", "engagement": firm.acme_pricing.pk}).json()
    titles = {row["title"] for row in listed["results"]}
    assert "Lunch with Sam" in titles and "QBR Q1" not in titles

    qbr = CalendarMeeting.objects.get(uid="qbr-february@rapport.test")
    lunch = CalendarMeeting.objects.get(uid="lunch-to-delete@rapport.test")
    response = api.post(URL + "meetings/confirm-many/", {"meetings": [
        {"id": qbr.pk, "focus": "kpi_review"},
        {"id": lunch.pk, "focus": "advisory", "engagement": firm.acme_pricing.pk, "initiated_by": "client"}]},
        format="json")
    assert response.status_code == 200, response.json()
    assert {row["state"] for row in response.json()["meetings"]} == {"confirmed"}
    assert Session.objects.filter(engagement=firm.acme_pricing, initiated_by="client").count() == 1

    again = api.post(URL + f"meetings/{qbr.pk}/confirm/", {"focus": "strategy"}, format="json")
    assert again.status_code == 409  # already confirmed: re-read it


def test_confirming_without_the_engagement_when_several_fit_is_a_400(api, firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    lunch = CalendarMeeting.objects.get(uid="lunch-to-delete@rapport.test")
    response = api.post(URL + f"meetings/{lunch.pk}/confirm/", {"focus": "advisory"}, format="json")
    assert response.status_code == 400
    assert "engagement" in response.json()["errors"]


def test_a_feed_address_is_write_only(api, firm):
    secret = "https://calendar.example.com/owa/secret-0123456789/calendar.ics"
    created = api.post(URL + "feeds/", {"url": secret, "name": "Outlook"}, format="json")
    assert created.status_code == 201
    assert secret not in str(created.json()) and created.json()["masked_url"] == "https://calendar.example.com/….ics"
    assert secret not in str(api.get(URL + "feeds/").json())
    assert CalendarFeed.objects.get().url == secret
    refused = api.post(URL + "feeds/", {"url": "file:///etc/passwd"}, format="json")
    assert refused.status_code == 400


def test_confirm_many_errors_are_flat_per_field(api, firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    qbr = CalendarMeeting.objects.get(uid="qbr-february@rapport.test")
    response = api.post(URL + "meetings/confirm-many/", {"meetings": [{"id": qbr.pk, "focus": "nonsense"},
                                                                      {"id": 10**9, "focus": "strategy"}]},
                        format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"meetings.0.focus", "meetings.1.id"}
    assert all(isinstance(messages, list) and all(isinstance(m, str) for m in messages) for messages in errors.values())
    assert api.post(URL + "meetings/confirm-many/", {"meetings": []}, format="json").status_code == 400
