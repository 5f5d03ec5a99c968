"""Rules the API path used to skip (security audit, issue 15): each lives in a service now, so the
API, the pages and the admin all obey it. Each test goes through the API, as the audit did."""

from __future__ import annotations

import pytest
from django.urls import reverse

from engagements.models import Engagement, Milestone
from tests import factories
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


# --- F5: an engagement's client is fixed at creation ----------------------------------------------

def test_an_engagement_cannot_be_moved_to_another_client(consultant, engagement, client_user):
    other = factories.EngagementFactory(lead=consultant, client__name="Solstice Media")  # a client in scope
    url = reverse("api:engagement-detail", kwargs={"pk": engagement.pk})
    response = client_for(consultant).patch(url, {"client": other.client_id}, format="json")
    assert response.status_code == 400
    assert "cannot change" in response.json()["errors"]["client"][0]
    engagement.refresh_from_db()
    assert engagement.client_id == client_user.contact.client_id


def test_a_manager_cannot_move_one_either_but_may_name_the_same_client(manager, engagement):
    other_client = factories.ClientFactory()
    url = reverse("api:engagement-detail", kwargs={"pk": engagement.pk})
    api = client_for(manager)
    assert api.patch(url, {"client": other_client.pk}, format="json").status_code == 400
    same = api.patch(url, {"client": engagement.client_id, "title": "Renamed"}, format="json")
    assert same.status_code == 200 and same.json()["title"] == "Renamed"
    assert Engagement.objects.get(pk=engagement.pk).client_id == engagement.client_id


def test_the_admin_shows_the_client_but_does_not_let_it_change(client, engagement):
    admin = factories.ManagerFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:engagements_engagement_change", args=[engagement.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "client" not in response.context["adminform"].form.fields
    assert client.get(reverse("admin:engagements_engagement_add")).context["adminform"].form.fields["client"]


# --- F6: a client approves only what the consultants asked them to approve ------------------------

def test_a_client_cannot_approve_its_own_proposal(engagement, client_user):
    api = client_for(client_user)
    proposal = api.post(reverse("api:milestone-list"), {"engagement": engagement.pk, "title": "Our own idea"},
                        format="json").json()
    response = api.post(reverse("api:milestone-approve", kwargs={"pk": proposal["id"]}))
    assert response.status_code == 409
    assert "not awaiting your approval" in response.json()["detail"]
    milestone = Milestone.objects.get(pk=proposal["id"])
    assert (milestone.status, milestone.approved_at) == (Milestone.Status.PROPOSED, None)


def test_a_client_cannot_approve_a_milestone_nobody_asked_them_to(engagement, client_user):
    milestone = factories.MilestoneFactory(engagement=engagement, approval_requested=False)
    response = client_for(client_user).post(reverse("api:milestone-approve", kwargs={"pk": milestone.pk}))
    assert response.status_code == 409
    milestone.refresh_from_db()
    assert milestone.approved_at is None


def test_a_client_approves_when_asked_and_again_changes_nothing(engagement, client_user):
    milestone = factories.MilestoneFactory(engagement=engagement, approval_requested=True)
    api = client_for(client_user)
    url = reverse("api:milestone-approve", kwargs={"pk": milestone.pk})
    first = api.post(url)
    assert first.status_code == 200 and first.json()["approved_at"]
    assert api.post(url).json()["approved_at"] == first.json()["approved_at"]


# --- F7: a closed engagement is a record, on the API too ------------------------------------------

def _close(engagement):
    Engagement.objects.filter(pk=engagement.pk).update(status=Engagement.Status.CLOSED, closure_reason="completed")


SESSION = {"start": "2025-03-03T10:00:00Z", "duration_minutes": 60, "focus": "strategy"}

STAFF_WRITES = [
    ("post", "session-list", None, lambda w: {**SESSION, "engagement": w.engagement.pk}),
    ("patch", "session-detail", "shared_session", lambda w: {"duration_minutes": 5, "version": 1}),
    ("delete", "session-detail", "shared_session", None),
    ("post", "milestone-list", None, lambda w: {"engagement": w.engagement.pk, "title": "After the end"}),
    ("patch", "milestone-detail", "milestone", lambda w: {"title": "Renamed", "version": 1}),
    ("delete", "milestone-detail", "milestone", None),
    ("post", "milestone-comment-list", "milestone@", lambda w: {"text": "Still here?"}),
    ("post", "kpi-list", None, lambda w: {"engagement": w.engagement.pk, "name": "Late KPI"}),
    ("patch", "kpi-detail", "kpi", lambda w: {"target": "99.00"}),
    ("delete", "kpi-detail", "kpi", None),
    ("post", "kpi-measurement-list", None, lambda w: {"kpi": w.kpi.pk, "date": "2025-03-03", "value": "1.00"}),
    ("patch", "kpi-measurement-detail", "measurement", lambda w: {"value": "2.00"}),
    ("delete", "kpi-measurement-detail", "measurement", None),
]


