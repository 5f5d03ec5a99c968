"""Log a session: one form, defaults from my last session, inline errors, the timeline updated by HTMX."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.models import Session
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("engagements:session_new")


@pytest.fixture
def contact(engagement):
    return factories.ContactFactory(client=engagement.client, name="Ada Client")


def form_data(engagement, **overrides):
    data = {"engagement": engagement.pk, "start": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 45, "channel": "call", "focus": "advisory", "initiated_by": "client",
            "notes": "We discussed **pricing**.", "next_steps": "Send the memo"}
    data.update(overrides)
    return data


def test_the_form_defaults_to_now_and_my_last_session_on_the_engagement(client, consultant, engagement, contact):
    factories.SessionFactory(engagement=engagement, logged_by=consultant, duration_minutes=90,
                             channel=Session.Channel.WORKSHOP, focus=Session.Focus.CO_CREATION,
                             shared_with_client=True, client_attendees=[contact], notes="Old notes")
    client.force_login(consultant)
    response = client.get(URL + f"?engagement={engagement.pk}")
    initial = response.context["form"].initial
    assert initial["duration_minutes"] == 90 and initial["channel"] == "workshop"
    assert initial["focus"] == "co_creation" and initial["shared_with_client"] is True
    assert initial["client_attendees"] == [contact.pk]
    assert abs(initial["start"] - timezone.localtime()) < dt.timedelta(minutes=2)
    assert "Old notes" not in response.content.decode().split("<form")[1].split("</form>")[0]
    assert "Ada Client" in response.content.decode()


def test_without_an_engagement_in_the_url_it_picks_the_one_i_logged_last(client, consultant, engagement):
    other = factories.EngagementFactory(lead=consultant, client__name="Zeta")
    factories.SessionFactory(engagement=other, logged_by=consultant)
    client.force_login(consultant)
    assert client.get(URL).context["form"].initial["engagement"] == other.pk


def test_an_engagement_i_do_not_staff_is_a_404(client, other_consultant, engagement):
    client.force_login(other_consultant)
    assert client.get(URL + f"?engagement={engagement.pk}").status_code == 404


def test_logging_with_htmx_returns_a_fresh_form_and_the_new_timeline_entry(client, consultant, engagement, contact):
    client.force_login(consultant)
    response = client.post(URL + f"?engagement={engagement.pk}",
                           form_data(engagement, client_attendees=[contact.pk], context="detail"),
                           HTTP_HX_REQUEST="true")
    session = Session.objects.get()
    assert session.logged_by == consultant and session.focus == "advisory" and session.duration_minutes == 45
    assert list(session.client_attendees.all()) == [contact]
    assert list(session.consultants.all()) == [consultant]
    content = response.content.decode()
    assert 'hx-swap-oob="afterbegin:#timeline-items"' in content and f'id="session-{session.pk}"' in content
    assert "<strong>pricing</strong>" in content and "Session logged" in content


def test_logging_without_javascript_redirects_to_the_engagement(client, consultant, engagement):
    client.force_login(consultant)
    response = client.post(URL, form_data(engagement))
    session = Session.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("engagements:detail", args=[engagement.pk]) + f"#session-{session.pk}"


def test_bad_input_shows_field_errors_and_keeps_what_was_typed(client, consultant, engagement):
    client.force_login(consultant)
    response = client.post(URL, form_data(engagement, duration_minutes=0, focus="", notes="Keep me, please"),
                           HTTP_HX_REQUEST="true")
    assert not Session.objects.exists()
    form = response.context["form"]
    assert set(form.errors) == {"duration_minutes", "focus"}
    content = response.content.decode()
    assert "Keep me, please" in content and 'aria-invalid="true"' in content


def test_an_attendee_from_another_client_is_refused(client, consultant, engagement):
    stranger = factories.ContactFactory(name="Not Theirs")
    client.force_login(consultant)
    response = client.post(URL, form_data(engagement, client_attendees=[stranger.pk]))
    assert response.status_code == 200 and "client_attendees" in response.context["form"].errors
    assert not Session.objects.exists()


def test_a_closed_engagement_cannot_be_chosen(client, consultant):
    closed = factories.EngagementFactory(lead=consultant, status="closed", closure_reason="completed")
    client.force_login(consultant)
    response = client.post(URL, form_data(closed))
    assert "engagement" in response.context["form"].errors


def test_changing_the_engagement_reloads_the_panel_and_keeps_the_notes(client, consultant, engagement):
    other = factories.EngagementFactory(lead=consultant)
    client.force_login(consultant)
    response = client.get(URL, {"engagement": other.pk, "notes": "Half-written thought"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="log-session-panel"' in content and "<html" not in content
    assert "Half-written thought" in content


def test_markdown_preview_is_sanitised(client, consultant):
    client.force_login(consultant)
    response = client.post(reverse("engagements:markdown_preview"),
                           {"notes": "**bold** <script>alert(1)</script> [x](javascript:alert(1))"})
    content = response.content.decode()
    assert "<strong>bold</strong>" in content
    assert "<script>" not in content and "javascript:" not in content


def test_a_client_user_cannot_log_sessions(client, client_user, engagement):
    client.force_login(client_user)
    assert client.get(URL).status_code == 404
    assert client.post(URL, form_data(engagement)).status_code == 404
