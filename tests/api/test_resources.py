"""What the resources do: the portal's view for client users, writes through the services, the
defaults the issue asks for, and filters, ordering and pagination."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.urls import reverse
from django.utils import timezone

from engagements.models import Milestone, Session
from feedback.models import FeedbackResponse
from tests import factories
from tests.api.conftest import client_for

SESSION_SUMMARY = {"id", "engagement", "start", "duration_minutes", "channel", "focus", "next_steps"}


# --- Clients see what the portal shows them -------------------------------------------------------

def test_client_sees_only_shared_sessions_as_a_summary(world, client_user):
    response = client_for(client_user).get(reverse("api:session-list"))
    results = response.json()["results"]
    assert [s["id"] for s in results] == [world.shared_session.pk]
    assert set(results[0]) == SESSION_SUMMARY
    assert results[0]["next_steps"] == "Send the plan"
    assert "Private notes" not in response.content.decode()


def test_client_cannot_open_an_unshared_session_or_milestone(world, client_user):
    api = client_for(client_user)
    assert api.get(reverse("api:session-detail", kwargs={"pk": world.private_session.pk})).status_code == 404
    assert api.get(reverse("api:milestone-detail", kwargs={"pk": world.private_milestone.pk})).status_code == 404


def test_staff_see_the_full_session(world, consultant):
    body = client_for(consultant).get(reverse("api:session-detail", kwargs={"pk": world.shared_session.pk})).json()
    assert body["notes"] == "Private notes" and body["sentiment"] == 4 and body["version"] == 1


def test_client_never_sees_health_or_flags(world, client_user):
    api = client_for(client_user)
    assert api.get(reverse("api:health-snapshot-list")).json()["results"] == []
    assert api.get(reverse("api:flag-list")).json()["results"] == []


def test_client_sees_only_their_own_feedback(world, client_user):
    factories.FeedbackResponseFactory(engagement=world.engagement)  # a colleague's answer
    results = client_for(client_user).get(reverse("api:feedback-response-list")).json()["results"]
    assert [r["id"] for r in results] == [world.feedback.pk]
    assert "respondent_user" not in results[0] and "recorded_by" not in results[0]


def test_client_proposal_arrives_as_proposed_and_ignores_staff_fields(world, client_user):
    response = client_for(client_user).post(reverse("api:milestone-list"), {
        "engagement": world.engagement.pk, "title": "Pilot in Lyon", "phase": "reflection",
        "status": "done", "shared_with_client": False}, format="json")
    assert response.status_code == 201
    milestone = Milestone.objects.get(pk=response.json()["id"])
    assert (milestone.status, milestone.proposed_by, milestone.shared_with_client) == ("proposed", "client", True)
    assert milestone.client_owner == client_user.contact
    assert "version" not in response.json()


def test_client_approves_and_comments_on_their_side(world, client_user):
    api = client_for(client_user)
    approved = api.post(reverse("api:milestone-approve", kwargs={"pk": world.milestone.pk}))
    assert approved.status_code == 200 and approved.json()["approved_at"]
    comment = api.post(reverse("api:milestone-comment-list", kwargs={"milestone_pk": world.milestone.pk}),
                       {"text": "Looks right."}, format="json")
    assert comment.status_code == 201 and comment.json()["side"] == "client"


def test_client_answers_their_pulse_once(world, client_user):
    api = client_for(client_user)
    url = reverse("api:pulse-answer", kwargs={"pk": world.pulse.pk})
    first = api.post(url, {"rating": 5, "nps": 9}, format="json")
    assert first.status_code == 201
    response = FeedbackResponse.objects.get(pk=first.json()["id"])
    assert (response.request, response.respondent_contact) == (world.pulse, client_user.contact)
    again = api.post(url, {"rating": 1}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"


# --- Writes go through the services ---------------------------------------------------------------

def test_session_logged_through_the_api_goes_through_the_service(consultant, engagement):
    with mock.patch("health.services.request_rescore") as rescore:
        response = client_for(consultant).post(reverse("api:session-list"), {
            "engagement": engagement.pk, "start": "2025-03-03T10:00:00Z", "duration_minutes": 45,
            "focus": "advisory", "advice_requested": True}, format="json")
    assert response.status_code == 201
    session = Session.objects.get(pk=response.json()["id"])
    assert session.logged_by == consultant and list(session.consultants.all()) == [consultant]
    rescore.assert_called_once_with(engagement_id=engagement.pk)


def test_deleting_a_session_queues_a_rescore(consultant, engagement):
    session = factories.SessionFactory(engagement=engagement)
    with mock.patch("health.services.request_rescore") as rescore:
        response = client_for(consultant).delete(reverse("api:session-detail", kwargs={"pk": session.pk}))
    assert response.status_code == 204 and not Session.objects.filter(pk=session.pk).exists()
    rescore.assert_called_once_with(engagement_id=engagement.pk)


def test_engagement_lead_defaults_to_the_consultant_who_creates_it(consultant, engagement, other_consultant):
    response = client_for(consultant).post(reverse("api:engagement-list"), {
        "client": engagement.client_id, "title": "Phase 2", "start": "2025-01-06"}, format="json")
    assert response.status_code == 201
    assert response.json()["lead"] == consultant.pk and response.json()["team"] == [consultant.pk]

    named = client_for(consultant).post(reverse("api:engagement-list"), {
        "client": engagement.client_id, "title": "Phase 3", "start": "2025-01-06", "lead": other_consultant.pk},
        format="json").json()
    assert named["lead"] == other_consultant.pk
    assert set(named["team"]) == {consultant.pk, other_consultant.pk}  # the creator keeps sight of it


def test_engagement_is_closed_through_its_action_not_a_patch(consultant, engagement):
    api = client_for(consultant)
    url = reverse("api:engagement-detail", kwargs={"pk": engagement.pk})
    assert api.patch(url, {"status": "closed"}, format="json").status_code == 400
    closed = api.post(reverse("api:engagement-close", kwargs={"pk": engagement.pk}),
                      {"closure_reason": "completed", "retrospective": "Good co-production."}, format="json")
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["closure_reason"]) == ("closed", "completed")


def test_create_only_fields_are_ignored_on_update(consultant, engagement):
    session = factories.SessionFactory(engagement=engagement)
    other = factories.EngagementFactory(lead=consultant)
    response = client_for(consultant).patch(reverse("api:session-detail", kwargs={"pk": session.pk}),
                                            {"engagement": other.pk, "duration_minutes": 30, "version": 1},
                                            format="json")
    assert response.status_code == 200
    session.refresh_from_db()
    assert (session.engagement_id, session.duration_minutes) == (engagement.pk, 30)


def test_manager_records_client_feedback_from_another_channel(manager, engagement, client_user):
    when = "2025-02-10T09:00:00Z"
    response = client_for(manager).post(reverse("api:feedback-response-list"), {
        "engagement": engagement.pk, "respondent_contact": client_user.contact.pk, "rating": 2,
        "submitted_at": when, "comment": "Said on the phone"}, format="json")
    assert response.status_code == 201
    feedback = FeedbackResponse.objects.get(pk=response.json()["id"])
    assert (feedback.side, feedback.recorded_by, feedback.respondent_contact) == ("client", manager,
                                                                                 client_user.contact)
    assert feedback.submitted_at == dt.datetime(2025, 2, 10, 9, tzinfo=dt.UTC)


def test_consultant_may_only_record_a_self_assessment(consultant, engagement, client_user):
    api = client_for(consultant)
    client_side = api.post(reverse("api:feedback-response-list"), {
        "engagement": engagement.pk, "side": "client", "respondent_contact": client_user.contact.pk, "rating": 5},
        format="json")
    assert client_side.status_code == 403
    own = api.post(reverse("api:feedback-response-list"), {"engagement": engagement.pk, "rating": 4},
                   format="json")
    assert own.status_code == 201
    assert (own.json()["side"], own.json()["respondent_user"]) == ("consultant", consultant.pk)


def test_manager_resolves_a_flag_with_an_action_plan(manager, engagement):
    flag = factories.FlagFactory(engagement=engagement)
    response = client_for(manager).post(reverse("api:flag-resolve", kwargs={"pk": flag.pk}), {
        "action_plan": "repair", "resolution_note": "Steering committee every month"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["action_plan"], body["resolved_by"]) == ("resolved", "repair", manager.pk)
    assert body["raised_at"] == flag.raised_on.isoformat()


# --- Filters, ordering, pagination ----------------------------------------------------------------

def test_filters_by_engagement_client_and_date_range(manager, engagement):
    other = factories.EngagementFactory()
    now = timezone.now()
    recent = factories.SessionFactory(engagement=engagement, start=now - dt.timedelta(days=2))
    factories.SessionFactory(engagement=engagement, start=now - dt.timedelta(days=60))
    factories.SessionFactory(engagement=other, start=now - dt.timedelta(days=2))
    api = client_for(manager)
    url = reverse("api:session-list")

    def ids(**params):
        return {s["id"] for s in api.get(url, params).json()["results"]}

    since = (now - dt.timedelta(days=7)).date().isoformat()
    assert ids(engagement=engagement.pk, start_after=since) == {recent.pk}
    assert ids(client=engagement.client_id, start_after=since) == {recent.pk}
    assert len(ids(start_after=since)) == 2


def test_flags_filter_by_status_kind_and_raised_at(manager, engagement):
    today = timezone.localdate()
    wanted = factories.FlagFactory(engagement=engagement, kind="sponsor_change")
    factories.FlagFactory(engagement=engagement, kind="one_sided", raised_on=today - dt.timedelta(days=30))
    response = client_for(manager).get(reverse("api:flag-list"), {
        "status": "open", "kind": "sponsor_change", "raised_at_after": today.isoformat()})
    assert [f["id"] for f in response.json()["results"]] == [wanted.pk]


def test_ordering_and_page_size(manager, engagement):
    for days in (3, 1, 2):
        factories.SessionFactory(engagement=engagement, start=timezone.now() - dt.timedelta(days=days))
    api = client_for(manager)
    body = api.get(reverse("api:session-list"), {"ordering": "start", "page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    starts = [s["start"] for s in body["results"]]
    assert starts == sorted(starts)
    assert api.get(reverse("api:session-list"), {"page": 9}).status_code == 404


def test_out_of_scope_filter_id_returns_an_empty_list_not_an_error(consultant, engagement):
    foreign = factories.EngagementFactory()
    factories.SessionFactory(engagement=foreign)
    response = client_for(consultant).get(reverse("api:session-list"), {"engagement": foreign.pk})
    assert response.status_code == 200 and response.json()["results"] == []


def test_what_a_client_does_through_the_api_is_emailed_to_the_consultant(consultant, engagement, client_user,
                                                                         django_capture_on_commit_callbacks):
    from django.core import mail

    milestone = factories.MilestoneFactory(engagement=engagement, shared_with_client=True, consultant_owner=consultant,
                                           title="Regional pilot", approval_requested=True)
    api = client_for(client_user)
    with django_capture_on_commit_callbacks(execute=True):
        comment = api.post(reverse("api:milestone-comment-list", kwargs={"milestone_pk": milestone.pk}),
                           {"text": "Can we add the northern stores?"}, format="json")
        approve = api.post(reverse("api:milestone-approve", kwargs={"pk": milestone.pk}), format="json")
        proposal = api.post(reverse("api:milestone-list"),
                            {"engagement": engagement.pk, "title": "Staff survey", "phase": "reflection"},
                            format="json")
    assert (comment.status_code, approve.status_code, proposal.status_code) == (201, 200, 201)
    assert [m.to for m in mail.outbox] == [[consultant.email]] * 3
    assert "northern stores" in mail.outbox[0].body
    assert all("/engagements/" in m.body for m in mail.outbox)


def test_staff_comments_through_the_api_email_nobody(consultant, engagement, django_capture_on_commit_callbacks):
    from django.core import mail

    milestone = factories.MilestoneFactory(engagement=engagement, shared_with_client=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(consultant).post(
            reverse("api:milestone-comment-list", kwargs={"milestone_pk": milestone.pk}), {"text": "Noted."},
            format="json")
    assert response.status_code == 201 and mail.outbox == []