def _counts(world):
    from engagements.models import KPI, KPIMeasurement, MilestoneComment, Session

    engagement = world.engagement
    return (Session.objects.filter(engagement=engagement).count(),
            list(Milestone.objects.filter(engagement=engagement).order_by("pk").values_list("title", "version")),
            MilestoneComment.objects.filter(milestone__engagement=engagement).count(),
            list(KPI.objects.filter(engagement=engagement).order_by("pk").values_list("name", "target")),
            list(KPIMeasurement.objects.filter(kpi__engagement=engagement).values_list("value", flat=True)),
            list(Session.objects.filter(engagement=engagement).order_by("pk").values_list("duration_minutes",
                                                                                           flat=True)))


@pytest.mark.parametrize(("method", "name", "target", "body"), STAFF_WRITES,
                         ids=[f"{m.upper()} {n}" for m, n, _t, _b in STAFF_WRITES])
def test_nothing_is_written_on_a_closed_engagement_through_the_api(world, manager, method, name, target, body):
    _close(world.engagement)
    before = _counts(world)
    if target is None:
        kwargs = {}
    elif target.endswith("@"):
        kwargs = {"milestone_pk": getattr(world, target[:-1]).pk}
    else:
        kwargs = {"pk": getattr(world, target).pk}
    request = getattr(client_for(manager), method)
    response = request(reverse(f"api:{name}", kwargs=kwargs), body(world) if body else None, format="json")
    assert response.status_code == 400, response.content
    assert "engagement is closed" in str(response.json()["errors"])
    assert _counts(world) == before


def test_a_client_cannot_propose_comment_or_approve_on_a_closed_engagement(world, client_user):
    _close(world.engagement)
    before = _counts(world)
    api = client_for(client_user)
    proposal = api.post(reverse("api:milestone-list"), {"engagement": world.engagement.pk, "title": "Late idea"},
                        format="json")
    comment = api.post(reverse("api:milestone-comment-list", kwargs={"milestone_pk": world.milestone.pk}),
                       {"text": "Still here?"}, format="json")
    approve = api.post(reverse("api:milestone-approve", kwargs={"pk": world.milestone.pk}))
    assert (proposal.status_code, comment.status_code, approve.status_code) == (400, 400, 409)
    assert _counts(world) == before
    world.milestone.refresh_from_db()
    assert world.milestone.approved_at is None


def test_a_closed_engagement_can_still_be_reopened_and_then_written_to(world, manager):
    _close(world.engagement)
    api = client_for(manager)
    reopened = api.patch(reverse("api:engagement-detail", kwargs={"pk": world.engagement.pk}), {"status": "active"},
                         format="json")
    assert reopened.status_code == 200
    logged = api.post(reverse("api:session-list"), {**SESSION, "engagement": world.engagement.pk}, format="json")
    assert logged.status_code == 201


# --- F4: the same length limits on every path -----------------------------------------------------

NESTED_500 = "".join("  " * depth + "- item\n" for depth in range(500))  # the audit's 250 KB payload


def test_a_client_cannot_store_a_250_kb_description_through_the_api(engagement, client_user):
    response = client_for(client_user).post(reverse("api:milestone-list"), {
        "engagement": engagement.pk, "title": "Nested", "description": NESTED_500}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["description"]
    assert not Milestone.objects.filter(title="Nested").exists()


@pytest.mark.parametrize(("name", "field", "limit"), [
    ("milestone-list", "description", 5000), ("engagement-list", "objectives", 5000)])
def test_staff_get_the_same_limits_as_the_pages(manager, engagement, name, field, limit):
    body = {"engagement": engagement.pk, "client": engagement.client_id, "title": "Long", "start": "2025-01-06"}
    api = client_for(manager)
    too_long = api.post(reverse(f"api:{name}"), {**body, field: "x" * (limit + 1)}, format="json")
    assert too_long.status_code == 400 and list(too_long.json()["errors"]) == [field]
    assert api.post(reverse(f"api:{name}"), {**body, field: "x" * limit}, format="json").status_code == 201
