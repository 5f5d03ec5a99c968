"""Planned breaks on the engagement page: listed with dates, reason, note and author; added from a small
form whose errors (the service's) show on the field with what was typed kept; deleted after a
confirmation; announced on the health card while one runs. The clock is pinned: "running" and
"upcoming" depend on today."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import formats, translation

from engagements.models import Engagement, PlannedBreak
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def shown(year, month, day):
    """A date as the English pages write it."""
    return formats.date_format(dt.date(year, month, day), "DATE_FORMAT")


def detail(engagement):
    return reverse("engagements:detail", args=[engagement.pk])


def add(client, engagement, htmx=True, **values):
    data = {"break-starts_on": "2026-04-06", "break-ends_on": "2026-04-17", "break-reason": "holiday",
            "break-note": "Easter holidays at the client", **values}
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("engagements:planned_break_create", args=[engagement.pk]), data, **extra)


def delete(client, planned_break, htmx=True):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("engagements:planned_break_delete", args=[planned_break.pk]), **extra)


def test_a_consultant_adds_a_break_and_the_section_comes_back_with_it(client, consultant, engagement):
    client.force_login(consultant)
    response = add(client, engagement)
    content = response.content.decode()
    assert response.status_code == 200 and "<html" not in content and 'id="planned-breaks"' in content
    assert "Planned break added." in content
    planned = PlannedBreak.objects.get()
    assert (planned.engagement, planned.starts_on, planned.ends_on, planned.reason, planned.created_by) == (
        engagement, dt.date(2026, 4, 6), dt.date(2026, 4, 17), "holiday", consultant)
    for text in (shown(2026, 4, 6), shown(2026, 4, 17), "Holiday", "Easter holidays at the client",
                 f"Added by {consultant}"):
        assert text in content
    # A fresh, empty form again for the next one.
    assert 'name="break-note" value="Easter' not in content


def test_the_page_lists_breaks_running_and_ahead_and_folds_the_past(client, consultant, engagement):
    factories.PlannedBreakFactory(engagement=engagement, starts_on=dt.date(2026, 1, 5), ends_on=dt.date(2026, 1, 9),
                                  reason="budget_freeze", note="Year-end budget freeze", created_by=consultant)
    factories.PlannedBreakFactory(engagement=engagement, starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 3, 20),
                                  reason="client_request")
    factories.PlannedBreakFactory(engagement=engagement, starts_on=dt.date(2026, 7, 27), ends_on=dt.date(2026, 8, 14))
    client.force_login(consultant)
    response = client.get(detail(engagement))
    breaks = response.context["planned_breaks"]
    assert [b.reason for b in breaks.running] == ["client_request"]
    assert [b.starts_on for b in breaks.upcoming] == [dt.date(2026, 7, 27)]
    assert [b.note for b in breaks.past] == ["Year-end budget freeze"]
    content = response.content.decode()
    section = content[content.index('id="planned-breaks"'):]
    assert section.index("Client request") < section.index(shown(2026, 7, 27)) < section.index("1 past break")
    assert "Budget freeze" in section and "Year-end budget freeze" in section


def test_the_health_card_says_until_when_a_break_runs(client, consultant, engagement):
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY)
    factories.PlannedBreakFactory(engagement=engagement, starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 3, 20))
    client.force_login(consultant)
    content = client.get(detail(engagement)).content.decode()
    card = content[content.index('id="health"'):content.index('id="flags"')]
    assert f"On a planned break until {shown(2026, 3, 20)}." in card


def test_no_break_message_on_the_card_before_a_break_starts(client, consultant, engagement):
    factories.PlannedBreakFactory(engagement=engagement, starts_on=dt.date(2026, 3, 11), ends_on=dt.date(2026, 3, 20))
    client.force_login(consultant)
    content = client.get(detail(engagement)).content.decode()
    assert "On a planned break until" not in content
    assert shown(2026, 3, 11) in content  # listed as upcoming


def test_an_end_before_the_start_is_an_error_on_the_field_and_keeps_what_was_typed(client, consultant, engagement):
    client.force_login(consultant)
    response = add(client, engagement, **{"break-ends_on": "2026-04-01", "break-note": "Typed with care"})
    content = response.content.decode()
    assert "A break cannot end before it starts." in content
    assert 'id="id_break-ends_on_error"' in content  # on the field, not only above the form
    assert 'value="Typed with care"' in content and 'value="2026-04-01"' in content
    assert "<details class=\"add-break\" open>" in content
    assert not PlannedBreak.objects.exists()


def test_an_overlapping_break_is_refused_with_the_dates_it_overlaps(client, consultant, engagement):
    factories.PlannedBreakFactory(engagement=engagement, starts_on=dt.date(2026, 4, 13), ends_on=dt.date(2026, 4, 24))
    client.force_login(consultant)
    content = add(client, engagement).content.decode()
    assert f"This break overlaps the one from {shown(2026, 4, 13)} to {shown(2026, 4, 24)}." in content
    assert PlannedBreak.objects.count() == 1


def test_missing_dates_say_which_is_missing(client, consultant, engagement):
    client.force_login(consultant)
    content = add(client, engagement, **{"break-starts_on": "", "break-ends_on": ""}).content.decode()
    assert "Give the first day of the break." in content and "Give the last day of the break." in content


def test_a_note_over_500_characters_is_refused(client, consultant, engagement):
    client.force_login(consultant)
    content = add(client, engagement, **{"break-note": "x" * 501}).content.decode()
    assert "at most 500 characters" in content
    assert not PlannedBreak.objects.exists()


def test_without_htmx_an_error_shows_the_form_page_and_a_success_goes_back(client, consultant, engagement):
    client.force_login(consultant)
    response = add(client, engagement, htmx=False, **{"break-ends_on": "2026-04-01"})
    assert response.status_code == 200
    assert "A break cannot end before it starts." in response.content.decode()
    assert "<h1>Add a planned break</h1>" in response.content.decode()
    response = add(client, engagement, htmx=False)
    assert response.url == detail(engagement) + "#planned-breaks"
    assert "Planned break added." in client.get(response.url).content.decode()


def test_deleting_asks_first_without_javascript_then_removes_it(client, consultant, engagement):
    planned = factories.PlannedBreakFactory(engagement=engagement, starts_on=dt.date(2026, 4, 6),
                                            ends_on=dt.date(2026, 4, 17))
    client.force_login(consultant)
    page = client.get(reverse("engagements:planned_break_delete", args=[planned.pk])).content.decode()
    assert f"Delete the planned break from {shown(2026, 4, 6)} to {shown(2026, 4, 17)} (Holiday)?" in page
    assert PlannedBreak.objects.exists()
    # With JavaScript the list's button asks the same question in a dialog (data-confirm).
    listed = client.get(detail(engagement)).content.decode()
    assert f'data-confirm="Delete the planned break from {shown(2026, 4, 6)} to {shown(2026, 4, 17)}?' in listed
    response = delete(client, planned)
    assert "Planned break deleted." in response.content.decode()
    assert not PlannedBreak.objects.exists()


def test_a_manager_sees_and_deletes_any_engagements_breaks(client, manager, engagement):
    planned = factories.PlannedBreakFactory(engagement=engagement, note="Works council elections")
    client.force_login(manager)
    assert "Works council elections" in client.get(detail(engagement)).content.decode()
    response = delete(client, planned, htmx=False)
    assert response.url == detail(engagement) + "#planned-breaks"
    assert not PlannedBreak.objects.exists()


def test_another_consultants_engagement_and_its_breaks_are_404(client, other_consultant, engagement):
    planned = factories.PlannedBreakFactory(engagement=engagement)
    client.force_login(other_consultant)
    assert add(client, engagement).status_code == 404
    assert delete(client, planned).status_code == 404
    assert client.get(reverse("engagements:planned_break_delete", args=[planned.pk])).status_code == 404
    assert PlannedBreak.objects.count() == 1


def test_a_client_user_never_reaches_planned_breaks(client, client_user, engagement):
    planned = factories.PlannedBreakFactory(engagement=engagement)
    client.force_login(client_user)
    assert add(client, engagement).status_code == 404
    assert delete(client, planned).status_code == 404
    assert PlannedBreak.objects.count() == 1


def test_a_closed_engagement_keeps_its_breaks_as_a_record(client, consultant, engagement):
    planned = factories.PlannedBreakFactory(engagement=engagement, note="Last summer")
    Engagement.objects.filter(pk=engagement.pk).update(status=Engagement.Status.CLOSED, closure_reason="completed",
                                                       retrospective="Went well.", closed_at=NOW)
    client.force_login(consultant)
    content = client.get(detail(engagement)).content.decode()
    assert "Last summer" in content
    assert "Add a planned break" not in content and "planned_break_delete" not in content
    assert add(client, engagement).status_code == 404
    assert delete(client, planned).status_code == 404


def test_the_section_speaks_french(client, consultant, engagement):
    consultant.language = "fr"
    consultant.save()
    factories.PlannedBreakFactory(engagement=engagement, starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 3, 20),
                                  reason="budget_freeze")
    client.force_login(consultant)
    content = client.get(detail(engagement)).content.decode()
    with translation.override("fr"):
        for text in ("Pauses prévues", "Gel budgétaire", "Ajouter une pause prévue",
                     "En pause prévue jusqu’au 20 mars 2026."):
            assert text in content, text
