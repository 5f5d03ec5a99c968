"""Subjects quote what users typed: a line break in a title must not drop the e-mail (audit, issue 15)."""

import pytest
from django.core import mail
from django.urls import reverse

from config.mail import subject_line
from health.models import Flag
from health.services import score_engagements
from tests import factories
from tests.api.conftest import client_for
from tests.dashboard.conftest import TODAY
from tests.health.histories import strategy_then_kpi_reviews


@pytest.mark.parametrize(("typed", "sent"), [
    ("Regional\rpilot", "Regional pilot"), ("Kick-off\r\nBcc: x@evil.example", "Kick-off Bcc: x@evil.example"),
    ("Tab\tand\u2028separator\x0b", "Tab and separator"), ("  plain  ", "plain"),
])
def test_a_subject_is_one_line(typed, sent):
    assert subject_line(typed) == sent


def test_a_long_subject_is_cut_with_an_ellipsis():
    assert subject_line("x" * 500) == "x" * 199 + "…"


@pytest.mark.django_db
def test_a_milestone_title_with_a_carriage_return_still_notifies(consultant, engagement, client_user,
                                                                 django_capture_on_commit_callbacks):
    created = client_for(consultant).post(reverse("api:milestone-list"), {
        "engagement": engagement.pk, "title": "Regional\rpilot"}, format="json")
    assert created.status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        url = reverse("api:milestone-comment-list", kwargs={"milestone_pk": created.json()["id"]})
        client_for(client_user).post(url, {"text": "Can we add the northern stores?"}, format="json")
    assert [m.to for m in mail.outbox] == [[consultant.email]]
    assert "“Regional pilot”" in mail.outbox[0].subject
    assert mail.outbox[0].message()["Subject"]  # Django builds the message: no BadHeaderError


@pytest.mark.django_db
def test_a_client_name_with_a_line_break_still_gets_its_flag_notice(consultant, manager,
                                                                   django_capture_on_commit_callbacks):
    engagement = factories.EngagementFactory(lead=consultant, client__name="Helios\r\nBcc: x@evil.example")
    strategy_then_kpi_reviews(engagement, today=TODAY)  # drift_to_transactional, high
    with django_capture_on_commit_callbacks(execute=True):
        score_engagements(engagement_ids=[engagement.pk], as_of=TODAY)
    assert Flag.objects.filter(engagement=engagement, severity="high").exists()
    assert sorted(m.to[0] for m in mail.outbox) == [consultant.email, manager.email]
    assert all("Helios Bcc: x@evil.example" in m.subject and "\n" not in m.subject for m in mail.outbox)
