"""Bad input: field errors in one body shape, never a 500; out-of-scope ids look like missing ones;
stale versions are 409; oversized bodies are refused."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests import factories
from tests.api.conftest import client_for


def error_body(response):
    body = response.json()
    assert set(body) >= {"status", "code", "detail", "errors"}
    assert body["status"] == response.status_code
    return body


def test_serializer_errors_are_400_with_field_errors(consultant, engagement):
    response = client_for(consultant).post(reverse("api:session-list"), {"engagement": engagement.pk,
                                                                         "duration_minutes": 0}, format="json")
    assert response.status_code == 400
    body = error_body(response)
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"start", "focus", "duration_minutes"}


def test_service_validation_errors_become_field_errors(consultant, engagement):
    """Milestone.clean (called by the service) refuses a due date before the engagement starts."""
    response = client_for(consultant).post(reverse("api:milestone-list"), {
        "engagement": engagement.pk, "title": "Kick-off", "due_date": "2000-01-01"}, format="json")
    assert response.status_code == 400
    assert list(error_body(response)["errors"]) == ["due_date"]


def test_non_field_service_errors_go_under_non_field_errors(manager, engagement):
    response = client_for(manager).post(reverse("api:engagement-list"), {
        "client": engagement.client_id, "title": "Closed at birth", "start": "2025-01-01", "status": "closed"},
        format="json")
    assert response.status_code == 400
    assert "non_field_errors" in error_body(response)["errors"]


@pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "{not json", "null"])
def test_malformed_bodies_are_400_not_500(consultant, payload):
    response = client_for(consultant).generic("POST", reverse("api:session-list"), payload,
                                              content_type="application/json")
    assert response.status_code == 400
    error_body(response)


@pytest.mark.parametrize(("field", "value"), [
    ("duration_minutes", "60"), ("focus", 1), ("shared_with_client", "yes"), ("engagement", "1"), ("notes", 7),
])
def test_values_of_the_wrong_json_type_are_refused(consultant, engagement, field, value):
    body = {"engagement": engagement.pk, "start": "2025-03-03T10:00:00Z", "duration_minutes": 60,
            "focus": "strategy", field: value}
    response = client_for(consultant).post(reverse("api:session-list"), body, format="json")
    assert response.status_code == 400
    assert list(error_body(response)["errors"]) == [field]


def test_unsupported_media_type_is_415(consultant):
    response = client_for(consultant).post(reverse("api:session-list"), "a=b",
                                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert error_body(response)["code"] == "unsupported_media_type"


def test_out_of_scope_id_in_body_reads_as_nonexistent(consultant, engagement):
    foreign = factories.EngagementFactory()
    api = client_for(consultant)
    base = {"start": "2025-03-03T10:00:00Z", "duration_minutes": 60, "focus": "strategy"}
    someone_elses = api.post(reverse("api:session-list"), {**base, "engagement": foreign.pk}, format="json")
    missing = api.post(reverse("api:session-list"), {**base, "engagement": 10**9}, format="json")
    assert someone_elses.status_code == missing.status_code == 400
    assert someone_elses.json()["errors"]["engagement"][0].replace(str(foreign.pk), "N") == \
        missing.json()["errors"]["engagement"][0].replace(str(10**9), "N")


def test_client_attendees_of_another_client_are_refused(consultant, engagement, other_client_user):
    """In scope for the consultant? No: Globex is not their client, so the id does not exist for them."""
    response = client_for(consultant).post(reverse("api:session-list"), {
        "engagement": engagement.pk, "start": "2025-03-03T10:00:00Z", "duration_minutes": 60,
        "focus": "strategy", "client_attendees": [other_client_user.contact.pk]}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["client_attendees"]


@pytest.mark.parametrize("path_id", ["abc", "1.5", "-1", str(2**70)])
def test_malformed_or_huge_ids_in_the_url_are_json_404s(consultant, path_id):
    response = client_for(consultant).get(f"/api/v1/sessions/{path_id}/")
    assert response.status_code == 404
    assert error_body(response)["code"] == "not_found"


@pytest.mark.parametrize("query", ["engagement=abc", f"engagement={2**70}", "focus=", "start_after=yesterday",
                                   "page_size=0", "page_size=x", "focus=lunch"])
def test_invalid_filters_are_400(consultant, query):
    response = client_for(consultant).get(f"{reverse('api:session-list')}?{query}")
    assert response.status_code == 400, query
    error_body(response)


def test_stale_version_gets_409_with_the_current_version(consultant, engagement):
    session = factories.SessionFactory(engagement=engagement)
    api = client_for(consultant)
    url = reverse("api:session-detail", kwargs={"pk": session.pk})
    first = api.patch(url, {"notes": "Mine", "version": 1}, format="json")
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = api.patch(url, {"notes": "Theirs", "version": 1}, format="json")
    assert stale.status_code == 409
    assert error_body(stale)["code"] == "stale_version" and stale.json()["current_version"] == 2
    session.refresh_from_db()
    assert session.notes == "Mine"


def test_milestone_stale_version_gets_409(consultant, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement)
    url = reverse("api:milestone-detail", kwargs={"pk": milestone.pk})
    api = client_for(consultant)
    assert api.patch(url, {"status": "in_progress", "version": 1}, format="json").status_code == 200
    assert api.patch(url, {"status": "done", "version": 1}, format="json").status_code == 409


def test_oversized_body_is_refused_with_413(consultant, engagement, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"engagement": engagement.pk, "start": "2025-03-03T10:00:00Z", "duration_minutes": 60,
                       "focus": "strategy", "notes": "x" * 20_000})
    response = client_for(consultant).generic("POST", reverse("api:session-list"), body,
                                              content_type="application/json")
    assert response.status_code == 413
    assert error_body(response)["code"] == "payload_too_large"


def test_deleting_a_client_with_engagements_is_a_409(manager, engagement):
    response = client_for(manager).delete(reverse("api:client-detail", kwargs={"pk": engagement.client_id}))
    assert response.status_code == 409
    assert error_body(response)["code"] == "in_use"


def test_a_refused_transition_is_a_409(manager, engagement):
    flag = factories.FlagFactory(engagement=engagement, status="resolved", resolved_at="2025-01-01T00:00:00Z")
    response = client_for(manager).post(reverse("api:flag-acknowledge", kwargs={"pk": flag.pk}))
    assert response.status_code == 409
    assert error_body(response)["code"] == "invalid_state"


@pytest.mark.parametrize("kind", ["session", "milestone"])
def test_an_update_without_the_version_read_is_refused_and_changes_nothing(consultant, engagement, kind):
    obj = (factories.SessionFactory(engagement=engagement, notes="Original") if kind == "session"
           else factories.MilestoneFactory(engagement=engagement, description="Original"))
    field = "notes" if kind == "session" else "description"
    api = client_for(consultant)
    response = api.patch(reverse(f"api:{kind}-detail", kwargs={"pk": obj.pk}), {field: "Blind overwrite"},
                         format="json")
    assert response.status_code == 400
    assert error_body(response)["errors"]["version"]
    obj.refresh_from_db()
    assert (getattr(obj, field), obj.version) == ("Original", 1)


@pytest.mark.parametrize("payload", ["[" * 100_000, '{"a":' * 100_000, "[" * 50_000 + "]" * 50_000])
def test_a_body_nested_too_deeply_is_400_not_500(api, consultant, payload):
    """F8: Python's JSON decoder raises RecursionError on deep nesting; the parser makes it a 400."""
    response = api.generic("POST", reverse("api:token-obtain"), payload, content_type="application/json")
    assert response.status_code == 400
    assert error_body(response)["code"] == "parse_error"
    response = client_for(consultant).generic("POST", reverse("api:session-list"), payload,
                                              content_type="application/json")
    assert response.status_code == 400
