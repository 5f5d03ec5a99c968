import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagements.models import Side
from feedback.models import FeedbackResponse
from feedback.services import feedback_record, pulse_answer, pulse_request_create
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_rating_of_seven_out_of_five_is_refused(engagement):
    contact = factories.ContactFactory(client=engagement.client)
    with pytest.raises(ValidationError) as error:
        feedback_record(engagement=engagement, rating=7, respondent_contact=contact)
    assert "rating" in error.value.message_dict
    assert not FeedbackResponse.objects.exists()


def test_client_feedback_needs_a_contact_of_that_client(engagement):
    with pytest.raises(ValidationError):
        feedback_record(engagement=engagement, rating=4, respondent_contact=factories.ContactFactory())


def test_a_consultant_self_assessment_is_recorded_on_the_consultant_side(engagement, consultant):
    response = feedback_record(engagement=engagement, rating=5, side=Side.CONSULTANT, respondent_user=consultant)
    assert response.side == Side.CONSULTANT and response.respondent_contact is None


def test_a_pulse_is_answered_once(engagement, client_user, consultant):
    pulse = pulse_request_create(engagement=engagement, contact=client_user.contact, requested_by=consultant)
    pulse_answer(pulse=pulse, rating=4, involvement=5, nps=9, comment="Great workshop")
    with pytest.raises(ValidationError, match="already been answered"):
        pulse_answer(pulse=pulse, rating=1)
    assert FeedbackResponse.objects.filter(request=pulse).count() == 1


def test_an_expired_pulse_says_so(engagement, client_user):
    pulse = factories.PulseRequestFactory(engagement=engagement, contact=client_user.contact,
                                          expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(ValidationError, match="expired"):
        pulse_answer(pulse=pulse, rating=4)


def test_a_pulse_cannot_go_to_a_contact_of_another_client(engagement, consultant):
    with pytest.raises(ValidationError):
        pulse_request_create(engagement=engagement, contact=factories.ContactFactory(), requested_by=consultant)
