"""Closing an engagement well: reason, handover, retrospective, final feedback from the client."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.models import Engagement
from feedback.models import PulseRequest
from tests import factories

pytestmark = pytest.mark.django_db

# The engagement started 400 days ago (the factory's default); it ends a month before today.
ENDED = str(timezone.localdate() - dt.timedelta(days=30))


@pytest.fixture
def sponsor(engagement):
    return factories.ContactFactory(client=engagement.client, name="Sam Sponsor", is_sponsor=True,
                                    sponsor_since="2025-01-01")


def test_the_form_suggests_asking_the_sponsor(client, consultant, engagement, sponsor):
    client.force_login(consultant)
    response = client.get(reverse("engagements:close", args=[engagement.pk]))
    assert response.context["form"].initial["feedback_from"] == [sponsor.pk]
    assert "Sam Sponsor" in response.content.decode()


def test_closing_records_everything_and_asks_for_final_feedback(client, consultant, engagement, sponsor):
    other = factories.ContactFactory(client=engagement.client)
    client.force_login(consultant)
    response = client.post(reverse("engagements:close", args=[engagement.pk]), {
        "closure_reason": "completed", "end": ENDED, "handover_notes": "Docs in the shared drive",
        "retrospective": "Workshops worked; we started too late.", "feedback_from": [sponsor.pk, other.pk]})
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.CLOSED and engagement.closure_reason == "completed"
    assert engagement.retrospective.startswith("Workshops") and str(engagement.end) == ENDED
    assert set(PulseRequest.objects.values_list("contact_id", flat=True)) == {sponsor.pk, other.pk}
    page = client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode()
    assert "Docs in the shared drive" in page and "Objectives met" in page


def test_a_missing_retrospective_is_an_error_and_the_rest_is_kept(client, consultant, engagement, sponsor):
    client.force_login(consultant)
    response = client.post(reverse("engagements:close", args=[engagement.pk]), {
        "closure_reason": "budget", "end": ENDED, "handover_notes": "Keep these notes", "retrospective": ""})
    assert response.status_code == 200 and "retrospective" in response.context["form"].errors
    assert "Keep these notes" in response.content.decode()
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.ACTIVE and not PulseRequest.objects.exists()


def test_a_contact_of_another_client_cannot_be_asked(client, consultant, engagement):
    stranger = factories.ContactFactory()
    client.force_login(consultant)
    response = client.post(reverse("engagements:close", args=[engagement.pk]), {
        "closure_reason": "completed", "end": ENDED, "retrospective": "Fine", "feedback_from": [stranger.pk]})
    assert "feedback_from" in response.context["form"].errors
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.ACTIVE


def test_an_end_before_the_start_is_refused(client, consultant, engagement):
    client.force_login(consultant)
    response = client.post(reverse("engagements:close", args=[engagement.pk]), {
        "closure_reason": "completed", "end": "1999-01-01", "retrospective": "Fine"})
    assert response.status_code == 200 and response.context["form"].errors
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.ACTIVE


def test_an_already_closed_engagement_goes_back_to_its_page(client, consultant):
    closed = factories.EngagementFactory(lead=consultant, status="closed", closure_reason="completed")
    client.force_login(consultant)
    response = client.get(reverse("engagements:close", args=[closed.pk]))
    assert response.status_code == 302 and response.url == reverse("engagements:detail", args=[closed.pk])


def test_someone_elses_engagement_cannot_be_closed(client, other_consultant, engagement):
    client.force_login(other_consultant)
    assert client.post(reverse("engagements:close", args=[engagement.pk]), {}).status_code == 404
