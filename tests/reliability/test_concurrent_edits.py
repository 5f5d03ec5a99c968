"""Two people editing the same session or milestone: the second gets a clear conflict (409 in the API,
a message in the page) and nothing is silently overwritten.

The sequential cases run everywhere; the races (both requests at the same instant, from two
threads with their own database connections) need PostgreSQL, where the conditional
``UPDATE … WHERE version = n`` of engagements.services._save_versioned lets exactly one through.
tests/api/test_errors.py and tests/engagements/test_views_milestones.py cover the basic shapes.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from engagements.models import Milestone
from tests import factories
from tests.reliability.support import need


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def colleague(engagement, other_consultant):
    engagement.team.add(other_consultant)
    return other_consultant


def milestone_form(milestone, **overrides):
    data = {"title": milestone.title, "phase": milestone.phase, "status": milestone.status,
            "due_date": milestone.due_date.isoformat(), "description": milestone.description,
            "shared_with_client": "on", "version": milestone.version}
    return {f"milestone-{name}": value for name, value in {**data, **overrides}.items()}  # the form's prefix


def session_form(session, **overrides):
    data = {"start": timezone.localtime(session.start).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": session.duration_minutes, "focus": session.focus, "channel": session.channel,
            "initiated_by": session.initiated_by, "notes": session.notes, "next_steps": session.next_steps,
            "version": session.version}
    return {**data, **overrides}


@pytest.mark.django_db
def test_two_people_saving_the_session_page_the_second_sees_the_conflict(consultant, colleague, engagement):
    session = factories.SessionFactory(engagement=engagement, notes="Draft", duration_minutes=60)
    url = reverse("engagements:session_edit", args=[session.pk])
    camille, oscar = Client(), Client()
    camille.force_login(consultant)
    oscar.force_login(colleague)
    camille.get(url), oscar.get(url)  # both open the page on the same version

    assert camille.post(url, session_form(session, notes="Camille's notes")).status_code == 302
    response = oscar.post(url, session_form(session, notes="Oscar's notes", duration_minutes=90))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone else changed this session while you were editing" in page
    assert "Camille&#x27;s notes" in page and "Oscar&#x27;s notes" in page  # both kept on screen
    session.refresh_from_db()
    assert (session.notes, session.duration_minutes, session.version) == ("Camille's notes", 60, 2)


@pytest.mark.django_db
def test_the_second_api_edit_of_a_session_gets_409_and_the_first_stays(consultant, colleague, engagement):
    session = factories.SessionFactory(engagement=engagement, notes="Draft")
    url = reverse("api:session-detail", kwargs={"pk": session.pk})
    read_by_both = api_for(consultant).get(url).json()["version"]

    first = api_for(consultant).patch(url, {"notes": "Camille's notes", "version": read_by_both}, format="json")
    second = api_for(colleague).patch(url, {"notes": "Oscar's notes", "sentiment": 2, "version": read_by_both},
                                      format="json")

    assert first.status_code == 200
    assert second.status_code == 409
    body = second.json()
    assert body["code"] == "stale_version" and body["current_version"] == read_by_both + 1
    assert "changed this in the meantime" in body["detail"]
    session.refresh_from_db()
    assert (session.notes, session.sentiment, session.version) == ("Camille's notes", None, read_by_both + 1)
    # Re-read, then edit knowingly: accepted.
    again = api_for(colleague).patch(url, {"notes": "Oscar's notes", "version": body["current_version"]},
                                     format="json")
    assert again.status_code == 200 and again.json()["notes"] == "Oscar's notes"


@pytest.mark.django_db
def test_the_second_api_edit_of_a_milestone_gets_409_and_the_first_stays(consultant, colleague, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement, title="Roadmap")
    url = reverse("api:milestone-detail", kwargs={"pk": milestone.pk})
    version = milestone.version

    assert api_for(consultant).patch(url, {"title": "Roadmap v2", "version": version},
                                     format="json").status_code == 200
    stale = api_for(colleague).patch(url, {"status": "done", "version": version}, format="json")

    assert stale.status_code == 409 and stale.json()["current_version"] == version + 1
    milestone.refresh_from_db()
    assert (milestone.title, milestone.status) == ("Roadmap v2", Milestone.Status.AGREED)


@pytest.mark.django_db
def test_two_people_saving_the_milestone_page_the_second_sees_the_conflict(consultant, colleague, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement, title="Roadmap")
    url = reverse("engagements:milestone_edit", args=[milestone.pk])
    camille, oscar = Client(), Client()
    camille.force_login(consultant)
    oscar.force_login(colleague)
    camille.get(url), oscar.get(url)  # both open the page on the same version

    assert camille.post(url, milestone_form(milestone, title="Camille's roadmap")).status_code == 302
    response = oscar.post(url, milestone_form(milestone, title="Oscar's roadmap"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone else changed this milestone while you were editing" in page
    assert "Camille&#x27;s roadmap" in page and 'value="Oscar&#x27;s roadmap"' in page  # both kept on screen
    milestone.refresh_from_db()
    assert milestone.title == "Camille's roadmap"


@pytest.mark.django_db
def test_a_status_change_on_a_stale_board_is_refused_with_a_message(consultant, colleague, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement, title="Roadmap")
    board_version = milestone.version
    camille, oscar = Client(), Client()
    camille.force_login(consultant)
    oscar.force_login(colleague)
    url = reverse("engagements:milestone_status", args=[milestone.pk])

    camille.post(url, {"status": "in_progress", "version": board_version}, HTTP_HX_REQUEST="true")
    response = oscar.post(url, {"status": "dropped", "version": board_version}, HTTP_HX_REQUEST="true")

    assert "changed by someone else meanwhile" in response.content.decode()
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.IN_PROGRESS


def _race(requests):
    """Run the callables at the same instant, each in its own thread and database connection."""
    barrier = threading.Barrier(len(requests))
    results, errors = [None] * len(requests), []

    def run(index, request):
        try:
            barrier.wait()
            results[index] = request()
        except Exception as error:  # noqa: BLE001  (reported by the caller)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_simultaneous_api_edits_of_a_session_let_exactly_one_through(consultant, colleague, engagement):
    need(connection.vendor == "postgresql", "the race needs PostgreSQL (SQLite runs one writer at a time)")
    session = factories.SessionFactory(engagement=engagement)
    url = reverse("api:session-detail", kwargs={"pk": session.pk})
    people = [consultant, colleague] * 3

    responses = _race([lambda user=user, n=n: api_for(user).patch(url, {"notes": f"Edit {n}", "version": 1},
                                                                 format="json")
                       for n, user in enumerate(people)])

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 409, 409, 409, 409, 409]
    winner = next(response.json()["notes"] for response in responses if response.status_code == 200)
    session.refresh_from_db()
    assert session.notes == winner and session.version == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("kind", "field"), [("session", "notes"), ("milestone", "title")])
def test_simultaneous_saves_of_an_edit_page_let_exactly_one_through(consultant, colleague, engagement, kind, field):
    need(connection.vendor == "postgresql", "the race needs PostgreSQL (SQLite runs one writer at a time)")
    if kind == "session":
        edited, form, edit_page = factories.SessionFactory(engagement=engagement, notes="Draft"), session_form, \
            "engagements:session_edit"
    else:
        edited, form, edit_page = factories.MilestoneFactory(engagement=engagement, title="Roadmap"), \
            milestone_form, "engagements:milestone_edit"
    url = reverse(edit_page, args=[edited.pk])

    def save_as(user, value):
        browser = Client()
        browser.force_login(user)
        return browser.post(url, form(edited, **{field: value}))

    responses = _race([lambda: save_as(consultant, "Camille's"), lambda: save_as(colleague, "Oscar's")])

    assert sorted(response.status_code for response in responses) == [200, 302]
    conflict = next(response for response in responses if response.status_code == 200)
    assert f"Someone else changed this {kind}" in conflict.content.decode()
    edited.refresh_from_db()
    assert edited.version == 2 and getattr(edited, field) in ("Camille's", "Oscar's")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["session", "milestone"])
def test_an_edit_that_names_no_version_is_refused_and_changes_nothing(consultant, engagement, kind):
    if kind == "session":
        edited, field = factories.SessionFactory(engagement=engagement, notes="Saved"), "notes"
        data = session_form(edited, notes="From an old page")
    else:
        edited, field = factories.MilestoneFactory(engagement=engagement, title="Saved"), "title"
        data = milestone_form(edited, title="From an old page")
    url = reverse(f"engagements:{kind}_edit", args=[edited.pk])
    del data["milestone-version" if kind == "milestone" else "version"]
    browser = Client()
    browser.force_login(consultant)
    response = browser.post(url, data)
    assert response.status_code == 200 and "This page is out of date" in response.content.decode()
    edited.refresh_from_db()
    assert getattr(edited, field) == "Saved" and edited.version == 1
