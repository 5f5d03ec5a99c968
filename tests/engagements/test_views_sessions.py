"""Log a session: one form, defaults from my last session, inline errors, the timeline updated by HTMX.
Edit a logged session, with a clear conflict when someone else saved it meanwhile."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
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
    assert 'data-hx-swap-oob="afterbegin:#timeline-items"' in content and f'id="session-{session.pk}"' in content
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


# --- Editing a logged session ---------------------------------------------------------------------

def edit_url(session):
    return reverse("engagements:session_edit", args=[session.pk])


def edit_data(session, **overrides):
    """What the edit form posts for ``session`` untouched, with ``overrides``."""
    data = {"start": timezone.localtime(session.start).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": session.duration_minutes, "channel": session.channel, "focus": session.focus,
            "initiated_by": session.initiated_by, "notes": session.notes, "next_steps": session.next_steps,
            "client_attendees": [c.pk for c in session.client_attendees.all()], "version": session.version}
    for name in ("advice_requested", "shared_with_client"):
        if getattr(session, name):
            data[name] = "on"
    data.update(overrides)
    return data


@pytest.fixture
def logged(engagement, consultant, contact):
    return factories.SessionFactory(engagement=engagement, logged_by=consultant, duration_minutes=60,
                                    focus=Session.Focus.STRATEGY, notes="Pricing **options**",
                                    next_steps="Send the memo", client_attendees=[contact])


def test_the_edit_form_shows_the_session_as_logged(client, consultant, logged, contact):
    client.force_login(consultant)
    response = client.get(edit_url(logged))
    assert response.status_code == 200
    form = response.context["form"]
    assert "engagement" not in form.fields  # a session stays on its engagement
    content = response.content.decode()
    assert "Pricing **options**" in content and "Send the memo" in content
    assert f'value="{contact.pk}" id="id_client_attendees_0" checked' in content
    assert re.search(r'value="strategy"[^>]* checked', content)
    assert f'name="version" value="{logged.version}"' in content
    assert "Acme" in content  # which engagement it belongs to


def test_editing_saves_the_change_and_goes_back_to_the_session_on_the_timeline(client, consultant, logged, contact):
    other = factories.ContactFactory(client=logged.engagement.client, name="Bo Client")
    client.force_login(consultant)
    with mock.patch("health.services.request_rescore") as rescore:
        response = client.post(edit_url(logged), edit_data(logged, notes="Pricing, *corrected*", focus="reporting",
                                                           duration_minutes=90, client_attendees=[other.pk]))
    engagement = logged.engagement
    assert response.status_code == 302
    assert response.url == reverse("engagements:detail", args=[engagement.pk]) + f"#session-{logged.pk}"
    rescore.assert_called_once_with(engagement_id=engagement.pk)
    version = logged.version
    logged.refresh_from_db()
    assert (logged.notes, logged.focus, logged.duration_minutes) == ("Pricing, *corrected*", "reporting", 90)
    assert list(logged.client_attendees.all()) == [other] and logged.version == version + 1
    page = client.get(response.url).content.decode()
    assert "Session saved." in page and "<em>corrected</em>" in page


def test_the_timeline_offers_an_edit_link_naming_the_session(client, consultant, logged):
    client.force_login(consultant)
    content = client.get(reverse("engagements:detail", args=[logged.engagement.pk])).content.decode()
    assert f'href="{edit_url(logged)}"' in content
    assert 'aria-label="Edit session of ' in content


@pytest.mark.parametrize("persona", ["other_consultant", "client_user"])
def test_someone_outside_the_engagement_cannot_open_or_save_the_session(client, request, persona, logged):
    logged.shared_with_client = True  # even a session the client may read in the portal
    logged.save()
    client.force_login(request.getfixturevalue(persona))
    assert client.get(edit_url(logged)).status_code == 404
    assert client.post(edit_url(logged), edit_data(logged, notes="Hijacked")).status_code == 404
    logged.refresh_from_db()
    assert logged.notes == "Pricing **options**"


def test_a_session_of_a_closed_engagement_cannot_be_edited(client, consultant, logged):
    engagement = logged.engagement
    engagement.status, engagement.closure_reason = "closed", "completed"
    engagement.save()
    client.force_login(consultant)
    assert client.get(edit_url(logged)).status_code == 404
    assert client.post(edit_url(logged), edit_data(logged, notes="Rewritten")).status_code == 404
    logged.refresh_from_db()
    assert logged.notes == "Pricing **options**"
    assert edit_url(logged) not in client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode()


@pytest.mark.parametrize(("field", "value"), [("duration_minutes", 0), ("start", "12/03/2026 10:00")])
def test_bad_input_shows_the_error_and_changes_nothing(client, consultant, logged, field, value):
    version = logged.version
    client.force_login(consultant)
    response = client.post(edit_url(logged), edit_data(logged, notes="Keep me, please", **{field: value}))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {field}
    content = response.content.decode()
    assert "Keep me, please" in content
    assert f'aria-describedby="id_{field}_error"' in content and f'id="id_{field}_error"' in content
    logged.refresh_from_db()
    assert logged.notes == "Pricing **options**" and logged.version == version


def test_a_refusal_from_the_service_lands_on_its_field_and_keeps_the_input(client, consultant, logged):
    refusal = ValidationError({"duration_minutes": "Longer than the working day."})
    client.force_login(consultant)
    with mock.patch("engagements.services.session_update", side_effect=refusal):
        response = client.post(edit_url(logged), edit_data(logged, notes="Keep me, please", duration_minutes=600))
    assert response.context["form"].errors == {"duration_minutes": ["Longer than the working day."]}
    content = response.content.decode()
    assert "Keep me, please" in content and 'value="600"' in content


def test_an_edit_conflict_shows_both_versions_and_saving_again_applies_mine(client, consultant, logged):
    colleague = factories.ConsultantFactory(full_name="Cleo Collègue")
    logged.engagement.team.add(colleague)
    client.force_login(consultant)
    mine = client.get(edit_url(logged)).context["form"].initial
    theirs_browser = Client()
    theirs_browser.force_login(colleague)
    theirs = theirs_browser.get(edit_url(logged)).context["form"].initial
    assert mine["version"] == theirs["version"] == logged.version
    # The colleague saves first.
    assert theirs_browser.post(edit_url(logged), edit_data(logged, notes="Their notes")).status_code == 302
    # Then I save from the form I opened before.
    response = client.post(edit_url(logged), edit_data(logged, notes="My notes", duration_minutes=75))
    assert response.status_code == 200
    stored = Session.objects.get(pk=logged.pk)
    assert stored.notes == "Their notes" and stored.duration_minutes == 60  # nothing overwritten
    rows = {row["label"]: row for row in response.context["conflict"]}
    assert (rows["Notes"]["mine"], rows["Notes"]["theirs"]) == ("My notes", "Their notes")
    assert rows["Notes"]["differs"] and rows["Duration (minutes)"]["differs"]
    assert not rows["Focus"]["differs"] and not rows["Client attendees"]["differs"]
    assert rows["Focus"]["mine"] == "Strategy" and rows["Client attendees"]["mine"] == "Ada Client · Head of Operations"
    content = response.content.decode()
    assert "Someone else changed this session while you were editing" in content
    assert ">\nMy notes</textarea>" in content and 'value="75"' in content  # my input is still in the form
    assert f'name="version" value="{stored.version}"' in content
    assert f'href="{edit_url(logged)}"' in content  # drop my changes
    # Saving again from the conflict form applies my version, knowingly.
    form = response.context["form"]
    response = client.post(edit_url(logged), {**edit_data(logged, notes="My notes", duration_minutes=75),
                                              "version": form.data["version"]})
    assert response.status_code == 302
    stored.refresh_from_db()
    assert (stored.notes, stored.duration_minutes) == ("My notes", 75)


def test_a_contact_who_left_stays_an_attendee_when_the_session_is_edited(client, consultant, logged, contact):
    contact.active = False
    contact.save()
    client.force_login(consultant)
    response = client.get(edit_url(logged))
    assert f'value="{contact.pk}" id="id_client_attendees_0" checked' in response.content.decode()
    client.post(edit_url(logged), edit_data(logged, notes="Typo fixed"))
    logged.refresh_from_db()
    assert logged.notes == "Typo fixed" and list(logged.client_attendees.all()) == [contact]


def test_an_unchanged_minute_keeps_the_stored_start(client, consultant, logged):
    logged.start = logged.start.replace(second=42, microsecond=1234)  # as the API may store it
    logged.save()
    client.force_login(consultant)
    client.post(edit_url(logged), edit_data(logged, notes="Typo fixed"))
    stored = Session.objects.get(pk=logged.pk)
    assert stored.start == logged.start and stored.notes == "Typo fixed"


def test_the_edit_form_runs_a_fixed_number_of_queries(client, consultant, engagement, django_assert_max_num_queries):
    one = factories.SessionFactory(engagement=engagement, logged_by=consultant,
                                   client_attendees=[factories.ContactFactory(client=engagement.client)])
    client.force_login(consultant)
    # Session, user, the session with its engagement and client, its attendees, the attendee choices.
    with django_assert_max_num_queries(5) as with_one:
        client.get(edit_url(one))
    contacts = [factories.ContactFactory(client=engagement.client) for _ in range(20)]
    twenty = factories.SessionFactory(engagement=engagement, logged_by=consultant, client_attendees=contacts)
    with django_assert_max_num_queries(len(with_one.captured_queries)):
        response = client.get(edit_url(twenty))
    assert len(response.context["form"].fields["client_attendees"].choices) == 21


def test_only_the_first_session_asks_htmx_to_remove_the_empty_timeline_line(client, consultant, engagement):
    """The line exists only on an empty timeline: deleting it otherwise logs htmx:oobErrorNoTarget."""
    client.force_login(consultant)
    first = client.post(URL + f"?engagement={engagement.pk}", form_data(engagement, context="detail"),
                        HTTP_HX_REQUEST="true").content.decode()
    second = client.post(URL + f"?engagement={engagement.pk}", form_data(engagement, context="detail"),
                         HTTP_HX_REQUEST="true").content.decode()
    assert 'id="timeline-empty" data-hx-swap-oob="delete"' in first
    assert "timeline-empty" not in second and 'id="session-' in second
