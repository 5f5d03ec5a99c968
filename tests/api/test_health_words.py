"""The API's side of health engine v2: flags carry their sentence (``summary``) in the request's language,
snapshots and engagements carry the watch level, and planned breaks are a resource of their own
(list, create, delete; scoped like the engagement page; validation errors from the service)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from engagements.models import PlannedBreak
from health import evidence
from health.models import EngagementHealth
from health.services import engagement_health_refresh
from tests import factories
from tests.api.conftest import client_for
from tests.evidence_samples import CADENCE_EVIDENCE, WATCH_ITEM

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


# --- Flags in words -------------------------------------------------------------------------------

def test_a_flag_carries_its_sentence_in_the_requests_language(consultant, engagement):
    flag = factories.FlagFactory(engagement=engagement, evidence=CADENCE_EVIDENCE)
    url = reverse("api:flag-detail", kwargs={"pk": flag.pk})
    english = client_for(consultant).get(url).json()
    french = client_for(consultant).get(url, HTTP_ACCEPT_LANGUAGE="fr").json()
    with translation.override("en"):
        assert english["summary"] == evidence.flag_summary(flag.kind, CADENCE_EVIDENCE)
    with translation.override("fr"):
        assert french["summary"] == evidence.flag_summary(flag.kind, CADENCE_EVIDENCE)
    assert english["summary"] != french["summary"]
    assert english["evidence"] == CADENCE_EVIDENCE  # the numbers stay as stored


def test_the_flag_list_carries_summaries_without_a_query_per_flag(consultant, engagement,
                                                                  django_assert_max_num_queries):
    for _ in range(15):
        factories.FlagFactory(engagement=factories.EngagementFactory(lead=consultant), evidence=CADENCE_EVIDENCE)
    api = client_for(consultant)
    with django_assert_max_num_queries(2):
        results = api.get(reverse("api:flag-list")).json()["results"]
    assert len(results) == 15 and all(r["summary"] for r in results)


# --- Watch level ----------------------------------------------------------------------------------

def test_snapshots_expose_the_watch_level_with_sentences(consultant, engagement):
    factories.HealthSnapshotFactory(engagement=engagement, watch=[WATCH_ITEM])
    [snapshot] = client_for(consultant).get(reverse("api:health-snapshot-list")).json()["results"]
    [item] = snapshot["watch"]
    assert (item["kind"], item["since"], item["evidence"]) == (WATCH_ITEM["kind"], WATCH_ITEM["since"],
                                                                WATCH_ITEM["evidence"])
    with translation.override("en"):
        assert item["summary"] == evidence.watch_summary(WATCH_ITEM)


def test_engagements_expose_their_latest_health_with_the_watch_level(consultant, client_user, engagement,
                                                                    django_assert_max_num_queries):
    factories.HealthSnapshotFactory(engagement=engagement, score=64, watch=[WATCH_ITEM])
    engagement_health_refresh(engagement_ids=[engagement.pk])
    EngagementHealth.objects.filter(engagement=engagement).update(watch=[WATCH_ITEM], watch_count=1)
    unscored = factories.EngagementFactory(lead=consultant)
    api = client_for(consultant)
    with django_assert_max_num_queries(3):  # engagements (with their latest health), their teams
        results = {e["id"]: e for e in api.get(reverse("api:engagement-list")).json()["results"]}
    health = results[engagement.pk]["health"]
    assert (health["score"], health["watch_count"], health["watch"][0]["kind"]) == (64, 1, WATCH_ITEM["kind"])
    assert results[unscored.pk]["health"] is None
    # Health is firm-only: the client's view of the engagement has no such field.
    assert "health" not in client_for(client_user).get(
        reverse("api:engagement-detail", kwargs={"pk": engagement.pk})).json()


# --- Planned breaks -------------------------------------------------------------------------------

def _break(engagement, **values):
    return {"engagement": engagement.pk, "starts_on": "2026-04-06", "ends_on": "2026-04-17", "reason": "holiday",
            "note": "Easter", **values}


def test_a_consultant_creates_a_break_through_the_service(consultant, engagement, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(consultant).post(reverse("api:planned-break-list"), _break(engagement), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    planned = PlannedBreak.objects.get(pk=body["id"])
    assert (planned.starts_on, planned.created_by, body["created_by"], body["reason"]) == (
        dt.date(2026, 4, 6), consultant, consultant.pk, "holiday")
    assert callbacks  # the engagement's rescore is queued (cadence flags follow the break)


def test_validation_errors_name_the_field(consultant, engagement):
    factories.PlannedBreakFactory(engagement=engagement, starts_on=dt.date(2026, 4, 13), ends_on=dt.date(2026, 4, 24))
    api = client_for(consultant)
    backwards = api.post(reverse("api:planned-break-list"), _break(engagement, ends_on="2026-04-01"), format="json")
    assert backwards.status_code == 400
    assert backwards.json()["errors"]["ends_on"] == ["A break cannot end before it starts."]
    overlap = api.post(reverse("api:planned-break-list"), _break(engagement), format="json")
    assert overlap.status_code == 400 and "overlaps" in overlap.json()["errors"]["starts_on"][0]
    long_note = api.post(reverse("api:planned-break-list"), _break(engagement, note="x" * 501), format="json")
    assert long_note.status_code == 400 and "note" in long_note.json()["errors"]
    bad_reason = api.post(reverse("api:planned-break-list"), _break(engagement, reason="sabbatical"), format="json")
    assert bad_reason.status_code == 400 and "reason" in bad_reason.json()["errors"]
    assert PlannedBreak.objects.count() == 1


def test_the_list_filters_by_engagement_and_stays_in_scope(consultant, other_consultant, engagement):
    mine = factories.PlannedBreakFactory(engagement=engagement)
    other = factories.PlannedBreakFactory(engagement=factories.EngagementFactory(lead=consultant))
    hidden = factories.PlannedBreakFactory(engagement=factories.EngagementFactory(lead=other_consultant))
    api = client_for(consultant)
    assert {b["id"] for b in api.get(reverse("api:planned-break-list")).json()["results"]} == {mine.pk, other.pk}
    filtered = api.get(reverse("api:planned-break-list"), {"engagement": engagement.pk}).json()["results"]
    assert [b["id"] for b in filtered] == [mine.pk]
    # Someone else's engagement: an empty list, as for an id that exists nowhere.
    assert api.get(reverse("api:planned-break-list"), {"engagement": hidden.engagement_id}).json()["results"] == []
    assert api.get(reverse("api:planned-break-detail", kwargs={"pk": hidden.pk})).status_code == 404
    assert api.delete(reverse("api:planned-break-detail", kwargs={"pk": hidden.pk})).status_code == 404
    refused = api.post(reverse("api:planned-break-list"), _break(hidden.engagement), format="json")
    assert refused.status_code == 400 and "engagement" in refused.json()["errors"]
    assert PlannedBreak.objects.count() == 3


def test_deleting_a_break_removes_it(manager, engagement):
    planned = factories.PlannedBreakFactory(engagement=engagement)
    response = client_for(manager).delete(reverse("api:planned-break-detail", kwargs={"pk": planned.pk}))
    assert response.status_code == 204 and not PlannedBreak.objects.exists()


def test_a_client_user_sees_no_planned_break(client_user, engagement):
    planned = factories.PlannedBreakFactory(engagement=engagement)
    api = client_for(client_user)
    assert api.get(reverse("api:planned-break-list")).json()["results"] == []
    assert api.get(reverse("api:planned-break-detail", kwargs={"pk": planned.pk})).status_code == 404
