"""The audit trail: who changed what and when, recorded for every door, shown to managers."""

import pytest
from django.urls import reverse

from engagements.models import Milestone
from engagements.services import milestone_create, milestone_update
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_edit_through_the_page_is_recorded_with_its_author(client, consultant, engagement):
    milestone = milestone_create(engagement=engagement, created_by=consultant, title="Roadmap")
    client.force_login(consultant)
    response = client.post(reverse("engagements:milestone_edit", args=[milestone.pk]), {
        f"milestone-{name}": value for name, value in {
            "title": "Roadmap v2", "phase": "action", "status": "agreed", "shared_with_client": "on",
            "version": milestone.version, "due_date": "", "description": "", "consultant_owner": consultant.pk,
        }.items()})
    assert response.status_code in (200, 302)
    record = Milestone.history.filter(id=milestone.pk).order_by("-history_date").first()
    assert record.title == "Roadmap v2"
    assert record.history_user == consultant and record.history_type == "~"
    assert "title" in record.history_change_reason


def test_a_service_edit_outside_a_request_is_recorded_without_an_author(consultant, engagement):
    milestone = milestone_create(engagement=engagement, created_by=consultant, title="Pilot")
    milestone_update(milestone=milestone, version=milestone.version, status="in_progress")
    records = list(Milestone.history.filter(id=milestone.pk).order_by("history_date"))
    assert [r.history_type for r in records] == ["+", "~"]
    assert records[-1].status == "in_progress" and records[-1].history_user is None


def test_managers_see_the_changes_on_the_engagement_page_and_consultants_do_not(client, manager, consultant,
                                                                                 engagement):
    milestone = milestone_create(engagement=engagement, created_by=consultant, title="Workshop series")
    milestone_update(milestone=milestone, version=milestone.version, title="Workshop series (v2)")
    client.force_login(manager)
    page = client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode()
    assert 'id="audit"' in page and "Workshop series (v2)" in page and "(title)" in page
    client.force_login(consultant)
    assert 'id="audit"' not in client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode()


def test_the_trail_costs_four_queries_whatever_its_length(manager, consultant, engagement,
                                                          django_assert_num_queries):
    from workspace.selectors import engagement_audit_trail

    for index in range(30):
        factories.MilestoneFactory(engagement=engagement, title=f"M{index}")
        factories.SessionFactory(engagement=engagement)
    Milestone.history.filter(engagement_id=engagement.pk).update(history_user=consultant)
    with django_assert_num_queries(4):
        entries = engagement_audit_trail(user=manager, engagement=engagement)
        # What the page shows of each entry, read from the records without a query each.
        shown = [(entry.kind, entry.label, str(entry.who) if entry.who else None, entry.fields) for entry in entries]
    assert len(entries) == 25
    assert {kind for kind, *_rest in shown} == {"milestone", "session"}
    assert any(who for _kind, _label, who, _fields in shown), "some entries name who made them"
